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

import types
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..tensor import Tensor, make_tensor
from .guards import fingerprint
from .keys import TENSOR, Exact, Key, Same, _is_number

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


def one_line(description: dict[str, dict[str, str]]) -> str:
    """A call's description (see :func:`describe_call`) in one line, for ``explain()``."""
    parts = []
    for label, aspects in description.items():
        if label.startswith("argument"):
            parts.append(f"{label} " + " ".join(f"{k}={v}" for k, v in aspects.items()))
    return "; ".join(parts) or "no arguments"
