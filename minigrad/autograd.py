"""Reverse mode: the topological order, the backward sweep and the gradient door.

The graph's vertices are nodes (results of primitives) and leaf tensors. The sweep
visits them from the outputs back to the leaves without recursion: a heap hands out the
newest node with a pending gradient, which is then complete, since every consumer of a
node was created after it. Pending gradients live in a dict and are popped as the sweep
passes, so each is released right after its use. Unless the graph is retained, each
visited node forgets its inputs and saved arrays, so the graph is garbage as soon as the
sweep is over (and a second sweep gets a clear error).
"""

from __future__ import annotations

from collections.abc import Sequence
from heapq import heapify, heappop, heappush
from typing import Any

import numpy as np

from .context import (
    TracingError,
    anomaly_enabled,
    enable_grad,
    reset_differentiating,
    reset_retaining,
    set_differentiating,
    set_retaining,
    tracing,
)
from .lazy import LAZY, Product, ProductSum, Scattered
from .primitive import check_finite
from .tensor import (
    LAST_MODIFIED,
    Node,
    Tensor,
    creation_number,
    handle,
    make_tensor,
    nodes_leading_to,
)

FREED_GRAPH = ("backward: this part of the graph was already freed by an earlier "
               "backward(); pass retain_graph=True to the first backward() (or to "
               "mg.grad) to backpropagate through it again")


def sum_to(g: Any, shape: tuple[int, ...]) -> Any:
    """Undo broadcasting: sum ``g`` over the axes along which ``shape`` was broadcast.

    Works on arrays and on Tensors. ``sum_to(ones((4, 2, 3)), (2, 1)) -> 12 * ones((2, 1))``.
    Raises ValueError unless ``shape`` broadcasts to ``g.shape``: a gradient of another
    layout (``g.T``, ``g.reshape(-1)``) is never reshaped into place.
    """
    shape = tuple(shape)
    lead = g.ndim - len(shape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, g.shape[lead:])):
        raise ValueError(f"sum_to: shape {shape} does not broadcast to {tuple(g.shape)}")
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead:
        g = g.reshape(shape)  # drops the summed leading axes, nothing else
    return g


def vertex(t: Tensor) -> Node | Tensor:
    """The graph vertex of a tensor: its node, or the tensor itself for a leaf."""
    return t._node or t


def topological_order(roots: Sequence[Tensor], only_requiring_grad: bool = True) -> list:
    """The graph vertices (nodes and leaf tensors) that lead to ``roots``, outputs first;
    by default only those that require grad. Each has ``op``, ``name``, ``shape``,
    ``dtype`` and ``scope``.

    Sorting by creation number orders them, since every op's inputs were created
    before its output.

    Example::

        >>> x = mg.tensor([1.0], requires_grad=True)
        >>> y = x * 2
        >>> [v.op for v in mg.topological_order([y.sum()])]
        ['sum', 'mul', None]
    """
    roots = list(dict.fromkeys(vertex(r) for r in roots))
    nodes = sorted(nodes_leading_to(roots), key=creation_number, reverse=True)
    leaves = {id(x): x for v in (*roots, *nodes)
              for x in (v.inputs or () if type(v) is Node else (v,))
              if isinstance(x, Tensor) and (x.requires_grad or not only_requiring_grad)}
    return sorted([*nodes, *leaves.values()], key=creation_number, reverse=True)


def _fit(g: Any, x: Node | Tensor, op: str) -> Any:
    """The one door every input gradient passes: undo broadcasting, match the input's
    dtype, and check the shape, so that no primitive has to. A gradient that is not the
    input's shape once broadcasting is undone is the VJP's mistake, never reshaped."""
    if not isinstance(g, (np.ndarray, Tensor)):
        g = np.asarray(g)
    shape = x.shape
    if g.shape != shape:
        try:
            g = sum_to(g, shape)
        except ValueError:
            raise _wrong_shape(op, g.shape, shape) from None
    if g.dtype != x.dtype and not isinstance(g, Tensor):
        g = g.astype(x.dtype)
    return g


def fits(gx: Any, x: Any) -> bool:
    """Whether a VJP's gradient ``gx`` for input ``x`` needs nothing from the door: an
    array of the input's shape and dtype, or a lazy gradient of its shape."""
    if type(gx) is np.ndarray:
        return gx.shape == x.shape and gx.dtype == x.dtype
    return type(gx) in LAZY and gx.shape == x.shape


