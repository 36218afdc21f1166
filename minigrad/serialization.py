"""Saving and loading parameters as ``.npz`` (never pickle).

A checkpoint is an uncompressed ``.npz`` archive, one ``NAME.npy`` member per parameter,
as ``numpy.savez`` writes it, so ``numpy.load`` reads it too. It is written atomically
(:func:`minigrad.files.atomic_write`): a failed save leaves the previous checkpoint whole.
"""

from __future__ import annotations

import math
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
    A symbolic link is followed: its target gets the new weights, the link stays.

    Returns the path written. Any parameter name works, ``file`` and ``allow_pickle``
    included; two parameters with the same name are refused (ValueError), and so is a
    name no archive can hold (a NUL character, a lone surrogate, over 65,531 bytes).

    Example::

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "linear"
        >>> mg.save(mg.nn.Linear(3, 2), path).name
        'linear.npz'
        >>> sorted(np.load(path.with_suffix(".npz")).files)
        ['W', 'b']
    """
    state = module.state_dict()
    for name in state:
        _check_name(name)
    return atomic_write(checkpoint_path(path), lambda file: _write_npz(file, state))


#: A zip member's name is at most 65,535 bytes; each member is ``NAME.npy``.
MAX_NAME_BYTES = 65_535 - len(".npy")


def _check_name(name: str) -> None:
    if "\0" in name:
        raise ValueError(f"save: the parameter name {name!r} holds a NUL character, which a "
                         f"checkpoint cannot store; rename the attribute or dict key")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError(f"save: the parameter name {name!r} is not valid Unicode (a lone "
                         f"surrogate); rename the attribute or dict key") from None
    if size > MAX_NAME_BYTES:
        raise ValueError(f"save: a parameter name is {size} bytes long (it starts "
                         f"{name[:40]!r}); a checkpoint holds names of at most "
                         f"{MAX_NAME_BYTES} bytes")


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
    so does a checkpoint that does not fit the module (a missing or extra key, a wrong
    shape or dtype), found from the members' names and headers before any data is read.
    Either way the module is left untouched.

    Example::

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "linear.npz"
        >>> _ = mg.save(mg.nn.Linear(3, 2), path)
        >>> layer = mg.load(mg.nn.Linear(3, 2), path)
        >>> layer.W.shape
        (3, 2)
    """
    expected = {name: (p.shape, p.dtype) for name, p in module.parameters_by_name("load").items()}
    module.load_state_dict(read_checkpoint(path, expected))
    return module


def read_checkpoint(path: str | os.PathLike,
                    expected: dict[str, tuple[tuple[int, ...], np.dtype]] | None = None
                    ) -> dict[str, np.ndarray]:
    """The arrays of the checkpoint at ``path``, by name (a member ``NAME.npy`` is the
    array ``NAME``, exactly: ``a`` and ``a.npy`` are two names).

    Each member's header is read first (its shape and dtype: object arrays and data
    larger than the member are refused). With ``expected`` (name -> shape and dtype),
    names and headers are checked against it, every problem reported in one
    :class:`CheckpointError`, before any array's data is read or decompressed."""
    path = checkpoint_path(path)
    with open(path, "rb") as file:  # a missing file: FileNotFoundError, as usual
        start = file.read(len(_NPY_MAGIC))
    if not start.startswith(_ZIP_MAGIC):
        raise CheckpointError(f"load: {path} is not a minigrad checkpoint: "
                              + _what_it_is(start))
    try:
        with zipfile.ZipFile(path) as archive:
            members = {}
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    raise CheckpointError(f"load: {path} is not a minigrad checkpoint: its "
                                          f"member {info.filename!r} is not a .npy array")
                members[info.filename[:-len(".npy")]] = info
            # headers first (a few bytes each, even of a compressed member), then names
            headers = {name: _header(path, archive, info) for name, info in members.items()}
            if expected is not None:
                _check_names(path, members, expected)
                _check_headers(path, headers, expected)
            state = {}
            for name, info in members.items():
                with archive.open(info) as member:
                    state[name] = np.lib.format.read_array(member, allow_pickle=False)
    except CheckpointError:
        raise
    except ValueError as error:
        raise CheckpointError(f"load: {path} is not a minigrad checkpoint: it is damaged "
                              f"({error})") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, NotImplementedError) as error:
        raise CheckpointError(f"load: {path} is not a minigrad checkpoint: it is truncated "
                              f"or damaged ({type(error).__name__}: {error})") from None
    return state


def _header(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo
            ) -> tuple[tuple[int, ...], np.dtype]:
    """A member's declared shape and dtype, read from its header alone; refused if the
    data it declares is more than the member holds."""
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read(member)
    name = info.filename[:-len(".npy")]
    if dtype.hasobject:
        raise CheckpointError(f"load: {path} holds pickled objects, which minigrad never "
                              f"loads (allow_pickle=False); it is not a minigrad "
                              f"checkpoint (member {name!r})")
    declared = math.prod(shape) * dtype.itemsize
    if declared > info.file_size:
        raise CheckpointError(f"load: {path} is not a minigrad checkpoint: its member "
                              f"{name!r} declares shape {shape} of {dtype} ({declared} "
                              f"bytes) but holds {info.file_size} bytes")
    return shape, dtype


def _check_names(path: Path, members: dict, expected: dict) -> None:
    problems = [f"missing key {k!r}" for k in expected if k not in members]
    problems += [f"unexpected key {k!r}" for k in members if k not in expected]
    if problems:
        raise CheckpointError(f"load: {path} does not fit the module: " + "; ".join(problems))


def _check_headers(path: Path, headers: dict, expected: dict) -> None:
    problems = []
    for name, (shape, dtype) in headers.items():
        want_shape, want_dtype = expected[name]
        if shape != tuple(want_shape):
            problems.append(f"{name!r} has shape {shape}, the parameter {tuple(want_shape)}")
        elif dtype != want_dtype:
            problems.append(f"{name!r} has dtype {dtype}, the parameter {want_dtype}")
    if problems:
        raise CheckpointError(f"load: {path} does not fit the module: " + "; ".join(problems))


def _what_it_is(start: bytes) -> str:
    if not start:
        return "the file is empty"
    if start.startswith(_NPY_MAGIC):
        return "it holds a single .npy array, not an .npz archive of parameters"
    return "it is not an .npz (zip) archive"
