"""Rule tests in the style of `promtool test rules`, on a real ClickHouse (chDB).

Synthetic rows go into the tables of analytics/schema.py (ops samples as series
in promtool's expanding notation; other tables as the events or result rows the
sink would store), then the real rules of alerts/rules are evaluated and the
engine stepped every `every_s` seconds from 0 to `until_s`, and the test states
exactly when each alert changed state:

    await put_ops(db, Ops("redis_memory_used_ratio", "0.5x5 0.95x20", {"policy": "noeviction"}))
    tl = await timeline(db, "RedisOutOfConfiguredMaxmemory", until_s=300)
    assert tl.changes("policy=noeviction") == [(60, "pending"), (180, "firing")]

Times are seconds after T0; a sample at t has ts = T0 + t s, and an evaluation
at t sees it (the rules read ts <= now). An alert is named by its series'
labels (the rule's and alertname left out), "" for none.

Notation (promtool's): `a+bxn` is the n+1 values a, a+b, ..., a+n·b (`a-bxn`
counts down), `axn` is a n+1 times, `_` a step without a sample and `_xn` n of
them; one value per `every_s` (10 s, the collector's interval) from `start_s`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alerts.engine import Engine
from alerts.evaluate import Probes, evaluate
from alerts.model import Alert, Kind
from alerts.rules import Rule, load_rules
from analytics.clickhouse import ClickHouse
from analytics.schema import TABLES

ROOT = Path(__file__).resolve().parents[2]
RULES = {r.name: r for r in load_rules(ROOT / "alerts" / "rules")}
T0 = 1_795_000_020_000  # ms
TABLE = {t.name: t for t in TABLES}
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?"
_SERIES = re.compile(rf"^({_NUM})(?:([-+](?:\d+\.?\d*|\.\d+)))?x(\d+)$")
_SOURCES = {"redis": "redis", "kafka": "kafka", "host": "host", "process": "host",
            "pipeline": "pipeline", "monitor": "monitor"}  # fmt: skip


def expand(notation: str) -> list[float | None]:
    """promtool's series notation as one value (or None: no sample) per step."""
    out: list[float | None] = []
    for token in notation.split():
        if token == "_":
            out.append(None)
        elif token.startswith("_x"):
            out += [None] * int(token[2:])
        elif m := _SERIES.match(token):
            start, step, n = float(m.group(1)), float(m.group(2) or 0), int(m.group(3))
            out += [start + i * step for i in range(n + 1)]
        else:
            out.append(float(token))
    return out


@dataclass(frozen=True)
class Ops:
    """One series of ops samples."""

    metric: str
    values: str
    labels: Mapping[str, str] = field(default_factory=dict)
    start_s: int = 0
    every_s: int = 10

    @property
    def source(self) -> str:
        return _SOURCES.get(self.metric.split("_")[0], "gateway")

    def events(self) -> list[dict[str, Any]]:
        return [
            {"id": "o:" + secrets.token_hex(10), "type": "ops.sample",
             "ts": T0 + (self.start_s + i * self.every_s) * 1000, "node": "mon",
             "source": self.source, "metric": self.metric, "value": v,
             "labels": dict(self.labels)}
            for i, v in enumerate(expand(self.values)) if v is not None
        ]  # fmt: skip


async def put(db: ClickHouse, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows into a table as the analytics sink stores them (its converters; times in ms)."""
    t = TABLE[table]
    await db.insert(table, [t.row(dict(r)) for r in rows], t.columns)


async def put_ops(db: ClickHouse, *series: Ops) -> None:
    await put(db, "ops_samples", [e for s in series for e in s.events()])


def key(rule: Rule, alert: Alert) -> str:
    """The series an alert is of: its labels but the rule's and alertname."""
    own = {k: v for k, v in alert.labels.items() if k not in rule.labels and k != "alertname"}
    return ",".join(f"{k}={v}" for k, v in sorted(own.items()))


@dataclass
class Timeline:
    rule: Rule
    states: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (t, key -> state)
    notes: list[tuple[int, str, str]] = field(default_factory=list)  # (t, kind, key)
    values: list[tuple[int, dict[str, float]]] = field(default_factory=list)

    def changes(self, series: str = "") -> list[tuple[int, str]]:
        """(t, state) each time the series' alert changed state, from inactive."""
        out: list[tuple[int, str]] = []
        last = "inactive"
        for t, states in self.states:
            state = states.get(series, "inactive")
            if state != last:
                out.append((t, state))
                last = state
        return out

    def series(self) -> set[str]:
        return {k for _, states in self.states for k in states}

    def notified(self, series: str = "") -> list[tuple[int, str]]:
        return [(t, kind) for t, kind, k in self.notes if k == series]

    def value(self, t: int, series: str = "") -> float:
        return dict(self.values)[t][series]


async def timeline(
    db: ClickHouse,
    name: str,
    until_s: int,
    *,
    every_s: int = 10,
    start_s: int = 0,
    probes: Callable[[int], Probes] | None = None,
    also: Sequence[str] = (),
    engine: Callable[[list[Rule]], Engine] = Engine,
) -> Timeline:
    """Evaluate rule `name` (and the rules `also`, e.g. an inhibiting one) at start_s,
    start_s + every_s, ..., until_s; a rule in error fails the test."""
    rules = [RULES[name], *(RULES[n] for n in also)]
    eng = engine(rules)
    out = Timeline(RULES[name])
    for t in range(start_s, until_s + 1, every_s):
        results = await evaluate(db, rules, T0 + t * 1000, probes(t) if probes else {})
        errors = {n: r.error for n, r in results.items() if r.error is not None}
        assert not errors, f"at {t} s: {errors}"
        for note in eng.step(T0 + t * 1000, results):
            if note.alert.name == name:
                out.notes.append((t, note.kind.value, key(out.rule, note.alert)))
        mine = [a for a in eng.active() + eng.recent() if a.name == name]
        out.states.append((t, {key(out.rule, a): a.state.value for a in mine}))
        out.values.append((t, {key(out.rule, a): a.value for a in mine}))
    return out


FIRING, REPEAT, RESOLVED = Kind.FIRING.value, Kind.REPEAT.value, Kind.RESOLVED.value
