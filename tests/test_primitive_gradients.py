"""Property: for every primitive, on random shapes (broadcasting included) and both
float dtypes, the gradient has the input's shape and dtype and equals central
differences.

Backward is seeded with a random cotangent R (the gradient of ``sum(out * R)``), drawn
afresh for every example: an all-ones seed cannot see a gradient that is right in sum
but wrongly arranged. Wherever an op takes axes, negative axes are drawn too."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.testing import arrays, broadcastable_shapes, check_gradients, float_dtypes, shapes


def leaf(array):
    return mg.tensor(array, requires_grad=True)


def binary(op, low_b=-2.0, high_b=2.0):
    def case(data, dtype):
        shape_a, shape_b = data.draw(broadcastable_shapes())
        a = data.draw(arrays(shape_a, dtype))
        b = data.draw(arrays(shape_b, dtype, low_b, high_b))
        return op, [leaf(a), leaf(b)]
    return case


def unary(op, low=-2.0, high=2.0, avoid=None, min_dims=0):
    def case(data, dtype):
        x = data.draw(arrays(shapes(min_dims=min_dims), dtype, low, high, avoid=avoid))
        return op, [leaf(x)]
    return case


def pow_case(data, dtype):
    exponent = data.draw(st.sampled_from([2, 3, 0.5, -1.0, 1.5]))
    x = data.draw(arrays(shapes(), dtype, 0.5, 2.0))
    return (lambda x: x ** exponent), [leaf(x)]


def log_softmax_case(data, dtype):
    x = data.draw(arrays(shapes(min_dims=1), dtype, -5, 5))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    return (lambda x: mg.log_softmax(x, axis=axis)), [leaf(x)]


MATMUL_FORMS = [((), "k", "k"), ((), "k", "km"), ((), "nk", "k"), ((), "nk", "km"),
                ((3,), "nk", "km"), ((2,), "k", "km"), ((2,), "nk", "k"), ((2, 1), "nk", "km")]


def matmul_case(data, dtype):
    batch, form_a, form_b = data.draw(st.sampled_from(MATMUL_FORMS))
    sides = {c: data.draw(st.integers(1, 4)) for c in "nkm"}
    shape_a = tuple(sides[c] for c in form_a)
    shape_b = tuple(sides[c] for c in form_b)
    if batch and len(shape_a) > 1:  # a batched left operand, broadcast against b
        shape_a = batch + shape_a
    if batch and len(shape_b) > 1 and len(batch) > 1:
        shape_b = (3,) + shape_b
    a = data.draw(arrays(shape_a, dtype))
    b = data.draw(arrays(shape_b, dtype))
    return mg.matmul, [leaf(a), leaf(b)]


def counted_from_either_end(data, axes, ndim):
    """Each axis as it is or counted from the end (``1`` or ``1 - ndim``)."""
    return tuple(a - ndim if data.draw(st.booleans()) else a for a in axes)


def axis_and_keepdims(data, ndim):
    form = data.draw(st.sampled_from(["all", "one", "several"]))
    if form == "all":
        axis = None
    elif form == "one":  # a 0-d array has the axes 0 and -1 for reductions, as in NumPy
        axis = data.draw(st.integers(-ndim, ndim - 1) if ndim else st.sampled_from([0, -1]))
    else:
        axes = data.draw(st.lists(st.integers(0, max(ndim - 1, 0)), unique=True,
                                  max_size=ndim))
        axis = counted_from_either_end(data, axes, ndim)
    return axis, data.draw(st.booleans())


def reduction(fn):
    def case(data, dtype):
        x = data.draw(arrays(shapes(), dtype))
        axis, keepdims = axis_and_keepdims(data, x.ndim)
        return (lambda x: fn(x, axis=axis, keepdims=keepdims)), [leaf(x)]
    return case


def broadcast_to_case(data, dtype):
    target = data.draw(shapes(min_dims=1))
    keep = data.draw(st.integers(0, len(target)))
    shape = tuple(n if data.draw(st.booleans()) else 1 for n in target[len(target) - keep:])
    x = data.draw(arrays(shape, dtype))
    return (lambda x: mg.broadcast_to(x, target)), [leaf(x)]


def reshape_case(data, dtype):
    x = data.draw(arrays(shapes(), dtype))
    new_shape = data.draw(st.sampled_from([(-1,), x.shape[::-1], (1, *x.shape), (x.size, 1)]))
    return (lambda x: x.reshape(new_shape)), [leaf(x)]


def transpose_case(data, dtype):
    x = data.draw(arrays(shapes(min_dims=data.draw(st.integers(0, 3))), dtype))
    form = data.draw(st.sampled_from(["method", "function", "reversed"]))
    if form == "reversed":
        return (lambda x: mg.transpose(x)), [leaf(x)]
    axes = counted_from_either_end(data, data.draw(st.permutations(range(x.ndim))), x.ndim)
    if form == "method":
        return (lambda x: x.transpose(*axes)), [leaf(x)]
    return (lambda x: mg.transpose(x, axes)), [leaf(x)]


def index_strategy(shape):
    return st.one_of(hnp.basic_indices(shape, allow_newaxis=True),
                     hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(max_dims=2)),
                     hnp.arrays(bool, shape))


def getitem_case(data, dtype):
    x = data.draw(arrays(shapes(min_dims=1), dtype))
    index = data.draw(index_strategy(x.shape))
    return (lambda x: x[index]), [leaf(x)]


def index_add_case(data, dtype):
    shape = data.draw(shapes(min_dims=1))
    index = data.draw(index_strategy(shape))
    g = data.draw(arrays(np.zeros(shape)[index].shape, dtype))
    return (lambda g: mg.index_add(g, index, shape)), [leaf(g)]


def joined(fn, same_shape):
    def case(data, dtype):
        base = data.draw(shapes(min_dims=1))
        new_axis = same_shape  # stack makes a new axis: one more place to put it
        axis = data.draw(st.integers(-len(base) - new_axis, len(base) - 1 + new_axis))
        count = data.draw(st.integers(1, 3))
        parts = []
        for _ in range(count):
            shape = list(base)
            if not same_shape:
                shape[axis] = data.draw(st.integers(0, 3))
            parts.append(leaf(data.draw(arrays(tuple(shape), dtype))))
        return (lambda *xs: fn(list(xs), axis=axis)), parts
    return case


def split_case(data, dtype):
    x = data.draw(arrays(shapes(min_dims=1), dtype))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    # split points as numpy.split takes them: negative, unsorted or past the end too
    sections = data.draw(st.one_of(
        st.sampled_from([d for d in range(1, n + 1) if n % d == 0]),
        st.lists(st.integers(-n - 1, n + 1), max_size=3)))
    for piece, expected in zip(mg.split(x, sections, axis=axis),
                               np.split(x, sections, axis=axis), strict=True):
        np.testing.assert_array_equal(piece.data, expected)
    return (lambda x: tuple(mg.split(x, sections, axis=axis))), [leaf(x)]


# ---- more of NumPy ------------------------------------------------------------------------
MARGIN = 0.05  # finite differences need this much room around a kink or a tie


def apart(*values):
    """Whether no two broadcast elements of ``values`` are within MARGIN of each other."""
    arrays_ = np.broadcast_arrays(*values)
    return all(np.abs(a - b).min(initial=np.inf) >= MARGIN
               for k, a in enumerate(arrays_) for b in arrays_[k + 1:])


def distinct(data, shape, dtype):
    """An array in [-2, 2] whose elements are pairwise at least MARGIN apart, made so
    rather than filtered for: filtering rejects most draws of more than a few elements."""
    slots = np.arange(-2.0, 2.0 + MARGIN / 2, MARGIN)  # 81 values, more than any shape holds
    picked = data.draw(st.lists(st.sampled_from(range(len(slots))), min_size=int(np.prod(shape)),
                                max_size=int(np.prod(shape)), unique=True))
    return slots[picked].reshape(shape).astype(dtype)


def no_ties(fn):
    def case(data, dtype):
        shape_a, shape_b = data.draw(broadcastable_shapes())
        a, b = data.draw(arrays(shape_a, dtype)), data.draw(arrays(shape_b, dtype))
        assume(apart(a, b))
        return fn, [leaf(a), leaf(b)]
    return case


def clip_case(data, dtype):
    x = data.draw(arrays(shapes(), dtype))
    lo = data.draw(st.sampled_from([None, -1.0, -0.5]))
    hi = data.draw(st.sampled_from([None, 0.5, 1.5]))
    assume(all(bound is None or apart(x, bound) for bound in (lo, hi)))
    return (lambda x: mg.clip(x, lo, hi)), [leaf(x)]


def where_case(data, dtype):
    shape_c, shape_a, shape_b = data.draw(broadcastable_shapes(num_shapes=3))
    cond = data.draw(hnp.arrays(bool, shape_c))
    a, b = data.draw(arrays(shape_a, dtype)), data.draw(arrays(shape_b, dtype))
    return (lambda a, b: mg.where(cond, a, b)), [leaf(a), leaf(b)]


def softmax_case(data, dtype):
    x = data.draw(arrays(shapes(min_dims=1), dtype, -5, 5))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    return (lambda x: mg.softmax(x, axis=axis)), [leaf(x)]


def extreme(fn):
    def case(data, dtype):
        x = distinct(data, data.draw(shapes(min_dims=1)), dtype)  # no ties, or no derivative
        axis, keepdims = axis_and_keepdims(data, x.ndim)
        return (lambda x: fn(x, axis=axis, keepdims=keepdims)), [leaf(x)]
    return case


def var_case(data, dtype):
    x = data.draw(arrays(shapes(min_dims=1, min_side=2), dtype))
    axis, keepdims = axis_and_keepdims(data, x.ndim)
    ddof = data.draw(st.sampled_from([0, 1]))
    assume(np.sum(np.ones(x.shape), axis=axis).flat[0] > ddof)  # n - ddof > 0: defined
    return (lambda x: mg.var(x, axis=axis, keepdims=keepdims, ddof=ddof)), [leaf(x)]


def std_case(data, dtype):
    # a spread in every row, so std is away from its kink at 0
    x = distinct(data, data.draw(shapes(min_dims=1, min_side=2)), dtype)
    axis = data.draw(st.sampled_from([None, -1]))
    return (lambda x: mg.std(x, axis=axis, ddof=1)), [leaf(x)]


def pad_case(data, dtype):
    x = data.draw(arrays(shapes(min_dims=1), dtype))
    pad_width = data.draw(st.one_of(
        st.integers(0, 2), st.tuples(st.integers(0, 2), st.integers(0, 2)),
        st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=x.ndim,
                 max_size=x.ndim).map(tuple)))
    value = data.draw(st.sampled_from([0.0, -1.5]))
    return (lambda x: mg.pad(x, pad_width, value)), [leaf(x)]


#: einsum forms and their operand shapes (n=2, k=3, m=4, b=2)
EINSUMS = [("ij,jk->ik", [(2, 3), (3, 4)]), ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
           ("ij->ji", [(2, 3)]), ("i,i->", [(3,), (3,)]), ("i,j->ij", [(2,), (3,)]),
           ("ij,j->i", [(2, 3), (3,)]), ("ii->", [(3, 3)]), ("ii->i", [(3, 3)]),
           ("ij->", [(2, 3)]), ("ij,jk", [(2, 3), (3, 4)]),
           ("...ij,jk->...ik", [(2, 2, 3), (3, 4)]), ("ij,ij,ij->i", [(2, 3)] * 3),
           ("iij->ij", [(2, 2, 3)])]


def einsum_case(data, dtype):
    spec, operand_shapes = data.draw(st.sampled_from(EINSUMS))
    operands = [leaf(data.draw(arrays(shape, dtype))) for shape in operand_shapes]
    return (lambda *xs: mg.einsum(spec, *xs)), operands


def astype_case(data, dtype):
    x = data.draw(arrays(shapes(), dtype))
    # to float64 and back: the output keeps the input's dtype (float32 -> float64 -> float32
    # differentiates both casts) and no precision is lost for finite differences to see
    return (lambda x: mg.astype(mg.astype(x, np.float64), x.dtype) * 1.5), [leaf(x)]


def tensor_power_case(data, dtype):
    shape_a, shape_b = data.draw(broadcastable_shapes())
    a = data.draw(arrays(shape_a, dtype, 0.5, 2.0))
    b = data.draw(arrays(shape_b, dtype, -2.0, 2.0))
    return (lambda a, b: a ** b), [leaf(a), leaf(b)]


CASES = {
    "add": binary(mg.add), "sub": binary(mg.sub), "mul": binary(mg.mul),
    "div": binary(mg.div, 0.5, 2.0), "neg": unary(mg.neg), "pow": pow_case,
    "exp": unary(mg.exp), "log": unary(mg.log, 0.3, 3.0), "tanh": unary(mg.tanh),
    "sigmoid": unary(mg.sigmoid, -4, 4), "relu": unary(mg.relu, avoid=0.0),
    "log_softmax": log_softmax_case, "matmul": matmul_case, "sum": reduction(mg.sum),
    "broadcast_to": broadcast_to_case, "reshape": reshape_case, "transpose": transpose_case,
    "getitem": getitem_case, "index_add": index_add_case,
    "concat": joined(mg.concat, same_shape=False), "stack": joined(mg.stack, same_shape=True),
    "maximum": no_ties(mg.maximum), "minimum": no_ties(mg.minimum),
    "abs": unary(mg.abs, avoid=0.0), "sqrt": unary(mg.sqrt, 0.3, 3.0), "clip": clip_case,
    "where": where_case, "softmax": softmax_case, "power": tensor_power_case,
    "astype": astype_case, "max": extreme(mg.max), "min": extreme(mg.min), "var": var_case,
    "pad": pad_case, "einsum": einsum_case,
    # derived operations, one-line compositions of the primitives above
    "mean": reduction(mg.mean), "split": split_case,
    "hadamard": binary(mg.hadamard), "std": std_case,
    "squeeze": unary(lambda x: mg.squeeze(x[None, ..., None])),
    "expand_dims": unary(lambda x: mg.expand_dims(x, (0, -1))),
    "flatten": unary(lambda x: x.flatten()),
}


def test_every_primitive_has_a_gradient_property():
    assert set(mg.PRIMITIVES) <= set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data(), dtype=float_dtypes(), cotangent_seed=st.integers(0, 2**32 - 1))
def test_gradient_matches_finite_differences(name, data, dtype, cotangent_seed):
    fn, inputs = CASES[name](data, dtype)
    check_gradients(fn, *inputs, seed=cotangent_seed)