def through_door(gx: Any, x: Any, op: str) -> Any:
    """The gradient door, for the eager sweep and compiled plans alike: a lazy gradient
    must have the input's shape; anything else is fitted to it (:func:`_fit`)."""
    if type(gx) in LAZY:
        if gx.shape != x.shape:
            raise _wrong_shape(op, gx.shape, x.shape)
        return gx
    return _fit(gx, x, op)


def _wrong_shape(op: str, got: tuple[int, ...], shape: tuple[int, ...]) -> RuntimeError:
    return RuntimeError(f"the VJP of {op} returned a gradient of shape {tuple(got)} for an "
                        f"input of shape {tuple(shape)}")


def _modified_in_place(v: Node, x: Tensor) -> RuntimeError:
    name = f" {x.name!r}" if x.name else ""
    return RuntimeError(
        f"backward: {v.op} saved its input{name} of shape {x.shape} to compute its "
        f"gradient, but that tensor's data was modified in place after it was used (by an "
        f"optimizer step or load_state_dict); compute the output again from the updated "
        f"tensor, or call backward() before modifying it")


def _refuse_while_tracing(what: str) -> None:
    if tracing():
        raise TracingError(
            f"mg.compile: {what} inside a compiled function: a trace records the forward "
            f"only, and the compiled call's own node already gives the gradients. Call "
            f"backward() (or mg.grad) on the compiled function's result, outside it; for "
            f"a gradient the function itself needs (a Newton step, a penalty on a "
            f"gradient), call the function without mg.compile")


def _seed(root: Tensor, grad: Any, create_graph: bool) -> Any:
    if not isinstance(root, Tensor):
        raise TypeError(f"backward: expected a Tensor, got {type(root).__name__}")
    if not root.requires_grad:
        raise RuntimeError("backward: the tensor does not require grad and has no graph; "
                           "did an input set requires_grad=True, and was it computed "
                           "outside mg.no_grad()?")
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(f"backward: grad can be omitted only for a one-element "
                               f"output, this one has shape {root.shape}; pass grad=")
        g = np.ones_like(root.data)
    else:
        g = np.asarray(grad.data if isinstance(grad, Tensor) else grad, dtype=root.dtype)
        if g.shape != root.shape:
            raise ValueError(f"backward: grad has shape {g.shape} but the output has shape "
                             f"{root.shape}")
        if isinstance(grad, Tensor) and create_graph:
            return grad
    return make_tensor(g, False, None) if create_graph else g


def _accumulate(grads: Any, owned: set, x: Any, previous: Any, g: Any, dtype: np.dtype) -> None:
    """Add a second or later gradient for vertex ``x`` (of ``dtype``), whose gradient so far
    is ``grads[x]``. The first one may be a view, or shared with another input, so the
    first sum is a new, private array (of two arrays of ``dtype``, by one add; else a copy
    added to); from then on it is added to in place."""
    if isinstance(previous, Tensor) or isinstance(g, Tensor):
        grads[x] = previous + g  # create_graph: every sum is recorded
        return
    if type(previous) is Scattered and type(g) is Scattered:
        grads[x] = previous.plus(g)  # slices of one array: joined when it is needed
        return
    if type(g) is Product and type(previous) in (Product, ProductSum):
        # a weight's gradient over time steps: multiplied in chunks of steps
        grads[x] = (previous if type(previous) is ProductSum else ProductSum(previous)).plus(g)
        return
    if x not in owned:
        owned.add(x)
        if (type(previous) is np.ndarray and type(g) is np.ndarray and previous.dtype == dtype
                and g.dtype == dtype and previous.shape == g.shape and previous.ndim):
            # a new array: one NumPy add, not a copy then an add (0-d would give a scalar)
            grads[x] = previous + g
            return
        previous = grads[x] = (previous.dense(dtype) if type(previous) in LAZY
                               else np.array(previous, dtype=dtype, copy=True))
    if type(g) in LAZY:
        g.add_to(previous)
    else:
        previous += g


