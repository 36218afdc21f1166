"""The grader's tools: a task file loaded by its path, the student's code run under watch,
and checks whose failures speak the student's language.

- :func:`student` wraps a function from a task file: a ``NotImplementedError`` becomes
  :class:`NotYetError`, any other error a :class:`CheckError` that names the function and the line.
- :func:`watching` lays tripwires: while the student's code runs, reaching one of
  minigrad's own pieces that the task asks the student to write raises :class:`ForbiddenError`.
  So a solution that calls ``mg.sigmoid`` (or minigrad's sigmoid VJP, or
  ``lstm.RNNCell``) instead of computing the thing fails, however right its numbers are.
- :func:`holds` runs a property over Hypothesis' examples (deterministic, so a grade
  repeats), and :func:`same` compares arrays and says how they differ: a flipped sign, a
  constant factor, a transpose, a lost dtype.
"""

from __future__ import annotations

import contextvars
import functools
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import autograd
from minigrad.primitive import Primitive


class CheckError(Exception):
    """A check failed; the message is for the student."""


class ForbiddenError(CheckError):
    """The student's code called what the task asks the student to write."""


class NotYetError(Exception):
    """A function of the task still raises NotImplementedError."""


class TimedOut(BaseException):
    """Grading ran out of time. A BaseException, so that no check (and no shrinking by
    Hypothesis) takes it for a failure to retry."""


class OutOfMemory(BaseException):
    """The student's code ran out of memory; a BaseException, as :class:`TimedOut`."""


#: How every property is run: the same examples each time, quietly, one failure reported
#: (no "explain" phase: it traces every line, and a student's code may be slow already).
SETTINGS = settings(max_examples=40, derandomize=True, database=None, deadline=None,
                    suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                    print_blob=False, report_multiple_bugs=False,
                    phases=(Phase.explicit, Phase.generate, Phase.shrink))

_STUDENT: contextvars.ContextVar[str | None] = contextvars.ContextVar("student", default=None)
_FILE: contextvars.ContextVar[str] = contextvars.ContextVar("file", default="")
_MODULE: contextvars.ContextVar[ModuleType | None] = contextvars.ContextVar("module",
                                                                           default=None)


def load(path: Path) -> ModuleType:
    """The task file at ``path``, run as a module of its own."""
    try:
        code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
    except SyntaxError as error:
        raise CheckError(f"the file does not run: {error.msg} (line {error.lineno})") from None
    module = ModuleType(f"exercise_{path.stem}")
    module.__file__ = str(path)
    _FILE.set(str(path))
    _MODULE.set(module)
    with _as_student("file (its top level)"):
        exec(code, module.__dict__)
    return module


def student(fn: Callable, name: str) -> Callable:
    """``fn`` from a task file, called as the student's code (see the module's doc)."""
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _as_student(name):
            return fn(*args, **kwargs)
    return run


@contextmanager
def _as_student(name: str) -> Iterator[None]:
    token = _STUDENT.set(name)
    try:
        yield
    except NotImplementedError:
        raise NotYetError(name) from None
    except (CheckError, NotYetError):
        raise
    except MemoryError:
        raise OutOfMemory(f"your {name} ran out of memory: does a loop add to the list it "
                          f"walks, or build something ever larger?") from None
    except RecursionError:
        raise CheckError(f"your {name} recursed too deep (Python's limit is "
                         f"{sys.getrecursionlimit()} calls): walk the graph with a loop and a "
                         f"list as the stack, not with recursion") from None
    except Exception as error:  # noqa: BLE001 -- any error of the student's is a finding
        raise CheckError(f"your {name} raised {type(error).__name__}: {error}"
                         f"{_line(error)}") from None
    finally:
        _STUDENT.reset(token)


def _line(error: BaseException) -> str:
    """Where in the task file the error happened, if it did."""
    file = _FILE.get()
    lines = [frame.lineno for frame in traceback.extract_tb(error.__traceback__)
             if frame.filename == file]
    return f" (line {lines[-1]} of {Path(file).name})" if lines else ""


# ---- tripwires -------------------------------------------------------------------------------

def _tripwire(original: Callable, what: str) -> Callable:
    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        who = _STUDENT.get()
        if who is not None:
            raise ForbiddenError(f"your {who} calls {what}: the task is to write that yourself")
        return original(*args, **kwargs)
    return guarded


@contextmanager
def _patched(owner: Any, attribute: str, what: str) -> Iterator[None]:
    """``owner.attribute`` and every name the task file bound to it (``from lstm.analysis
    import gradient_flow`` binds one at import) replaced by a tripwire."""
    with _replaced(owner, attribute, lambda original: _tripwire(original, what)):
        yield


