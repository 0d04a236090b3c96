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
from im.gwmetrics import CONTENT_TYPE, Scraped
from im.health import Health
from im.hotkeys import HotKeyMetrics
from im.http_admin import AdminApi
from im.http_alerts import AlertsApi
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

    m = node.metrics
    m.connections.set_function(lambda: len(gateway.connections))
    m.signed_in.set_function(lambda: len(node.hub))
    m.registry.register(
        Scraped(node.hub.stats, gc_pauses, lambda: node.relay.published,
                lambda: node.conn_events.auth_failed_unrecorded)
    )  # fmt: skip
    m.registry.register(HotKeyMetrics(node.hot_keys))

    async def metrics(request: Request) -> Response:
        """Prometheus text exposition (on the ops port only: im.opsport; im.gwmetrics)."""
        try:
            m.set_outbox(await outbox_stats(node.redis))
        except Exception:
            m.set_outbox(None)
        return Response(m.render(), media_type=CONTENT_TYPE)

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
            *AlertsApi(api).routes(),
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
