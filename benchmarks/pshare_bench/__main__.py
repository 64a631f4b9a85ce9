"""python -m pshare_bench: the same as pshare-bench."""
import sys

from .cli import main

sys.exit(main())
