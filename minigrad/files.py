"""Writing files and folders so that a failure never leaves half of one.

A write goes to a temporary file beside the target, is flushed to disk, and only then
renamed over the target (``os.replace``, atomic on POSIX and Windows), with the
permissions of the file it replaces. An error, a full disk, Ctrl-C or a SIGKILL halfway
leaves the old file as it was, and two writers never interleave: the last rename wins
whole.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None] | bytes | str
                 ) -> Path:
    """Write ``path`` all at once: ``write`` is the content (bytes or text) or a function
    that writes it to a binary file. Returns the path. If ``path`` is a symbolic link, the
    file it points to is replaced and the link kept.

    Example::

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "note.txt"
        >>> atomic_write(path, "hello").read_text()
        'hello'
    """
    given = Path(path)
    # a symbolic link stays one: its target gets the new content
    path = Path(os.path.realpath(given)) if given.is_symlink() else given
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    # os.open with mode 0o666 lets the umask decide a new file's permissions, as open()
    # would; a file replaced keeps its own (a private 0600 checkpoint stays private)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            _keep_mode(path, file.fileno())
            if callable(write):
                write(file)
            else:
                file.write(write.encode() if isinstance(write, str) else write)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)
    return given


def _keep_mode(path: Path, descriptor: int) -> None:
    """Give the file open at ``descriptor`` the permission bits of ``path``, if it exists."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    os.fchmod(descriptor, mode)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


@contextmanager
def staged_folder(path: str | os.PathLike) -> Iterator[Path]:
    """A folder to write into that appears at ``path`` only when the block succeeds.

    Inside the block, files go to a hidden folder: beside ``path``, renamed to ``path`` on
    success (atomic); or, if ``path`` is a folder already (``.`` included), inside it,
    each new file replacing its namesake there on success. On an error or Ctrl-C it is
    deleted, and ``path`` is as it was.

    Example::

        >>> import pathlib, tempfile
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "results"
        >>> with staged_folder(out) as folder:
        ...     _ = (folder / "a.txt").write_text("done")
        >>> sorted(p.name for p in out.iterdir())
        ['a.txt']
    """
    path = Path(os.path.abspath(path))  # "." has a name to stage beside, or inside
    hidden = f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.partial"
    inside = path.is_dir()
    if not inside:
        path.parent.mkdir(parents=True, exist_ok=True)
    staging = path / hidden if inside else path.with_name(hidden)
    staging.mkdir()
    try:
        yield staging
        if inside:
            _move_into(staging, path)
        else:
            try:
                os.rename(staging, path)
            except OSError:  # made meanwhile
                if not path.is_dir():
                    raise
                _move_into(staging, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into(source: Path, target: Path) -> None:
    """Move every file under ``source`` to the same place under ``target``."""
    for item in source.iterdir():
        destination = target / item.name
        if item.is_dir() and destination.is_dir():
            _move_into(item, destination)
        else:
            os.replace(item, destination)
