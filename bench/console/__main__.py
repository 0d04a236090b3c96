"""python -m bench.console [--days 30] [--runs 5] (see --help)."""

from __future__ import annotations

import sys

from bench.console.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
