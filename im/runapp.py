"""`python -m <service>` for the small HTTP services (analytics, the collector):
settings from the environment, logging, then uvicorn on the settings' address."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import uvicorn

from im.envconfig import ConfigError, load

S = TypeVar("S")


def run(
    settings_type: type[S],
    create_app: Callable[[S], Any],
    address: Callable[[S], tuple[str, int]],
    quiet: Iterable[str] = (),
) -> int:
    """Exit code 2 for a configuration error (named), else serve until stopped.

    `quiet`: loggers kept to CRITICAL (e.g. aiokafka, whose refused connections
    the collector counts as skips)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in quiet:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # httpx logs every request at INFO: the collector's scrapes would fill its log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        settings = load(settings_type)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    host, port = address(settings)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=False)
    return 0
