"""The engine's imports go one way (issue #35): no module of minigrad imports, at any
depth and anywhere in its body (a function's late import included; an import for type
checkers only, under ``if TYPE_CHECKING:``, never runs), a module that imports it back.
Read from the source with the AST, not by eye."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "minigrad"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """The minigrad modules ``path`` imports, wherever in it the import stands."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):  # imports for type checkers only never run
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "minigrad"}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] \
                if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            if target.split(".")[0] != "minigrad":
                continue
            for alias in node.names:  # "from . import ops" imports the module ops
                candidate = f"{target}.{alias.name}"
                found.add(candidate if module_exists(candidate) else target)
    return found - {name}


def module_exists(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def graph() -> dict[str, set[str]]:
    edges = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}
    # a package's __init__ is not a way back into its modules' own imports
    return {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in edges.items()}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle, if there is one (depth-first search, iteratively)."""
    state: dict[str, int] = {}
    for start in sorted(edges):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(edges.get(start, ()))))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return None


def test_no_module_of_minigrad_imports_one_that_imports_it():
    found = cycle(graph())
    assert found is None, "an import circle: " + " -> ".join(found)


def test_the_check_finds_a_circle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_the_compiler_is_small_stages():
    """Issue #35: minigrad.compiler is one module per stage, none over 300 lines, no class
    over 200, so that a reader takes one stage at a time."""
    files = sorted((PACKAGE / "compiler").glob("*.py"))
    assert {p.stem for p in files} >= {"function", "signature", "guards", "trace", "plan",
                                         "schedule", "passes", "lower", "replay", "verify",
                                         "text"}
    for path in files:
        text = path.read_text()
        assert len(text.splitlines()) <= 300, path.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno - node.lineno < 200, (path.name, node.name)
