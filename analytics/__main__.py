"""python -m analytics: Kafka result topics -> ClickHouse, and the query API."""

from __future__ import annotations

import logging
import sys

import uvicorn

from analytics.app import create_app
from analytics.settings import AnalyticsSettings
from im.envconfig import ConfigError, load


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = load(AnalyticsSettings)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level="info",
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
