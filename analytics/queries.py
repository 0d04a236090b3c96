"""The query API's side of ClickHouse: read-only clients apart from the sink's.

Each query gets one of `max_queries` clients, each its own chDB connection
(or HTTP client) used by one thread at a time: the sink inserts through
another client on its own thread (analytics/clickhouse.py), so a slow query
never holds an insert up; chDB runs the statements of different connections
in parallel and releases the GIL meanwhile. When every client is busy the
API answers 503 at once instead of queueing.

The bounds are settings of the query clients' sessions (chDB: SET on that
connection; a server: parameters of every request), never text around the
user's SQL; `readonly = 1` keeps a query from changing them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.exceptions import DatabaseError

from analytics import guard
from analytics.settings import AnalyticsSettings
from im import errors as E

log = logging.getLogger("analytics.queries")

RESULT_BYTES = 64 * 2**20
Rows = tuple[list[str], list[tuple[Any, ...]]]
Typed = tuple[list[str], list[str], list[tuple[Any, ...]]]  # names, ClickHouse types, rows


def session_settings(s: AnalyticsSettings) -> dict[str, Any]:
    """The query clients' settings; `readonly` last, as it forbids any later SET."""
    return {
        "max_execution_time": s.query_timeout_s,
        "timeout_overflow_mode": "throw",
        "max_memory_usage": s.query_memory_mib * 2**20,
        "max_result_rows": s.query_max_rows,
        "max_result_bytes": RESULT_BYTES,
        "result_overflow_mode": "throw",
        # max_result_rows misses rows made without a table (arrayJoin); with
        # this cap one row more than allowed still trips it.
        "limit": s.query_max_rows + 1,
        # Two by default: with one, the console's reply-rate dashboard over 10M
        # events took 2.2 s to draw, with two 1.6 s (2 cores; bench.console). The
        # sink's inserts still get their share (the OS shares the cores).
        "max_threads": s.query_threads,
        "allow_introspection_functions": 0,
        "readonly": 1,
    }


class Queries:
    def __init__(self, settings: AnalyticsSettings) -> None:
        self.settings = settings
        self._pool = concurrent.futures.ThreadPoolExecutor(
            settings.max_queries, thread_name_prefix="clickhouse-query"
        )
        self._free: asyncio.Queue[Any] = asyncio.Queue()
        self._clients: list[Any] = []
        self.database = ""

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(self.settings.max_queries):
            client = await loop.run_in_executor(self._pool, self._connect)
            self._clients.append(client)
            self._free.put_nowait(client)
        self.database = await loop.run_in_executor(self._pool, self._current_database)

    def _connect(self) -> Any:
        return clickhouse_connect.get_client(
            dsn=self.settings.clickhouse_url, settings=session_settings(self.settings)
        )

    def _current_database(self) -> str:
        return str(self._clients[0].query("SELECT currentDatabase()").result_rows[0][0])

    async def stop(self) -> None:
        self._pool.shutdown(wait=True)
        for client in self._clients:
            client.close()
        self._clients = []

    async def run(self, sql: str) -> Rows:
        """Check and run one SELECT; ApiError when refused, over a bound, or too busy."""
        names, _types, rows = await self.run_typed(sql)
        return names, rows

    async def run_typed(self, sql: str) -> Typed:
        """`run`, with the columns' ClickHouse types."""
        try:
            client = self._free.get_nowait()
        except asyncio.QueueEmpty:
            raise E.ApiError(E.UNAVAILABLE, "too many queries running, retry later", 503) from None
        loop = asyncio.get_running_loop()
        done = self._pool.submit(self._run, client, sql)
        # The client is free again when its thread is done, not when the
        # caller stops waiting (a caller that went away leaves it running).
        done.add_done_callback(lambda _: loop.call_soon_threadsafe(self._free.put_nowait, client))
        return await asyncio.wrap_future(done)

    def _run(self, client: Any, sql: str) -> Typed:
        try:
            # The user's text only ever travels as a bound parameter, or as
            # the one statement ClickHouse made of it.
            statement = client.query(
                "SELECT formatQuerySingleLine({sql:String})", parameters={"sql": sql}
            ).result_rows[0][0]
            dump = client.query(f"EXPLAIN AST {statement}").result_rows
            guard.check_ast([row[0] for row in dump], self.database)
            result = client.query(statement)
        except DatabaseError as e:
            raise self._refusal(e) from None
        types = [t.name for t in result.column_types]
        return list(result.column_names), types, [tuple(r) for r in result.result_rows]

    def _refusal(self, e: DatabaseError) -> E.ApiError:
        """What the client is told: our words, never ClickHouse's text."""
        s, code = self.settings, e.code
        log.info("query refused: %s", str(e).splitlines()[0][:300] if str(e) else type(e))
        if code in (159, 160):  # TIMEOUT_EXCEEDED, TOO_SLOW
            return E.ApiError(E.TOO_LARGE, f"the query needs more than {s.query_timeout_s} s", 413)
        if code == 241:  # MEMORY_LIMIT_EXCEEDED
            msg = f"the query needs more than {s.query_memory_mib} MiB of memory"
            return E.ApiError(E.TOO_LARGE, msg, 413)
        if code in (158, 307, 396):  # TOO_MANY_ROWS, TOO_MANY_BYTES, TOO_MANY_ROWS_OR_BYTES
            msg = f"the answer (or a subquery's) has more than {s.query_max_rows} rows or 64 MiB"
            return E.ApiError(E.TOO_LARGE, msg, 413)
        if code == 62:  # SYNTAX_ERROR
            several = "Multi-statements" in str(e)
            return guard.refuse("one statement only" if several else "syntax error")
        if code == 164:  # READONLY
            return guard.refuse("only a SELECT over our tables may run here")
        if code is None:
            return E.Unavailable("ClickHouse is unavailable, retry later")
        return guard.refuse(f"ClickHouse refused the query (code {code}: {e.name or 'error'})")
