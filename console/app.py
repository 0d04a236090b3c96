"""The console's HTTP app: its routes (docs/console.md is the contract), clients, errors."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console import pages
from console.api import Api, json_response
from console.session import Sessions
from console.settings import ConsoleSettings
from console.upstream import Upstream
from console.views import Csrf, Views
from dashboards import access, catalog
from im import errors as E
from im.bodylimit import BodyLimit

log = logging.getLogger("console.app")


def create_app(settings: ConsoleSettings) -> Starlette:
    base = settings.base_path
    redis = aioredis.Redis.from_url(settings.redis_url, socket_timeout=5.0,
                                    socket_connect_timeout=5.0)  # fmt: skip
    sessions = Sessions(settings, redis)
    node = Upstream("the IM server", settings.server_url, settings.upstream_timeout_s)
    analytics = Upstream("analytics", settings.analytics_url, settings.upstream_timeout_s)
    boards = {b["uid"]: b for b in catalog.load()}
    vendor = pages.vendor_packages()
    api = Api(sessions, redis, node, analytics, boards)
    views = Views(base, sessions, boards)

    async def healthz(request: Request) -> Response:
        return json_response({"status": "ok"})

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, E.ApiError)
        return json_response(exc.body(), exc.status)

    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("console: %s", type(exc).__name__)
        return json_response({"error": {"code": E.INTERNAL, "message": "internal error"}}, 500)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await node.close()
            await analytics.close()
            await redis.aclose()

    a = f"{base}/api"
    routes = [
        Route("/healthz", healthz),
        Route(f"{base}/login", views.login),
        Route(f"{base}/", views.home),
        Route(f"{base}/d/{{uid}}", views.dashboard),
        *(Route(f"{base}/{p}", views.page(p)) for p in access.PAGES),
        Route(f"{base}/static/{{path:path}}", pages.static_file),
        Route(f"{base}/vendor/{{package}}/{{path:path}}", lambda r: pages.vendor_file(r, vendor)),
        Route(f"{a}/session", api.sign_in, methods=["POST"]),
        Route(f"{a}/session", api.whoami, methods=["GET"]),
        Route(f"{a}/session", api.sign_out, methods=["DELETE"]),
        Route(f"{a}/dashboards", api.dashboards),
        Route(f"{a}/dashboards/{{uid}}", api.dashboard),
        Route(
            f"{a}/dashboards/{{uid}}/panels/{{panel_id:int}}/query",
            api.panel_query,
            methods=["POST"],
        ),
        Route(f"{a}/live/cs", api.live_cs),
        Route(f"{a}/alerts", api.alerts),
        Route(f"{a}/alerts/{{fingerprint}}/silence", api.silence, methods=["POST"]),
        Route(f"{a}/admin/users", api.create_user, methods=["POST"]),
    ]
    if base:
        routes.append(Route(base, views.to_home))
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={E.ApiError: refused, Exception: failed},
        middleware=[Middleware(BodyLimit), Middleware(Csrf)],
    )
