"""Global switches of the engine: gradient recording, the current scope, anomaly detection.

Each switch is a context manager that restores the previous state on exit, so they
nest. They are process-wide (not thread-local): minigrad is single-threaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class _State:
    __slots__ = ("grad_enabled", "scope", "anomaly")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.scope: str | None = None
        self.anomaly = False


STATE = _State()


@contextmanager
def no_grad() -> Iterator[None]:
    """Record no graph inside: results of ops have ``requires_grad=False``.

    Also usable as a decorator. Example::

        with mg.no_grad():
            w.data -= 0.1 * w.grad   # or: w_new = w - 0.1 * w.grad, recorded nowhere
    """
    previous = STATE.grad_enabled
    STATE.grad_enabled = False
    try:
        yield
    finally:
        STATE.grad_enabled = previous


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record the graph again inside a ``no_grad`` block.

    Example::

        >>> with mg.no_grad(), mg.enable_grad():
        ...     mg.is_grad_enabled()
        True
    """
    previous = STATE.grad_enabled
    STATE.grad_enabled = True
    try:
        yield
    finally:
        STATE.grad_enabled = previous


def is_grad_enabled() -> bool:
    """Whether ops currently record a graph.

    Example::

        >>> with mg.no_grad():
        ...     mg.is_grad_enabled()
        False
    """
    return STATE.grad_enabled


class scope:  # noqa: N801 - used like a function: `with mg.scope("t=3"):`
    """Tag every tensor made inside with ``name``; nested scopes join with "/".

    The visualiser draws each scope as a cluster. Example::

        with mg.scope("t=3"), mg.scope("lstm"):
            z = x @ w            # z.scope == "t=3/lstm"
    """

    __slots__ = ("name", "previous")

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"scope: name must be a non-empty string, got {name!r}")
        self.name = name

    def __enter__(self) -> str:
        self.previous = STATE.scope
        STATE.scope = self.name if self.previous is None else f"{self.previous}/{self.name}"
        return STATE.scope

    def __exit__(self, *exc: object) -> None:
        STATE.scope = self.previous


def current_scope() -> str | None:
    """The scope tensors made now would carry, or None outside any scope.

    Example::

        >>> with mg.scope("t=3"):
        ...     mg.current_scope()
        't=3'
    """
    return STATE.scope


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise ``FloatingPointError`` at the first op whose forward output or backward
    gradient holds NaN or inf, naming the op and its scope. Slows every op a little.

    Example::

        >>> with mg.detect_anomaly(), np.errstate(invalid="ignore"):
        ...     mg.log(mg.tensor([-1.0]))   # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        FloatingPointError: log: the forward pass produced NaN or inf
    """
    previous = STATE.anomaly
    STATE.anomaly = True
    try:
        yield
    finally:
        STATE.anomaly = previous
