"""One bound on every HTTP request body, before any route reads it.

A body declared larger than `MAX_BODY_BYTES` (`Content-Length`) is refused
unread; a chunked body is read until it passes the limit and then refused.
Either way the answer is 413 `too_large` with the error body and
`Connection: close`, and the node never holds more than the limit (plus one
chunk) of it. A refused body of up to `DRAIN_BYTES` is first read and thrown
away: answering and closing while the client still sends makes the kernel
reset the connection, and the client may lose the answer (a lingering
close); past that the answer goes out at once and such a client may see a
reset instead (the header deadline bounds the draining's time). A body within the limit is read
here and handed to the route whole, so no route can read past the limit.

Starlette's own `max_body_size` checks only when a route reads the body (a
route that does not is answered in plain text) and keeps the connection
open while the client sends the rest; hence this middleware.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from im import errors as E
from im.http_api import json_response

MAX_BODY_BYTES = 65536
DRAIN_BYTES = 1 << 20  # a refused body up to this size is read (and dropped) first


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])  # h11 has refused a malformed or doubled length
        length = headers.get(b"content-length")
        if length is None and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body
            return
        if length is not None and int(length) > self.max_bytes:
            if int(length) <= DRAIN_BYTES:
                await _drain(receive, int(length))
            await too_large(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left (or missed the header deadline): nobody to answer
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                if message.get("more_body", False):
                    await _drain(receive, DRAIN_BYTES - len(body))
                await too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)


async def too_large(scope: Scope, receive: Receive, send: Send) -> None:
    error = E.ApiError(E.TOO_LARGE, "request body is too large", 413)
    response = json_response(error.body(), 413, headers={"connection": "close"})
    await response(scope, receive, send)


async def _drain(receive: Receive, up_to: int) -> None:
    """Read and drop up to `up_to` more bytes of the body (or until it ends)."""
    while up_to > 0:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            return
        up_to -= len(message.get("body", b""))


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read already, then what the server says next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
