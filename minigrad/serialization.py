"""Saving and loading parameters as ``.npz`` (never pickle).

A checkpoint is an uncompressed ``.npz`` archive, one ``NAME.npy`` member per parameter,
as ``numpy.savez`` writes it, so ``numpy.load`` reads it too. It is written atomically
(:func:`minigrad.files.atomic_write`): a failed save leaves the previous checkpoint whole.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .files import atomic_write
from .nn.module import Module

_ZIP_MAGIC, _NPY_MAGIC = b"PK\x03\x04", b"\x93NUMPY"


class CheckpointError(ValueError):
    """A file that is not a minigrad checkpoint, or a damaged one."""


def checkpoint_path(path: str | os.PathLike) -> Path:
    """The file a checkpoint named ``path`` lives in: ``.npz`` is added unless the name
    already ends with it (as ``numpy.savez`` does), for saving and loading alike."""
    path = Path(path)
    return path if path.name.endswith(".npz") else path.with_name(path.name + ".npz")


def save(module: Module, path: str | os.PathLike) -> Path:
    """Write ``module.state_dict()`` to ``path`` (``.npz`` added if missing), atomically.

    Returns the path written. Any parameter name works, ``file`` and ``allow_pickle``
    included; two parameters with the same name are refused (ValueError).

    Example::

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "linear"
        >>> mg.save(mg.nn.Linear(3, 2), path).name
        'linear.npz'
        >>> sorted(np.load(path.with_suffix(".npz")).files)
        ['W', 'b']
    """
    state = module.state_dict()
    return atomic_write(checkpoint_path(path), lambda file: _write_npz(file, state))


def _write_npz(file: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    """The archive ``numpy.savez`` writes, from a mapping: no name can collide with a
    keyword argument."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED,
                         allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def load(module: Module, path: str | os.PathLike) -> Module:
    """Load parameters saved by :func:`save` into ``module`` and return it.

    ``path`` is resolved as by :func:`save` (``mg.load(m, "ckpt")`` reads ``ckpt.npz``).
    Arrays are read with ``allow_pickle=False``. A file that is not a checkpoint (empty,
    text, a single ``.npy``, truncated) raises :class:`CheckpointError` naming the path;
    a missing or extra key or a wrong shape or dtype raises ValueError; either way the
    module is left untouched.

    Example::

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "linear.npz"
        >>> _ = mg.save(mg.nn.Linear(3, 2), path)
        >>> layer = mg.load(mg.nn.Linear(3, 2), path)
        >>> layer.W.shape
        (3, 2)
    """
    module.load_state_dict(read_checkpoint(path))
    return module


def read_checkpoint(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of the checkpoint at ``path``, by name."""
    path = checkpoint_path(path)
    with open(path, "rb") as file:  # a missing file: FileNotFoundError, as usual
        start = file.read(len(_NPY_MAGIC))
    if not start.startswith(_ZIP_MAGIC):
        raise CheckpointError(f"load: {path} is not a minigrad checkpoint: "
                              + _what_it_is(start))
    try:
        with np.load(path, allow_pickle=False) as archive:
            state = {name: archive[name] for name in archive.files}
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise CheckpointError(f"load: {path} holds pickled objects, which minigrad never "
                                  f"loads (allow_pickle=False); it is not a minigrad "
                                  f"checkpoint") from None
        raise CheckpointError(f"load: {path} is not a minigrad checkpoint: it is damaged "
                              f"({error})") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as error:
        raise CheckpointError(f"load: {path} is not a minigrad checkpoint: it is truncated "
                              f"or damaged ({type(error).__name__}: {error})") from None
    for name, value in state.items():
        if not isinstance(value, np.ndarray):
            raise CheckpointError(f"load: {path} is not a minigrad checkpoint: its member "
                                  f"{name!r} is not a .npy array")
    return state


def _what_it_is(start: bytes) -> str:
    if not start:
        return "the file is empty"
    if start.startswith(_NPY_MAGIC):
        return "it holds a single .npy array, not an .npz archive of parameters"
    return "it is not an .npz (zip) archive"
