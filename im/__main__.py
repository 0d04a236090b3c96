"""python -m im: run one server node (settings from the environment)."""

from __future__ import annotations

import logging
import sys

import uvicorn

from im import errors as E
from im.app import create_app
from im.envconfig import ConfigError, load
from im.settings import ServerSettings


class _Server(uvicorn.Server):
    """Closes every client with 1001 (going away) before uvicorn's own shutdown."""

    async def shutdown(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        app = self.config.loaded_app
        services = getattr(getattr(app, "state", None), "services", None)
        if services is None:  # loaded_app may be wrapped by middleware
            inner = getattr(app, "app", None)
            services = getattr(getattr(inner, "state", None), "services", None)
        if services is not None:
            for link in services.hub.all_links():
                link.close(E.CLOSE_GOING_AWAY, "server going away")
        await super().shutdown(sockets)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = load(ServerSettings)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    config = uvicorn.Config(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        ws="websockets-sansio",
        ws_max_size=settings.max_frame_bytes,
        ws_ping_interval=None,  # the protocol has its own heartbeat
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
        timeout_graceful_shutdown=10,
        log_level="info",
        access_log=False,
        server_header=False,
    )
    _Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
