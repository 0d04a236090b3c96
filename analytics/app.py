"""The analytics process: the sink, plus a read-only query API over ClickHouse.

With embedded chDB only this process may open the data folder, so the query
API is how anyone else (tests, a local dashboard) reads the tables.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from analytics.clickhouse import ClickHouse, QueryError
from analytics.settings import AnalyticsSettings
from analytics.sink import Sink


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data, default=str), status, media_type="application/json")


def create_app(settings: AnalyticsSettings) -> Starlette:
    ch = ClickHouse(settings.clickhouse_url)
    sink = Sink(settings, ch)

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok", "inserted": sink.inserted, "bad_rows": sink.bad_rows})

    async def query(request: Request) -> Response:
        sql = request.query_params.get("sql", "")
        if not sql or len(sql) > 20_000:
            return _json({"error": {"code": "invalid", "message": "give ?sql= (a SELECT)"}}, 400)
        try:
            columns, rows = await ch.query(sql)
        except QueryError as e:
            return _json({"error": {"code": "invalid", "message": str(e)}}, 400)
        return _json({"columns": columns, "rows": rows})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await ch.start()
        await sink.start()
        try:
            yield
        finally:
            await sink.stop()
            await ch.stop()

    return Starlette(routes=[Route("/healthz", healthz), Route("/query", query)], lifespan=lifespan)
