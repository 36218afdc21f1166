"""What a compiled function's plan depends on, checked at every call: the signature of
its arguments, and guards on the names the function reads.

A plan is replayed only for a call whose key equals the key it was traced with. The key
holds everything the trace froze that a call can change without a tensor operation:

- each tensor argument's shape, dtype and ``requires_grad``;
- every other argument by exact value (``0.0`` and ``-0.0`` differ, NaN equals NaN, ``1``
  and ``True`` differ; dict keys too), and an argument object by its
  :func:`fingerprint`: everything it holds, to any depth;
- guards: the fingerprints of the globals the function reads, its closure variables,
  its default arguments and what it is bound to (``self``, a partial's arguments, a
  callable object), each followed to any depth: nested attributes, containers, class
  attributes, the defaults, closures and globals of the user's functions they reach.

``describe`` says the same in words, for ``explain()``: which argument or name changed,
and how.
"""

from __future__ import annotations

import functools
import math
import sys
import sysconfig
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .nn.module import Module
from .tensor import Tensor, make_tensor

TENSOR = "tensor"


class _Keyed:
    """A value compared by ``key``, a description of it that a trace could tell apart."""

    __slots__ = ("value", "key")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return repr(self.value)


class Exact(_Keyed):
    """A number compared by its exact value: ``-0.0`` is not ``0.0``, NaN equals NaN."""

    __slots__ = ()

    def __init__(self, value: Any) -> None:
        self.value = value
        if isinstance(value, np.generic):
            self.key: Any = (type(value), value.dtype.str, value.tobytes())
        elif isinstance(value, complex):
            self.key = (complex, _float_bits(value.real), _float_bits(value.imag))
        else:
            self.key = (type(value), _float_bits(value))


