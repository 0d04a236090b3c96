"""python -m monitor: the ops collector (samples into the outbox, GET /healthz)."""

from __future__ import annotations

import logging
import sys

import uvicorn

from im.envconfig import ConfigError, load
from monitor.app import create_app
from monitor.settings import MonitorSettings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # a refused connection is a skip
    try:
        settings = load(MonitorSettings)
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
