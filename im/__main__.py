"""python -m im: run one server node (settings from the environment)."""

from __future__ import annotations

import logging
import socket
import sys

import uvicorn

from im import gcpolicy
from im.app import create_app
from im.edge import Edge, EdgeHttpProtocol
from im.envconfig import ConfigError, load
from im.gateway import Gateway
from im.settings import ServerSettings
from im.wsserver import DirectWebSocketProtocol

log = logging.getLogger("im")


class _Server(uvicorn.Server):
    """Closes every client with 1001 (going away) before uvicorn's own shutdown.

    uvicorn would close WebSockets with 1012; PROTOCOL.md promises 1001 and
    that what was accepted is finished first: every frame already pushed is
    in the transport, and the close frame follows it.
    """

    async def shutdown(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        gateway = _find_gateway(self.config.loaded_app)
        if gateway is not None:
            await gateway.going_away(timeout_s=3.0)
        await super().shutdown(sockets)


def _find_gateway(app: object) -> Gateway | None:
    # uvicorn wraps the app in middleware; walk down to the Starlette app.
    for _ in range(10):
        found = getattr(getattr(app, "state", None), "gateway", None)
        if isinstance(found, Gateway):
            return found
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = load(ServerSettings)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    try:
        sockets = [_listen(settings.http_host, settings.http_port)]
        if settings.ops_port:
            sockets.append(_listen(settings.ops_host, settings.ops_port))
    except OSError as e:
        print(f"cannot listen: {e}", file=sys.stderr)
        return 2
    http, ws = _protocols(Edge.from_settings(settings))
    config = uvicorn.Config(
        create_app(settings),
        http=http,  # h11 with header deadlines and connection caps (im.edge)
        ws=ws,  # websockets-sansio + direct frame writes (im.wsserver)
        proxy_headers=False,  # im.edge decides who the client is (IM_TRUSTED_PROXIES)
        ws_per_message_deflate=False,  # frames are encoded once for all recipients (im.wire)
        ws_max_size=settings.max_frame_bytes,
        ws_ping_interval=None,  # the protocol has its own heartbeat
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
        timeout_graceful_shutdown=5,  # with going_away: stopped well within 10 s
        log_level="info",
        access_log=False,
        server_header=False,
    )
    scheme = "https" if settings.tls_cert else "http"
    for what, sock in zip(("clients", "operators"), sockets, strict=False):
        host, port = sock.getsockname()[:2]
        log.info("listening for %s on %s://%s:%d", what, scheme, host, port)
    gcpolicy.apply()  # after the app and its settings exist: they are frozen
    _Server(config).run(sockets=sockets)
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """A bound socket (uvicorn listens on it): the client port and the ops port."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _protocols(edge: Edge) -> tuple[type[EdgeHttpProtocol], type[DirectWebSocketProtocol]]:
    """The protocol classes of this server, sharing one `Edge`."""

    class Http(EdgeHttpProtocol):
        pass

    class WebSocket(DirectWebSocketProtocol):
        pass

    Http.edge = WebSocket.edge = edge
    return Http, WebSocket


if __name__ == "__main__":
    sys.exit(main())
