"""Operator routes on their own port: /metrics and /readyz only on `IM_OPS_PORT`.

The node listens on two sockets (python -m im): the client port and the ops
port (`IM_OPS_HOST`, loopback by default, 0 turns it off). The numbers of
/metrics and the dependency states of /readyz are for operators, so the
client port answers them 404 like any unknown path; the ops port answers
only them and /healthz (liveness, no detail, on both ports). Which port a
request came in on is the scope's local address.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from im import errors as E
from im.http_api import json_response

OPS_ONLY = frozenset({"/metrics", "/readyz"})
BOTH = frozenset({"/healthz"})


class OpsPort:
    def __init__(self, app: ASGIApp, ops_port: int) -> None:
        self.app = app
        self.ops_port = ops_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan
            await self.app(scope, receive, send)
            return
        server = scope.get("server")
        on_ops = bool(self.ops_port) and server is not None and server[1] == self.ops_port
        path = scope["path"]
        if on_ops:
            allowed = scope["type"] == "http" and (path in OPS_ONLY or path in BOTH)
        else:
            allowed = path not in OPS_ONLY
        if allowed:
            await self.app(scope, receive, send)
        else:  # a WebSocket gets it as the handshake's answer
            body = {"error": {"code": E.NOT_FOUND, "message": "Not Found"}}
            await json_response(body, 404)(scope, receive, send)
