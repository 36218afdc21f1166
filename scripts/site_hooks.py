"""MkDocs hooks for the site (`make docs`): the pages made at build time from the code, so
that what they show is what the code does today.

- the course: ``exercises/README.md`` and one page per task (its statement and its file);
- the notebooks, from ``notebooks/`` as they are committed (with their outputs);
- the lesson's live pages: the comparison page and two explorers, built by the engine;
- in ``how-it-works.md``, the table of ``mg.PRIMITIVES`` and a compiled plan printed with
  its passes off and on, where the page says ``<!-- minigrad: NAME -->``.

``MINIGRAD_QUICK=1`` builds the lesson's pages small (the test suite's site).
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "exercises"
NOTEBOOKS = ROOT / "notebooks"
COMPARED = ("rnn", "lstm-no-forget", "lstm", "gru")
EXPLORED = ("rnn", "lstm")


def _quick() -> bool:
    return os.environ.get("MINIGRAD_QUICK") == "1"


# ---- the course ------------------------------------------------------------------------

def _tasks() -> list[Path]:
    return sorted(COURSE.glob("[0-9][0-9]_*.py"))


def task_page(path: Path) -> str:
    """A task's page: its statement (the file's docstring) and the file a student edits."""
    source = path.read_text()
    module = ast.parse(source)
    statement = ast.get_docstring(module)
    title, _, rest = (statement or path.stem).partition("\n")
    body = source[_after_docstring(source, module) if statement else 0:].strip()
    return (f"# {title}\n\n{rest.strip()}\n\n"
            f"## The file: `exercises/{path.name}`\n\n"
            f"Replace each `raise NotImplementedError` with your code.\n\n"
            f"```python\n{body}\n```\n")


def _after_docstring(source: str, module: ast.Module) -> int:
    """The offset in ``source`` just after the module's docstring."""
    end = module.body[0].end_lineno or 0
    return sum(len(line) for line in source.splitlines(keepends=True)[:end])


def course_index() -> str:
    """``exercises/README.md``, with a link to each task's page after its table."""
    links = "\n".join(f"- [{path.stem}]({path.stem}.md)" for path in _tasks())
    return (COURSE / "README.md").read_text() + f"\n## Each task's statement\n\n{links}\n"


# ---- the lesson's pages ----------------------------------------------------------------

def lesson_pages() -> dict[str, str]:
    """The comparison page and one explorer per cell in ``EXPLORED``, as HTML by name."""
    from lstm.comparison import comparison_page
    from lstm.pictures import explorer_page

    steps, train_steps = (20, 300) if _quick() else (30, 2000)
    pages = {"compare.html": comparison_page(COMPARED, steps, train_steps=train_steps).html}
    for cell in EXPLORED:
        pages[f"explore-{cell}.html"] = explorer_page(cell, 30).html
    return pages


# ---- how minigrad works ------------------------------------------------------------------

def primitive_table() -> str:
    """Every primitive in ``mg.PRIMITIVES``: its inputs, what its VJPs read, where it is."""
    import minigrad as mg

    defined = _where_defined()
    rows = ["| primitive | inputs | its VJPs read | defined in |", "|---|---|---|---|"]
    for name, prim in mg.PRIMITIVES.items():
        reads = [what for what, saved in (("the inputs", prim.saves_inputs),
                                          ("the output", prim.saves_output)) if saved]
        inputs = len(prim.vjps) if prim.vjps else "any number"
        rows.append(f"| `{name}` | {inputs} | {' and '.join(reads) or 'only shapes'} | "
                    f"{defined.get(name, '')} |")
    return "\n".join(rows)


def _where_defined() -> dict[str, str]:
    found = {}
    for path in sorted((ROOT / "minigrad").glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = re.search(r'Primitive\(\s*"(\w+)"', line)
            if match:
                found.setdefault(match.group(1), f"`minigrad/{path.name}`, line {number}")
    return found


def plans() -> dict[str, str]:
    """A 3-step RNN's compiled plan with every pass off and with the default passes."""
    import numpy as np

    import minigrad as mg
    from lstm import RNN

    rnn = RNN(2, 3, rng=np.random.default_rng(0))

    def loss_fn(xs):
        hs, _ = rnn.unroll(xs)
        return (hs[-1] ** 2).sum()

    shown = {}
    for name, fuse in (("plan-off", False), ("plan-on", True)):
        step = mg.compile(loss_fn, fuse=fuse)
        xs = mg.tensor(np.random.default_rng(1).normal(size=(3, 1, 2)), name="xs")
        step(xs).backward()
        shown[name] = f"```\n{step.plans[-1]}\n```"
    return shown


# ---- the hooks -------------------------------------------------------------------------

def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """The course's section of the nav lists its tasks, as many as there are."""
    for k, entry in enumerate(config.nav or []):
        if isinstance(entry, dict) and entry.get("The course") == "course/index.md":
            tasks = [{f"{p.stem[:2]} {p.stem[3:].replace('_', ' ')}": f"course/{p.stem}.md"}
                     for p in _tasks()]
            config.nav[k] = {"The course": ["course/index.md", *tasks]}
    return config


@event_priority(50)  # before mkdocs-jupyter looks for notebooks among the files
def on_files(files: Files, config: MkDocsConfig) -> Files:
    files.append(File.generated(config, "course/index.md", content=course_index()))
    for path in _tasks():
        files.append(File.generated(config, f"course/{path.stem}.md", content=task_page(path)))
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        files.append(File(f"notebooks/{path.name}", str(ROOT), config.site_dir,
                          config.use_directory_urls))
    for name, html in lesson_pages().items():
        files.append(File.generated(config, f"lesson/{name}", content=html))
    return files


def on_page_markdown(markdown: str, page, config: MkDocsConfig, files: Files) -> str:
    if "<!-- minigrad:" not in markdown:
        return markdown
    made = {"primitives": primitive_table(), **plans()}
    return re.sub(r"<!-- minigrad: ([\w-]+) -->", lambda m: made[m.group(1)], markdown)


# The notebooks have no LaTeX; nbconvert's page would still load MathJax from a CDN.
_MATHJAX = re.compile(r'<script src="https://cdnjs\.cloudflare\.com/ajax/libs/mathjax/[^"]*">'
                      r"\s*</script>")


def on_post_page(output: str, page, config: MkDocsConfig) -> str:
    return _MATHJAX.sub("", output)


# The docstrings are written for Sphinx as much as for a terminal: ``:class:`X``` roles and
# "Example::". Before autorefs resolves cross-references (its on_env runs late), a role
# becomes one, to the object it names: by its full name, or else the documented object
# whose name ends with it (the shortest, the public path, when there are several).
_ROLE = re.compile(r":(?:class|func|meth|data|mod|attr|exc):<code>([\w.]+)</code>")
_DOCUMENTED = re.compile(r'id="((?:minigrad|lstm)\.[\w.]+)"')


def on_env(env, config: MkDocsConfig, files: Files):
    pages = [f.page for f in files if f.page is not None and f.page.content]
    # Tensor's methods are documented where they are written, on a class of methods.py
    documented = {full.replace("methods._TensorMethods", "tensor.Tensor"): full
                  for page in pages for full in _DOCUMENTED.findall(page.content)}

    def reference(match: re.Match) -> str:
        name = match.group(1)
        ending = sorted((f for f in documented if f.endswith("." + name)), key=len)
        full = documented.get(name) or (documented[ending[0]] if ending else name)
        return f'<autoref identifier="{full}" optional><code>{name}</code></autoref>'

    for page in pages:
        page.content = _ROLE.sub(reference, page.content.replace("::</p>", ":</p>"))
    return env
