"""Saving and loading parameters as ``.npz`` (never pickle)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .nn.module import Module


def save(module: Module, path: str | os.PathLike) -> None:
    """Write ``module.state_dict()`` to ``path`` as an uncompressed ``.npz``.

    Example::

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "linear.npz"
        >>> mg.save(mg.nn.Linear(3, 2), path)
        >>> sorted(np.load(path).files)
        ['W', 'b']
    """
    np.savez(path, **module.state_dict())


def load(module: Module, path: str | os.PathLike) -> Module:
    """Load parameters saved by :func:`save` into ``module`` and return it.

    Arrays are read with ``allow_pickle=False``; a missing or extra key or a wrong shape
    or dtype raises ValueError and leaves the module untouched.

    Example::

        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "linear.npz"
        >>> mg.save(mg.nn.Linear(3, 2), path)
        >>> layer = mg.load(mg.nn.Linear(3, 2), path)
        >>> layer.W.shape
        (3, 2)
    """
    with np.load(path, allow_pickle=False) as archive:
        state: dict[str, Any] = {key: archive[key] for key in archive.files}
    module.load_state_dict(state)
    return module
