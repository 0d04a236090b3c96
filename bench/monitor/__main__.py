"""python -m bench.monitor [--keys 0,100000,1000000] [--rounds 5] (see --help)."""

from __future__ import annotations

import sys

from bench.monitor.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
