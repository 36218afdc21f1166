"""The optimisations of a plan, by name in :data:`PASSES`; a plan's ``fuse`` picks the
ones that run. Two kinds: rewrites of the traced graph before its schedules are made
(:data:`GRAPH_PASSES`: the input projections, :mod:`~minigrad.compiler.projection`), and
optimisations of a backward schedule (:data:`SCHEDULE_PASSES`), each a function of the
plan, the group, what the probe saw and what the passes before it decided
(:class:`Decisions`). With none, the schedules are the plain lowering of the eager
forward and sweep."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..lazy import _tiles
from .buffers import buffers_pass
from .inline import inline_pass
from .merge import merge_pass
from .products import products_pass
from .projection import inputs_pass

if TYPE_CHECKING:
    from .plan import Plan, _Group


def chosen_passes(fuse: bool | Iterable[str]) -> frozenset[str]:
    """``fuse`` as the set of the optimisations' names (True: :data:`DEFAULT_PASSES`)."""
    if fuse is True or fuse is False:
        return DEFAULT_PASSES if fuse else frozenset()
    if isinstance(fuse, str) or not isinstance(fuse, Iterable):
        raise TypeError(f"mg.compile: fuse must be True, False or a collection of pass names "
                        f"({', '.join(PASSES)}), got {fuse!r}")
    chosen = frozenset(fuse)
    unknown = sorted(chosen - set(PASSES))
    if unknown:
        raise ValueError(f"mg.compile: no pass named {unknown[0]!r}; the passes are "
                         f"{', '.join(PASSES)}")
    return chosen



class Decisions:
    """What the passes decided for one group's backward schedule, before it is written:
    the gradients to join from their slices (``joins``), and the VJPs, by (sweep step,
    pass), whose gradient can take its node's gradient's name (``renamable``) or skip
    the gradient door (``exact``), the weights whose gradient is one GEMM over the
    steps (``stacked``: weight -> its VJPs), and the matmul VJPs whose lazy product is
    one GEMM where it is needed (``direct``, ``blocks``, ``dense_now``). With no pass
    run, every VJP is called, through the door: the plain lowering of the eager sweep."""

    def __init__(self, made_dense: list[bool]) -> None:
        self.made_dense = made_dense  # per sweep step: the probe saw its gradient lazy
        self.joins: dict[int, tuple[int, list]] = {}
        self.renamable: set[tuple[int, int]] = set()
        self.exact: set[tuple[int, int]] = set()
        self.stacked: dict[int, list[tuple[int, int]]] = {}
        self.direct: set[tuple[int, int]] = set()  # see products_pass
        self.blocks: dict[int, tuple[int, int]] = {}
        self.transposed: set[tuple] = set()
        self.dense_now: set[int] = set()
        self.in_place: set[tuple[int, int]] = set()  # see inplace_pass


def rename_pass(plan: Plan, group: _Group, seen: dict, decided: Decisions) -> Decisions:
    """Where a VJP returns ``g`` itself (add, broadcast_to), its input's gradient takes
    the node's gradient's place (or one assignment) and the VJP is not called."""
    decided.renamable = {at for at, found in seen.items() if found.exact and found.identity}
    return decided


def join_pass(plan: Plan, group: _Group, seen: dict, decided: Decisions) -> Decisions:
    """A gradient made only of slices of it that tile it (an LSTM's four gate blocks of
    ``Z``) is joined by one concatenation, not scattered into zeros once per slice."""
    decided.joins = joined_slices(plan, group, seen)
    return decided


def exact_pass(plan: Plan, group: _Group, seen: dict, decided: Decisions) -> Decisions:
    """A VJP whose gradient the probe saw already of its input's shape and dtype skips
    the gradient door."""
    decided.exact = {at for at, found in seen.items() if found.exact}
    return decided


