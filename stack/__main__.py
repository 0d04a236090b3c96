"""python -m stack up|down|status|logs [service...]|fetch"""

from __future__ import annotations

import sys

from im.envconfig import ConfigError, load
from stack.manager import run_cli
from stack.settings import StackSettings

if __name__ == "__main__":
    try:
        settings = load(StackSettings)
    except ConfigError as e:  # e.g. two services on one port
        print(f"configuration error: {e}", file=sys.stderr)
        sys.exit(2)
    sys.exit(run_cli(sys.argv[1:], settings))
