"""Every error a user can meet, with the message they will read."""

import numpy as np
import pytest

import minigrad as mg


def t(*shape):
    return mg.tensor(np.ones(shape), requires_grad=True)


@pytest.mark.parametrize("call, message", [
    (lambda: t(2, 3) @ t(4, 5), r"^matmul: shapes \(2, 3\) and \(4, 5\) do not align: 3 != 4$"),
    (lambda: t(3) @ t(4), r"^matmul: shapes \(3,\) and \(4,\) do not align: 3 != 4$"),
    (lambda: mg.matmul(t(), t(2)), r"^matmul: shapes \(\) and \(2,\): both operands need"),
    (lambda: t(2, 3, 4) @ t(5, 4, 2), r"^matmul: batch dimensions of shapes \(2, 3, 4\) and"),
    (lambda: t(2, 3) + t(4, 5), r"^add: shapes \(2, 3\) and \(4, 5\) cannot be broadcast"),
    (lambda: t(2, 3) - t(4), r"^sub: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda: t(2, 3) * t(4), r"^mul: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda: t(2, 3) / t(4), r"^div: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda: mg.concat([t(2, 3), t(3, 3)]), r"^concat: shapes \(2, 3\), \(3, 3\) do not fit"),
    (lambda: mg.stack([t(2, 3), t(3, 3)]), r"^stack: shapes \(2, 3\), \(3, 3\) do not fit"),
    (lambda: mg.concat([]), r"^concat: needs at least one tensor$"),
    (lambda: t(6).reshape(4), r"^reshape: invalid input shapes \(6,\), shape=\(4,\)"),
    (lambda: mg.transpose(t(2, 3), (0,)), r"^transpose: invalid input shapes \(2, 3\)"),
    (lambda: mg.broadcast_to(t(3), (2, 4)), r"^broadcast_to: invalid input shapes \(3,\)"),
    (lambda: mg.split(t(7), 3), r"^split: axis -1 of size 7 cannot be split into 3 equal"),
    (lambda: t(2).item(), r"^item: only one-element tensors can be converted"),
    (lambda: t(2).backward(np.ones(3)), r"^backward: grad has shape \(3,\) but the output"),
])
def test_value_errors_name_the_op_and_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, message", [
    (lambda: mg.split(t(7), 2, axis=2), r"^split: axis 2 is out of bounds for 1-dimensional"),
    (lambda: mg.log_softmax(t(2, 3), axis=2),
     r"^log_softmax: axis 2 is out of bounds for array of dimension 2 \(input shapes \(2, 3\)\)$"),
    (lambda: t(2, 3).sum(axis=-3), r"^sum: axis -3 is out of bounds for array of dimension 2"),
    (lambda: t(2, 3).mean(axis=(0, 2)), r"^sum: axis 2 is out of bounds for array of dimension 2"),
    (lambda: mg.concat([t(2, 3), t(2, 3)], axis=2),
     r"^concat: axis 2 is out of bounds for array of dimension 2 \(input shapes \(2, 3\) and "),
    (lambda: mg.stack([t(2, 3), t(2, 3)], axis=-4),
     r"^stack: axis -4 is out of bounds for array of dimension 3"),
    (lambda: t(2, 3).transpose(0, 2), r"^transpose: axis 2 is out of bounds for array of dim"),
])
def test_an_axis_out_of_range_is_an_axis_error_as_in_numpy(call, message):
    with pytest.raises(np.exceptions.AxisError, match=message) as error:
        call()
    assert isinstance(error.value, ValueError) and isinstance(error.value, IndexError)


@pytest.mark.parametrize("call, message", [
    (lambda: mg.tensor(np.arange(3), requires_grad=True), r"^tensor: expected floating-point "
     r"data, got int64; pass dtype=np.float32 or dtype=np.float64 to convert$"),
    (lambda: mg.tensor(np.array([True])), r"^tensor: expected floating-point data, got bool"),
    (lambda: mg.tensor([True, False]), r"^tensor: expected floating-point data, got bool"),
    (lambda: mg.tensor(["a"]), r"^tensor: expected floating-point data, got <U1"),
    (lambda: mg.tensor([1], dtype=np.int32), r"^tensor: dtype must be a floating type"),
    (lambda: mg.tensor(["a"], dtype=np.float32), r"^tensor: cannot convert list to float32"),
    (lambda: mg.tanh(np.arange(3)), r"^tanh: expected floating-point data, got int64"),
    (lambda: t(2) + np.array(["a", "b"]), r"^add: expected a number or numeric array, got "
     r"ndarray of dtype <U1$"),
    (lambda: t(2) ** "2", r"^pow: the exponent must be a number or a tensor, got str$"),
    (lambda: t(2)[mg.tensor([0.0])], r"^getitem: index with integers, slices or integer"),
    (lambda: mg.concat(t(2)), r"^concat: expected a list or tuple of tensors, got Tensor$"),
])
def test_type_errors(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_scope_needs_a_name():
    with pytest.raises(TypeError, match="^scope: name must be a non-empty string, got ''$"):
        with mg.scope(""):
            pass


def test_grad_inputs_must_require_grad():
    with pytest.raises(RuntimeError, match="^grad: every input must be a Tensor with "
                                           "requires_grad=True$"):
        mg.grad((t(1) * 2).sum(), [np.ones(1)])


def test_backward_through_a_freed_graph_says_to_retain_it():
    x = mg.tensor([1.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="pass retain_graph=True"):
        y.backward()


def test_backward_of_a_tensor_without_graph():
    with pytest.raises(RuntimeError, match="^backward: the tensor does not require grad"):
        mg.tensor([1.0]).sum().backward()


def test_backward_without_grad_on_a_non_scalar():
    with pytest.raises(RuntimeError, match=r"^backward: grad can be omitted only for a "
                                           r"one-element output, this one has shape \(2,\)"):
        (t(2) * 2).backward()


def test_grad_of_an_unused_input():
    x, z = t(1), t(1)
    with pytest.raises(RuntimeError, match=r"^grad: input 1 \(shape \(1,\)\) is not used"):
        mg.grad((x * 2).sum(), [x, z])


def test_grad_outputs_count_must_match():
    with pytest.raises(ValueError, match="^grad: got 2 grad_outputs for 1 outputs$"):
        mg.grad((t(1) * 2).sum(), t(1), grad_outputs=[np.ones(()), np.ones(())])


def test_a_broken_vjp_is_reported_with_its_op():
    bad = mg.Primitive("bad", lambda x: x * 2, lambda g, y, x: np.ones(7))
    with pytest.raises(RuntimeError, match=r"^the VJP of bad returned a gradient of shape "
                                           r"\(7,\) for an input of shape \(3,\)$"):
        bad(t(3)).sum().backward()


def test_primitive_needs_vjps():
    with pytest.raises(TypeError, match="give either one VJP per input or vjp_each"):
        mg.Primitive("x", np.negative)


def test_gradcheck_reports_the_worst_element():
    wrong = mg.Primitive("wrong", np.sin, lambda g, y, x: g * x)  # should be g * cos(x)
    x = mg.tensor([0.5, 1.0, 2.0], requires_grad=True)
    with pytest.raises(AssertionError, match=r"input 0 \(shape \(3,\)\): 3 of 3 elements "
                                             r"differ; worst at index \(2,\): analytic "
                                             r"1.28085, numeric -0.26651"):
        mg.gradcheck(wrong, x)


def test_gradcheck_needs_an_input_to_check():
    with pytest.raises(ValueError, match="^gradcheck: no input is a Tensor with requires_grad"):
        mg.gradcheck(mg.tanh, mg.tensor([1.0]))