@contextmanager
def _replaced(owner: Any, attribute: str, make: Callable[[Any], Any]) -> Iterator[None]:
    original = getattr(owner, attribute)
    replacement = make(original)
    module = _MODULE.get()
    bound = [name for name, value in vars(module).items() if value is original] \
        if module is not None and owner is not module else []
    targets = [(owner, attribute)] + [(module, name) for name in bound]
    for target, name in targets:
        setattr(target, name, replacement)
    try:
        yield
    finally:
        for target, name in targets:
            setattr(target, name, original)


@contextmanager
def counting(owner: Any, attribute: str) -> Iterator[list]:
    """While the block runs, the list it gives grows by one at each call of
    ``owner.attribute`` from the student's code (and from code it calls)."""
    calls: list = []

    def make(original: Callable) -> Callable:
        @functools.wraps(original)
        def counted(*args: Any, **kwargs: Any) -> Any:
            if _STUDENT.get() is not None:
                calls.append(args)
            return original(*args, **kwargs)
        return counted

    with _replaced(owner, attribute, make):
        yield calls


@contextmanager
def watching(*, no_minigrad: bool = False, primitives: tuple[str, ...] = (),
             attributes: tuple[tuple[Any, str, str], ...] = ()) -> Iterator[None]:
    """Tripwires for the student's code, while the block runs.

    Args:
        no_minigrad: any minigrad op, ``grad`` or ``backward`` (the task is plain Python
            or NumPy).
        primitives: minigrad's primitives of these names: their forward and VJPs, and any
            module attribute that holds one of those functions.
        attributes: ``(owner, name, what)``: ``owner.name``, described as ``what``.
    """
    with ExitStack() as stack:
        if no_minigrad:
            for method in ("__call__", "unary", "binary"):
                stack.enter_context(_patched(Primitive, method, "minigrad (one of its ops)"))
            stack.enter_context(_patched(mg.Tensor, "backward", "minigrad's backward()"))
            for module in (mg, autograd):
                stack.enter_context(_patched(module, "grad", "minigrad's grad()"))
        for name in primitives:
            primitive = mg.PRIMITIVES[name]
            what = f"minigrad's own {name}"
            functions = [primitive.forward, *(primitive.vjps or ()), primitive.vjp_each]
            stack.enter_context(_patched(primitive, "forward", what))
            if primitive.vjps:
                stack.enter_context(_replaced(primitive, "vjps", lambda vjps, w=what: tuple(
                    _tripwire(v, w + " VJP") for v in vjps)))
            if primitive.vjp_each is not None:
                stack.enter_context(_patched(primitive, "vjp_each", what + " VJP"))
            for module in [m for n, m in list(sys.modules.items())
                           if n.split(".")[0] in ("minigrad", "lstm") and m is not None]:
                for attribute, value in list(vars(module).items()):
                    if callable(value) and any(value is f for f in functions if f is not None):
                        stack.enter_context(_patched(module, attribute, what))
        for owner, attribute, what in attributes:
            stack.enter_context(_patched(owner, attribute, what))
        yield


# ---- properties and comparisons ----------------------------------------------------------

def holds(check: Callable, *strategies: Any, examples: int | None = None) -> None:
    """Run ``check(*drawn)`` over Hypothesis' examples of ``strategies``; the first
    failure (shrunk to a small example) is raised as it was, e.g. a :class:`CheckError`."""
    def run(drawn: tuple) -> None:
        check(*drawn)

    run = given(st.tuples(*strategies))(run)
    chosen = SETTINGS if examples is None else settings(SETTINGS, max_examples=examples)
    chosen(run)()


def array(x: Any) -> np.ndarray:
    """``x`` as an array (a Tensor's data)."""
    return x.data if isinstance(x, mg.Tensor) else np.asarray(x)


