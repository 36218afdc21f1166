"""The command line's memory estimate against measured peak RSS, over a grid of sizes.

    python -m benchmarks.memory_estimate [--eager]

Runs ``python -m lstm train --steps 2`` at each size (long runs of small sizes, short
runs of large ones), each in its own process, and prints its peak resident memory beside
:func:`lstm.memory.needed_bytes` for the same arguments. The estimate refuses sizes
before any work, so it must stay within 2x.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from lstm.memory import needed_bytes

ROOT = Path(__file__).resolve().parents[1]

#: (cell, T, hidden, batch, test size): a few tiny, long ones; a few large, short ones.
GRID = [("rnn", 10, 8, 4, 100), ("lstm", 10, 8, 4, 100), ("lstm", 1000, 2, 1, 10),
        ("rnn", 3000, 1, 1, 10), ("lstm", 3000, 1, 1, 10), ("gru", 2000, 4, 2, 10),
        ("lstm", 50, 256, 32, 1000), ("lstm", 200, 64, 32, 1000), ("lstm", 100, 512, 64, 100),
        ("rnn", 500, 32, 32, 1000), ("lstm", 20, 1024, 16, 100)]


#: Runs ``python -m lstm ARGV`` and, as it exits, writes its peak resident memory (VmHWM,
#: which starts afresh at exec: unlike ``ru_maxrss``, it never counts the parent's memory
#: that a fork copied) to stderr's last line.
RUN_AND_REPORT = ("import atexit, runpy, sys\n"
                  "def report():\n"
                  "    peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]\n"
                  "    print(peak[0].split()[1], file=sys.stderr)\n"
                  "atexit.register(report)\n"
                  "sys.argv = ['lstm', *sys.argv[1:]]\n"
                  "runpy.run_module('lstm', run_name='__main__', alter_sys=True)\n")


def measure(cell: str, T: int, hidden: int, batch: int, test: int,
            eager: bool = False) -> tuple[int, int]:
    """(peak RSS in bytes of ``train`` at these sizes, the estimate for them)."""
    argv = ["train", "--cell", cell, "--T", str(T), "--hidden", str(hidden), "--batch",
            str(batch), "--steps", "2", "--test-size", str(test)] + ["--eager"] * eager
    done = subprocess.run([sys.executable, "-c", RUN_AND_REPORT, *argv], cwd=ROOT,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    if done.returncode:
        raise RuntimeError(f"train {' '.join(argv)} failed: {done.stderr}")
    estimate = needed_bytes(cell, 2, hidden, T, batch, 4,
                            extra_elements=test * T * (2 + hidden), compiled=not eager)
    return int(done.stderr.split()[-1]) * 1024, estimate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eager", action="store_true", help="train eagerly, not compiled")
    args = parser.parse_args()
    ratios = []
    for cell, T, hidden, batch, test in GRID:
        measured, estimate = measure(cell, T, hidden, batch, test, args.eager)
        ratios.append(measured / estimate)
        print(f"{cell:<6} T={T:<6} hidden={hidden:<5} batch={batch:<3} test={test:<5} "
              f"measured {measured / 1e6:7.1f} MB  estimate {estimate / 1e6:7.1f} MB  "
              f"measured/estimate {ratios[-1]:.2f}", flush=True)
    print(f"measured/estimate from {min(ratios):.2f} to {max(ratios):.2f} (goal: 0.5 to 2)")


if __name__ == "__main__":
    main()
