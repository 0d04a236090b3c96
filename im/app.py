"""The Starlette application of one server node."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from im import errors as E
from im.gateway import Gateway
from im.gcpolicy import GcPauses
from im.http_api import HttpApi, json_response
from im.outbox import outbox_stats
from im.services import Services
from im.settings import ServerSettings

log = logging.getLogger("im.app")


def create_app(settings: ServerSettings) -> Starlette:
    services = Services(settings)
    gateway = Gateway(services)
    api = HttpApi(services)
    gc_pauses = GcPauses()

    async def healthz(request: Request) -> Response:
        return json_response({"status": "ok", "node": settings.node_id})

    async def readyz(request: Request) -> Response:
        checks = {"redis": await services.check_redis(), "kafka": await services.check_kafka()}
        ok = all(v == "ok" for v in checks.values())
        return json_response(
            {"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503
        )

    async def metrics(request: Request) -> Response:
        """Gauges for monitoring (loopback or an operator network only)."""
        body: dict[str, object] = {
            "node": settings.node_id,
            "connections": len(gateway.connections),
            "signed_in": len(services.hub),
            "relay_published": services.relay.published,
            "retransmits": services.hub.stats.resent,
            "pushes_dropped": services.hub.stats.dropped,
            **gc_pauses.snapshot(),
        }
        try:
            body.update(await outbox_stats(services.redis))
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
        await services.start()
        gc_pauses.install()
        try:
            yield
        finally:
            gc_pauses.uninstall()
            await services.stop()

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *api.routes(),
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
    )
    app.state.services = services
    app.state.gateway = gateway
    return app