def same(name: str, got: Any, want: Any, *, at: Callable[[tuple], str] | None = None,
         hint: str = "", rtol: float | None = None, atol: float | None = None) -> None:
    """``got`` equals ``want`` to rounding for its dtype, else a :class:`CheckError` saying how it
    differs. ``at(index)`` describes where an entry sits (``"x = 0.7"``); ``hint`` is
    added to a difference in value."""
    if got is None:
        raise CheckError(f"your {name} returned None{_then(hint)}")
    got, want = array(got), np.asarray(want)
    if got.shape != want.shape:
        turned = " (a transpose missing, or one too many?)" if got.shape == want.shape[::-1] \
            and got.ndim > 1 else ""
        raise CheckError(f"your {name} has the shape {got.shape}, and it should be {want.shape}"
                         f"{turned}{_then(hint)}")
    if want.dtype.kind == "f" and got.dtype != want.dtype:
        raise CheckError(f"your {name} is {got.dtype} for {want.dtype} inputs: keep the dtype "
                         f"(a float32 input gives a float32 result)")
    small = want.dtype == np.float32
    rtol = (1e-4 if small else 1e-6) if rtol is None else rtol
    atol = (1e-5 if small else 1e-9) if atol is None else atol
    close = np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return
    index = tuple(int(i) for i in np.unravel_index(
        np.argmax(np.where(close, -1, np.abs(got - want))), got.shape)) if got.ndim else ()
    where = f" at {at(index)}" if at is not None else (f" at index {index}" if index else "")
    if np.allclose(got, -want, rtol=rtol, atol=atol) and np.abs(want).max() > atol:
        how = "has the wrong sign"
    else:
        ratio = _ratio(got, want, atol)
        telling = ratio is not None and abs(ratio) > 1e-3 and abs(ratio - 1) > 0.02
        how = (f"is off by a factor of about {ratio:.3g}" if telling else
               f"gives {got[index]:.6g} where it should give {want[index]:.6g}")
    raise CheckError(f"your {name} {how}{where}{_then(hint)}")


def _ratio(got: np.ndarray, want: np.ndarray, atol: float) -> float | None:
    """The one factor between ``got`` and ``want``, if there is one."""
    usable = np.abs(want) > max(atol, 1e-12)
    if not usable.any():
        return None
    ratios = got[usable] / want[usable]
    middle = float(np.median(ratios))
    return middle if np.allclose(ratios, middle, rtol=1e-3, atol=1e-9) else None


def _then(hint: str) -> str:
    return f": {hint}" if hint else ""


def through_engine(label: str, mine: Any, reference: Callable, arrays: list, g: np.ndarray,
                   **params: Any) -> None:
    """``mine``, the task file's primitive (built by its given line from the student's
    functions), used as minigrad uses a primitive: its value and every input's gradient
    equal minigrad's own (``reference``) on the same ``arrays``, with cotangent ``g``."""
    if not isinstance(mine, Primitive):
        raise CheckError(f"{label} should be the mg.Primitive the file's last lines build, not "
                         f"{type(mine).__name__}")
    ours, theirs = ([mg.tensor(a, requires_grad=True) for a in arrays] for _ in range(2))
    with _as_student(label):
        got = mine(*ours, **params)
        gots = mg.grad((got * g).sum(), ours)
    want = reference(*theirs, **params)
    same(label, got, want.data)
    for k, (mine_k, want_k) in enumerate(zip(gots, mg.grad((want * g).sum(), theirs))):
        same(f"{label}'s gradient for input {k}" if len(arrays) > 1 else f"{label}'s gradient",
             mine_k, want_k.data)


def same_function(name: str, mine: Callable, reference: Callable, arrays: list,
                  cotangents: list, labels: tuple[str, ...], hint: str = "") -> None:
    """``mine`` and ``reference``, each taking Tensors made from ``arrays`` and returning a
    Tensor or a tuple of them, agree in value and in the gradient of every input, with
    the random ``cotangents`` (one per output) seeding the backward pass."""
    ours, theirs = ([mg.tensor(a, requires_grad=True) for a in arrays] for _ in range(2))
    got, want = mine(*ours), reference(*theirs)
    got, want = (v if isinstance(v, tuple) else (v,) for v in (got, want))
    if len(got) != len(want):
        raise CheckError(f"your {name} should return {len(want)} Tensor(s), and it returned "
                         f"{len(got)}")
    for k, (mine_k, want_k) in enumerate(zip(got, want)):
        which = f"{name}'s output {k}" if len(want) > 1 else name
        if not isinstance(mine_k, mg.Tensor):
            raise CheckError(f"your {which} should be a minigrad Tensor, not "
                             f"{type(mine_k).__name__}")
        if not mine_k.requires_grad:
            raise CheckError(f"your {which} is a Tensor that no gradient can reach: it was "
                             f"computed outside minigrad (with NumPy?); build it from "
                             f"minigrad's ops")
        same(which, mine_k, want_k.data, hint=hint)
    loss_got = sum((o * g).sum() for o, g in zip(got, cotangents))
    loss_want = sum((o * g).sum() for o, g in zip(want, cotangents))
    gots = mg.grad(loss_got, ours, allow_unused=True)
    for label, mine_k, want_k in zip(labels, gots, mg.grad(loss_want, theirs)):
        if mine_k is None:
            raise CheckError(f"in your {name} no gradient reaches {label}: every input must "
                             f"take part, through minigrad's ops{_then(hint)}")
        same(f"{name}'s gradient for {label}", mine_k, want_k.data, hint=hint)


def in_float(value: Any) -> str:
    """A number as the messages show it."""
    return f"{float(value):.3g}"
