"""Guards: content fingerprints, to any depth, of the Python state a compiled function
reads (its globals, closure, defaults, what it is bound to), checked at every call
(see :mod:`minigrad.compiler.signature` for the key they are part of)."""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..nn.module import Module
from ..tensor import Tensor
from .keys import Exact, Key, Same, _is_number, value_key

# ---- guards --------------------------------------------------------------------------------

#: Where library code lives (the standard library, installed packages, minigrad itself):
#: a function from there is guarded by identity, not walked into (its globals do not
#: change between calls); the user's own functions are followed to any depth.
_LIBRARY = tuple(sorted({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib",
                                                           "purelib", "platlib")}
                        | {str(Path(__file__).resolve().parents[1]) + os.sep}))
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