def _sweep(roots: Sequence[Tensor], seeds: Sequence[Any], retain_graph: bool,
           create_graph: bool, wanted: dict[int, Any] | None,
           order: list | None = None) -> None:
    """Propagate ``seeds`` from ``roots`` to every leaf.

    Nodes are visited newest first (by creation number), each as soon as its gradient
    is complete; leaves get their gradients at the end. With ``wanted`` (ids of vertices
    whose gradient is asked for) the gradients are put there and no ``.grad`` is
    touched; otherwise they accumulate into the leaves. Pending gradients are popped as
    the sweep passes, so each is released right after its use. ``order``, if given,
    receives every vertex in the order the sweep visits it.
    """
    grads: dict[Any, Any] = {}  # pending gradients, by vertex
    owned: set[Any] = set()  # vertices whose gradient is a private buffer
    for root, seed in zip(roots, seeds):
        v = vertex(root)
        previous = grads.get(v)
        if previous is None:
            grads[v] = seed
        else:
            _accumulate(grads, owned, v, previous, seed, v.dtype)
    # nodes with a pending gradient, newest first: a node's consumers are all newer, so
    # when it comes out of the heap its gradient is complete
    pending = [(-v._seq, v) for v in grads if type(v) is Node]
    heapify(pending)
    retaining = set_retaining(retain_graph)  # a compiled function's VJP frees as it goes
    try:
        if anomaly_enabled() and create_graph:
            token = set_differentiating(None)  # anomaly messages name the node differentiated
            try:
                _propagate(grads, owned, pending, retain_graph, True, wanted, order,
                           marking=True)
            finally:
                reset_differentiating(token)
        else:
            _propagate(grads, owned, pending, retain_graph, create_graph, wanted, order)
    finally:
        reset_retaining(retaining)
    if order is not None:
        order.extend(grads)  # the leaves, in the order their first gradient arrived
    for leaf, g in grads.items():  # only leaves are left
        is_owned = leaf in owned
        if type(g) in LAZY:
            g, is_owned = g.dense(leaf.dtype), True
        _deliver(leaf, g, is_owned, wanted)


def _propagate(grads: dict, owned: set, pending: list, retain_graph: bool,
               create_graph: bool, wanted: dict[int, Any] | None, order: list | None,
               marking: bool = False) -> None:
    """The sweep proper: visit the nodes in ``pending`` newest first, each once its
    gradient in ``grads`` is complete, and pass the gradient on to its inputs through
    their VJPs; what reaches the leaves stays in ``grads``."""
    anomaly = anomaly_enabled()
    changed = LAST_MODIFIED[0]  # only nodes older than the latest in-place change can be stale
    while pending:
        v = heappop(pending)[1]
        g = grads.pop(v)
        if order is not None:
            order.append(v)
        if marking:  # ops the VJPs run are this node's backward pass
            set_differentiating(v)
        if type(g) in LAZY and not (type(g) is Product and v.prim.selects_from_g
                                    and wanted is None and not v.retains_grad):
            g = g.dense(v.dtype)
            owned.add(v)
        if wanted is not None or v.retains_grad:
            _deliver(v, g, v in owned, wanted)
        inputs = v.inputs
        if inputs is None:
            raise RuntimeError(FREED_GRAPH)
        if v.saved is not None and v._seq < changed:
            for x in inputs:
                if type(x) is not Node and isinstance(x, Tensor) and x._version > v._seq:
                    raise _modified_in_place(v, x)
        prim = v.prim
        # what the VJP reads: saved arrays, or the vertices (shape, ndim, dtype) otherwise
        if create_graph:
            values = ([handle(a, x) for a, x in zip(v.saved, inputs)] if v.saved is not None
                      else inputs)
            y = handle(v.out, v) if v.out is not None else v
        else:
            values = v.saved if v.saved is not None else inputs
            y = v.out if v.out is not None else v
        params = v.params
        vjps = prim.vjps
        for k, x in enumerate(inputs):
            if type(x) is not Node and not (isinstance(x, Tensor) and x.requires_grad):
                continue
            if vjps is None:
                gx = prim.vjp_each(k, g, y, *values, **params)
            elif params is None:
                gx = vjps[k](g, y, *values)
            else:
                gx = vjps[k](g, y, *values, **params)
            # inline, the common case: an array that needs nothing from the door
            if type(gx) is not np.ndarray or gx.shape != x.shape or gx.dtype is not x.dtype:
                gx = through_door(gx, x, prim.name)
            if anomaly:
                where = f" (scope {v.scope})" if v.scope else ""
                check_finite(gx.dense(x.dtype) if type(gx) in LAZY else gx,
                             f"{prim.name}: the backward pass produced NaN or inf in the "
                             f"gradient of input {k}{where}")
            previous = grads.get(x)
            if previous is None:
                grads[x] = gx
                if type(x) is Node:
                    heappush(pending, (-x._seq, x))
            else:
                _accumulate(grads, owned, x, previous, gx, x.dtype)
        if not retain_graph:
            v.inputs = v.saved = v.out = None


