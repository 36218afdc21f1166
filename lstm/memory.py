"""How much memory a command will need, checked before it starts, so that a size that
cannot fit (``--hidden 400000``, ``--T 10000000``) gets one line saying so instead of a
MemoryError minutes later.

The estimate is the peak resident memory of the process: the interpreter with its
imports, what BPTT keeps per step (the input and state, the gate pre-activations and
activations), the weights with their gradient and Adam's two moments, and the graph's
own bookkeeping per step (nodes, and for a compiled step its plan and generated code),
which dominates for long runs of small sizes. ``benchmarks/memory_estimate.py`` measures
peak RSS over a grid of sizes: long and short, small and large, compiled and eager; the
estimate is within 2x of it everywhere (0.58-1.43 compiled, 0.63-1.16 eager on
2026-12-05).
"""

from __future__ import annotations

import os

#: Column blocks of W per cell: gates times hidden_size.
BLOCKS = {"rnn": 1, "lstm": 4, "lstm-no-forget": 3, "gru": 3}
#: The interpreter with NumPy, minigrad and lstm imported (measured: 44 MB).
BASE_BYTES = 45_000_000
#: Bookkeeping per unrolled step (measured over the grid): the eager graph's nodes, and
#: for a compiled step its trace, plan and generated code as well.
STEP_BYTES = {"eager": 8_000, "compiled": 70_000}


def needed_bytes(cell: str, input_size: int, hidden_size: int, T: int, batch: int,
                 itemsize: int = 8, extra_elements: int = 0, compiled: bool = False) -> int:
    """Peak bytes of a process that unrolls ``cell`` over ``T`` steps of ``batch``
    sequences, trains it and keeps ``extra_elements`` more numbers (a test set)."""
    m = BLOCKS[cell] * hidden_size
    weights = (input_size + hidden_size + 2) * m
    per_step = batch * (input_size + hidden_size + 3 * m + 4 * hidden_size)
    arrays = itemsize * (4 * weights + T * per_step + extra_elements)
    return BASE_BYTES + arrays + T * STEP_BYTES["compiled" if compiled else "eager"]


def available_bytes() -> int:
    """Memory this process can still get: MemAvailable (Linux), else all physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 62  # unknown: refuse nothing


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def check_fits(asked: str, needed: int, available: int | None = None) -> None:
    """Raise a one-line ``ValueError`` (not a MemoryError later) when ``needed`` bytes cannot fit:
    what was asked, what it needs, what this machine has."""
    available = available_bytes() if available is None else available
    if needed > available:
        raise ValueError(f"{asked} needs about {_size(needed)} of memory, and this machine "
                         f"has {_size(available)} available; ask for smaller sizes")
