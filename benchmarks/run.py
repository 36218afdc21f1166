"""`make bench`: minigrad against hand-written NumPy (and PyTorch and JAX, when
importable).

Workloads (float32): W1, a chain of 2000 elementwise ops on a (16,) vector, then sum and
backward (microseconds per op); W2, one LSTM training step, forward + backward, at
sizes S, M, L (milliseconds); MEM, the extra resident memory of one L step with T=200
in a fresh process. Times are the minimum over repeats after a warm-up (the median is
in the JSON). Then the per-primitive overhead, forward and backward, in microseconds.

Each implementation and workload runs in a fresh process: what one workload leaves in
the memory allocator changes the next one's speed (running S before M in one process
made minigrad's M 50% slower, mostly in page faults of the forward pass).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import minigrad as mg  # noqa: E402
from benchmarks import workloads as w  # noqa: E402

# time (or memory) / hand-written NumPy's, per row and workload (#5, #15)
GOALS = {
    "minigrad": {"W1": 3.3, "S": 2.5, "M": 1.2, "L": 1.0, "MEM": 1.1},
    "minigrad, compiled": {"W1": 1.3, "S": 1.2, "M": 1.0, "L": 1.0, "MEM": 1.1},
}


def timed(step, repeats: int) -> tuple[float, float]:
    step()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def implementations() -> dict[str, dict]:
    """Per implementation, a builder per workload (None: not applicable)."""
    impls = {
        "minigrad": {"W1": w.w1_minigrad, "W2": w.w2_minigrad},
        "minigrad, compiled": {"W1": lambda: w.w1_minigrad(compile=True),
                               "W2": lambda s: w.w2_minigrad(s, compile=True)},
        "minigrad, lstm.LSTM layer": {"W1": None, "W2": w.w2_minigrad_layer},
        "numpy (hand-written BPTT)": {"W1": w.w1_numpy, "W2": w.w2_numpy},
        "numpy (dW as one GEMM)": {"W1": None, "W2": lambda s: w.w2_numpy(s, one_gemm=True)},
        "minimal Python autograd": {"W1": w.w1_minimal, "W2": None},
    }
    if w.TORCH_VERSION is not None:
        impls[f"PyTorch {w.TORCH_VERSION} eager"] = {"W1": w.w1_torch, "W2": w.w2_torch_eager}
        impls["PyTorch fused nn.LSTM"] = {"W1": None, "W2": w.w2_torch_fused}
    if w.JAX_VERSION is not None:
        impls[f"JAX {w.JAX_VERSION} jit + lax.scan"] = {"W1": None, "W2": w.w2_jax_scan}
    return impls


ROOT = Path(__file__).resolve().parent.parent


def memory(impl: str) -> float:
    # A fixed mmap threshold: every large array goes back to the system when freed, so
    # what the compiled function's first (tracing) call used is not counted again.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}
    out = subprocess.run([sys.executable, "-m", "benchmarks.memory", impl], check=True,
                         capture_output=True, text=True, cwd=ROOT, env=env)
    return float(out.stdout)


#: The machine's own GEMM speed, measured in the same run: one large float32 matmul of
#: the L step's forward shape, (B, p+q) @ (p+q, 4q).
SGEMM_SHAPE = (64, 768, 2048)


def sgemm_gflops(repeats: int) -> float:
    """GFLOP/s of the best of ``repeats`` float32 ``(m, k) @ (k, n)`` products."""
    m, k, n = SGEMM_SHAPE
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    low, _ = timed(lambda: a @ b, repeats)
    return 2.0 * m * k * n / low / 1e9


def measure_one(impl: str, workload: str, repeats: int) -> dict[str, float]:
    """Time one workload of one implementation (in this process)."""
    if impl == "sgemm":
        return {"gflops": sgemm_gflops(repeats)}
    builders = implementations()[impl]
    if workload == "W1":
        low, median = timed(builders["W1"](), repeats)
        per_op = 1e6 / (w.W1_OPS + 1)
        return {"min": low * per_op, "median": median * per_op}
    step = builders["W2"](w.SIZES[workload])
    low, median = timed(step, repeats)
    measured = {"min": low * 1e3, "median": median * 1e3}
    if hasattr(step, "compile_seconds"):  # JAX: its trace and XLA compile, apart
        measured["compile_s"] = step.compile_seconds
    return measured


def measure_in_fresh_process(impl: str, workload: str, repeats: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", "--one", impl, workload,
                          str(repeats)], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout)


def measure_all(impls: dict, workloads: list[str], repeats: dict[str, int],
                rounds: int) -> dict[str, dict[str, dict]]:
    """Every implementation and workload, each in a fresh process, in ``rounds`` rounds
    that interleave the implementations in time; each keeps its best round. (This
    machine's speed drifts by 20% over minutes, and a process's speed by up to 50% with
    what ran before it in that process.)"""
    results: dict[str, dict[str, dict]] = {impl: {} for impl in impls}
    for round_number in range(rounds):
        for workload in workloads:
            for impl, builders in impls.items():
                if builders["W1" if workload == "W1" else "W2"] is None:
                    continue
                run = measure_in_fresh_process(impl, workload, repeats[workload])
                best = results[impl].setdefault(workload, {"min": np.inf, "rounds": []})
                best["rounds"].append(run["min"])
                if run["min"] < best["min"]:
                    best.update(run)
        print(f"  round {round_number + 1} of {rounds} measured", file=sys.stderr, flush=True)
    return results


def primitive_overheads(repeats: int = 2000) -> dict[str, tuple[float, float]]:
    """Forward and backward microseconds of each primitive on tiny float32 inputs."""
    v = mg.tensor(np.linspace(0.5, 1.5, 16, dtype=np.float32), requires_grad=True)
    m = mg.tensor(np.ones((4, 4), np.float32), requires_grad=True)
    calls = {
        "add": lambda: v + v, "sub": lambda: v - v, "mul": lambda: v * v,
        "div": lambda: v / v, "neg": lambda: -v, "pow": lambda: v ** 2,
        "exp": lambda: mg.exp(v), "log": lambda: mg.log(v), "tanh": lambda: mg.tanh(v),
        "sigmoid": lambda: mg.sigmoid(v), "relu": lambda: mg.relu(v),
        "log_softmax": lambda: mg.log_softmax(m), "matmul": lambda: m @ m,
        "sum": lambda: m.sum(axis=0), "broadcast_to": lambda: mg.broadcast_to(v, (2, 16)),
        "reshape": lambda: m.reshape(16), "transpose": lambda: m.T,
        "getitem": lambda: m[:, 1:3], "index_add": lambda: mg.index_add(v, [0, 1], (4, 16)),
        "concat": lambda: mg.concat([m, m]), "stack": lambda: mg.stack([m, m]),
    }
    results = {}
    for name, call in calls.items():
        out = call()
        seed = np.ones_like(out.data)
        start = time.perf_counter()
        for _ in range(repeats):
            call()
        forward = (time.perf_counter() - start) / repeats
        start = time.perf_counter()
        for _ in range(repeats):
            call().backward(seed)
        both = (time.perf_counter() - start) / repeats
        results[name] = (forward * 1e6, (both - forward) * 1e6)
    v.grad = m.grad = None
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no L, no MEM")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"))
    parser.add_argument("--one", nargs=3, metavar=("IMPL", "WORKLOAD", "REPEATS"),
                        help=argparse.SUPPRESS)  # the worker: one measurement, as JSON
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure_one(args.one[0], args.one[1], int(args.one[2]))))
        return 0
    repeats = {"W1": 5 if args.quick else 20, "S": 3 if args.quick else 20,
               "M": 2 if args.quick else 10, "L": 5}
    sizes = ["S", "M"] if args.quick else ["S", "M", "L"]
    results = measure_all(implementations(), ["W1", *sizes], repeats, 1 if args.quick else 5)
    sgemm = max(measure_in_fresh_process("sgemm", "BLAS", 50)["gflops"]
                for _ in range(1 if args.quick else 3))
    if not args.quick:
        for impl, key in (("minigrad", "minigrad"), ("minigrad, compiled", "compiled"),
                          ("numpy (hand-written BPTT)", "numpy")):
            results[impl]["MEM"] = {"min": memory(key)}
    report = render(results, sizes, sgemm)
    print(report)
    overheads = primitive_overheads(500 if args.quick else 2000)
    print("\nPer-primitive overhead on tiny float32 inputs (microseconds per call)")
    print(f"{'primitive':<14}{'forward':>9}{'backward':>10}")
    for name, (fwd, bwd) in overheads.items():
        print(f"{name:<14}{fwd:>9.2f}{bwd:>10.2f}")
    args.json.write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d"), "machine": machine(), "results": results,
        "sgemm_gflops": sgemm,
        "primitives_us": overheads, "goals": GOALS}, indent=1))
    print(f"\nwrote {args.json}")
    return 0


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.machine())
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy "
            f"{np.__version__}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")


def render(results: dict, sizes: list[str], sgemm: float | None = None) -> str:
    """The table (min times), the L step's GFLOP/s, each W2 step's GFLOP/s as a fraction
    of the machine's own large ``sgemm`` (``sgemm``, GFLOP/s, measured in the same run),
    ratios to hand-written NumPy and whether each goal holds."""
    columns = ["W1", *sizes] + (["MEM"] if "MEM" in results["numpy (hand-written BPTT)"] else [])
    units = {"W1": "W1 us/op", "S": "W2-S ms", "M": "W2-M ms", "L": "W2-L ms",
             "MEM": "MEM MiB"}
    lines = [f"minigrad benchmark, {machine()}", "",
             f"{'implementation':<30}" + "".join(f"{units[c]:>11}" for c in columns)
             + (f"{'L GFLOP/s':>11}" if "L" in sizes else "")]
    for impl, row in results.items():
        cells = "".join(f"{row[c]['min']:>11.1f}" if c in row else f"{'n/a':>11}"
                        for c in columns)
        if "L" in sizes:
            cells += (f"{w.SIZES['L'].flops() / row['L']['min'] / 1e6:>11.1f}" if "L" in row
                      else f"{'n/a':>11}")
        lines.append(f"{impl:<30}{cells}")
    for impl, row in results.items():
        compiled = {c: row[c]["compile_s"] for c in sizes if "compile_s" in row.get(c, {})}
        if compiled:
            lines.append(f"{impl}: its first call (trace and XLA compile), apart from the "
                         "timings: " + ", ".join(f"{c} {t:.2f} s" for c, t in compiled.items()))
    if sgemm is not None:
        lines += ["", f"GFLOP/s of each W2 step, and its fraction of one large float32 "
                      f"sgemm {SGEMM_SHAPE[0]}x{SGEMM_SHAPE[1]} @ {SGEMM_SHAPE[1]}x"
                      f"{SGEMM_SHAPE[2]} ({sgemm:.0f} GFLOP/s in this run)",
                  f"{'implementation':<30}" + "".join(f"{'W2-' + c + ' GFLOP/s':>16}"
                                                      for c in sizes)]
        for impl, row in results.items():
            rates = {c: w.SIZES[c].flops() / row[c]["min"] / 1e6 for c in sizes if c in row}
            cells = "".join(f"{rates[c]:>9.1f} ({rates[c] / sgemm:4.0%})" if c in rates
                            else f"{'n/a':>16}" for c in sizes)
            lines.append(f"{impl:<30}{cells}")
    floor = results["numpy (hand-written BPTT)"]
    torch_eager = next((row for impl, row in results.items() if impl.endswith("eager")), None)
    for impl, goals in GOALS.items():
        ours = results.get(impl)
        if ours is None:
            continue
        lines.append("")
        for c in columns:
            if c not in ours:
                continue
            ratio = ours[c]["min"] / floor[c]["min"]
            verdict = "holds" if ratio <= goals[c] else "misses"
            lines.append(f"{units[c]:<10} {impl} / hand-written NumPy = {ratio:5.2f}x "
                         f"(goal {goals[c]}x: {verdict})")
        if torch_eager is not None:
            for c in ("W1", *sizes):
                faster = ours[c]["min"] < torch_eager[c]["min"]
                lines.append(f"{units[c]:<10} {impl} {'faster' if faster else 'slower'} than "
                             f"PyTorch eager: {ours[c]['min']:.1f} vs "
                             f"{torch_eager[c]['min']:.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
