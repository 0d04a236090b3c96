"""Run a job query over fixed rows on a local Flink (real PyFlink, no Kafka)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from pyflink.table import EnvironmentSettings, TableEnvironment

from streaming import ddl

_ENV: TableEnvironment | None = None


def table_env() -> TableEnvironment:
    """One streaming TableEnvironment per test process (the JVM starts once)."""
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
    t_env = table_env()
    path = tmp / f"events-{secrets.token_hex(4)}.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    t_env.execute_sql("DROP TEMPORARY TABLE IF EXISTS chat_events")
    t_env.execute_sql(
        f"CREATE TEMPORARY TABLE chat_events ({ddl.CHAT_COLUMNS},\n{ddl.event_time(lateness_s)}\n)"
        f" WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')"
    )
    with t_env.execute_sql(query).collect() as results:
        return [tuple(r) for r in results]


def run_views_on_rows(
    views: list[str], select: str, rows: list[dict[str, Any]], tmp: Path, lateness_s: int = 5
) -> list[tuple[Any, ...]]:
    """Like run_on_rows, for a query with views (queries.statements): the views
    are (re)created over the fresh `chat_events` table, in order, then `select` runs."""
    t_env = table_env()
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
