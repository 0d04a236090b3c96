"""The console's HTTP app: pages, session, dashboards, panel data, live cs, alerts, admin
(docs/console.md is the contract). Access: dashboards/access.py."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import orjson
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from console import live, pages
from console.session import Sessions, Viewer, check_csrf
from console.settings import ConsoleSettings
from console.today import reply_rate_today
from console.upstream import Upstream
from dashboards import access, catalog
from im import errors as E
from im.bodylimit import BodyLimit

log = logging.getLogger("console.app")


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data, default=str), status, media_type="application/json",
                    headers={"cache-control": "no-store"})  # fmt: skip


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = orjson.loads(await request.body())  # at most 64 KiB: BodyLimit
    except orjson.JSONDecodeError:
        raise E.ApiError(E.INVALID, "body must be JSON", 400) from None
    if not isinstance(data, dict):
        raise E.ApiError(E.INVALID, "body must be a JSON object", 400)
    return data


def create_app(settings: ConsoleSettings) -> Starlette:
    base = settings.base_path
    redis = aioredis.Redis.from_url(settings.redis_url, socket_timeout=5.0,
                                    socket_connect_timeout=5.0)  # fmt: skip
    sessions = Sessions(settings, redis)
    node = Upstream("the IM server", settings.server_url, settings.upstream_timeout_s)
    analytics = Upstream("analytics", settings.analytics_url, settings.upstream_timeout_s)
    boards = {b["uid"]: b for b in catalog.load()}
    vendor = pages.vendor_packages()

    def summary(b: Mapping[str, Any]) -> dict[str, Any]:
        return {"uid": b["uid"], "title": b["title"], "tags": b.get("tags", [])}

    # -- pages ------------------------------------------------------------------------
    async def login_page(request: Request) -> Response:
        return pages.page(base)

    def guarded(page: str | None) -> Any:
        async def view(request: Request) -> Response:
            v = await sessions.viewer(request)
            if v is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"{base}/login?next={quote(target, safe='/')}", 303)
            if page == "dashboard":
                board = boards.get(request.path_params["uid"])
                if board is None:
                    return pages.page(base, 404)
                allowed = access.may_see(v.role, board)
            elif page is None:
                allowed = access.is_staff(v.role)
            else:
                allowed = access.may_open(v.role, page)
            return pages.page(base, 200 if allowed else 403)

        return view

    async def redirect_home(request: Request) -> Response:
        return RedirectResponse(f"{base}/", 308)

    # -- session ----------------------------------------------------------------------
    async def sign_in(request: Request) -> Response:
        data = await _body(request)
        username, password = data.get("username"), data.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise E.ApiError(E.INVALID, "give 'username' and 'password' (strings)", 400)
        status, reply = await node.call(
            "POST", "/api/login", body={"username": username, "password": password}
        )
        if status != 200:
            return _json(reply, status)
        if not access.is_staff(reply["role"]):
            await node.call("POST", "/api/logout", reply["token"])
            raise E.ApiError(E.FORBIDDEN, "the console is for managers, SREs and admins", 403)
        response = _json({"user_id": reply["user_id"], "username": username,
                          "role": reply["role"]})  # fmt: skip
        max_age = (int(reply["expires_at"]) - int(time.time() * 1000)) // 1000
        sessions.set_cookie(response, reply["token"], max_age)
        return response

    async def whoami(request: Request) -> Response:
        v = await sessions.require(request)
        return _json({"user_id": v.user_id, "username": v.username, "role": v.role,
                      "dashboards": [summary(b) for b in access.visible(v.role, boards.values())],
                      "pages": list(access.pages(v.role))})  # fmt: skip

    async def sign_out(request: Request) -> Response:
        v = await sessions.viewer(request)
        if v is not None:
            await node.call("POST", "/api/logout", v.token)
        response = Response(status_code=204)
        sessions.clear_cookie(response)
        return response

    # -- dashboards -------------------------------------------------------------------
    async def dashboards(request: Request) -> Response:
        v = await sessions.require(request)
        return _json([summary(b) for b in access.visible(v.role, boards.values())])

    def board_of(v: Viewer, uid: str) -> dict[str, Any]:
        board = boards.get(uid)
        if board is None:
            raise E.ApiError(E.NOT_FOUND, f"no dashboard {uid!r}", 404)
        if not access.may_see(v.role, board):
            raise E.ApiError(E.FORBIDDEN, "your role may not open this dashboard", 403)
        return board

    async def dashboard(request: Request) -> Response:
        v = await sessions.require(request)
        return _json(board_of(v, request.path_params["uid"]))

    async def panel_query(request: Request) -> Response:
        v = await sessions.require(request)
        uid = request.path_params["uid"]
        board_of(v, uid)
        ask = {**await _body(request), "uid": uid, "panel_id": request.path_params["panel_id"]}
        return await analytics.forward("POST", "/panels/query", v.token, ask)

    # -- live, alerts, admin ----------------------------------------------------------
    async def allowed(request: Request, page: str) -> Viewer:
        v = await sessions.require(request)
        if not access.may_open(v.role, page):
            raise E.ApiError(E.FORBIDDEN, f"your role may not open {page}", 403)
        return v

    async def live_cs(request: Request) -> Response:
        v = await allowed(request, "live")
        view = await live.cs_view(redis)
        view["reply_rate_today"] = await reply_rate_today(analytics, v.token, boards,
                                                          int(view["at_ms"]))  # fmt: skip
        return _json(view)

    async def alerts(request: Request) -> Response:
        v = await allowed(request, "alerts")
        return await node.forward("GET", "/api/alerts", v.token)

    async def silence(request: Request) -> Response:
        v = await allowed(request, "alerts")
        fp = request.path_params["fingerprint"]
        return await node.forward("POST", f"/api/alerts/{fp}/silence", v.token,
                                  await _body(request))  # fmt: skip

    async def create_user(request: Request) -> Response:
        v = await allowed(request, "admin")
        data = await _body(request)
        if data.get("role") not in ("agent", "manager", "sre", "admin"):
            raise E.ApiError(E.INVALID, "'role' must be one of agent, manager, sre, admin", 400)
        return await node.forward("POST", "/api/admin/users", v.token, data)

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok"})

    # -- errors, middleware, lifespan -------------------------------------------------
    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, E.ApiError)
        return _json(exc.body(), exc.status)

    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("console: %s", type(exc).__name__)
        return _json({"error": {"code": E.INTERNAL, "message": "internal error"}}, 500)

    class Csrf:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                try:
                    check_csrf(Request(scope))
                except E.ApiError as e:
                    await _json(e.body(), e.status)(scope, receive, send)
                    return
            await self.app(scope, receive, send)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await node.close()
            await analytics.close()
            await redis.aclose()

    api = f"{base}/api"
    routes = [
        Route("/healthz", healthz),
        Route(f"{base}/login", login_page),
        Route(f"{base}/", guarded(None)),
        Route(f"{base}/d/{{uid}}", guarded("dashboard")),
        *(Route(f"{base}/{p}", guarded(p)) for p in access.PAGES),
        Route(f"{base}/static/{{path:path}}", pages.static_file),
        Route(f"{base}/vendor/{{package}}/{{path:path}}", lambda r: pages.vendor_file(r, vendor)),
        Route(f"{api}/session", sign_in, methods=["POST"]),
        Route(f"{api}/session", whoami, methods=["GET"]),
        Route(f"{api}/session", sign_out, methods=["DELETE"]),
        Route(f"{api}/dashboards", dashboards),
        Route(f"{api}/dashboards/{{uid}}", dashboard),
        Route(
            f"{api}/dashboards/{{uid}}/panels/{{panel_id:int}}/query", panel_query, methods=["POST"]
        ),
        Route(f"{api}/live/cs", live_cs),
        Route(f"{api}/alerts", alerts),
        Route(f"{api}/alerts/{{fingerprint}}/silence", silence, methods=["POST"]),
        Route(f"{api}/admin/users", create_user, methods=["POST"]),
    ]
    if base:
        routes.append(Route(base, redirect_home))
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={E.ApiError: refused, Exception: failed},
        middleware=[Middleware(BodyLimit), Middleware(Csrf)],
    )
