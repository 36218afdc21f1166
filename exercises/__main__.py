import sys

from .cli import limit_memory, main

limit_memory()
sys.exit(main())
