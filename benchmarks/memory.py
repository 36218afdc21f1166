"""MEM: extra resident memory of one W2-L step with T=200, in a fresh process.

    python -m benchmarks.memory {minigrad,numpy}   -> prints the extra MiB
"""

from __future__ import annotations

import resource
import sys
from dataclasses import replace


def resident_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def main(impl: str) -> float:
    from .workloads import SIZES, w2_minigrad, w2_numpy

    size = replace(SIZES["L"], T=200)
    step = w2_minigrad(size) if impl == "minigrad" else w2_numpy(size)
    before = resident_mib()  # weights and data exist; nothing of the step yet
    step()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return peak - before


if __name__ == "__main__":
    print(f"{main(sys.argv[1]):.1f}")
