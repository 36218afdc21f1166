"""A function that returns an intermediate beside what is computed from it (``return
loss, h``) is planned in two stages; :func:`make_plan` picks the kind of plan.
"""

from __future__ import annotations

from typing import Any

from ..tensor import (
    Tensor,
    nodes_leading_to,
)
from .passes import PASSES
from .plan import Plan, _Traced
from .signature import TENSOR, unflatten


def make_plan(name: str, arguments: list[Tensor], requires_grad: list[bool],
              outputs: list[Tensor], output_structure: Any, since: int,
              release: bool = True, fuse: frozenset[str] = frozenset(PASSES)) -> Plan | _Staged:
    """A :class:`Plan` of the trace, or, when ``fn`` returns an intermediate that another
    output is computed from (``return loss, h``), a :class:`_Staged` one."""
    inner = _intermediates(outputs, since)
    if not inner:
        return Plan(name, arguments, requires_grad, outputs, output_structure, since, release,
                    fuse)
    return _Staged(name, arguments, requires_grad, outputs, output_structure, since, inner,
                   release, fuse)


def _intermediates(outputs: list[Tensor], since: int) -> list[Tensor]:
    """The outputs, each once, that another output is computed from, in the trace."""
    nodes = [t._node for t in outputs if t._node is not None and t._node._seq >= since]
    below = nodes_leading_to([x for n in nodes for x in n.inputs or ()])
    return list({id(t): t for t in outputs
                 if t._node in below and t._node._seq >= since}.values())



class _Staged(_Traced):
    """The plan of a function that returns an intermediate with what is computed from it
    (``return loss, h``): a first stage computes the intermediates, a later stage the
    rest from them, so that in the eager graph the later outputs are computed from the
    intermediates, as in eager: ``h.retain_grad()`` and ``mg.grad(loss, [h])`` work.
    It answers as a :class:`Plan` does."""

    def __init__(self, name: str, arguments: list[Tensor], requires_grad: list[bool],
                 outputs: list[Tensor], output_structure: Any, since: int,
                 inner: list[Tensor], release: bool, fuse: frozenset[str]) -> None:
        super().__init__()
        ids = {id(t): k for k, t in enumerate(inner)}
        rest = list({id(t): t for t in outputs if id(t) not in ids}.values())
        rest_ids = {id(t): k for k, t in enumerate(rest)}
        self.where = [(True, ids[id(t)]) if id(t) in ids else (False, rest_ids[id(t)])
                      for t in outputs]
        flat = (tuple, (TENSOR,) * len(rest))
        # the later stage first: it stops at the intermediates, whose graph the first
        # stage still needs (and releases)
        self.later = Plan(name, [*arguments, *inner],
                          [*requires_grad, *[t.requires_grad for t in inner]], rest, flat,
                          since, release=False, fuse=fuse)
        self.first = make_plan(name, arguments, requires_grad, inner,
                               (tuple, (TENSOR,) * len(inner)), since, release, fuse)
        self.name, self.output_structure = name, output_structure

    def __str__(self) -> str:
        return (f"{self.name}, in two stages: first the intermediates it returns, then the "
                f"rest from them\n{self.first}\n{self.later}")

    def run(self, arguments: list[Tensor]) -> Any:
        inner = list(self.first.run(arguments))
        rest = self.later.run([*arguments, *inner])
        return unflatten(self.output_structure, iter(
            [inner[k] if first else rest[k] for first, k in self.where]))

    def captured_unchanged(self) -> bool:
        return self.first.captured_unchanged() and self.later.captured_unchanged()

    def captured_changes(self) -> list[str]:
        return [*self.first.captured_changes(), *self.later.captured_changes()]

    def differentiated(self, arguments: list[Tensor]) -> list[tuple[str, Tensor]]:
        found = {id(t): (label, t) for label, t in self.first.differentiated(arguments)}
        for label, t in self.later.differentiated(arguments):  # the intermediates: not
            found.setdefault(id(t), (label, t))  # in ``arguments``, so never listed
        return list(found.values())
