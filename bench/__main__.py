"""python -m bench [--clients 1000,5000] [--duration 30] [--rate ...] (see --help)."""

from __future__ import annotations

import sys

from bench.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
