"""Worker processes for runs that train side by side (the demo, the paper's experiment)."""

from __future__ import annotations

import signal
import threading
from multiprocessing import get_context
from multiprocessing.pool import Pool


def worker_pool(jobs: int) -> Pool:
    """A pool of ``jobs`` fresh processes that ignore Ctrl-C: the parent alone gets the
    KeyboardInterrupt, and leaving the pool's ``with`` block terminates them (no
    traceback from each worker, no worker left running)."""
    context = get_context("spawn")
    if threading.current_thread() is not threading.main_thread():
        return context.Pool(jobs)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the workers
    try:
        return context.Pool(jobs)
    finally:
        signal.signal(signal.SIGINT, previous)
