"""The backward schedules of a plan: the eager sweep's decisions made once
(:func:`plan_sweep`), a probe that runs the sweep on the traced values (:func:`probe`),
and the backward schedule written from what the passes
(:mod:`~minigrad.compiler.passes`) decided (:func:`plan_backward`). The forward schedule
is :mod:`~minigrad.compiler.forward`'s."""

from __future__ import annotations

import functools
from collections import Counter
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..autograd import _accumulate, fits, through_door
from ..lazy import LAZY, Product, Scattered
from ..primitive import Primitive
from ..tensor import (
    Tensor,
)
from . import steps as compound
from .inline import inline_pass
from .lower import ADD, ALIAS, ASSIGN, FREE, IADD, SUM, _checked, _dense, lower
from .passes import SCHEDULE_PASSES, Decisions
from .products import Selection, left_gradient
from .replay import _called_through_plan, _hand_over
from .steps import block_steps, hold, join_step, stacked_step

if TYPE_CHECKING:
    from .plan import Plan, _Group


class _Seen(NamedTuple):
    """What the probe saw a VJP return (see ``Plan._probe``)."""

    exact: bool
    identity: bool
    scattered_at: Any  # the index, for ``g`` scattered into a slice of zeros
    product: bool  # a lazy matrix product of the input's dtype (a matmul's gradient)
    selected: Any  # the index a selecting VJP (concat's) took of a lazy product ``g``
    array: bool  # an array, once through the gradient door


def plan_sweep(plan: Plan, group: _Group, ops: list[tuple], needs_grad: list[bool],
                constants: list) -> _Group:
    """The eager sweep's decisions for one group, made once: the nodes a gradient
    reaches, newest first, each with the inputs it passes a gradient to, where its
    VJPs' arguments are in the buffer, and which saved arrays it reads for the last
    time."""
    n = plan.size
    receives = set(group.outputs)
    sweep: list[list] = []
    for prim, inputs, params, out in reversed(ops):
        if out not in receives:
            continue
        passes = []
        for k, i in enumerate(inputs):
            if needs_grad[i]:
                group.positions[len(sweep), len(passes)] = k
                vjp = (prim.vjps[k] if prim.vjps is not None
                       else functools.partial(prim.vjp_each, k))
                passes.append((vjp if not params else functools.partial(vjp, **params), i))
                receives.add(i)
        if prim.saves_inputs:
            reads = inputs
            plan.saved.update(inputs)
        else:  # the VJP gets each input's shape and dtype, and constants as they are
            reads = tuple(i if constants[i] is not None else 2 * n + i for i in inputs)
        if prim.saves_output:
            plan.saved.add(out)
        sweep.append([out, prim.name, prim.selects_from_g, reads,
                      out if prim.saves_output else 2 * n + out, tuple(passes), ()])
    last_read: dict[int, int] = {}
    for index, step in enumerate(sweep):
        for i in (*step[3], step[4]):
            last_read[i] = index
    for i, index in last_read.items():
        if i in plan.node_slots and plan.values[i].worth_freeing:
            sweep[index][6] += (i,)
    group.sweep = [tuple(step) for step in sweep]
    group.gradient_inputs = [s for s in (*plan.argument_slots, *plan.captured_slots,
                                         *[f[0] for f in plan.fresh]) if s in receives]
    return group


