"""Admin routes of the HTTP API: staff accounts, roles, disabling (im.staff)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from im import errors as E
from im import ids
from im.accounts import STAFF_ROLES
from im.http_api import HttpApi, field, json_response, path_id, read_json


class AdminApi:
    def __init__(self, api: HttpApi) -> None:
        self.api = api
        self.node = api.node

    async def _admin(self, request: Request) -> None:
        if (await self.api.identity(request)).role != "admin":
            raise E.ApiError(E.FORBIDDEN, "admins only", 403)

    async def create_user(self, request: Request) -> Response:
        await self._admin(request)
        data = await read_json(request)
        role = field(data, "role", str)
        if role not in STAFF_ROLES:
            raise E.ApiError(E.INVALID, f"role must be one of {', '.join(STAFF_ROLES)}", 400)
        uid = await self.node.accounts.register(
            field(data, "username", str), field(data, "password", str),
            field(data, "display_name", str, required=False), role=role,
        )  # fmt: skip
        return json_response({"user_id": uid}, 201)

    async def set_role(self, request: Request) -> Response:
        await self._admin(request)
        role = field(await read_json(request), "role", str)
        await self.node.staff.set_role(path_id(request, "user_id", ids.USER, "user"), role)
        return Response(status_code=204)

    async def disable(self, request: Request) -> Response:
        await self._admin(request)
        await self.node.staff.disable(path_id(request, "user_id", ids.USER, "user"))
        return Response(status_code=204)

    async def enable(self, request: Request) -> Response:
        await self._admin(request)
        await self.node.staff.enable(path_id(request, "user_id", ids.USER, "user"))
        return Response(status_code=204)

    def routes(self) -> list[Route]:
        users = "/api/admin/users"
        return [
            Route(users, self.create_user, methods=["POST"]),
            Route(users + "/{user_id}/role", self.set_role, methods=["POST"]),
            Route(users + "/{user_id}/disable", self.disable, methods=["POST"]),
            Route(users + "/{user_id}/enable", self.enable, methods=["POST"]),
        ]