class Same:
    """An object compared by identity (and kept alive, so that its id is not reused)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return type(other) is Same and other.value is self.value

    def __hash__(self) -> int:
        return id(self.value)


def _float_bits(x: float) -> str:
    return "nan" if math.isnan(x) else float(x).hex()


def _is_number(value: Any) -> bool:
    return isinstance(value, (float, complex, np.generic))


class Key(_Keyed):
    """A dict key compared as a trace tells keys apart: numbers by exact value (``0.0``
    and ``-0.0`` differ), ``1`` and ``True`` differ, tuples entry by entry; ``value`` is
    the key itself."""

    __slots__ = ()

    def __init__(self, value: Any) -> None:
        self.value = value
        self.key = _exact(value)


def _exact(value: Any) -> Any:
    if _is_number(value):
        return Exact(value)
    if type(value) is tuple:
        return (tuple, tuple([_exact(v) for v in value]))
    return (type(value), value)


def value_key(value: Any) -> Any:
    """A hashable key equal for two values exactly when a trace cannot tell them apart:
    numbers by exact value, strings and other immutable atoms by value, anything else by
    identity."""
    if _is_number(value):
        return Exact(value)
    if value is None or type(value) in (bool, int, str, bytes):
        return (type(value), value)
    return Same(value)


# ---- arguments ---------------------------------------------------------------------------

def flatten(value: Any, tensors: list[Tensor], attributes: tuple[str, ...]) -> Any:
    """Append the tensors in ``value`` (float arrays become tensors) to ``tensors`` and
    return a hashable description of everything else (part of the signature).
    ``attributes``: the attribute names the function reads, guarded on argument objects."""
    if isinstance(value, Tensor):
        tensors.append(value)
        return TENSOR
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        tensors.append(make_tensor(value, False, None))
        return TENSOR
    if type(value) in (tuple, list):
        return (type(value), tuple([flatten(v, tensors, attributes) for v in value]))
    if type(value) is dict:
        return (dict, tuple([(Key(k), flatten(v, tensors, attributes))
                             for k, v in value.items()]))
    if isinstance(value, (Iterator, types.GeneratorType)):
        raise TypeError(f"mg.compile: cannot pass an iterator ({type(value).__name__}): the "
                        f"trace would read its values once and every replay would reuse "
                        f"them; pass a list or tuple of its values instead")
    if isinstance(value, np.ndarray):  # integer or boolean: a static value
        return (np.ndarray, value.dtype.str, value.shape, value.tobytes())
    if _is_number(value):
        return (Exact, Exact(value))
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"mg.compile: cannot pass an argument of type {type(value).__name__}; "
                        f"pass tensors, NumPy arrays, numbers or tuples, lists and dicts of "
                        f"them") from None
    if value is None or type(value) in (bool, int, str, bytes, type) or (
            callable(value) and not hasattr(value, "__dict__")):  # builtins, ufuncs
        return (type(value), value)
    return (object, Same(value), fingerprint(value, frozenset(attributes)))


def unflatten(structure: Any, tensors: Iterator[Tensor]) -> Any:
    """The value :func:`flatten` described, with the next tensor of ``tensors`` for each
    tensor."""
    if structure is TENSOR:
        return next(tensors)
    kind = structure[0]
    if kind in (tuple, list):
        return kind(unflatten(s, tensors) for s in structure[1])
    if kind is dict:
        return {k.value: unflatten(s, tensors) for k, s in structure[1]}
    if kind is np.ndarray:
        _, dtype, shape, data = structure
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if kind is Exact or kind is object:
        return structure[1].value
    return structure[1]


# ---- guards --------------------------------------------------------------------------------

#: Where library code lives (the standard library, installed packages, minigrad itself):
#: a function from there is guarded by identity, not walked into (its globals do not
#: change between calls); the user's own functions are followed to any depth.
_LIBRARY = tuple(sorted({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib",
                                                           "purelib", "platlib")}
                        | {str(Path(__file__).resolve().parent)}))
_END = ("end",)  # closes a container in a fingerprint, so that nestings cannot collide


@functools.lru_cache(maxsize=4096)
def _is_library(code: types.CodeType) -> bool:
    file = code.co_filename
    return file.startswith(_LIBRARY) or file.startswith("<frozen")


@functools.lru_cache(maxsize=4096)
def _names_read(code: types.CodeType) -> frozenset[str]:
    """The global and attribute names ``code`` reads, nested functions included."""
    names: set[str] = set()
    stack = [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return frozenset(names)


@functools.lru_cache(maxsize=4096)
def _sorted_names(code: types.CodeType) -> tuple[str, ...]:
    return tuple(sorted(_names_read(code)))


def fingerprint(value: Any, names: frozenset[str] = frozenset()) -> tuple:
    """Everything a trace may have read from ``value``, to any depth, as a hashable
    tuple equal for two calls exactly when nothing a trace could see has changed.

    Tensors by identity, shape, dtype and ``requires_grad`` (a replay reads their data);
    NumPy arrays by content; numbers by exact value; containers item by item; an object
    by its type and every attribute it holds; a class by the data it holds (not its
    methods); a user function by its defaults, closure and the globals its code reads
    (library functions by identity); a bound method, a ``functools.partial`` by what they
    bind; a module by the attributes of it that ``names`` (the reading code's names)
    mention. Cycles are followed once. There is no budget: the walk is complete."""
    parts: list[Any] = []
    seen: dict[int, int] = {}
    keep: list[Any] = []  # the ids in seen stay unique while the walk runs
    stack: list[tuple[Any, frozenset[str]]] = [(value, names)]
    while stack:
        v, names = stack.pop()
        if v is _END:
            parts.append(_END)
            continue
        atom = _atom(v)
        if atom is not None:
            parts.append(atom)
            continue
        again = seen.get(id(v))
        if again is not None:
            parts.append(("again", again))
            continue
        seen[id(v)] = len(seen)
        keep.append(v)
        parts.append(_walk(v, names, stack))
    return tuple(parts)


def _atom(v: Any) -> Any:
    if v is None or type(v) in (bool, int, str, bytes):
        return (type(v), v)
    if _is_number(v):
        return Exact(v)
    return None


def _walk(v: Any, names: frozenset[str], stack: list) -> Any:
    """The token for ``v`` itself; pushes what it holds onto ``stack`` (walked next)."""
    if isinstance(v, Tensor):
        return (Tensor, Same(v), v.data.shape, v.data.dtype.str, v.requires_grad)
    if isinstance(v, np.ndarray):
        if v.dtype.hasobject:
            return (np.ndarray, Same(v))
        return (np.ndarray, v.dtype.str, v.shape, hash(np.ascontiguousarray(v).tobytes()))
    children: list[Any] = []
    if type(v) in (list, tuple) or isinstance(v, (list, tuple)):
        token: Any = (type(v), len(v))
        children = list(v)
    elif isinstance(v, dict):
        token = (type(v), tuple([Key(k) for k in v]))
        children = list(v.values())
    elif isinstance(v, (set, frozenset)):
        token = (type(v), frozenset(value_key(x) for x in v))
    elif isinstance(v, types.ModuleType):
        token = (types.ModuleType, Same(v))
        if not (getattr(v, "__file__", None) or _LIBRARY[0]).startswith(_LIBRARY):
            own = vars(v)  # a module of the user's (a config): the attributes code reads
            read = sorted(n for n in names if n in own)
            token += tuple(read)
            children = [own[n] for n in read]
    elif isinstance(v, types.FunctionType):
        token = (types.FunctionType, Same(v))
        code = v.__code__
        children = [v.__defaults__, v.__kwdefaults__]
        children += [_cell(c) for c in v.__closure__ or ()]
        if not _is_library(code):
            names = _names_read(code)
            space = v.__globals__
            read = [n for n in _sorted_names(code) if n in space]
            token += tuple(read)
            children += [space[n] for n in read]
    elif isinstance(v, types.MethodType):
        token = (types.MethodType,)
        children = [v.__func__, v.__self__]
    elif isinstance(v, functools.partial):
        token = (functools.partial,)
        children = [v.func, v.args, v.keywords]
    elif isinstance(v, type):
        own = vars(v)
        data = _class_data(v, len(own))
        token = (type, Same(v), data)
        children = [own.get(k) for k in data]
        children += [b for b in v.__bases__ if b is not object]
    elif isinstance(getattr(v, "__dict__", None), dict):
        own = vars(v)
        token = (object, Same(v), tuple(own))
        children = [type(v), *own.values()]
    else:  # a builtin function, a C object, an object with __slots__ only
        token = value_key(v)
    stack.append((_END, names))
    stack.extend((c, names) for c in reversed(children))
    return token


@functools.lru_cache(maxsize=4096)
def _class_data(cls: type, size: int) -> tuple[str, ...]:
    """The names of the data a user class holds (``size``, how many names its namespace
    has, makes a class that gained one look new); none for a library class."""
    module = sys.modules.get(cls.__module__)
    file = getattr(module, "__file__", None) or ""
    if cls.__module__ == "builtins" or file.startswith(_LIBRARY):
        return ()
    return tuple(k for k, x in vars(cls).items() if not k.startswith("__") and _is_data(x))


def _is_data(x: Any) -> bool:
    """A class attribute that holds data rather than behaviour (a method, a property's
    code, a nested class, a descriptor)."""
    return not (callable(x) or isinstance(x, (property, staticmethod, classmethod))
                or hasattr(type(x), "__get__"))


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # a closure variable not assigned yet
        return None


def read_names(fn: Callable[..., Any]) -> tuple[tuple[str, ...], Any]:
    """The names ``fn``'s own code reads (global and attribute names: Python keeps them
    in one list) and ``fn``'s closure (names and cells). Nested functions and
    comprehensions count."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return (), ()
    closure = tuple(zip(code.co_freevars, fn.__closure__ or ()))
    return tuple(sorted(_names_read(code))), closure