def _deliver(v: Any, g: Any, owned: bool, wanted: dict[int, Any] | None) -> None:
    """Hand vertex ``v``'s complete gradient to whoever asked: ``wanted`` (mg.grad),
    else the ``.grad`` of a leaf or of a tensor that called ``retain_grad``."""
    if wanted is not None:
        if id(v) in wanted:
            wanted[id(v)] = g
    elif type(v) is not Node:
        _store_grad(v, g, owned)
    else:
        t = v.tensor() if v.tensor is not None else None
        if t is not None:
            _store_grad(t, g, owned)


def _store_grad(t: Tensor, g: Any, owned: bool) -> None:
    data = g.data if isinstance(g, Tensor) else g
    if t._grad is None:
        # a private buffer can be handed over; anything else may be shared: copy it
        t._grad = data if owned and data.dtype == t.data.dtype else np.array(
            data, dtype=t.data.dtype, copy=True)
    else:
        t._grad += data  # the grad setter made sure it has the tensor's shape


def backward(root: Tensor, grad: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False) -> None:
    """See :meth:`Tensor.backward`."""
    _refuse_while_tracing("backward()")
    seed = _seed(root, grad, create_graph)
    retain = create_graph if retain_graph is None else retain_graph
    if create_graph:
        with enable_grad():
            _sweep([root], [seed], retain, True, None)
    else:
        _sweep([root], [seed], retain, False, None)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, create_graph: bool = False,
         retain_graph: bool | None = None, allow_unused: bool = False) -> tuple[Tensor, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, without touching any ``.grad``.

    Args:
        outputs: a tensor or a sequence of tensors.
        inputs: a tensor or a sequence of tensors (leaves or intermediate results).
        grad_outputs: one upstream gradient (array or Tensor) per output; may be None
            for one-element outputs.
        create_graph: make the returned gradients differentiable, so ``grad`` of a
            gradient works (Hessian-vector products, Newton steps).
        retain_graph: keep the graph (default: ``create_graph``).
        allow_unused: return None for an input the outputs do not depend on, instead
            of raising.

    Returns:
        a tuple with one Tensor per input, each of that input's shape and dtype.

    Example::

        (dx,) = mg.grad((x ** 3).sum(), x, create_graph=True)   # 3 x**2
        (d2x,) = mg.grad(dx.sum(), x)                            # 6 x
    """
    _refuse_while_tracing("mg.grad")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for "
                         f"{len(outputs)} outputs")
    for x in inputs:
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError("grad: every input must be a Tensor with requires_grad=True")
    seeds = [_seed(o, g, create_graph) for o, g in zip(outputs, grad_outputs)]
    wanted: dict[int, Any] = {id(vertex(x)): None for x in inputs}
    retain = create_graph if retain_graph is None else retain_graph
    if create_graph:
        with enable_grad():
            _sweep(outputs, seeds, retain, True, wanted)
    else:
        _sweep(outputs, seeds, retain, False, wanted)
    results = []
    for k, x in enumerate(inputs):
        g = wanted[id(vertex(x))]
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"grad: input {k} (shape {x.shape}) is not used to "
                                   f"compute the outputs; pass allow_unused=True")
            results.append(None)
        elif isinstance(g, Tensor):
            results.append(g)
        else:
            results.append(make_tensor(np.array(g, dtype=x.dtype, copy=True), False, None))
    return tuple(results)


def vertex_gradients(roots: Sequence[Tensor], vertices: Sequence[Any],
                     order: list | None = None) -> dict[int, Any]:
    """d(sum of roots)/d(v) for each vertex, by id; the graph is kept (for pictures).
    ``order``, if given, receives the vertices in the order the sweep visits them."""
    wanted: dict[int, Any] = {id(v): None for v in vertices}
    _sweep(list(roots), [_seed(r, None, False) for r in roots], True, False, wanted, order)
    return {k: g for k, g in wanted.items() if g is not None}


def sweep_order(roots: Sequence[Tensor]) -> list:
    """The graph vertices that ``backward()`` of ``roots`` (summed) visits, in the order it
    visits them: nodes newest first, each once its gradient is complete, then the leaves
    that require grad. The graph is kept.

    Example::

        >>> x = mg.tensor([1.0], requires_grad=True)
        >>> [v.op for v in mg.autograd.sweep_order([(x * 2).sum()])]
        ['sum', 'mul', None]
    """
    order: list = []
    vertex_gradients(roots, [], order)
    return order
