"""``python -m lstm``: see :mod:`lstm.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