def probe(plan: Plan, group: _Group, arguments: list[Tensor]) -> tuple[list[bool], dict]:
    """Run the sweep once on the traced values, as the eager sweep would, and note
    which nodes' gradients arrive lazy and must be made dense, and for each VJP what
    it returned: whether its gradient is ready for its input (``exact``), whether it
    is ``g`` itself, and whether it is ``g`` scattered into a slice (getitem's). Saved
    arrays go after their last read, as in a replay, so that planning peaks no higher
    than a call does."""
    buf = plan._buffer(plan._inputs(arguments, fresh=False))
    grads: dict[int, Any] = {s: np.ones(plan.values[s].shape, plan.values[s].dtype)
                             for s in group.outputs}
    owned: set[int] = set()
    made_dense, seen = [], {}
    with np.errstate(all="ignore"):  # warnings belong to the calls, not to planning
        plan.forward_recording(buf, plan.dtypes, set())
        for index, (out, name, selects, reads, y, passes, gone) in enumerate(group.sweep):
            g = grads.pop(out)
            dense = type(g) in LAZY and not (type(g) is Product and selects)
            made_dense.append(dense)
            if dense:
                g = g.dense(plan.values[out].dtype)
            args = (g, buf[y], *[buf[i] for i in reads])
            for p, (vjp, target) in enumerate(passes):
                x = plan.values[target]
                gx = vjp(*args)
                scattered = (type(gx) is Scattered and len(gx.pieces) == 1
                             and gx.pieces[0][1] is g and gx.pieces[0][2])
                selected = (vjp(Selection(g.shape), *args[1:])
                            if selects and type(g) is Product else None)
                fitted = through_door(gx, x, name)
                seen[index, p] = _Seen(fits(gx, x), gx is g,
                                       gx.pieces[0][0] if scattered else None,
                                       type(gx) is Product and gx.dtype == x.dtype, selected,
                                       type(fitted) is np.ndarray)
                gx = fitted
                if target in grads:
                    _accumulate(grads, owned, target, grads[target], gx, x.dtype)
                else:
                    grads[target] = gx
            del args, g
            for i in gone:
                buf[i] = None
    return made_dense, seen


