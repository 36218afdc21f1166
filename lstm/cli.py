"""``python -m lstm <command>``: demo (the main job), train, gradflow, graph, explore.

Every argument is checked before any work starts, output paths included (their folder
exists and is writable, their format is known), so a typo never costs a finished run.
Outputs are written whole or not at all, and Ctrl-C stops any command with one line
and exit status 130.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

# NumPy imports numpy.random at its first use; a Ctrl-C that lands inside that import (a
# compiled module's init) is lost, and the command runs on. Imported here, before any work.
import numpy.random  # noqa: F401

from minigrad.files import atomic_write

from .memory import check_fits, needed_bytes
from .models import CELLS
from .tasks import TASKS

#: The exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130
#: Beyond this many steps, a full-depth picture warns that dot will be slow.
FULL_DEPTH_STEPS = 40


class _Parser(argparse.ArgumentParser):
    """Bad arguments give one line on stderr and exit status 2, not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") \
            from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}") \
            from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {value}")
    return value


def _number(low: float = -math.inf, allow_inf: bool = False) -> Callable[[str], float]:
    """A float >= ``low`` (NaN never; infinity only if ``allow_inf``)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
        if math.isnan(value) or (math.isinf(value) and not allow_inf) or value < low:
            wanted = "a number" if low == -math.inf else f"a number >= {low:g}"
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value
    return parse


def _cells(text: str) -> tuple[str, ...]:
    """Distinct cell names, comma-separated."""
    cells = tuple(part.strip() for part in text.split(","))
    unknown = [c for c in cells if c not in CELLS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown cell {unknown[0]!r}; choose among "
                                         f"{', '.join(CELLS)}")
    if len(set(cells)) != len(cells):
        raise argparse.ArgumentTypeError(f"a cell is named twice in {text!r}")
    return cells


def _writable_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {folder} does not exist")
    try:  # the honest test: permissions, read-only mounts and quotas all show here
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        raise argparse.ArgumentTypeError(f"the folder {folder} is not writable") from None


def _output_file(*suffixes: str) -> Callable[[str], Path]:
    """A file to write later: one of ``suffixes``, in an existing writable folder."""
    def parse(text: str) -> Path:
        path = Path(text)
        if path.suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(
                f"{text!r} has an unknown format; use {', '.join(suffixes)}")
        if path.is_dir():
            raise argparse.ArgumentTypeError(f"{text!r} is a folder, not a file")
        _writable_folder(path.parent)
        return path
    return parse


def _output_folder(text: str) -> Path:
    """A folder to write into: an existing writable one, or one that can be made."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} exists and is not a folder")
    existing = path
    while not existing.exists():
        existing = existing.parent
    _writable_folder(existing)
    return path


