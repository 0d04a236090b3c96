"""The console's JSON API (docs/console.md): session, dashboards, panel data, live customer
service, alerts and new users; the node's and analytics' answers pass through."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson
import redis.asyncio as aioredis
from starlette.requests import Request
from starlette.responses import Response

from console import live
from console.session import Sessions, Viewer
from console.today import reply_rate_today
from console.upstream import Upstream
from dashboards import access
from im import errors as E

NEW_USER_ROLES = ("agent", "manager", "sre", "admin")
Boards = Mapping[str, Mapping[str, Any]]


def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data, default=str), status, media_type="application/json",
                    headers={"cache-control": "no-store"})  # fmt: skip


async def body(request: Request) -> dict[str, Any]:
    try:
        data = orjson.loads(await request.body())  # at most 64 KiB: im.bodylimit
    except orjson.JSONDecodeError:
        raise E.ApiError(E.INVALID, "body must be JSON", 400) from None
    if not isinstance(data, dict):
        raise E.ApiError(E.INVALID, "body must be a JSON object", 400)
    return data


def summary(b: Mapping[str, Any]) -> dict[str, Any]:
    return {"uid": b["uid"], "title": b["title"], "tags": b.get("tags", [])}


class Api:
    def __init__(self, sessions: Sessions, redis: aioredis.Redis, node: Upstream,
                 analytics: Upstream, boards: Boards) -> None:  # fmt: skip
        self.sessions, self.redis, self.boards = sessions, redis, boards
        self.node, self.analytics = node, analytics

    # -- session ----------------------------------------------------------------------
    async def sign_in(self, request: Request) -> Response:
        data = await body(request)
        username, password = data.get("username"), data.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise E.ApiError(E.INVALID, "give 'username' and 'password' (strings)", 400)
        status, reply = await self.node.call(
            "POST", "/api/login", body={"username": username, "password": password}
        )
        if status != 200:
            return json_response(reply, status)
        if not access.is_staff(reply["role"]):
            await self.node.call("POST", "/api/logout", reply["token"])
            raise E.ApiError(E.FORBIDDEN, "the console is for managers, SREs and admins", 403)
        response = json_response({"user_id": reply["user_id"], "username": username,
                                  "role": reply["role"]})  # fmt: skip
        max_age = (int(reply["expires_at"]) - int(time.time() * 1000)) // 1000
        self.sessions.set_cookie(response, reply["token"], max_age)
        return response

    async def whoami(self, request: Request) -> Response:
        v = await self.sessions.require(request)
        boards = [summary(b) for b in access.visible(v.role, self.boards.values())]
        me = {"user_id": v.user_id, "username": v.username, "role": v.role}
        return json_response({**me, "dashboards": boards, "pages": list(access.pages(v.role))})

    async def sign_out(self, request: Request) -> Response:
        v = await self.sessions.viewer(request)
        if v is not None:
            await self.node.call("POST", "/api/logout", v.token)
        response = Response(status_code=204)
        self.sessions.clear_cookie(response)
        return response

    # -- dashboards -------------------------------------------------------------------
    async def dashboards(self, request: Request) -> Response:
        v = await self.sessions.require(request)
        return json_response([summary(b) for b in access.visible(v.role, self.boards.values())])

    def _board(self, v: Viewer, uid: str) -> Mapping[str, Any]:
        board = self.boards.get(uid)
        if board is None:
            raise E.ApiError(E.NOT_FOUND, f"no dashboard {uid!r}", 404)
        if not access.may_see(v.role, board):
            raise E.ApiError(E.FORBIDDEN, "your role may not open this dashboard", 403)
        return board

    async def dashboard(self, request: Request) -> Response:
        v = await self.sessions.require(request)
        return json_response(self._board(v, request.path_params["uid"]))

    async def panel_query(self, request: Request) -> Response:
        v = await self.sessions.require(request)
        uid = request.path_params["uid"]
        self._board(v, uid)
        ask = {**await body(request), "uid": uid, "panel_id": request.path_params["panel_id"]}
        return await self.analytics.forward("POST", "/panels/query", v.token, ask)

    # -- live, alerts, admin ----------------------------------------------------------
    async def _allowed(self, request: Request, page: str) -> Viewer:
        v = await self.sessions.require(request)
        if not access.may_open(v.role, page):
            raise E.ApiError(E.FORBIDDEN, f"your role may not open {page}", 403)
        return v

    async def live_cs(self, request: Request) -> Response:
        v = await self._allowed(request, "live")
        view = await live.cs_view(self.redis)
        view["reply_rate_today"] = await reply_rate_today(
            self.analytics, v.token, self.boards, int(view["at_ms"])
        )
        return json_response(view)

    async def alerts(self, request: Request) -> Response:
        v = await self._allowed(request, "alerts")
        return await self.node.forward("GET", "/api/alerts", v.token)

    async def silence(self, request: Request) -> Response:
        v = await self._allowed(request, "alerts")
        path = f"/api/alerts/{request.path_params['fingerprint']}/silence"
        return await self.node.forward("POST", path, v.token, await body(request))

    async def create_user(self, request: Request) -> Response:
        v = await self._allowed(request, "admin")
        data = await body(request)
        if data.get("role") not in NEW_USER_ROLES:
            msg = f"'role' must be one of {', '.join(NEW_USER_ROLES)}"
            raise E.ApiError(E.INVALID, msg, 400)
        return await self.node.forward("POST", "/api/admin/users", v.token, data)
