"""A real HTTP receiver for webhook tests: uvicorn on a free loopback port, in
the test's own event loop, keeping every request it got.

Paths choose how it answers: `/ok/...` 200; `/slow/...` 200 after
`slow_s`; `/status/<code>/...` that status; `/flaky/<n>/...` 500 for the
first n requests of that path, then 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.ports import free_port
from tests.waiting import wait_until


@dataclass
class Received:
    path: str
    body: Any
    at: float  # time.monotonic() when it arrived


@dataclass
class Receiver:
    url: str
    slow_s: float = 5.0
    requests: list[Received] = field(default_factory=list)
    _seen: Counter[str] = field(default_factory=Counter)

    def bodies(self, path: str) -> list[Any]:
        return [r.body for r in self.requests if r.path == path]

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        self._seen[path] += 1
        parts = path.strip("/").split("/")
        if parts[0] == "slow":
            await asyncio.sleep(self.slow_s)
        self.requests.append(Received(path, orjson.loads(await request.body()), time.monotonic()))
        if parts[0] == "status":
            return Response(status_code=int(parts[1]))
        if parts[0] == "flaky" and self._seen[path] <= int(parts[1]):
            return Response(status_code=500)
        return Response(b"{}", media_type="application/json")


@contextlib.asynccontextmanager
async def receiver(slow_s: float = 5.0) -> AsyncIterator[Receiver]:
    port = free_port()
    rec = Receiver(f"http://127.0.0.1:{port}", slow_s)
    app = Starlette(routes=[Route("/{path:path}", rec.handle, methods=["POST"])])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="off", timeout_graceful_shutdown=int(slow_s) + 2)  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: server.started or task.done(), 10, what="receiver up")
        if task.done():
            task.result()  # raises what stopped it
        yield rec
    finally:  # requests still under way (a slow one) are answered first
        server.should_exit = True
        await asyncio.wait_for(task, slow_s + 10)
