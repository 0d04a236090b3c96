"""HTTP API of PROTOCOL.md (JSON bodies, bearer tokens)."""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from im import errors as E
from im import ids
from im.node import Node
from im.quota import registration
from im.tokens import Identity, token_digest


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers, media_type="application/json")


async def read_json(request: Request) -> dict[str, Any]:
    raw = await request.body()  # at most 64 KiB: im.bodylimit refused anything bigger
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


def client_address(request: Request) -> str:
    """The client's address as the server sees it (proxies: see the README)."""
    return request.client.host if request.client else "unknown"


def path_id(request: Request, name: str, form: re.Pattern[str], what: str) -> str:
    """A path parameter that must have the form of a server id; 404 otherwise."""
    return ids.checked(request.path_params[name], form, what)


class HttpApi:
    def __init__(self, node: Node) -> None:
        self.node = node

    async def identity(self, request: Request) -> Identity:
        ident = await self.node.accounts.check(bearer(request))
        if ident is None:
            raise E.ApiError(E.UNAUTHORIZED, "invalid or expired token", 401)
        return ident

    async def register(self, request: Request) -> Response:
        data = await read_json(request)
        username, password = field(data, "username", str), field(data, "password", str)
        display_name = field(data, "display_name", str, required=False)
        accounts, s = self.node.accounts, self.node.settings
        # Every check that costs nothing first, then the quotas, then the hash.
        await accounts.validate_new(username, password, display_name)
        quotas = registration(client_address(request), s.register_max_per_address,
                              s.register_max_per_minute)  # fmt: skip
        await self.node.quotas.take_or_refuse(*quotas, message="too many registrations, wait")
        uid = await accounts.register(username, password, display_name)
        return json_response({"user_id": uid}, 201)

    async def login(self, request: Request) -> Response:
        data = await read_json(request)
        username, password = field(data, "username", str), field(data, "password", str)
        address = client_address(request)
        limiter = self.node.login_limiter
        retry_after = await limiter.check(username, address)
        if retry_after is not None:
            raise E.ApiError(E.RATE_LIMITED, "too many attempts", 429, retry_after=retry_after)
        try:
            done = await self.node.accounts.login(username, password)
        except E.ApiError:
            await limiter.failed(username, address)
            raise
        await limiter.succeeded(username, address)
        ident = done.identity
        for digest in done.revoked:  # the oldest tokens, over the per-user cap
            await self.node.bus.revoke_token(ident.user_id, digest)
        return json_response({"token": done.token, "user_id": ident.user_id,
                              "role": ident.role, "expires_at": done.expires_at})  # fmt: skip

    async def logout(self, request: Request) -> Response:
        ident = await self.identity(request)
        token = bearer(request)
        await self.node.accounts.logout(token)
        # Sockets signed in with this token close now, on every node.
        await self.node.bus.revoke_token(ident.user_id, token_digest(token))
        return Response(status_code=204)

    async def me(self, request: Request) -> Response:
        ident = await self.identity(request)
        profile = await self.node.accounts.profile(ident.user_id)
        if profile is None:
            raise E.ApiError(E.UNAUTHORIZED, "invalid or expired token", 401)
        return json_response(profile)

    async def create_group(self, request: Request) -> Response:
        ident = await self.identity(request)
        data = await read_json(request)
        members = field(data, "members", list)
        if not all(isinstance(m, str) for m in members):
            raise E.ApiError(E.INVALID, "'members' must be a list of user ids", 400)
        group = await self.node.relations.create_group(
            ident.user_id, field(data, "name", str), members
        )
        return json_response(
            {"group_id": group.group_id, "conv": group.conv, "invited": group.invited}, 201
        )

    async def conversations(self, request: Request) -> Response:
        ident = await self.identity(request)
        states, total = await self.node.messages.conv_states(ident.user_id)
        return json_response(states, headers={"X-Unread-Total": str(total)})

    async def messages(self, request: Request) -> Response:
        ident = await self.identity(request)
        conv = request.path_params["conv"]
        if ids.CONV.fullmatch(conv) is None:  # cannot exist: the answer of an unknown one
            raise E.ApiError(E.FORBIDDEN, "not a member of this conversation", 403)
        after = _query_int(request, "after", 0, 0, 2**62)
        limit = _query_int(request, "limit", 50, 1, 200)
        upto = await self.node.messages.readable_upto(conv, ident.user_id, ident.role)
        frames, more = await self.node.messages.history(conv, after, limit, upto)
        body = (
            b'{"messages":[' + b",".join(frames) + b'],"more":' + (b"true}" if more else b"false}")
        )
        return Response(body, media_type="application/json")

    async def add_friend(self, request: Request) -> Response:
        ident = await self.identity(request)
        other = field(await read_json(request), "user_id", str)
        conv = await self.node.relations.befriend(ident.user_id, other, "ask")
        if conv is None:
            return json_response({"status": "requested"}, 202)
        return json_response({"conv": conv})

    async def accept_friend(self, request: Request) -> Response:
        ident = await self.identity(request)
        conv = await self.node.relations.befriend(
            ident.user_id, path_id(request, "user_id", ids.USER, "user"), "accept"
        )
        return json_response({"conv": conv})

    async def list_friends(self, request: Request) -> Response:
        ident = await self.identity(request)
        return json_response(await self.node.relations.friends(ident.user_id))

    async def add_member(self, request: Request) -> Response:
        ident = await self.identity(request)
        user = field(await read_json(request), "user_id", str)
        group = path_id(request, "group_id", ids.GROUP, "group")
        if await self.node.relations.add_member(group, ident.user_id, user):
            return Response(status_code=204)
        return json_response({"status": "invited"}, 202)

    async def remove_member(self, request: Request) -> Response:
        ident = await self.identity(request)
        await self.node.relations.remove_member(
            path_id(request, "group_id", ids.GROUP, "group"), ident.user_id,
            path_id(request, "user_id", ids.USER, "user"),
        )  # fmt: skip
        return Response(status_code=204)

    async def slow_mode(self, request: Request) -> Response:
        ident = await self.identity(request)
        interval = field(await read_json(request), "interval_s", int)
        if not 0 <= interval <= 86400:
            raise E.ApiError(E.INVALID, "'interval_s' must be 0-86400", 400)
        await self.node.relations.set_slow_mode(
            path_id(request, "group_id", ids.GROUP, "group"), ident.user_id, interval
        )
        return Response(status_code=204)

    # -- customer service ------------------------------------------------------
    async def cs_create(self, request: Request) -> Response:
        ident = await self.identity(request)
        if ident.role != "user":
            raise E.ApiError(E.FORBIDDEN, "only customers open support sessions", 403)
        raw = await request.body()
        topic = field(await read_json(request), "topic", str, required=False) if raw else None
        out = await self.node.cs.create(ident.user_id, topic or "")
        # The contract answers with the state at creation; an automatic
        # assignment right after is announced by its `event` message.
        return json_response({"session": out["session"], "conv": out["conv"],
                              "state": "queued"}, 201)  # fmt: skip

    async def _agent(self, request: Request) -> Identity:
        ident = await self.identity(request)
        if ident.role != "agent":
            raise E.ApiError(E.FORBIDDEN, "agents only", 403)
        return ident

    async def cs_accept(self, request: Request) -> Response:
        ident = await self._agent(request)
        sid = path_id(request, "session", ids.SESSION, "session")
        return json_response(await self.node.cs.accept(sid, ident.user_id))

    async def cs_transfer(self, request: Request) -> Response:
        ident = await self.identity(request)
        if ident.role not in ("agent", "admin"):
            raise E.ApiError(E.FORBIDDEN, "agents only", 403)
        sid = path_id(request, "session", ids.SESSION, "session")
        to = field(await read_json(request), "to", str)
        out = await self.node.cs.transfer(sid, ident.user_id, ident.role == "admin", to)
        return json_response(out)

    async def cs_close(self, request: Request) -> Response:
        ident = await self.identity(request)
        sid = path_id(request, "session", ids.SESSION, "session")
        session = await self.node.cs.session(sid)
        reason = "customer" if session["customer"] == ident.user_id else "agent"
        out = await self.node.cs.close(sid, ident.user_id, reason)
        return json_response(out)

    async def cs_queue(self, request: Request) -> Response:
        await self._agent(request)
        return json_response(await self.node.cs.queue())

    def routes(self) -> list[Route]:
        return [
            Route("/api/register", self.register, methods=["POST"]),
            Route("/api/login", self.login, methods=["POST"]),
            Route("/api/logout", self.logout, methods=["POST"]),
            Route("/api/me", self.me, methods=["GET"]),
            Route("/api/friends", self.add_friend, methods=["POST"]),
            Route("/api/friends", self.list_friends, methods=["GET"]),
            Route("/api/friends/{user_id}/accept", self.accept_friend, methods=["POST"]),
            Route("/api/groups", self.create_group, methods=["POST"]),
            Route("/api/groups/{group_id}/members", self.add_member, methods=["POST"]),
            Route(
                "/api/groups/{group_id}/members/{user_id}", self.remove_member, methods=["DELETE"]
            ),
            Route("/api/groups/{group_id}/slow_mode", self.slow_mode, methods=["POST"]),
            Route("/api/conversations", self.conversations, methods=["GET"]),
            Route("/api/conversations/{conv}/messages", self.messages, methods=["GET"]),
            Route("/api/cs/sessions", self.cs_create, methods=["POST"]),
            Route("/api/cs/sessions/{session}/accept", self.cs_accept, methods=["POST"]),
            Route("/api/cs/sessions/{session}/transfer", self.cs_transfer, methods=["POST"]),
            Route("/api/cs/sessions/{session}/close", self.cs_close, methods=["POST"]),
            Route("/api/cs/queue", self.cs_queue, methods=["GET"]),
        ]


def _query_int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise E.ApiError(E.INVALID, f"'{name}' must be an integer", 400) from None
    if not lo <= value <= hi:
        raise E.ApiError(E.INVALID, f"'{name}' must be {lo}-{hi}", 400)
    return value
