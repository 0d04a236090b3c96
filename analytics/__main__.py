"""python -m analytics: Kafka result topics -> ClickHouse, and the query API."""

from __future__ import annotations

import sys

from analytics.app import create_app
from analytics.settings import AnalyticsSettings
from im import runapp

if __name__ == "__main__":
    sys.exit(runapp.run(AnalyticsSettings, create_app, lambda s: (s.http_host, s.http_port)))
