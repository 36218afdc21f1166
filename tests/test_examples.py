"""Every example runs with --quick, so none of them rots."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

EXPECTED = {
    "autodiff_basics.py": "dL/da = 6",
    "custom_primitive.py": "property test passed",
    "vanishing_gradients.py": "keeps x",
    "adding_problem.py": "lstm at T=8: solved it",
    "binary_addition.py": "lstm: adds 4-bit numbers perfectly",
    "char_lstm.py": "loss",
    "higher_order.py": "Newton step 5",
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_quickly(name, tmp_path):
    completed = subprocess.run([sys.executable, str(EXAMPLES / name), "--quick"], cwd=tmp_path,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert EXPECTED[name] in completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr


def test_every_example_says_what_it_teaches():
    for path in EXAMPLES.glob("*.py"):
        docstring = path.read_text().split('"""')[1]
        assert "Teaches:" in docstring, path.name
