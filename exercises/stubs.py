"""The task files are made from the key: ``python -m exercises.stubs`` writes every
``exercises/NN_name.py`` from ``exercises/solutions/NN_name.py``, each function's body
after its docstring replaced by ``raise NotImplementedError``. What a docstring calls
"Given" stays, as does code outside functions (imports, the primitives built from the
student's functions). So a task file and its solution never drift apart."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STUB_BODY = "raise NotImplementedError  # your code here"


def stub(source: str) -> str:
    """The task file for a solution's ``source``."""
    lines = source.splitlines(keepends=True)
    cuts = []  # (first line, last line, indent) of each body to replace, 1-based
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        doc = ast.get_docstring(node)
        if doc is None or doc.startswith("Given") or len(node.body) < 2:
            continue
        first = node.body[0].end_lineno + 1
        indent = " " * node.body[0].col_offset
        cuts.append((first, node.end_lineno, indent))
    for first, last, indent in sorted(cuts, reverse=True):  # outer bodies hold inner ones
        lines[first - 1:last] = [f"{indent}{STUB_BODY}\n"]
    return "".join(lines)


def main() -> int:
    for solution in sorted((HERE / "solutions").glob("[0-9][0-9]_*.py")):
        (HERE / solution.name).write_text(stub(solution.read_text(encoding="utf-8")),
                                          encoding="utf-8")
        print(f"wrote exercises/{solution.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
