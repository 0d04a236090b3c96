"""python -m streaming: run the streaming job graph (settings from the environment)."""

from __future__ import annotations

import logging
import sys

from im.envconfig import ConfigError, load
from streaming.job import run
from streaming.settings import StreamSettings


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s", force=True
    )
    try:
        settings = load(StreamSettings)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    run(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
