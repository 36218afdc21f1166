"""``python -m exercises check [NN ...] [--dir DIR]``: grade the task files in DIR."""

from __future__ import annotations

import argparse
import gc
import resource
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .graders import TASKS, Task
from .grading import CheckError, NotYetError, OutOfMemory, TimedOut, load

HERE = Path(__file__).resolve().parent
#: A task's grading stops after this long: the code under it is stuck.
LIMIT_SECONDS = 120
#: The grader's memory (address space): a loop that appends to the list it walks ends in
#: a MemoryError here, not in the whole machine swapping.
LIMIT_BYTES = 4 << 30


def grade(task: Task, folder: Path) -> str | None:
    """None if the task file in ``folder`` passes, else what is wrong."""
    path = folder / task.file
    if not path.is_file():
        return (f"there is no {path}; start again from the stub with "
                f"`git checkout exercises/{task.file}`")
    try:
        with _time_limit(LIMIT_SECONDS):
            task.grade(load(path))
    except TimedOut:
        return f"grading took more than {LIMIT_SECONDS} s: is there an endless loop?"
    except OutOfMemory as error:
        return str(error)
    except NotYetError as missing:
        return f"not implemented yet ({missing} still raises NotImplementedError)"
    except CheckError as failure:
        return str(failure)
    except Exception as error:  # noqa: BLE001 -- whatever a student's answer does to the checks
        return (f"your answers could not be checked ({type(error).__name__}: {error}); do "
                f"the functions return what their docstrings say?")
    finally:
        gc.collect()  # what a failed check held (a student's huge list) goes now
    return None


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise TimedOut

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def limit_memory(limit: int = LIMIT_BYTES) -> None:
    """Cap this process's address space (and its children's, so only for a process of
    its own: ``python -m exercises``, not a test run that starts a browser later)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m exercises",
                                     description="The course's tasks and their grader.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="grade task files: one line per task")
    check.add_argument("tasks", nargs="*", metavar="NN",
                       help=f"the tasks to grade ({', '.join(TASKS)}; default: all)")
    check.add_argument("--dir", type=Path, default=HERE,
                       help="the folder with the task files (default: exercises/)")
    commands.add_parser("list", help="the tasks, in order, and what each teaches")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 when every task checked passes, 1 when one fails, 2 for bad
    arguments."""
    args = _parser().parse_args(argv)
    if args.command == "list":
        for task in TASKS.values():
            print(f"{task.number} {task.name}: {task.teaches}")
        return 0
    unknown = [n for n in args.tasks if n.zfill(2) not in TASKS]
    if unknown:
        print(f"python -m exercises check: no task {unknown[0]!r}; the tasks are "
              f"{', '.join(TASKS)}", file=sys.stderr)
        return 2
    if not args.dir.is_dir():
        print(f"python -m exercises check: no folder {args.dir}", file=sys.stderr)
        return 2
    chosen = [TASKS[n.zfill(2)] for n in args.tasks] or list(TASKS.values())
    passed = 0
    for task in chosen:
        problem = grade(task, args.dir)
        passed += problem is None
        print(f"{task.number} {task.name}: {'PASS' if problem is None else 'FAIL: ' + problem}",
              flush=True)
    print(f"{passed} of {len(chosen)} tasks pass")
    return 0 if passed == len(chosen) else 1
