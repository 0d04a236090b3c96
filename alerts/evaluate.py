"""One evaluation: every rule's condition at time `now`, as series (labels, value).

A SQL rule's query runs on the ClickHouse client with its params and `now`;
each row is a series: the `value` column its value, every other column a
label (as text; empty ones left out, as Prometheus drops empty labels). A
probe rule reads the evaluator's own probe results. A rule whose query fails,
whose rows lack a finite `value` or repeat a label set, or whose probe was not
reported gets an error instead of series: counted, never raised, and the
engine leaves that rule's alerts as they were (as Prometheus does).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from alerts.model import fingerprint
from alerts.rulefile import NOW
from alerts.rules import Rule

Probes = Mapping[str, tuple[bool, float]]  # probe -> (up, value): rulefile.PROBES
Rows = tuple[list[str], list[tuple[Any, ...]]]


class QueryClient(Protocol):
    """What evaluate needs of ClickHouse (analytics.clickhouse.ClickHouse has it)."""

    async def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Rows: ...


@dataclass(frozen=True)
class Series:
    labels: Mapping[str, str]  # the row's labels (the rule's and alertname come in the engine)
    value: float


@dataclass(frozen=True)
class RuleResult:
    series: tuple[Series, ...] = ()
    error: str | None = None
    seconds: float = 0.0  # how long the rule took


class Results(dict[str, RuleResult]):
    """Rule name -> its result, for one evaluation."""

    @property
    def errors(self) -> int:
        return sum(r.error is not None for r in self.values())


def at(now_ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC)


def series_of(rule: Rule, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> RuleResult:
    """The rows of a rule's query as series, or the error that makes them unusable
    (no rows: no series, whatever the columns; chDB names none then)."""
    if not rows:
        return RuleResult()
    if "value" not in columns:
        return RuleResult(error=f"no `value` column in {list(columns)}")
    i = list(columns).index("value")
    out: list[Series] = []
    seen: set[str] = set()
    for row in rows:
        v = row[i]
        if not isinstance(v, int | float) or not math.isfinite(v):
            return RuleResult(error=f"`value` is {v!r}, not a finite number")
        labels = {
            c: str(x) for c, x in zip(columns, row, strict=True) if c != "value" and str(x) != ""
        }
        fp = fingerprint(rule.alert_labels(labels))
        if fp in seen:
            return RuleResult(error=f"two rows with the labels {labels}")
        seen.add(fp)
        out.append(Series(labels, float(v)))
    return RuleResult(tuple(out))


def probe_result(rule: Rule, probes: Probes) -> RuleResult:
    assert rule.probe is not None
    if rule.probe not in probes:
        return RuleResult(error=f"probe {rule.probe!r} was not reported")
    up, value = probes[rule.probe]
    above = rule.params.get("above")
    firing = (not up) if above is None else (up and value > float(above))
    return RuleResult((Series({}, float(value)),) if firing else ())


async def evaluate(
    client: QueryClient, rules: Sequence[Rule], now_ms: int, probes: Probes
) -> Results:
    """Each rule's series at `now_ms`, one query after the other."""
    out = Results()
    for rule in rules:
        started = time.perf_counter()
        if rule.probe is not None:
            result = probe_result(rule, probes)
        else:
            assert rule.sql is not None
            try:
                columns, rows = await client.query(rule.sql, {**rule.params, NOW: at(now_ms)})
                result = series_of(rule, columns, rows)
            except Exception as e:  # one broken rule must not stop the others
                first = str(e).strip().splitlines()[0][:300] if str(e).strip() else ""
                result = RuleResult(error=f"{type(e).__name__}: {first}")
        out[rule.name] = RuleResult(result.series, result.error, time.perf_counter() - started)
    return out
