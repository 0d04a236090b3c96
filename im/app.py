"""The Starlette application of one server node."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from im import errors as E
from im.bodylimit import BodyLimit
from im.consent_api import ConsentApi
from im.gateway import Gateway
from im.gcpolicy import GcPauses
from im.health import Health
from im.http_admin import AdminApi
from im.http_api import HttpApi, json_response
from im.node import Node
from im.opsport import OpsPort
from im.outbox import outbox_stats
from im.settings import ServerSettings

log = logging.getLogger("im.app")


def create_app(settings: ServerSettings) -> Starlette:
    node = Node(settings)
    gateway = Gateway(node)
    api = HttpApi(node)
    health = Health(node.redis, settings.kafka_bootstrap, settings.node_id)
    gc_pauses = GcPauses()

    async def metrics(request: Request) -> Response:
        """Gauges for monitoring (on the ops port only: im.opsport)."""
        body: dict[str, object] = {
            "node": settings.node_id,
            "connections": len(gateway.connections),
            "signed_in": len(node.hub),
            "relay_published": node.relay.published,
            "retransmits": node.hub.stats.resent,
            "pushes_dropped": node.hub.stats.dropped,
            "auth_failed_unrecorded": node.conn_events.auth_failed_unrecorded,
            **gc_pauses.snapshot(),
        }
        try:
            body.update(await outbox_stats(node.redis))
        except Exception:
            body["outbox_length"] = body["relay_lag_ms"] = None
        return json_response(body)

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, E.ApiError)
        return json_response(exc.body(), exc.status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: E.NOT_FOUND, 405: E.INVALID}.get(exc.status_code, E.INVALID)
        return json_response({"error": {"code": code, "message": str(exc.detail)}}, exc.status_code)

    async def unavailable(request: Request, exc: Exception) -> Response:
        return json_response(E.Unavailable().body(), 503)

    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path, exc_info=exc)
        return json_response({"error": {"code": E.INTERNAL, "message": "internal error"}}, 500)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await node.start()
        gc_pauses.install()
        try:
            yield
        finally:
            gc_pauses.uninstall()
            await node.stop()

    app = Starlette(
        routes=[
            *health.routes(),
            Route("/metrics", metrics),
            *api.routes(),
            *AdminApi(api).routes(),
            *ConsentApi(api).routes(),
            WebSocketRoute("/ws", gateway.endpoint),
        ],
        exception_handlers={
            E.ApiError: api_error,
            HTTPException: http_error,
            RedisError: unavailable,
            ConnectionError: unavailable,
            Exception: internal,
        },
        lifespan=lifespan,
        # Outside the routes: which port may ask what, then one bound on bodies.
        middleware=[Middleware(OpsPort, ops_port=settings.ops_port), Middleware(BodyLimit)],
    )
    app.state.node = node
    app.state.gateway = gateway
    return app
