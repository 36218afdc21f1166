"""Every Python block of the README and of the site's pages runs verbatim, so a snippet
can never break again."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCKS = [(page.relative_to(ROOT).as_posix(), number + 1, block) for page in PAGES
          for number, block in enumerate(re.findall(r"^```python\n(.*?)^```",
                                                    page.read_text(), flags=re.S | re.M))]


def test_the_readme_has_python_blocks():
    assert sum(name == "README.md" for name, _, _ in BLOCKS) >= 5


@pytest.mark.parametrize("name, number, block", BLOCKS,
                         ids=[f"{name}:{number}" for name, number, _ in BLOCKS])
def test_a_python_block_runs_as_written(name, number, block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a block may write files (the pictures one does)
    exec(compile(block, f"{name}, Python block {number}", "exec"), {})
