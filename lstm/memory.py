"""How much memory a command will need, checked before it starts, so that a size that
cannot fit (``--hidden 400000``) gets one line saying so instead of a MemoryError
traceback minutes later.

The estimate counts what BPTT keeps per step (the input and state, the gate
pre-activations and activations, and as much again for their gradients) and the weights
with their gradient and Adam's two moments. It is meant to be right within a small
factor, which is all a refusal needs: it only refuses what is many times too large.
"""

from __future__ import annotations

import os

#: Column blocks of W per cell: gates times hidden_size.
BLOCKS = {"rnn": 1, "lstm": 4, "lstm-no-forget": 3, "gru": 3}


def needed_bytes(cell: str, input_size: int, hidden_size: int, T: int, batch: int,
                 itemsize: int = 8, extra_elements: int = 0) -> int:
    """Bytes to unroll ``cell`` over ``T`` steps of ``batch`` sequences, train and keep it."""
    m = BLOCKS[cell] * hidden_size
    weights = (input_size + hidden_size + 2) * m
    per_step = batch * (input_size + hidden_size + 3 * m + 4 * hidden_size)
    return itemsize * (4 * weights + 2 * T * per_step + extra_elements)


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
