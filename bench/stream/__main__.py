"""python -m bench.stream [--events 500000] [--rates 1000,10000] [--duration 30] (see --help)."""

from __future__ import annotations

import sys

from bench.stream.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
