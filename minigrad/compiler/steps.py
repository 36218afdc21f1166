"""The backward schedule's steps that are more than one VJP: a gradient joined from
slices, a weight's gradient as one GEMM over the stacked steps, a block of a product's
gradient, and the buffer entries that keep their arrays alive until then."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from . import buffers
from .buffers import pooled, stacked_gemm, stacked_gemm_into
from .lower import ADD, ASSIGN, FREE, _join
from .products import block_plan, transposed_block

if TYPE_CHECKING:
    from .plan import Plan


def block_steps(plan: Plan, passes: tuple, seen: dict, index: int, held: tuple,
                steps: list, text: list, where: dict[int, int], reached: set[int],
                transposed: set, copies: dict) -> None:
    """For a node that selects blocks of its lazy product gradient ``g @ W.T`` (``held``:
    the entries keeping ``g`` and ``W``, and theirs), each input's block as one GEMM, then
    the release of ``g`` and ``W``. A block of ``W.T`` in ``transposed`` is copied
    contiguous at its first use (its entry kept in ``copies``) and read from there."""
    holds, entries = held
    for p, (_, target) in enumerate(passes):
        first = target not in reached
        reached.add(target)
        block, into = seen[index, p].selected, where.get(target, plan.size + target)
        function, key = block_plan(block, entries[1], transposed)
        args = holds
        if key is not None:
            if key not in copies:
                copies[key] = hold(plan, (entries[1],))[0]
                steps.append((ASSIGN, functools.partial(transposed_block, key[1]),
                              (holds[1],), copies[key]))
                text.append(("transposed", entries[1], key[1]))
            args = (holds[0], copies[key])
        steps.append((ASSIGN if first else ADD, function, args, into))
        text.append(("product", *entries, into, block, first))
    steps.append((FREE, None, holds, None))


def join_step(plan: Plan, join: tuple[int, list], where: dict[int, int], into: int,
               steps: list, text: list) -> None:
    """One concatenation of the gradients of the slices that tile a value (the value
    whose gradient is at buffer entry ``into``), then their release."""
    axis, sources = join
    entries = tuple(where.get(s, plan.size + s) for s in sources)
    value = plan.values[into % plan.size]
    write = pooled(plan.pool, "concat", {"axis": axis}, value.shape, value.dtype,
                   [plan.values[s].dtype for s in sources])
    steps.append((ASSIGN, write or functools.partial(_join, axis=axis), entries, into))
    steps.append((FREE, None, entries, None))
    text += [("join", axis, entries, into, write is not None), ("free", entries)]


#: How much a weight's stacked steps may hold before their GEMM runs: the steps' inputs
#: and gradients stay alive until then, so a long, wide unroll makes several GEMMs (an
#: LSTM at B=64, q=512 about 11 steps each) and its memory stays near eager's.
STACKED_BYTES = 8 << 20


def stacked_step(plan: Plan, target: int, pairs: list, steps: list, text: list,
                  where: dict[int, int], reached: set[int]) -> None:
    """The GEMM of the steps held for ``target`` (``sum_t X_t^T @ dZ_t``), then their
    release."""
    n = plan.size
    first = target not in reached
    reached.add(target)
    holds = tuple(h_a for _, _, h_a, _ in pairs) + tuple(h_g for _, _, _, h_g in pairs)
    gemm = stacked_gemm if plan.pool is None else functools.partial(stacked_gemm_into, plan.pool)
    steps.append((ASSIGN if first else ADD, gemm, holds, where.get(target, n + target)))
    steps.append((FREE, None, holds, None))
    sizes = [sum(plan.values[entry % n].nbytes for entry in part)
             for part in zip(*[pair[:2] for pair in pairs])]
    kept = plan.pool is not None and len(pairs) > 1 and max(sizes) >= buffers.POOLED_BYTES
    text.append(("stacked", tuple(a for a, *_ in pairs), tuple(g for _, g, *_ in pairs),
                 where.get(target, n + target), first, kept))


def hold(plan: Plan, entries: tuple[int, ...]) -> tuple[int, ...]:
    """New buffer entries past the plan's slots, each to keep an array alive (after its
    own entry is released) until a later step reads it."""
    start = len(plan.template)
    plan.template.extend([None] * len(entries))
    return tuple(range(start, start + len(entries)))
