"""python -m stack up|down|status|logs [service...]|fetch"""

from __future__ import annotations

import sys

from im.envconfig import load
from stack.manager import run_cli
from stack.settings import StackSettings

if __name__ == "__main__":
    sys.exit(run_cli(sys.argv[1:], load(StackSettings)))
