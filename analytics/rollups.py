"""The rollups of `ops_samples` (storage choices only; analytics/schema.py makes them tables).

Panels over long ranges would re-read every 10-second sample of a metric.
Materialized views (each one statement: the view and its own table), fed by
every insert into `ops_samples`, keep instead:

- `ops_series`: each series once a day (metric, `sipHash64(labels)`, labels),
  so a query over blocks joins the labels to a few rows instead of reading a
  map per block (that read costs twice what the rest of the block does);
- `ops_1m`, `ops_5m`, `ops_1h` (LEVELS): per metric, series and block of a
  minute, 5 minutes, an hour (`start`), the first, last and highest value
  and the newest sample's time: a 6th, 30th, 360th of the samples' rows.

None of their values counts rows: a sample inserted twice (before the raw
table's merge collapses it) changes none of them, as FINAL would not. All are
kept as long as the samples and roll up the samples already stored when they
are created (`POPULATE`). Read a level grouped by metric, series and start
(`argMinMerge(opening)`, `argMaxMerge(closing)`, `max(peak)`, `max(seen)`),
`ops_series` by metric and series (`any(labels)`): dashboards/opsql.py `points`.
"""

from __future__ import annotations

SERIES = "ops_series"
SERIES_KEY = "sipHash64(labels)"  # a series of a metric: its labels
LEVELS = ((60, "ops_1m", "toStartOfMinute(ts)"), (300, "ops_5m", "toStartOfFiveMinutes(ts)"),
          (3600, "ops_1h", "toStartOfHour(ts)"))  # fmt: skip
_AT = "DateTime64(3, 'UTC')"
# A block's values: name, type, how the block's samples give it.
BLOCK_VALUES = (
    ("opening", f"AggregateFunction(argMin, Float64, {_AT})", "argMinState(value, ts)"),
    ("closing", f"AggregateFunction(argMax, Float64, {_AT})", "argMaxState(value, ts)"),
    ("peak", "SimpleAggregateFunction(max, Float64)", "max(value)"),
    ("seen", f"SimpleAggregateFunction(max, {_AT})", "max(ts)"),
)
SERIES_VALUES = (
    ("labels", "SimpleAggregateFunction(any, Map(String, String))", "labels"),  # grouped by
    ("seen", f"SimpleAggregateFunction(max, {_AT})", "max(ts)"),
)
Column = tuple[str, str, str]  # name, type, how the samples give it


def _view(name: str, key: tuple[Column, ...], values: tuple[Column, ...], time: str,
          source: str, ttl_days: int) -> tuple[str, list[str]]:  # fmt: skip
    """The DDL of an AggregatingMergeTree view of `source` keyed by `key`, partitioned per
    day of `time`, and its columns. A value that is a column of `source` as it is is
    grouped by too (an alias `any(labels) AS labels` would be the `labels` of the key's
    `sipHash64(labels)`)."""
    cols = (*key, *values)
    names = [n for n, _, _ in key]
    grouped = names + [n for n, _, e in values if e == n]
    ddl = (
        f"\nCREATE MATERIALIZED VIEW IF NOT EXISTS {name} (\n"
        + ",\n".join(f"  {n} {t}" for n, t, _ in cols)
        + "\n) ENGINE = AggregatingMergeTree\n"
        f"PARTITION BY toYYYYMMDD({time})\n"
        f"ORDER BY ({', '.join(names)})\n"
        f"TTL {time} + INTERVAL {ttl_days} DAY\n"
        "POPULATE\n"
        "AS SELECT "
        + ", ".join(f"{e} AS {n}" if e != n else n for n, _, e in cols)
        + f"\nFROM {source}\nGROUP BY {', '.join(grouped)}\n"
    )
    return ddl, [n for n, _, _ in cols]


def series(source: str, ttl_days: int) -> tuple[str, list[str]]:
    """`ops_series`, a row per series and day it was seen (merged within the day)."""
    key = (("metric", "String", "metric"), ("series", "UInt64", SERIES_KEY),
           ("day", "Date", "toDate(ts)"))  # fmt: skip
    return _view(SERIES, key, SERIES_VALUES, "day", source, ttl_days)


def blocks(name: str, start: str, source: str, ttl_days: int) -> tuple[str, list[str]]:
    """A level of LEVELS: its blocks start at `start` (of `ts`)."""
    key = (("metric", "String", "metric"), ("start", "DateTime('UTC')", start),
           ("series", "UInt64", SERIES_KEY))  # fmt: skip
    return _view(name, key, BLOCK_VALUES, "start", source, ttl_days)


def views(source: str, ttl_days: int) -> list[tuple[str, str, list[str]]]:
    """Every rollup of `source`: name, DDL, columns."""
    out = [(SERIES, *series(source, ttl_days))]
    return out + [(name, *blocks(name, start, source, ttl_days)) for _, name, start in LEVELS]
