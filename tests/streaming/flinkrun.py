"""Run a job query over fixed rows on a local Flink (real PyFlink, no Kafka).

Every call into Flink from the tests goes through `on_flink_thread()`: one
Python thread, so py4j keeps using one connection, i.e. one JVM thread.
Flink's planner keeps Calcite's metadata provider in a thread-local of the
JVM thread that created the TableEnvironment; when a second Python thread
(a job blocked in collect()) held that connection, py4j opened another, the
next planning ran on a new JVM thread and failed with "NullPointerException:
metadataHandlerProvider" — for every later test of the process (seen in CI).
"""

from __future__ import annotations

import concurrent.futures
import json
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pyflink.table import EnvironmentSettings, TableEnvironment

from streaming import ddl

T = TypeVar("T")
_ENV: TableEnvironment | None = None
_FLINK = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="flink-calls")


def _on_it() -> bool:
    return threading.current_thread().name.startswith("flink-calls")


def submit(fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
    """Run `fn` on the Flink thread, after everything submitted before it."""
    return _FLINK.submit(fn, *args)


def on_flink_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run `fn` on the Flink thread and wait for its result."""
    return fn(*args) if _on_it() else submit(fn, *args).result()


def table_env() -> TableEnvironment:
    """One streaming TableEnvironment per test process (the JVM starts once)."""
    return on_flink_thread(_table_env)


def _table_env() -> TableEnvironment:
    global _ENV
    if _ENV is None:
        env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
        env.get_config().set("table.local-time-zone", "UTC")
        env.get_config().set("parallelism.default", "1")
        _ENV = env
    return _ENV


def run_on_rows(
    query: str, rows: list[dict[str, Any]], tmp: Path, lateness_s: int = 5
) -> list[tuple[Any, ...]]:
    """Rows as the `chat_events` table (bounded: the watermark ends at +inf)."""
    return run_views_on_rows([], query, rows, tmp, lateness_s)


def run_views_on_rows(
    views: list[str], select: str, rows: list[dict[str, Any]], tmp: Path, lateness_s: int = 5
) -> list[tuple[Any, ...]]:
    """Like run_on_rows, for a query with views (queries.statements): the views
    are (re)created over the fresh `chat_events` table, in order, then `select` runs."""
    return on_flink_thread(_run_views_on_rows, views, select, rows, tmp, lateness_s)


def _run_views_on_rows(
    views: list[str], select: str, rows: list[dict[str, Any]], tmp: Path, lateness_s: int
) -> list[tuple[Any, ...]]:
    t_env = _table_env()
    path = tmp / f"events-{secrets.token_hex(4)}.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    t_env.execute_sql("DROP TEMPORARY TABLE IF EXISTS chat_events")
    t_env.execute_sql(
        f"CREATE TEMPORARY TABLE chat_events ({ddl.CHAT_COLUMNS},\n{ddl.event_time(lateness_s)}\n)"
        f" WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')"
    )
    for view in views:
        name = view.split()[3]  # CREATE TEMPORARY VIEW <name> AS ...
        t_env.execute_sql(f"DROP TEMPORARY VIEW IF EXISTS {name}")
        t_env.execute_sql(view)
    with t_env.execute_sql(select).collect() as results:
        return [tuple(r) for r in results]
