"""The console's HTML pages, each the same index.html: the session first (303 to sign in),
then the dashboard's existence (404) and the role (403), and the CSRF header check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from console import pages
from console.session import Sessions, check_csrf
from dashboards import access
from im import errors as E

View = Callable[[Request], Awaitable[Response]]


class Views:
    def __init__(
        self, base: str, sessions: Sessions, boards: Mapping[str, Mapping[str, Any]]
    ) -> None:
        self.base, self.sessions, self.boards = base, sessions, boards

    async def login(self, request: Request) -> Response:
        return pages.page(self.base)

    async def home(self, request: Request) -> Response:
        return await self._view(request, None)

    async def dashboard(self, request: Request) -> Response:
        return await self._view(request, "dashboard")

    def page(self, name: str) -> View:
        async def view(request: Request) -> Response:
            return await self._view(request, name)

        return view

    async def to_home(self, request: Request) -> Response:
        return RedirectResponse(f"{self.base}/", 308)

    async def _view(self, request: Request, page: str | None) -> Response:
        v = await self.sessions.viewer(request)
        if v is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{self.base}/login?next={quote(target, safe='/')}", 303)
        if page == "dashboard":
            board = self.boards.get(request.path_params["uid"])
            if board is None:
                return pages.page(self.base, 404)
            allowed = access.may_see(v.role, board)
        elif page is None:
            allowed = access.is_staff(v.role)
        else:
            allowed = access.may_open(v.role, page)
        return pages.page(self.base, 200 if allowed else 403)


class Csrf:
    """Refuses a POST, PUT, PATCH or DELETE without `X-Console: 1` before any route runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                check_csrf(Request(scope))
            except E.ApiError as e:
                response = Response(orjson.dumps(e.body()), e.status,
                                    media_type="application/json")  # fmt: skip
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
