"""The sink's ClickHouse client (clickhouse-connect): embedded chDB or a server, by URL.

Its calls block, so they run on one dedicated thread that nothing else
uses: queries have clients and threads of their own (analytics/queries.py),
so an insert never waits behind a query. The alert evaluator
(alerts/evaluate.py) queries through an instance of its own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Mapping, Sequence
from typing import Any

import clickhouse_connect


class ClickHouse:
    def __init__(self, url: str) -> None:
        self.url = url
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="clickhouse-sink")
        self._client: Any = None

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

    async def command(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Any:
        return await self._run(self._client.command, sql, parameters=parameters)

    async def query(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """One SELECT with bound parameters (`{name:Type}`): its columns and rows."""
        result = await self._run(self._client.query, sql, parameters=parameters)
        return list(result.column_names), [tuple(r) for r in result.result_rows]

    async def insert(self, table: str, rows: Sequence[Sequence[Any]], columns: list[str]) -> None:
        if rows:
            await self._run(self._client.insert, table, rows, column_names=columns)
