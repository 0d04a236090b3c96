"""HTTP routes of consent between users: group invitations, leaving a group,
blocking (im/invitations.py, im/relations.py, im/blocks.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from im.http_api import HttpApi, field, json_response, read_json


class ConsentApi:
    def __init__(self, api: HttpApi) -> None:
        self.api = api
        self.node = api.node

    async def invitations(self, request: Request) -> Response:
        ident = await self.api.identity(request)
        return json_response(await self.node.invitations.pending(ident.user_id))

    async def accept(self, request: Request) -> Response:
        ident = await self.api.identity(request)
        joined = await self.node.invitations.accept(
            ident.user_id, request.path_params["invitation"]
        )
        return json_response(joined)

    async def decline(self, request: Request) -> Response:
        ident = await self.api.identity(request)
        await self.node.invitations.decline(ident.user_id, request.path_params["invitation"])
        return Response(status_code=204)

    async def leave(self, request: Request) -> Response:
        ident = await self.api.identity(request)
        await self.node.relations.leave(request.path_params["group_id"], ident.user_id)
        return Response(status_code=204)

    async def block(self, request: Request) -> Response:
        ident = await self.api.identity(request)
        other = field(await read_json(request), "user_id", str)
        await self.node.blocks.block(ident.user_id, other)
        return Response(status_code=204)

    async def unblock(self, request: Request) -> Response:
        ident = await self.api.identity(request)
        await self.node.blocks.unblock(ident.user_id, request.path_params["user_id"])
        return Response(status_code=204)

    async def blocked(self, request: Request) -> Response:
        ident = await self.api.identity(request)
        return json_response(await self.node.blocks.blocked(ident.user_id))

    def routes(self) -> list[Route]:
        return [
            Route("/api/invitations", self.invitations, methods=["GET"]),
            Route("/api/invitations/{invitation}/accept", self.accept, methods=["POST"]),
            Route("/api/invitations/{invitation}/decline", self.decline, methods=["POST"]),
            Route("/api/groups/{group_id}/leave", self.leave, methods=["POST"]),
            Route("/api/blocks", self.block, methods=["POST"]),
            Route("/api/blocks", self.blocked, methods=["GET"]),
            Route("/api/blocks/{user_id}", self.unblock, methods=["DELETE"]),
        ]
