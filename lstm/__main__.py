"""``python -m lstm``: placeholder until the recurrent demo lands; runs the autodiff basics."""

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    example = Path(__file__).resolve().parent.parent / "examples" / "autodiff_basics.py"
    sys.argv = [str(example)]
    runpy.run_path(str(example), run_name="__main__")
