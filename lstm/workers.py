"""Worker processes for runs that train side by side (the demo, the paper's experiment)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from multiprocessing import get_context
from multiprocessing.pool import Pool
from typing import Any


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


def run_each(work: Callable[[Any], Any], items: list, jobs: int,
             finished: Callable[[Any], None], in_worker: Callable[[Any], Any] | None = None
             ) -> list:
    """``work(item)`` for every item, here (``jobs`` 1) or on ``jobs`` fresh processes
    (``in_worker`` there, if given), each result handed to ``finished`` as it comes."""
    results = []
    if jobs <= 1:
        for item in items:
            results.append(work(item))
            finished(results[-1])
        return results
    # fresh interpreters with single-threaded BLAS: the runs are the parallelism
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    with worker_pool(jobs) as pool:  # Ctrl-C here terminates the workers
        for result in pool.imap_unordered(in_worker or work, items):
            results.append(result)
            finished(result)
    return results
