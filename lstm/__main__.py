"""``python -m lstm``: placeholder until the recurrent demo lands; runs the autodiff basics."""

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(str(Path(__file__).resolve().parent.parent / "examples" / "autodiff_basics.py"),
                   run_name="__main__")
