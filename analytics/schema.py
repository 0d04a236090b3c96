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
OPS_MINUTES = "ops_minutes"
_AT = "DateTime64(3, 'UTC')"
# The rollup's values per series and minute: name, type, how a minute's samples give it.
ROLLUP_VALUES = (
    ("opening", f"AggregateFunction(argMin, Float64, {_AT})", "argMinState(value, ts)"),
    ("closing", f"AggregateFunction(argMax, Float64, {_AT})", "argMaxState(value, ts)"),
    ("peak", "SimpleAggregateFunction(max, Float64)", "max(value)"),
    ("seen", f"SimpleAggregateFunction(max, {_AT})", "max(ts)"),
)


def _not_fed(event: dict[str, Any]) -> list[Any]:
    raise TypeError("a rollup is filled by its materialized view, not by the sink")


def ops_rollup(settings: AnalyticsSettings) -> Table:
    """`ops_minutes`: per metric, series (its labels) and minute of `ops_samples`, the
    first, last and highest value and the newest sample's time, kept as long as the
    samples. A materialized view (one statement: the view and its AggregatingMergeTree)
    fills it from every insert into `ops_samples`; the sink writes the samples only.
    None of its values counts rows: a sample inserted twice (before the raw table's
    merge) changes none of them, as FINAL would not. Panels read it for points of a
    minute or more (dashboards/opsql.py)."""
    values = ",\n".join(f"  {name} {typ}" for name, typ, _ in ROLLUP_VALUES)
    fill = "".join(f", {expr} AS {name}" for name, _, expr in ROLLUP_VALUES)
    ddl = (
        f"\nCREATE MATERIALIZED VIEW IF NOT EXISTS {OPS_MINUTES} (\n"
        "  metric String,\n  minute DateTime('UTC'),\n  series UInt64,\n"
        f"  labels SimpleAggregateFunction(any, Map(String, String)),\n{values}\n"
        ") ENGINE = AggregatingMergeTree\n"
        "PARTITION BY toYYYYMMDD(minute)\n"
        "ORDER BY (metric, minute, series)\n"
        f"TTL minute + INTERVAL {OPS.ttl(settings)} DAY\n"
        "POPULATE\n"
        "AS SELECT metric, toStartOfMinute(ts) AS minute, sipHash64(labels) AS series, labels"
        f"{fill}\nFROM {OPS.table}\nGROUP BY metric, minute, series, labels\n"
    )
    columns = ["metric", "minute", "series", "labels", *(name for name, _, _ in ROLLUP_VALUES)]
    return Table(OPS_MINUTES, "", ddl, columns, _not_fed)


def tables(settings: AnalyticsSettings) -> list[Table]:
    """Every table: the jobs' results, then the raw topics (the sink fills these), then
    the rollup of ops_samples (its materialized view fills it; created after its source)."""
    return [*RESULT_TABLES, *(raw_table(r, settings) for r in RAW_TOPICS), ops_rollup(settings)]


TABLES = tables(load(AnalyticsSettings, {}))  # with the default TTLs
BY_TOPIC = {t.topic: t for t in TABLES if t.topic}  # the rollup has no topic