def weights_pass(plan: Plan, group: _Group, seen: dict, decided: Decisions) -> Decisions:
    """Per-step products ``X_t^T @ dZ_t`` that add up into one weight's gradient (the
    VJP of a matmul for its right operand, once per time step) become one GEMM over the
    stacked ``X_t`` and ``dZ_t``, once the sweep has made them all (for a weight computed
    inside, before the sweep reaches it): fewer, larger calls."""
    found: dict[int, list[tuple[int, int]]] = {}
    for index, (out, name, _, reads, _, passes, _) in enumerate(group.sweep):
        if name != "matmul":
            continue
        for p, (_, target) in enumerate(passes):
            if (group.positions[index, p] == 1 and seen[index, p].exact
                    and plan.values[target].ndim == plan.values[reads[0]].ndim
                    == plan.values[out].ndim == 2):
                found.setdefault(target, []).append((index, p))
    decided.stacked = {target: at for target, at in found.items() if len(at) > 1}
    return decided


def inplace_pass(plan: Plan, group: _Group, seen: dict, decided: Decisions) -> Decisions:
    """Where a gradient is a sum, the VJPs whose gradient is an array are added in place
    (``b[7] += ...``) once an addition has made the sum a private array, without the
    general addition's checks (``autograd._accumulate``, 0.3-0.5 us a call)."""
    decided.in_place = {at for at, found in seen.items() if found.array}
    return decided


#: The rewrites of the traced graph, by name, in the order they run: each is a function
#: of the graph (:class:`~minigrad.compiler.projection.Graph`) giving its new ops. The
#: backward sweeps the rewritten graph, but for the rewrites in :data:`FORWARD_ONLY`.
GRAPH_PASSES = {"merge": merge_pass, "inputs": inputs_pass}
#: The graph passes that rewrite how the forward computes the traced values and leave
#: the backward as traced (``inputs``: its ``matmul_add`` steps have no VJP).
FORWARD_ONLY = frozenset({"inputs"})
#: The optimisations of a backward schedule, by name, in the order they run: each is a
#: function of the plan, the group, what the probe saw and what the passes before it
#: decided.
SCHEDULE_PASSES = {"rename": rename_pass, "join": join_pass, "exact": exact_pass,
                   "weights": weights_pass, "products": products_pass, "inplace": inplace_pass}
#: The choices of how the schedules are lowered, by name: each is a function of the plan
#: giving what the lowering uses (the inline pass: the expressions it writes in place of
#: calls; the buffers pass: the pool its large results go into).
LOWERING_PASSES = {"inline": inline_pass, "buffers": buffers_pass}
#: Every pass, by name (``mg.compile(fn, fuse={"join", "weights"})`` picks some).
PASSES = {**GRAPH_PASSES, **SCHEDULE_PASSES, **LOWERING_PASSES}
#: The passes ``fuse=True`` runs: all but ``inputs``, which is asked for by name. On a
#: 2-core CPU it measured no faster at the benchmark's M and L (at L from 2% faster to 9%
#: slower; OpenBLAS already runs a step's 64-row GEMM at 205-235 GFLOP/s) and it holds a
#: chunk of projections through the recurrence (3 MiB more at the memory benchmark's
#: peak); see docs/fusion.md.
DEFAULT_PASSES = frozenset(PASSES) - {"inputs"}


def joined_slices(plan: Plan, group: _Group, seen: dict) -> dict[int, tuple[int, list]]:
    """The values whose gradient is only slices of other nodes' gradients (``Z``'s four
    gate blocks, or a weight's row blocks that the input-projection pass made) that tile
    it along one axis: ``{value: (axis, [source values in order])}``. One concatenation
    makes each, where the eager sweep scatters each slice into zeros."""
    pieces: dict[int, list] = {}
    other: set[int] = set()
    for index, (out, _, _, _, _, passes, _) in enumerate(group.sweep):
        for p, (_, target) in enumerate(passes):
            where = seen[index, p].scattered_at
            if where is None:
                other.add(target)
            else:
                pieces.setdefault(target, []).append((where, out, True))
    joins = {}
    for target, parts in pieces.items():
        tiles = None if target in other else _tiles(parts, plan.values[target].shape)
        if tiles is not None:
            joins[target] = tiles
    return joins
