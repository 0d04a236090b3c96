"""python -m console: the web console (docs/console.md)."""

from __future__ import annotations

import sys

from console.app import create_app
from console.settings import ConsoleSettings
from im import runapp

if __name__ == "__main__":
    sys.exit(runapp.run(ConsoleSettings, create_app, lambda s: (s.http_host, s.http_port)))
