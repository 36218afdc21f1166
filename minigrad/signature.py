"""What a compiled function's plan depends on, checked at every call: the signature of
its arguments, and guards on the names the function reads.

A plan is replayed only for a call whose key equals the key it was traced with. The key
holds everything the trace froze that a call can change without a tensor operation:

- each tensor argument's shape, dtype and ``requires_grad``;
- every other argument by exact value (``0.0`` and ``-0.0`` differ, NaN equals NaN, ``1``
  and ``True`` differ), and an argument object by identity, with the attributes the
  function reads by name (``model.W``) and, for a Module, every tensor and number it
  holds;
- guards: the globals and closure variables the function reads, by identity (a tensor, a
  function, a module) or by exact value (a number, a string), a Module with its contents.

``describe`` says the same in words, for ``explain()``: which argument or name changed,
and how.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .nn.module import Module
from .tensor import Tensor, make_tensor

TENSOR = "tensor"

#: How many values one guard looks at in a module or container; past that, only the
#: container's identity is guarded (a guard runs at every call).
GUARD_LIMIT = 1000


class Exact:
    """A number compared by its exact value: ``-0.0`` is not ``0.0``, NaN equals NaN."""

    __slots__ = ("value", "key")

    def __init__(self, value: Any) -> None:
        self.value = value
        if isinstance(value, np.generic):
            self.key: Any = (type(value), value.dtype.str, value.tobytes())
        elif isinstance(value, complex):
            self.key = (complex, _float_bits(value.real), _float_bits(value.imag))
        else:
            self.key = (type(value), _float_bits(value))

    def __eq__(self, other: object) -> bool:
        return type(other) is Exact and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return repr(self.value)


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


class Key:
    """A dict key compared as a trace tells keys apart: numbers by exact value (``0.0``
    and ``-0.0`` differ), ``1`` and ``True`` differ, tuples entry by entry; ``value`` is
    the key itself."""

    __slots__ = ("value", "key")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.key = _exact(value)

    def __eq__(self, other: object) -> bool:
        return type(other) is Key and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return repr(self.value)


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
    return (object, Same(value), state_of(value, attributes))


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

def state_of(value: Any, attributes: tuple[str, ...] = ()) -> Any:
    """What a trace may have read from ``value``: its identity; for a Module (and the
    lists, tuples and dicts inside it) every value it holds, tensors by identity and
    numbers by exact value; for another object, the ``attributes`` it has in its
    ``__dict__``."""
    if not isinstance(value, (Module, list, tuple, dict)):
        own = getattr(value, "__dict__", None)
        if not attributes or not isinstance(own, dict) or isinstance(value, types.ModuleType):
            return value_key(value)
        return (Same(value), tuple([(a, value_key(own[a])) for a in attributes if a in own]))
    parts: list[Any] = []
    seen: set[int] = set()
    stack: list[Any] = [value]
    while stack and len(parts) < GUARD_LIMIT:
        v = stack.pop()
        if id(v) in seen:
            parts.append(Same(v))
            continue
        seen.add(id(v))
        if isinstance(v, Module):
            items: Any = vars(v).items()
        elif isinstance(v, (list, tuple)):
            items = enumerate(v)
        elif isinstance(v, dict):
            items = v.items()
        else:
            parts.append(value_key(v))
            continue
        parts.append((type(v), Same(v)))
        for k, child in items:
            parts.append(value_key(k))
            stack.append(child)
    return tuple(parts)


def read_names(fn: Callable[..., Any]) -> tuple[tuple[str, ...], Any]:
    """The names ``fn``'s own code reads (global and attribute names: Python keeps them
    in one list) and ``fn``'s closure (names and cells). Nested functions and
    comprehensions count; functions it calls do not."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return (), ()
    names: list[str] = []
    stack = [code]
    while stack:
        c = stack.pop()
        names.extend(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    closure = tuple(zip(code.co_freevars, fn.__closure__ or ()))
    return tuple(dict.fromkeys(names)), closure


class Guards:
    """The globals and closure variables ``fn`` reads, and the object ``fn`` is bound to
    (a bound method's ``self``, a Module called directly), each a named getter."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.names, self.closure = read_names(fn)
        self.attributes = self.names  # Python keeps global and attribute names in one list
        self.space = getattr(fn, "__globals__", {})
        owner = getattr(fn, "__self__", None)
        self.owner = owner if owner is not None else (fn if isinstance(fn, Module) else None)

    def _globals(self) -> list[str]:
        """The names read that are globals now (a global defined later counts then)."""
        return [n for n in self.names if n in self.space]

    def key(self) -> tuple:
        """The guards' current state, hashable, part of every call's key."""
        space = self.space
        parts: list[Any] = [state_of(space[n], self.attributes) for n in self._globals()]
        for _, cell in self.closure:
            try:
                parts.append(state_of(cell.cell_contents, self.attributes))
            except ValueError:  # a closure variable not assigned yet
                parts.append(None)
        if self.owner is not None:
            parts.append(state_of(self.owner, self.attributes))
        return tuple(parts)

    def labels(self) -> list[str]:
        """One label per entry of :meth:`key`."""
        labels = [f"global {n}" for n in self._globals()]
        labels += [f"closure variable {n}" for n, _ in self.closure]
        if self.owner is not None:
            labels.append(f"the {type(self.owner).__name__} the function is bound to")
        return labels


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
