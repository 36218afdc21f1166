"""Rendering pictures with Graphviz's ``dot``: one clear error when it is missing or
fails, never a ``dot`` left running after Ctrl-C, files written whole or not at all."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import graphviz

from ..files import atomic_write

INSTALL_DOT = ("Graphviz's `dot` program is needed to render pictures but was not found "
               "on PATH. Install it with your system's package manager: `apt-get install "
               "graphviz` (Debian, Ubuntu), `dnf install graphviz` (Fedora), `brew install "
               "graphviz` (macOS), `conda install graphviz`, or run `make dot` in the "
               "minigrad repository. Building the graph (its DOT source) works without it.")

class DotNotFoundError(RuntimeError):
    """Rendering needs Graphviz's ``dot`` program, which is not installed."""


class RenderError(RuntimeError):
    """Graphviz's ``dot`` ran but could not draw the graph (most often: too large)."""


def run_dot(source: str, fmt: str, engine: str = "dot") -> bytes:
    """Graphviz's drawing of the DOT ``source`` in format ``fmt`` (``"svg"``, ``"png"``…).

    Errors are one clear line: :class:`DotNotFoundError` says how to install ``dot``,
    :class:`RenderError` why it failed and what to try instead (dot's own messages, which
    run to thousands of lines for a large graph, are not echoed). If Python is
    interrupted (Ctrl-C) while ``dot`` works, ``dot`` is killed, never left running.
    """
    try:  # subprocess.run kills the child on any exception, KeyboardInterrupt included
        done = subprocess.run([engine, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, check=False)
    except FileNotFoundError:
        raise DotNotFoundError(INSTALL_DOT) from None
    if done.returncode != 0:
        raise _render_error(engine, source, done.stderr, done.returncode)
    return done.stdout


_NODE_STATEMENT = re.compile(r"\s*(?!(?:graph|node|edge) )\w+ \[")


def _render_error(engine: str, source: str, stderr: bytes | None, code: int) -> RenderError:
    said = (stderr or b"").decode(errors="replace").strip().splitlines()
    nodes = sum(1 for line in source.splitlines() if _NODE_STATEMENT.match(line))
    return RenderError(
        f"Graphviz's {engine} could not draw this graph of {nodes} nodes (it said: "
        f"{said[0].strip() if said else f'exit status {code}'}); draw fewer time steps, or "
        f"collapse each step into one box with depth=1 (python -m lstm graph --depth 1)")


class Picture(graphviz.Digraph):
    """A ``graphviz.Digraph`` drawn by :func:`run_dot`: one-line errors, and no ``dot``
    left running after Ctrl-C (``graphviz.Digraph.pipe`` leaves it)."""

    def pipe(self, format: str | None = None, renderer: str | None = None,
             formatter: str | None = None, neato_no_op: Any = None, quiet: bool = True, *,
             engine: str | None = None, encoding: str | None = None) -> Any:
        if renderer or formatter or neato_no_op:
            return super().pipe(format, renderer, formatter, neato_no_op, quiet,
                                engine=engine, encoding=encoding)
        data = run_dot(self.source, format or self.format, engine or self.engine)
        return data.decode(encoding) if encoding else data

    def render(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("quiet", True)
        try:  # graphviz renders to files with subprocess.run, which kills dot on Ctrl-C
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise DotNotFoundError(INSTALL_DOT) from None
        except graphviz.CalledProcessError as error:
            raise _render_error(self.engine, self.source, error.stderr,
                                error.returncode) from None


def save(picture: graphviz.Digraph, path: str | Path) -> Path:
    """Write ``picture`` to ``path``; the suffix picks the format (``.svg``, ``.png``,
    ``.pdf``, or ``.dot``/``.gv`` for the DOT source, which needs no ``dot``).

    The file appears whole or not at all: a failing or interrupted ``dot`` leaves any
    earlier file at ``path`` as it was."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt in ("dot", "gv"):
        return atomic_write(path, picture.source)
    if fmt not in PICTURE_FORMATS:
        raise ValueError(f"save: unknown picture format {path.suffix!r}; use .svg, .png, "
                         f".pdf or .dot")
    return atomic_write(path, run_dot(picture.source, fmt, picture.engine))


#: What :func:`save` writes, by file suffix.
PICTURE_FORMATS = ("svg", "png", "pdf", "dot", "gv")
