"""python -m bench.dashboards [--days 30] [--runs 5] (see --help)."""

from __future__ import annotations

import sys

from bench.dashboards.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
