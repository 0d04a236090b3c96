"""HTTP API of PROTOCOL.md (JSON bodies, bearer tokens)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from im import errors as E
from im.accounts import Identity
from im.services import Services


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > 65536:
        raise E.ApiError(E.TOO_LARGE, "request body is too large", 413)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise E.ApiError(E.INVALID, "body must be JSON", 400) from None
    if not isinstance(data, dict):
        raise E.ApiError(E.INVALID, "body must be a JSON object", 400)
    return data


def field(data: dict[str, Any], name: str, typ: type, required: bool = True) -> Any:
    val = data.get(name)
    if val is None and not required:
        return None
    if not isinstance(val, typ) or (isinstance(val, bool) and typ is not bool):
        raise E.ApiError(E.INVALID, f"'{name}' must be a {typ.__name__}", 400)
    return val


def bearer(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise E.ApiError(E.UNAUTHORIZED, "sign in first", 401)
    return token.strip()


class HttpApi:
    def __init__(self, services: Services) -> None:
        self.svc = services

    async def identity(self, request: Request) -> Identity:
        ident = await self.svc.accounts.check(bearer(request))
        if ident is None:
            raise E.ApiError(E.UNAUTHORIZED, "invalid or expired token", 401)
        return ident

    async def register(self, request: Request) -> Response:
        data = await read_json(request)
        uid = await self.svc.accounts.register(
            field(data, "username", str),
            field(data, "password", str),
            field(data, "display_name", str, required=False),
        )
        return json_response({"user_id": uid}, 201)

    async def login(self, request: Request) -> Response:
        data = await read_json(request)
        token, ident, expires_at = await self.svc.accounts.login(
            field(data, "username", str), field(data, "password", str)
        )
        return json_response(
            {"token": token, "user_id": ident.user_id, "role": ident.role, "expires_at": expires_at}
        )

    async def logout(self, request: Request) -> Response:
        await self.identity(request)
        await self.svc.accounts.logout(bearer(request))
        return Response(status_code=204)

    async def me(self, request: Request) -> Response:
        ident = await self.identity(request)
        profile = await self.svc.accounts.profile(ident.user_id)
        if profile is None:
            raise E.ApiError(E.UNAUTHORIZED, "invalid or expired token", 401)
        return json_response(profile)

    async def create_group(self, request: Request) -> Response:
        ident = await self.identity(request)
        data = await read_json(request)
        members = field(data, "members", list)
        if not all(isinstance(m, str) for m in members):
            raise E.ApiError(E.INVALID, "'members' must be a list of user ids", 400)
        group_id, conv = await self.svc.relations.create_group(
            ident.user_id, field(data, "name", str), members
        )
        return json_response({"group_id": group_id, "conv": conv}, 201)

    async def conversations(self, request: Request) -> Response:
        ident = await self.identity(request)
        states, total = await self.svc.messages.conv_states(ident.user_id)
        return json_response(states, headers={"X-Unread-Total": str(total)})

    def routes(self) -> list[Route]:
        return [
            Route("/api/register", self.register, methods=["POST"]),
            Route("/api/login", self.login, methods=["POST"]),
            Route("/api/logout", self.logout, methods=["POST"]),
            Route("/api/me", self.me, methods=["GET"]),
            Route("/api/groups", self.create_group, methods=["POST"]),
            Route("/api/conversations", self.conversations, methods=["GET"]),
        ]