EAGER_HELP = ("run each training step eagerly, not compiled with mg.compile (the same "
              "numbers, about twice the time)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m lstm", description="Recurrent networks from minigrad "
                     "primitives: why an LSTM remembers what a plain RNN forgets.")
    commands = parser.add_subparsers(dest="command", metavar="command", parser_class=_Parser)
    commands.required = True

    demo = commands.add_parser("demo", help="the main job: gradient flow, the adding problem "
                               "at several lags, pictures and results.json")
    demo.add_argument("--quick", action="store_true", help="small settings, under a minute")
    demo.add_argument("--out", type=_output_folder, default="demo-output",
                      help="output folder (filled only when the demo completes)")
    demo.add_argument("--jobs", type=_positive, default=2, help="parallel training processes")
    demo.add_argument("--steps", type=_positive, help="training steps per run (default 3000)")
    demo.add_argument("--lags", type=_positive, nargs="+", help="lags T (default 10 20 50 100)")
    demo.add_argument("--seeds", type=_positive, help="training seeds per cell and lag (default 3)")
    demo.add_argument("--eager", action="store_true", help=EAGER_HELP)

    tr = commands.add_parser("train", help="train one model on one task")
    tr.add_argument("--task", choices=sorted(TASKS), default="adding")
    tr.add_argument("--cell", choices=CELLS, default="lstm")
    tr.add_argument("--T", type=_positive, default=50, help="sequence length (the lag)")
    tr.add_argument("--hidden", type=_positive, default=32, help="hidden size")
    tr.add_argument("--steps", type=_positive, default=3000)
    tr.add_argument("--batch", type=_positive, default=32)
    tr.add_argument("--lr", type=_number(low=0.0), help="Adam learning rate (default: the "
                    "task's, 1e-2 for adding, 1e-3 for recall)")
    tr.add_argument("--clip", type=_number(low=0.0, allow_inf=True), default=1.0,
                    help="gradient-norm clip (inf: no clipping)")
    tr.add_argument("--forget-bias", type=_number(), default=1.0)
    tr.add_argument("--test-size", type=_positive, default=1000)
    tr.add_argument("--seed", type=_non_negative_int, default=0)
    tr.add_argument("--json", type=_output_file(".json"),
                    help="write the result and history here")
    tr.add_argument("--eager", action="store_true", help=EAGER_HELP)

    gr = commands.add_parser("graph", help="draw a cell unrolled over time with Graphviz")
    gr.add_argument("--cell", choices=CELLS, default="lstm")
    gr.add_argument("--steps", type=_positive, default=3, help="time steps to unroll")
    gr.add_argument("--depth", type=_positive, help="collapse scopes below this level "
                    "(1: one box per time step)")
    gr.add_argument("--heat", action="store_true", help="colour nodes by gradient size")
    gr.add_argument("--values", action="store_true", help="show data summaries")
    gr.add_argument("--grads", action="store_true", help="show gradient summaries")
    gr.add_argument("--hidden", type=_positive, default=16)
    gr.add_argument("--highlight", help="draw tensors of this name (e.g. c) and the path "
                    "between them in red")
    gr.add_argument("--rankdir", choices=("LR", "TB", "RL", "BT"), default="LR",
                    help="how time runs: LR like text (rows going down), TB top to bottom")
    gr.add_argument("-o", "--output", type=_output_file(".svg", ".png", ".pdf", ".dot", ".gv"),
                    default="graph.svg", help="FILE.svg, .png, .pdf or .dot")

    ex = commands.add_parser("explore", help="write the explorer: an HTML page that replays "
                             "the backward sweep through the unrolled graph")
    which = ex.add_mutually_exclusive_group()
    # no default here: argparse sees a clash only with a value that is not the default
    which.add_argument("--cell", choices=CELLS, help="the cell to unroll (default: lstm)")
    which.add_argument("--compare", type=_cells, metavar="CELL,CELL,...",
                       help="the comparison page instead: one row per cell (e.g. "
                       "rnn,lstm-no-forget,lstm,gru), with knobs for the forget-gate bias, "
                       "the recurrent weights' scale and trained weights")
    ex.add_argument("--steps", type=_positive, default=30, help="time steps to unroll")
    ex.add_argument("--hidden", type=_positive, default=16)
    ex.add_argument("--trained", action="store_true", help="add a view of the model after "
                    "a short training on the adding problem (the comparison page always "
                    "has one)")
    ex.add_argument("--train-steps", type=_positive, default=2000,
                    help="at most this many training steps for --trained and --compare "
                    "(it stops once the task is solved)")
    ex.add_argument("-o", "--output", type=_output_file(".html"), default="explorer.html",
                    help="FILE.html")

    pa = commands.add_parser("paper", help="the 1997 paper's adding experiment (its "
                             "Experiment 4), rerun: our table beside the paper's")
    pa.add_argument("--T", type=_positive, nargs="+", default=[100, 500],
                    help="minimal sequence lengths (default 100 500; the paper also has 1000)")
    pa.add_argument("--cells", nargs="+", choices=("lstm-1997", "lstm", "rnn"),
                    default=["lstm-1997", "lstm", "rnn"])
    pa.add_argument("--seeds", type=_positive, default=3, help="runs per T and cell")
    pa.add_argument("--jobs", type=_positive, default=2, help="parallel training processes")
    pa.add_argument("--budget", type=_positive, help="training sequences per run at most "
                    "(default: twice the paper's at each T)")
    pa.add_argument("--forget-bias", type=_number(), default=1.0,
                    help="today's LSTM's initial forget-gate bias")
    pa.add_argument("--gate-biases", action="store_true", help="start today's LSTM with the "
                    "1997 cell's negative input- and output-gate biases too")
    pa.add_argument("--out", type=_output_folder, default="paper-output",
                    help="output folder: results.json, table.md and gradient_flow.png (the "
                    "trained models' gradient flow at the largest T)")

    gf = commands.add_parser("gradflow", help="plot ||dL/dh_t|| against t at initialisation")
    gf.add_argument("--steps", type=_positive, default=100, help="sequence length T")
    gf.add_argument("--hidden", type=_positive, default=32)
    gf.add_argument("--seeds", type=_positive, default=5)
    gf.add_argument("-o", "--output", type=_output_file(".png", ".svg", ".pdf"),
                    default="gradient_flow.png", help="FILE.png, .svg or .pdf")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status: 0, 1 (an error, said in one line), 2 (bad
    arguments) or 130 (Ctrl-C)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "explore" and args.compare and args.trained:
        parser.error("argument --trained: not allowed with argument --compare (the "
                     "comparison page always has its trained weights, in its weights knob)")
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print(f"python -m lstm {args.command}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except MemoryError:
        print(f"python -m lstm {args.command}: error: out of memory; try smaller sizes "
              f"(--hidden, --batch, --T, --steps, --test-size)", file=sys.stderr)
        return 1
    except (ValueError, OSError, RuntimeError) as error:
        print(f"python -m lstm {args.command}: error: {error}", file=sys.stderr)
        return 1


def _paper(args: argparse.Namespace) -> int:
    import json

    from .paper import PaperConfig, flow_figure, run_all, table

    configs = [PaperConfig(T=T, cell=cell, seed=seed, budget=args.budget,
                           forget_bias=args.forget_bias, gate_biases=args.gate_biases)
               for T in sorted(args.T, reverse=True) for cell in args.cells
               for seed in range(args.seeds)]
    print(f"The 1997 adding experiment: {len(configs)} runs on {args.jobs} processes")
    results = run_all(configs, args.jobs)
    lines = table(results)
    print("\n".join(["", *lines]))
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out / "results.json",
                 json.dumps([r.to_dict() for r in results], indent=1))
    atomic_write(args.out / "table.md", "\n".join(lines) + "\n")
    flow_figure(results, max(args.T), args.out / "gradient_flow.png")
    print(f"\nwrote results.json, table.md and gradient_flow.png to {args.out}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import DemoSettings, run

    settings = DemoSettings.quick() if args.quick else DemoSettings()
    settings.jobs = args.jobs
    settings.compile = not args.eager
    if args.steps:
        settings.steps = args.steps
    if args.lags:
        settings.lags = tuple(args.lags)
    if args.seeds:
        settings.seeds = args.seeds
    from .training import TrainConfig

    run_config, T = TrainConfig(), max(settings.lags)
    check_fits(f"demo --lags {' '.join(map(str, settings.lags))} --jobs {settings.jobs}",
               settings.jobs * max(needed_bytes(c, 2, run_config.hidden_size, T,
                                                run_config.batch_size, 4,
                                                extra_elements=settings.test_size * T
                                                * (2 + run_config.hidden_size),
                                                compiled=settings.compile)
                                   for c in CELLS))
    run(settings, args.out)
    return 0


def _train(args: argparse.Namespace) -> int:
    from .training import ProgressBar, TrainConfig, train

    check_fits(f"train --cell {args.cell} --hidden {args.hidden} --T {args.T} --batch "
               f"{args.batch} --test-size {args.test_size}",
               needed_bytes(args.cell, TASKS[args.task].input_size, args.hidden, args.T,
                            args.batch, 4, extra_elements=args.test_size * args.T
                            * (TASKS[args.task].input_size + args.hidden),
                            compiled=not args.eager))
    config = TrainConfig(task=args.task, cell=args.cell, T=args.T, hidden_size=args.hidden,
                         batch_size=args.batch, steps=args.steps,
                         lr=TASKS[args.task].lr if args.lr is None else args.lr, clip=args.clip,
                         forget_bias=args.forget_bias, test_size=args.test_size,
                         seed=args.seed, compile=not args.eager)
    print(f"training {args.cell} on {args.task} at T={args.T} for at most {args.steps} steps",
          file=sys.stderr, flush=True)
    bar = ProgressBar(args.steps, f"{args.cell} T={args.T}")
    try:
        result = train(config, progress=bar)
    finally:
        bar.close()
    metric = "MSE" if TASKS[args.task].kind == "regression" else "accuracy"
    verdict = f"solved at step {result.solved_at}" if result.solved else "not solved"
    print(f"{args.cell} on {args.task} at T={args.T}: {verdict}; best test {metric} "
          f"{result.best_score:.4f}, final {result.final_score:.4f} "
          f"({result.steps_run} steps, {result.seconds:.1f}s)")
    if args.json:
        atomic_write(args.json, json.dumps(result.to_dict(), indent=1))
    return 0


def _gradflow(args: argparse.Namespace) -> int:
    from . import gradflow

    check_fits(f"gradflow --hidden {args.hidden} --steps {args.steps}",
               max(needed_bytes(c, 2, args.hidden, args.steps, 32, 4) for c in CELLS))
    print(f"measuring ||dL/dh_t|| of {', '.join(CELLS)} over T={args.steps} steps, "
          f"{args.seeds} seeds each ...", file=sys.stderr, flush=True)
    flows = gradflow.measure(T=args.steps, hidden_size=args.hidden, seeds=args.seeds)
    print(gradflow.table(flows))
    print(f"wrote {gradflow.plot(flows, args.output)}")
    return 0


def _graph(args: argparse.Namespace) -> int:
    from .pictures import draw_unrolled

    check_fits(f"graph --cell {args.cell} --hidden {args.hidden} --steps {args.steps}",
               needed_bytes(args.cell, 2, args.hidden, args.steps, 1))
    if args.depth is None and args.steps > FULL_DEPTH_STEPS:
        print(f"python -m lstm graph: {args.steps} steps at full depth may take dot minutes "
              f"to lay out (50 took 11 s, 150 took 6 min); --depth 1 draws one box per "
              f"step in under a second", file=sys.stderr, flush=True)
    path = draw_unrolled(args.cell, args.steps, args.output, depth=args.depth, heat=args.heat,
                         values=args.values, grads=args.grads, hidden_size=args.hidden,
                         highlight=args.highlight, rankdir=args.rankdir)
    print(f"wrote {path}")
    return 0


def _explore(args: argparse.Namespace) -> int:
    if args.compare:
        return _compare(args)
    from .pictures import explorer_page

    args.cell = args.cell or "lstm"
    check_fits(f"explore --cell {args.cell} --hidden {args.hidden} --steps {args.steps}",
               needed_bytes(args.cell, 2, args.hidden, args.steps, 32))
    page = explorer_page(args.cell, args.steps, hidden_size=args.hidden, trained=args.trained,
                         train_steps=args.train_steps)
    print(f"wrote {page.save(args.output)} ({len(page.html) / 1e6:.2f} MB)")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .comparison import comparison_page

    largest = max(needed_bytes(cell, 2, args.hidden, args.steps, 32) for cell in args.compare)
    check_fits(f"explore --compare {','.join(args.compare)} --hidden {args.hidden} "
               f"--steps {args.steps}", largest)
    page = comparison_page(args.compare, args.steps, hidden_size=args.hidden,
                           train_steps=args.train_steps)
    print(f"wrote {page.save(args.output)} ({len(page.html) / 1e6:.2f} MB)")
    return 0


COMMANDS = {"demo": _demo, "train": _train, "graph": _graph, "gradflow": _gradflow,
            "explore": _explore, "paper": _paper}