class Guards:
    """Everything ``fn`` can read besides its arguments, each a labelled root that
    :func:`fingerprint` follows to any depth: the globals its code reads, its closure
    variables, its default arguments, and what it is bound to (a bound method's
    ``self``, a ``functools.partial``'s function and arguments, a callable object or a
    Module called directly, with its class's ``__call__`` or ``forward``)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        roots: list[tuple[str, Callable[[], Any]]] = []
        code_owner = fn
        if isinstance(fn, functools.partial):
            roots.append(("the functools.partial's arguments", lambda: (fn.args, fn.keywords)))
            code_owner = fn.func
        elif isinstance(fn, types.MethodType):
            owner = fn.__self__
            roots.append((f"the {type(owner).__name__} the function is bound to",
                          lambda: owner))
            code_owner = fn.__func__
        elif not isinstance(fn, types.FunctionType) and callable(fn):  # a callable object
            roots.append((f"the {type(fn).__name__} called", lambda: fn))
            method = getattr(type(fn), "forward" if isinstance(fn, Module) else "__call__")
            code_owner = method if isinstance(method, types.FunctionType) else None
        if isinstance(code_owner, (types.FunctionType, functools.partial, types.MethodType)) \
                and code_owner is not fn:
            inner = Guards(code_owner)
            roots += inner.roots
            self.names, self.space = inner.names, inner.space
        else:
            self.names, closure = read_names(fn)
            self.space = getattr(fn, "__globals__", {})
            for name, cell in closure:
                roots.append((f"closure variable {name}", functools.partial(_cell, cell)))
            if getattr(fn, "__defaults__", None) or getattr(fn, "__kwdefaults__", None):
                roots.append(("default arguments",
                              lambda: (fn.__defaults__, fn.__kwdefaults__)))
        self.roots = roots
        self.attributes = self.names  # Python keeps global and attribute names in one list
        self._names = frozenset(self.names)

    def _globals(self) -> list[str]:
        """The names read that are globals now (a global defined later counts then)."""
        return [n for n in self.names if n in self.space]

    def key(self) -> tuple:
        """The guards' current state, hashable, part of every call's key."""
        space, names = self.space, self._names
        parts = [fingerprint(space[n], names) for n in self._globals()]
        parts += [fingerprint(get(), names) for _, get in self.roots]
        return tuple(parts)

    def labels(self) -> list[str]:
        """One label per entry of :meth:`key`."""
        return [f"global {n}" for n in self._globals()] + [label for label, _ in self.roots]


# ---- in words, for explain() ------------------------------------------------------------------

def describe_call(structure: Any, tensors: list[Tensor], guard_labels: list[str],
                  guard_key: tuple) -> dict[str, dict[str, str]]:
    """Each argument (its path in the call), and each guard, with what the signature
    holds of it: ``{"argument 0": {"shape": "(2,)", "dtype": "float64", ...}}``."""
    described: dict[str, dict[str, str]] = {}
    it = iter(tensors)

    def walk(s: Any, label: str) -> None:
        if s is TENSOR:
            t = next(it)
            described[label] = {"shape": str(t.data.shape), "dtype": str(t.data.dtype),
                                "requires_grad": str(t.requires_grad)}
            return
        kind = s[0]
        if kind in (tuple, list):
            for i, part in enumerate(s[1]):
                walk(part, f"{label}[{i}]")
        elif kind is dict:
            for k, part in s[1]:
                walk(part, f"{label}[{k!r}]")
        elif kind is np.ndarray:
            described[label] = {"value": f"{s[1]} array of shape {s[2]}",
                                "contents": str(hash(s[3]))}
        elif kind is object:
            described[label] = {"object": _summary(s[1].value), "attributes": _summary(s[2])}
        else:
            described[label] = {"value": repr(s[1])}

    args, kwargs = structure[1]
    for i, s in enumerate(args[1]):
        walk(s, f"argument {i}")
    for k, s in kwargs[1]:
        walk(s, f"argument {k}")
    for label, state in zip(guard_labels, guard_key):
        described[label] = {"value": _summary(state)}
    return described


def _summary(state: Any) -> str:
    if type(state) is Same:
        v = state.value
        if isinstance(v, Tensor):
            return f"a tensor of shape {v.shape} at 0x{id(v):x}"
        return f"{type(v).__name__} at 0x{id(v):x}"
    if type(state) is Exact:
        return repr(state.value)
    if isinstance(state, tuple) and len(state) == 2 and state[0] in (bool, int, str, bytes,
                                                                       type(None)):
        return repr(state[1])
    return f"contents #{hash(state) & 0xFFFFFF:06x}"


def differences(old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]) -> list[str]:
    """What changed from one call's description to the next, one line per change."""
    lines = []
    for label, aspects in new.items():
        before = old.get(label)
        if before is None:
            lines.append(f"{label}: new ({', '.join(aspects.values())})")
            continue
        for aspect, text in aspects.items():
            if before.get(aspect) != text:
                lines.append(f"{label}: {aspect} {before.get(aspect)} -> {text}")
    lines += [f"{label}: gone" for label in old if label not in new]
    return lines
