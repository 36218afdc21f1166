"""Switches of the engine: gradient recording, the current scope, anomaly detection,
and the two that ``mg.compile`` needs: tracing, and whether a backward keeps the graph.

Each switch is a context manager that restores the previous state on exit, so they
nest. Each lives in a ``contextvars.ContextVar``, so it belongs to one thread (and one
asyncio task): a ``no_grad`` block in one thread never turns recording off in another,
and every new thread starts with recording on, no scope and no anomaly detection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar, Token
from typing import Any

_grad_enabled: ContextVar[bool] = ContextVar("minigrad_grad_enabled", default=True)
_scope: ContextVar[str | None] = ContextVar("minigrad_scope", default=None)
_anomaly: ContextVar[bool] = ContextVar("minigrad_anomaly", default=False)
# the graph vertex whose VJPs a create_graph backward is running (for anomaly messages)
_differentiating: ContextVar[Any] = ContextVar("minigrad_differentiating", default=None)
# mg.compile is tracing a function: every op is recorded, reading a value is refused. The
# value is the creation number at which the trace began (0 when not tracing): tensors
# computed before it are the function's inputs, never traced back through.
_tracing: ContextVar[int] = ContextVar("minigrad_tracing", default=0)
# the tensors detach() made during the running trace: plain tensors once it ends
_detached_in_trace: ContextVar[list | None] = ContextVar("minigrad_detached", default=None)
# the backward sweep running now keeps the graph (retain_graph=True)
_retaining: ContextVar[bool] = ContextVar("minigrad_retaining", default=False)

# The engine's hot path reads the switches through these bound methods (one C call each).
grad_enabled = _grad_enabled.get
scope_now = _scope.get
anomaly_enabled = _anomaly.get
differentiating = _differentiating.get
tracing = _tracing.get
retaining_graph = _retaining.get


class TracingError(TypeError):
    """``mg.compile`` met something it cannot trace: Python reading a tensor's value
    (``float(t)``, ``if t > 0:``, ``np.asarray(t)``) inside the traced function, whose
    result the compiled function would freeze at its trace-time value."""


def refuse_while_tracing(what: str) -> None:
    """Raise :class:`TracingError` if a function is being traced: ``what`` reads a
    tensor's value, which a replay could not see change."""
    if _tracing.get():
        raise TracingError(
            f"mg.compile: {what} reads a tensor's value while the function is traced; a "
            f"compiled function replays only tensor operations, so that value would be "
            f"frozen at its first call. Compute it outside the compiled function, or call "
            f"the function without mg.compile")


def tracing_switch(since: int) -> AbstractContextManager[None]:
    """Trace inside (``since`` > 0: the creation number at which the trace begins; 0 turns
    tracing off): every op records its node, even with no input requiring grad, reading a
    tensor's value raises :class:`TracingError`, and a tensor computed before ``since``
    enters the trace as an input, as a leaf does."""
    return _switched(_tracing, since)


@contextmanager
def detached_in_trace() -> Iterator[list]:
    """The list every ``detach()`` inside the block adds its result to while tracing."""
    found: list = []
    with _switched(_detached_in_trace, found):
        yield found


def note_detached(t: Any) -> None:
    """Called by ``detach()`` while tracing: ``t`` is one of the trace's detached tensors."""
    found = _detached_in_trace.get()
    if found is not None:
        found.append(t)


def set_retaining(retain: bool) -> Token:
    """Tell VJPs whether the running backward keeps the graph; undo with
    :func:`reset_retaining`."""
    return _retaining.set(retain)


def reset_retaining(token: Token) -> None:
    _retaining.reset(token)


@contextmanager
def _switched(var: ContextVar, value: Any) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def no_grad() -> AbstractContextManager[None]:
    """Record no graph inside: results of ops have ``requires_grad=False``.

    Also usable as a decorator. Example::

        with mg.no_grad():
            prediction = model(xs)     # no graph is kept: memory stays flat

    Writing to ``w.data`` directly is not tracked as an in-place change (as with
    ``torch.Tensor.data``); update parameters with an optimizer, whose steps are.
    """
    return _switched(_grad_enabled, False)


def enable_grad() -> AbstractContextManager[None]:
    """Record the graph again inside a ``no_grad`` block.

    Example::

        >>> with mg.no_grad(), mg.enable_grad():
        ...     mg.is_grad_enabled()
        True
    """
    return _switched(_grad_enabled, True)


def is_grad_enabled() -> bool:
    """Whether ops currently record a graph (in this thread).

    Example::

        >>> with mg.no_grad():
        ...     mg.is_grad_enabled()
        False
    """
    return _grad_enabled.get()


def set_differentiating(vertex: Any) -> Token:
    """Mark the ops run from now on as part of the backward pass of ``vertex`` (with
    ``create_graph=True`` VJPs run as recorded ops, and anomaly messages say so); undo
    with :func:`reset_differentiating`."""
    return _differentiating.set(vertex)


def reset_differentiating(token: Token) -> None:
    """Undo :func:`set_differentiating` (and every later one)."""
    _differentiating.reset(token)


class scope:  # noqa: N801 - used like a function: `with mg.scope("t=3"):`
    """Tag every tensor made inside with ``name``; nested scopes join with "/".

    The visualiser draws each scope as a cluster. Example::

        with mg.scope("t=3"), mg.scope("lstm"):
            z = x @ w            # z.scope == "t=3/lstm"
    """

    __slots__ = ("name", "tokens")

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"scope: name must be a non-empty string, got {name!r}")
        self.name = name
        self.tokens: list = []

    def __enter__(self) -> str:
        previous = _scope.get()
        joined = self.name if previous is None else f"{previous}/{self.name}"
        self.tokens.append(_scope.set(joined))
        return joined

    def __exit__(self, *exc: object) -> None:
        _scope.reset(self.tokens.pop())


def current_scope() -> str | None:
    """The scope tensors made now would carry, or None outside any scope.

    Example::

        >>> with mg.scope("t=3"):
        ...     mg.current_scope()
        't=3'
    """
    return _scope.get()


def detect_anomaly() -> AbstractContextManager[None]:
    """Raise ``FloatingPointError`` at the first op whose forward output or backward
    gradient holds NaN or inf, naming the op and its scope. Slows every op a little.

    Example::

        >>> with mg.detect_anomaly(), np.errstate(invalid="ignore"):
        ...     mg.log(mg.tensor([-1.0]))   # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        FloatingPointError: log: the forward pass produced NaN or inf
    """
    return _switched(_anomaly, True)
