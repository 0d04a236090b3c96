"""python -m monitor: the ops collector (samples into the outbox, GET /healthz)."""

from __future__ import annotations

import sys

from im import runapp
from monitor.app import create_app
from monitor.settings import MonitorSettings

if __name__ == "__main__":
    sys.exit(
        runapp.run(
            MonitorSettings,
            create_app,
            lambda s: (s.http_host, s.http_port),
            quiet=["aiokafka"],  # a refused connection is a skip, counted
        )
    )
