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

from contract import results
from contract.fields import Field, Kind


def ms(value: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC)


@dataclass(frozen=True)
class Table:
    name: str
    topic: str
    ddl: str
    columns: list[str]
    row: Callable[[dict[str, Any]], list[Any]]


def _strings(value: Any) -> list[str]:
    return [str(x) for x in value]


_CONVERT: dict[Kind, Callable[[Any], Any]] = {
    Kind.STRING: str,
    Kind.INT: int,
    Kind.LONG: int,
    Kind.MS: ms,
    Kind.DOUBLE: float,
    Kind.STRINGS: _strings,
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

TABLES = [table(r) for r in results.STORED]
BY_TOPIC = {t.topic: t for t in TABLES}
