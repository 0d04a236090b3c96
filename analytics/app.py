"""The analytics process: the sink, plus a read-only query API over ClickHouse for admins,
and the dashboards' panel queries for staff (analytics/panels.py, the console's source).

With embedded chDB only this process may open the data folder, so the query
API is how anyone else (tests, an operator) reads the tables: one SELECT
over our tables per request, with an admin's bearer token of the IM server.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from analytics import panels
from analytics.auth import Admins
from analytics.clickhouse import ClickHouse
from analytics.queries import Queries
from analytics.settings import AnalyticsSettings
from analytics.sink import Sink
from dashboards import access
from im import errors as E
from im.bodylimit import BodyLimit

log = logging.getLogger("analytics.app")
MAX_SQL_CHARS = 20_000


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data, default=str), status, headers, media_type="application/json")


def create_app(settings: AnalyticsSettings) -> Starlette:
    ch = ClickHouse(settings.clickhouse_url)
    sink = Sink(settings, ch)
    queries = Queries(settings)
    admins = Admins(settings.redis_url, settings.service_token)
    catalog = panels.Panels()

    async def healthz(request: Request) -> Response:
        return _json({"status": "ok", "inserted": sink.inserted, "bad_rows": sink.bad_rows})

    async def query(request: Request) -> Response:
        # The token first: nothing of the query is looked at for a stranger.
        await admins.require(request.headers.get("authorization", ""))
        sql = request.query_params.get("sql", "")
        if not sql.strip() or len(sql) > MAX_SQL_CHARS:
            msg = f"give ?sql= (one SELECT, at most {MAX_SQL_CHARS:,} characters)"
            raise E.ApiError(E.INVALID, msg, 400)
        columns, rows = await queries.run(sql)
        return _json({"columns": columns, "rows": rows})

    async def panel_query(request: Request) -> Response:
        # The token first: nothing of the request is looked at for a stranger.
        ident = await admins.identity(request.headers.get("authorization", ""))
        if not access.is_staff(ident.role):
            raise E.ApiError(E.FORBIDDEN, "dashboards are for manager, sre and admin", 403)
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise panels.invalid("body must be JSON") from None
        if not isinstance(data, dict):
            raise panels.invalid("body must be a JSON object")
        sql = catalog.sql(ident.role, panels.parse(data))
        started = time.monotonic()
        try:
            names, types, rows = await queries.run_typed(sql)
        except E.ApiError as e:
            if e.status == 503:
                raise
            log.warning("panel query failed (%s): %s | %s", e.status, e.message, sql[:2000])
            raise panels.failed() from None
        columns = [{"name": n, "type": t} for n, t in zip(names, types, strict=True)]
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        return _json({"columns": columns, "rows": rows, "elapsed_ms": elapsed_ms})

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, E.ApiError)
        headers = {"Retry-After": "1"} if exc.status == 503 else None
        return _json(exc.body(), exc.status, headers)

    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("query API: %s", type(exc).__name__)
        return _json({"error": {"code": E.INTERNAL, "message": "internal error"}}, 500)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await ch.start()
        await sink.start()  # creates the tables before any query may name them
        await queries.start()
        try:
            yield
        finally:
            await queries.stop()
            await sink.stop()
            await ch.stop()
            await admins.close()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/query", query),
            Route("/panels/query", panel_query, methods=["POST"]),
        ],
        lifespan=lifespan,
        exception_handlers={E.ApiError: refused, Exception: failed},
        middleware=[Middleware(BodyLimit)],
    )
