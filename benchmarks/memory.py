"""MEM: extra resident memory of one W2-L step with T=200, in a fresh process.

    python -m benchmarks.memory {minigrad,compiled,numpy}   -> prints the extra MiB

The compiled step is measured from process start, its first call (which traces the
function eagerly and plans it) included: a user's training run peaks there if anywhere.
Run it with ``MALLOC_MMAP_THRESHOLD_=131072`` (as `make bench` does): with glibc's
default, the threshold grows after the first large free and later arrays come from a heap
that keeps earlier memory resident.
"""

from __future__ import annotations

import resource
import sys
from dataclasses import replace


def resident_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def reset_peak() -> None:
    """Start the high-water mark afresh (Linux >= 4.0: ``clear_refs`` value 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_mib() -> float:
    with open("/proc/self/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    return kib / 1024


def main(impl: str) -> float:
    from .workloads import SIZES, w2_minigrad, w2_numpy

    size = replace(SIZES["L"], T=200)
    step = {"minigrad": lambda: w2_minigrad(size),
            "compiled": lambda: w2_minigrad(size, compile=True),
            "numpy": lambda: w2_numpy(size)}[impl]()
    before = resident_mib()  # weights and data exist; nothing of the step yet
    step()
    if impl == "compiled":
        step()  # a replay too: the peak is the larger of the first call and a replay
    return peak_mib() - before


if __name__ == "__main__":
    print(f"{main(sys.argv[1]):.1f}")
