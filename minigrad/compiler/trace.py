"""What a trace returns, flattened: the output tensors, and how they nest (rebuilt with
:func:`minigrad.compiler.signature.unflatten`).
"""

from __future__ import annotations

from typing import Any

from ..context import (
    TracingError,
)
from ..tensor import (
    Tensor,
)
from .keys import TENSOR, Key


def _flatten_outputs(value: Any, outputs: list[Tensor], name: str) -> Any:
    """As :func:`signature.flatten` (whose ``unflatten`` rebuilds it), for what ``fn``
    returns: Tensors in tuples, lists and dicts, and nothing else."""
    if isinstance(value, Tensor):
        outputs.append(value)
        return TENSOR
    if type(value) in (tuple, list):
        return (type(value), tuple([_flatten_outputs(v, outputs, name) for v in value]))
    if type(value) is dict:
        return (dict, tuple([(Key(k), _flatten_outputs(v, outputs, name))
                             for k, v in value.items()]))
    raise TracingError(f"mg.compile: {name} must return a Tensor, or a tuple, list or dict of "
                       f"Tensors; it returned a {type(value).__name__}")
