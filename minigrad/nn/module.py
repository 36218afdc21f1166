"""Module and Parameter: the containers models are built from."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..tensor import Tensor, mark_modified


class Parameter(Tensor):
    """A leaf tensor with ``requires_grad=True``, found by :meth:`Module.parameters`."""

    __slots__ = ()

    def __init__(self, data: Any, dtype: Any = None, name: str | None = None) -> None:
        super().__init__(data, requires_grad=True, dtype=dtype, name=name)


class Module:
    """Base class of models: parameters are found through attributes, in the order
    they were assigned, including inside lists, tuples and dicts of modules and
    parameters. Subclasses define ``forward``; calling the module calls it.

    Example::

        class Readout(mg.nn.Module):
            def __init__(self):
                self.layers = [mg.nn.Linear(4, 8), mg.nn.Linear(8, 1)]

            def forward(self, x):              # x: (B, 4) -> (B, 1)
                return self.layers[1](mg.tanh(self.layers[0](x)))

        [name for name, _ in Readout().named_parameters()]
        # ['layers.0.W', 'layers.0.b', 'layers.1.W', 'layers.1.b']
    """

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` pairs, each parameter once, in a stable order.

        Each module and container is visited once, under the first name that reaches
        it, so a model that refers to itself (``child.parent = model``) is fine."""
        seen: set[int] = set()  # parameters, modules and containers already visited
        stack: list[tuple[str, Any]] = [(prefix.rstrip("."), self)]
        while stack:  # iterative, children in attribute order
            name, value = stack.pop()
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, Parameter):
                yield name, value
                continue
            if isinstance(value, Module):
                items = vars(value).items()
            elif isinstance(value, (list, tuple)):
                items = ((str(i), v) for i, v in enumerate(value))
            elif isinstance(value, dict):
                items = ((str(k), v) for k, v in value.items())
            else:
                continue
            children = [(f"{name}.{key}" if name else key, child) for key, child in items
                        if isinstance(child, (Parameter, Module, list, tuple, dict))]
            stack.extend(reversed(children))

    def parameters(self) -> list[Parameter]:
        """Every parameter, once, in the order of :meth:`named_parameters`."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget accumulated gradients (sets every ``.grad`` to None)."""
        for p in self.parameters():
            p.grad = None

    def parameters_by_name(self, who: str = "state_dict") -> dict[str, Parameter]:
        """:meth:`named_parameters` as a dict; ValueError if two parameters share a name
        (``{"a.b": p}`` beside ``{"a": {"b": q}}``), which no checkpoint could tell apart."""
        params: dict[str, Parameter] = {}
        for name, p in self.named_parameters():
            if name in params:
                raise ValueError(f"{who}: two parameters of {type(self).__name__} are both "
                                 f"named {name!r}; rename one (dots in attribute names or "
                                 f"dict keys make such clashes)")
            params[name] = p
        return params

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters' arrays by dotted name."""
        return {name: p.data.copy() for name, p in self.parameters_by_name().items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy arrays into the parameters, all or nothing: every key must match a
        writable parameter of the same shape and dtype; otherwise ValueError lists every
        problem and no parameter changes."""
        params = self.parameters_by_name("load_state_dict")
        problems = [f"missing key {k!r}" for k in params if k not in state]
        problems += [f"unexpected key {k!r}" for k in state if k not in params]
        values = {}
        for k, p in params.items():
            if k not in state:
                continue
            value = values[k] = np.asarray(state[k].data if isinstance(state[k], Tensor)
                                           else state[k])
            if value.shape != p.shape:
                problems.append(f"{k!r} has shape {value.shape}, the parameter {p.shape}")
            elif value.dtype != p.dtype:
                problems.append(f"{k!r} has dtype {value.dtype}, the parameter {p.dtype}")
            elif not p.data.flags.writeable:
                problems.append(f"the parameter {k!r} is read-only (its array is not "
                                f"writeable)")
        if problems:
            raise ValueError(f"load_state_dict into {type(self).__name__}: "
                             + "; ".join(problems))
        for k, p in params.items():
            p.data[...] = values[k]
            mark_modified(p)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n}: {p.shape}" for n, p in self.named_parameters())
        return f"{type(self).__name__}({sizes})"