def plan_backward(plan: Plan, group: _Group, made_dense: list[bool], seen: dict) -> None:
    """Lower the sweep to steps. Per node: make its gradient dense if the probe saw it
    lazy, or join it in one pass from slices that tile it; per input, its VJP (behind
    the gradient door unless the probe saw an exact gradient), nothing for a VJP that
    returns ``g`` itself (the input's gradient is then the node's, under another
    name), or nothing for a slice joined later; then release what is read for the
    last time."""
    n = plan.size
    decided = Decisions(made_dense)
    for name, run in SCHEDULE_PASSES.items():
        if name in plan.fuse:
            decided = run(plan, group, seen, decided)
    joins = decided.joins
    joined = {source for _, sources in joins.values() for source in sources}
    text = group.text
    where: dict[int, int] = {}  # a value's gradient is at buf[where.get(s, n + s)]
    renamed: set[int] = set()  # buffer entries another value's gradient now uses
    reached: set[int] = set(group.outputs)
    # a gradient made of several is a private buffer, added to in place: it can
    # take another value's name only if nothing else shares it
    received = Counter(target for step in group.sweep for _, target in step[5])
    summed = {t for t, count in received.items() if count > 1}
    deferred = {at: target for target, ats in decided.stacked.items() for at in ats}
    held: dict[int, list[tuple[int, int, int, int]]] = {t: [] for t in decided.stacked}
    held_bytes = dict.fromkeys(decided.stacked, 0)
    # a weight computed inside whose gradient is only stacked GEMMs is an array already
    stacked_only = {t for t, ats in decided.stacked.items() if len(ats) == received[t]}
    blocks: dict[int, tuple] = {}  # a value -> the held (g, W) of its product, and theirs
    copies: dict[tuple, int] = {}  # a block of W.T, copied contiguous -> its entry
    expressions = inline_pass(plan) if "inline" in plan.fuse else None
    added: set[int] = set()  # the entries a gradient was added to: private arrays now
    plain: set[int] = set()  # the entries holding an array of their gradient's dtype
    steps: list[tuple] = []
    for index, (out, name, _, reads, y, passes, gone) in enumerate(group.sweep):
        if held.get(out):  # a weight computed inside: its gradient is complete here
            stacked_step(plan, out, held[out], steps, text, where, reached)
            held[out], held_bytes[out] = [], 0
        g = where.get(out, n + out)
        if out in blocks:  # its inputs' gradients are blocks of a product, made here
            block_steps(plan, passes, seen, index, blocks.pop(out), steps, text, where,
                        reached, decided.transposed, copies)
            passes = ()
        elif out in joins:
            join_step(plan, joins[out], where, g, steps, text)
        elif made_dense[index] and out not in stacked_only and out not in decided.dense_now:
            steps.append((ASSIGN, functools.partial(_dense, dtype=plan.values[out].dtype),
                          (g,), g))
            text.append(("dense", g))
        take = (g, y, *reads)
        for p, (vjp, target) in enumerate(passes):
            if out in joined and target in joins:
                continue
            if (index, p) in deferred:  # kept for one GEMM over several steps
                holds = hold(plan, (reads[0], g))
                steps += [(ALIAS, None, entry, hold) for entry, hold in zip((reads[0], g), holds)]
                held[target].append((reads[0], g, *holds))
                held_bytes[target] += plan.values[reads[0]].nbytes + plan.values[out].nbytes
                if held_bytes[target] >= compound.STACKED_BYTES:
                    stacked_step(plan, target, held[target], steps, text, where, reached)
                    held[target], held_bytes[target] = [], 0
                continue
            if target in decided.blocks and decided.blocks[target] == (index, p):
                holds = hold(plan, (g, reads[1]))  # multiplied at target's step
                steps += [(ALIAS, None, entry, hold) for entry, hold in zip((g, reads[1]), holds)]
                blocks[target] = (holds, (g, reads[1]))
                continue
            first = target not in reached
            reached.add(target)
            if (index, p) in decided.direct:
                steps.append((ASSIGN, left_gradient, (g, reads[1]), n + target))
                text.append(("product", g, reads[1], n + target, None, True))
                continue
            found, in_place = seen[index, p], (index, p) in decided.in_place
            nd = plan.values[target].ndim > 0  # a sum of 0-d arrays is a NumPy scalar
            if (index, p) in decided.renamable and first:
                if g not in renamed and out not in summed:
                    where[target] = g
                    renamed.add(g)
                    text.append(("rename", name, g, n + target))
                else:
                    steps.append((ALIAS, None, g, n + target))
                    text.append(("alias", g, n + target))
                plain |= {where.get(target, n + target)} if found.array and nd else set()
                continue
            into = where.get(target, n + target)
            if found.identity and found.exact and in_place and (into in added or into in plain):
                # g itself, added with no call: into a new array, then into that array
                steps.append((IADD if into in added else SUM, None, (g,), into))
                added.add(into)
                text.append(("added", g, into))
                continue
            door = (index, p) not in decided.exact
            if door:
                vjp = functools.partial(_checked, vjp, plan.values[target], name)
            # the first array added makes the sum a new, private array (of two arrays of
            # its dtype, by one NumPy add); the next are added to it in place
            kind = (ASSIGN if first else IADD if into in added and in_place
                    else SUM if into in plain and in_place and found.exact else ADD)
            added |= {into} if kind != ASSIGN and in_place else set()
            plain |= {into} if kind == ASSIGN and found.exact and found.array and nd else set()
            steps.append((kind, vjp, take, into))
            text.append(("vjp", name, group.positions[index, p], take,
                         where.get(target, n + target), first, door,
                         expressions.get(vjp) if expressions else None))
        keep = g in renamed or out in joined
        gone = gone if keep or not plan.values[out].worth_freeing else (g, *gone)
        if gone:
            steps.append((FREE, None, gone, None))
            text.append(("free", gone))
    for target, pairs in held.items():
        if pairs:
            stacked_step(plan, target, pairs, steps, text, where, reached)
    for target, join in joins.items():
        if target not in plan.node_slots:  # a leaf's, once the sweep has made its slices
            join_step(plan, join, where, where.get(target, n + target), steps, text)
    group.backward = lower(steps, f"{plan.name}, backward", expressions)
    group.gradient_at = [where.get(s, n + s) for s in group.gradient_inputs]
    group.marker = np.empty((0,), plan.values[group.outputs[0]].dtype)
    group.primitive = Primitive(plan.name, _called_through_plan,
                                vjp_each=functools.partial(plan._vjp, group))
    # for several outputs, output k's primitive: its VJP hands the gradient to the
    # group's tape and passes on an empty one, so the group's node runs once, after
    # all its outputs (it is older than each of them)
    group.output_primitives = [
        Primitive(f"{plan.name}[{k}]", _called_through_plan,
                  functools.partial(_hand_over, k, group.marker))
        for k in range(len(group.outputs))]
