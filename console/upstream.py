"""Calls to the IM server node and to analytics, with the signed-in user's token.

Their answers pass through as they are (status and JSON body, errors included:
they are already {error: {code, message}} and never carry a stack trace or
ClickHouse's text). An upstream that cannot be reached, or answers with
something that is not JSON, is a 502 `unavailable`.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import orjson
from starlette.responses import Response

from im import errors as E

log = logging.getLogger("console.upstream")


class Upstream:
    def __init__(self, name: str, base_url: str, timeout_s: float) -> None:
        self.name = name
        self.http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s)

    async def call(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        """(status, JSON body or None for an empty one); ApiError 502 when unreachable."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        content = orjson.dumps(body) if body is not None else None
        if content is not None:
            headers["content-type"] = "application/json"
        try:
            r = await self.http.request(method, path, content=content, headers=headers)
        except httpx.HTTPError as e:
            log.warning("%s %s %s: %s", self.name, method, path, type(e).__name__)
            raise unavailable(self.name) from None
        if not r.content:
            return r.status_code, None
        try:
            return r.status_code, orjson.loads(r.content)
        except orjson.JSONDecodeError:
            log.warning("%s %s %s: %d, not JSON", self.name, method, path, r.status_code)
            raise unavailable(self.name) from None

    async def forward(
        self, method: str, path: str, token: str | None = None, body: Any = None
    ) -> Response:
        status, data = await self.call(method, path, token, body)
        if data is None:
            return Response(status_code=status)
        return Response(orjson.dumps(data), status, media_type="application/json")

    async def close(self) -> None:
        await self.http.aclose()


def unavailable(name: str) -> E.ApiError:
    return E.ApiError(E.UNAVAILABLE, f"{name} is unavailable, retry later", 502)
