"""ClickHouse tables fed from Kafka topics, and how an event becomes a row.

Derived from the contract (contract.results): a column per field, its type
from the field's kind, and a row converter per table. Only storage choices
live here: the engine and the `inserted_at` version column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from analytics import rollups
from analytics.settings import AnalyticsSettings
from contract import events, results, topics
from contract.fields import Field, Kind
from im.envconfig import load


def ms(value: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC)


@dataclass(frozen=True)
class Table:
    name: str
    topic: str  # "" for a rollup (filled by its materialized view)
    ddl: str
    columns: list[str]
    row: Callable[[dict[str, Any]], list[Any]]


def _strings(value: Any) -> list[str]:
    return [str(x) for x in value]


def _labels(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()}


_CONVERT: dict[Kind, Callable[[Any], Any]] = {
    Kind.STRING: str,
    Kind.INT: int,
    Kind.LONG: int,
    Kind.MS: ms,
    Kind.DOUBLE: float,
    Kind.STRINGS: _strings,
    Kind.LABELS: _labels,
}


def _converter(f: Field) -> Callable[[dict[str, Any]], Any]:
    """How one field of a decoded event becomes its column's value.

    A missing required field raises KeyError (the sink counts a bad row); a
    missing optional string is '' and a missing optional number NULL."""
    name = f.name
    convert = _CONVERT[f.kind]
    if not f.optional:
        return lambda e: convert(e[name])
    if f.kind is Kind.STRING:
        return lambda e: str(e.get(name) or "")
    return lambda e: None if e.get(name) is None else convert(e[name])


def _row(fields: tuple[Field, ...]) -> Callable[[dict[str, Any]], list[Any]]:
    converters = [_converter(f) for f in fields]
    return lambda e: [c(e) for c in converters]


def table(result: results.Result) -> Table:
    """The ClickHouse table of a stored result.

    ReplacingMergeTree keyed by what identifies a result row: a row written
    twice (a job restarted without its checkpoint) collapses to one; read
    with FINAL for exact answers."""
    assert result.order_by is not None, f"{result.table} is not stored"
    cols = "".join(f"  {f.name} {f.clickhouse_type},\n" for f in result.fields)
    ddl = (
        f"\nCREATE TABLE IF NOT EXISTS {result.table} (\n{cols}"
        "  inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)\n"
        ") ENGINE = ReplacingMergeTree(inserted_at)\n"
        f"ORDER BY ({', '.join(result.order_by)})\n"
    )
    return Table(
        name=result.table,
        topic=result.topic,
        ddl=ddl,
        columns=[f.name for f in result.fields],
        row=_row(result.fields),
    )


MESSAGE_COUNTS = table(results.MESSAGE_COUNTS)
REPLY_RATES = table(results.REPLY_RATES)
CONVERSATION_SESSIONS = table(results.CONVERSATION_SESSIONS)
MODERATION = table(results.MODERATION)
RESULT_TABLES = [table(r) for r in results.STORED]


@dataclass(frozen=True)
class RawTopic:
    """How the raw events of one topic are stored (storage choices only: the
    columns are the topic's fields in the contract, less `v`)."""

    table: str
    topic: str
    order_by: tuple[str, ...]  # ends with what identifies an event: a re-sent one collapses
    ttl: Callable[[AnalyticsSettings], int]  # days kept


# Repeated words (types, roles, node names) cost little as LowCardinality.
_LOW_CARDINALITY = {"type", "node", "conv_kind", "sender_role", "kind", "reason", "source"}

RAW_TOPICS = (
    RawTopic("chat_events", topics.CHAT, ("conv_kind", "conv", "id"), lambda s: s.events_ttl_days),
    RawTopic(
        "connection_events", topics.CONNECTION, ("type", "user", "id"), lambda s: s.events_ttl_days
    ),
    RawTopic("session_events", topics.SESSION, ("session", "id"), lambda s: s.events_ttl_days),
    RawTopic("ops_samples", topics.OPS, ("metric", "ts", "id"), lambda s: s.ops_ttl_days),
)


def raw_table(raw: RawTopic, settings: AnalyticsSettings) -> Table:
    """The table of a topic's raw events: one row per event id (ReplacingMergeTree
    over a key that ends with the id; read with FINAL for exact counts), a
    partition per day, dropped after the topic's TTL. No message text: the
    contract has none."""
    fields = tuple(f for f in events.topic_fields(raw.topic) if f.name != "v")
    cols = "".join(
        f"  {f.name} "
        f"{'LowCardinality(String)' if f.name in _LOW_CARDINALITY else f.clickhouse_type},\n"
        for f in fields
    )
    ddl = (
        f"\nCREATE TABLE IF NOT EXISTS {raw.table} (\n{cols.rstrip(',' + chr(10))}\n"
        ") ENGINE = ReplacingMergeTree\n"
        "PARTITION BY toYYYYMMDD(ts)\n"
        f"ORDER BY ({', '.join(raw.order_by)})\n"
        f"TTL toDateTime(ts) + INTERVAL {raw.ttl(settings)} DAY\n"
    )
    return Table(raw.table, raw.topic, ddl, [f.name for f in fields], _row(fields))


OPS = RAW_TOPICS[-1]


def _not_fed(event: dict[str, Any]) -> list[Any]:
    raise TypeError("a rollup is filled by its materialized view, not by the sink")


def ops_rollups(settings: AnalyticsSettings) -> list[Table]:
    """The views of ops_samples (analytics/rollups.py), with its TTL."""
    return [Table(name, "", ddl, columns, _not_fed)
            for name, ddl, columns in rollups.views(OPS.table, OPS.ttl(settings))]  # fmt: skip


def tables(settings: AnalyticsSettings) -> list[Table]:
    """Every table: the jobs' results, then the raw topics (the sink fills these), then
    the rollups of ops_samples (their views fill them; created after their source)."""
    return [*RESULT_TABLES, *(raw_table(r, settings) for r in RAW_TOPICS), *ops_rollups(settings)]


TABLES = tables(load(AnalyticsSettings, {}))  # with the default TTLs
BY_TOPIC = {t.topic: t for t in TABLES if t.topic}  # the rollups have none
