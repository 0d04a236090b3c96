"""ClickHouse through clickhouse-connect: embedded chDB or a server, by URL.

chDB lets one process open its data folder, and its calls block, so every
call runs on one dedicated thread; the asyncio side awaits them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Sequence
from typing import Any

import clickhouse_connect


class QueryError(Exception):
    """ClickHouse refused a query (not retriable as sent)."""


class ClickHouse:
    def __init__(self, url: str) -> None:
        self.url = url
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="clickhouse")
        self._client: Any = None

    @property
    def embedded(self) -> bool:
        return self.url.startswith("chdb://")

    async def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, lambda: fn(*args, **kwargs))

    async def start(self) -> None:
        if self._client is None:
            self._client = await self._run(clickhouse_connect.get_client, dsn=self.url)

    async def stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await self._run(client.close)
        self._pool.shutdown(wait=True)

    async def command(self, sql: str) -> Any:
        return await self._run(self._client.command, sql)

    async def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: list[str]) -> None:
        if rows:
            await self._run(self._client.insert, table, rows, column_names=columns)

    async def query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one SELECT, read-only, with bounded time and result size.

        The SELECT is wrapped as a subquery (anything but a SELECT fails to
        parse) and `readonly = 1` rides in the query's own SETTINGS clause,
        which also forbids table functions (file(), url(), ...). A per-call
        `settings=` would be applied to the shared chDB session with SET and
        could not be undone once readonly (it would block later inserts).
        """
        body = sql.strip().rstrip(";")
        wrapped = f"SELECT * FROM (\n{body}\n) SETTINGS {READ_ONLY}"  # noqa: S608 - the point
        try:
            result = await self._run(self._client.query, wrapped)
        except Exception as e:
            raise QueryError(str(e).splitlines()[0][:500]) from None
        return list(result.column_names), [tuple(r) for r in result.result_rows]


READ_ONLY = (
    "readonly = 1, max_execution_time = 10, max_result_rows = 100000, "
    "result_overflow_mode = 'break'"
)
