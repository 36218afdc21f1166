"""Every Python block of the README runs verbatim, so a snippet can never break again."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_a_readme_block_runs_as_written(number, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a block may write files (the pictures one does)
    exec(compile(BLOCKS[number], f"README.md, Python block {number + 1}", "exec"), {})
