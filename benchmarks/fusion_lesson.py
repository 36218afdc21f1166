"""The compiler's passes as a lesson: ``docs/fusion.md``, made by
``python -m benchmarks.fusion_lesson`` (``make lesson``).

One LSTM training step (the benchmark's W2 step: the cell stepped T times, then a squared
error on the last ``h``) is compiled with the passes switched on one at a time. For each
stage the page gives the time of a step at the benchmark's sizes M and L, the number of
steps (NumPy calls, releases) its plan makes, and how its printed plan changed, as a diff
of a 2-step, 2-unit version small enough to read. Each stage is timed in a fresh
process, as ``make bench`` times each row.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

import minigrad as mg
from lstm import LSTMCell
from minigrad.compiler.passes import DEFAULT_PASSES, PASSES

from . import workloads as w
from .run import ROOT, machine, timed

#: The passes in the order the lesson adds them: those of ``fuse=True``, then ``inputs``.
ORDER = ("rename", "join", "exact", "weights", "buffers", "products", "merge", "inplace",
         "inline", "inputs")
PAGE = ROOT / "docs" / "fusion.md"
PRINTED = w.LSTMSize("printed", 1, 2, 2, 2)


def stages() -> list[frozenset[str]]:
    """The passes on at each stage: none, then one more at a time."""
    return [frozenset(ORDER[:k]) for k in range(len(ORDER) + 1)]


def step_function(size: w.LSTMSize, fuse: frozenset[str]):
    """The W2 step at ``size``, compiled with ``fuse``: ``(step, compiled)``."""
    d = w.w2_data(size)
    cell = LSTMCell(size.p, size.q, dtype=w.DTYPE)
    cell.load_state_dict({"W": d["W"], "b": d["b"]})
    V, v = mg.nn.Parameter(d["V"], name="V"), mg.nn.Parameter(d["v"], name="v")
    params = [cell.W, cell.b, V, v]
    xs = [mg.tensor(x, name=f"x_t{t}") for t, x in enumerate(d["xs"])]
    y = mg.tensor(d["y"], name="y")

    def loss_fn(xs: list[mg.Tensor], y: mg.Tensor) -> mg.Tensor:
        state = cell.zero_state(size.B)
        for t, x in enumerate(xs):
            with mg.scope(f"t={t}"):
                state = cell(x, state)
        return mg.nn.functional.mse_loss(state[0] @ V + v, y)

    compiled = mg.compile(loss_fn, fuse=fuse)

    def step():
        for p in params:
            p.grad = None
        compiled(xs, y).backward()
    return step, compiled


@contextlib.contextmanager
def every_array_large() -> Iterator[None]:
    """The buffers pass takes the printed step's tiny arrays too."""
    buffers = importlib.import_module("minigrad.compiler.buffers")
    saved, buffers.POOLED_BYTES = buffers.POOLED_BYTES, 1
    try:
        yield
    finally:
        buffers.POOLED_BYTES = saved


def printed_plans() -> list[str]:
    """The small step's plan at each stage, as it prints."""
    texts = []
    with every_array_large():
        for fuse in stages():
            step, compiled = step_function(PRINTED, fuse)
            step()
            texts.append(str(compiled.plans[-1]))
    return texts


def sections() -> list[tuple[str, str, str]]:
    """Per stage: its title, the kind of code block and the block (the whole plan with
    every pass off, then each pass's diff)."""
    texts = printed_plans()
    out = [("Every pass off (`fuse=False`)", "text", texts[0])]
    for name, before, after in zip(ORDER, texts, texts[1:]):
        doc = " ".join(PASSES[name].__doc__.split("\n\n")[0].split())
        diff = difflib.unified_diff(before.splitlines(), after.splitlines(), "before",
                                    f"with {name}", n=1, lineterm="")
        out.append((f"+ `{name}`: {doc}", "diff", "\n".join(diff)))
    return out


def measure(stage: int, size: str, repeats: int) -> dict:
    step, compiled = step_function(w.SIZES[size], stages()[stage])
    low, median = timed(step, repeats)
    header = str(compiled.plans[-1]).splitlines()[0]
    return {"min": low * 1e3, "median": median * 1e3, "header": header}


def measure_in_fresh_process(stage: int, size: str, repeats: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.fusion_lesson", "--one",
                          str(stage), size, str(repeats)], check=True, capture_output=True,
                         text=True, cwd=ROOT)
    return json.loads(out.stdout)


def page(times: dict[tuple[int, str], dict], sizes: list[str], rounds: int) -> str:
    lines = [
        "# The compiler's passes, one at a time",
        "",
        "`mg.compile` turns a traced step into a schedule of NumPy calls, then optimises the "
        "schedule with passes that can each be switched off (`mg.compile(fn, fuse={...})`). "
        "This page adds them one at a time to the benchmark's LSTM training step and shows "
        "what each one changes in the printed plan and what it buys. The plans are of a "
        "2-step LSTM with 2 units, so that they can be read; the `buffers` pass, which waits "
        "for large arrays, is made to take its tiny ones. The times are of the same step at "
        "the benchmark's sizes. `fuse=True` runs every pass but `inputs`. The last column is "
        "the first line of the plan at the first size: its steps, and the calls a replay "
        "makes (a NumPy call, a VJP, a join; a renamed gradient, an alias or a release is "
        "none), a count that does not drift with the machine.",
        "",
        f"Made by `python -m benchmarks.fusion_lesson` on {time.strftime('%Y-%m-%d')}, "
        f"{machine()}; the median of each step, each stage in a fresh process, the best of "
        f"{rounds} rounds that interleave the stages in time, in turn forward and backward. "
        "This machine's speed drifts by 20-50% between minutes: read a difference under 5% "
        "as none.",
        "",
        "| passes on | " + " | ".join(f"W2-{s} ms ({w.SIZES[s].B}x{w.SIZES[s].p}x"
                                        f"{w.SIZES[s].q}, T={w.SIZES[s].T})" for s in sizes)
        + f" | plan at {sizes[0]} |",
        "|---|" + "---|" * len(sizes) + "---|",
    ]
    for k, fuse in enumerate(stages()):
        name = "none" if not fuse else " + ".join(f"`{p}`" for p in ORDER if p in fuse)
        name += " (`fuse=True`)" if fuse == DEFAULT_PASSES else ""
        cells = " | ".join(f"{times[k, s]['median']:.1f}" for s in sizes)
        header = times[k, sizes[0]]["header"].split(": ", 1)[1]
        lines.append(f"| {name} | {cells} | {header} |")
    for title, kind, block in sections():
        lines += ["", f"## {title}", "", f"```{kind}", block, "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("-o", "--output", type=Path, default=PAGE)
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # the worker
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(int(args.one[0]), args.one[1], int(args.one[2]))))
        return 0
    sizes = args.sizes.split(",")
    times: dict[tuple[int, str], dict] = {}
    order = list(range(len(stages())))
    for round_number in range(args.rounds):
        for s in sizes:
            for k in order if round_number % 2 == 0 else order[::-1]:
                run = measure_in_fresh_process(k, s, args.repeats)
                if (k, s) not in times or run["median"] < times[k, s]["median"]:
                    times[k, s] = run
    args.output.write_text(page(times, sizes, args.rounds))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
