"""python -m alerts: the alert evaluator (rules over ClickHouse and its own probes)."""

from __future__ import annotations

import sys

from alerts.app import create_app
from alerts.settings import AlertSettings
from im import runapp

if __name__ == "__main__":
    sys.exit(
        runapp.run(
            AlertSettings,
            create_app,
            lambda s: (s.http_host, s.http_port),
            quiet=["aiokafka"],  # Kafka away is a probe result, not a log storm
        )
    )
