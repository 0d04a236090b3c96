"""alerts/evaluate.py on a real ClickHouse (chDB): rows as series, `now` as a parameter,
probes, and a broken rule as an error of its own."""

from __future__ import annotations

from typing import Any

from alerts.evaluate import RuleResult, Series, evaluate
from alerts.rules import Rule
from analytics.clickhouse import ClickHouse
from tests.alerts.harness import RULES, T0

NOW = "{now:DateTime64(3, 'UTC')}"


def rule(name: str, sql: str | None = None, probe: str | None = None, **params: Any) -> Rule:
    return Rule(name=name, area="t", for_ms=0, keep_firing_for_ms=0,
                labels={"severity": "info", "team": "sre"}, annotations={}, source="test",
                sql=sql, probe=probe, params=params)  # fmt: skip


async def test_rows_are_series_and_now_is_the_evaluation_time(db: ClickHouse) -> None:
    sql = (f"SELECT toUnixTimestamp64Milli({NOW}) * {{k:Float64}} AS value, 'a' AS node, "
           "'' AS empty, 7 AS n")  # fmt: skip
    results = await evaluate(db, [rule("A", sql, k=2)], T0 + 123, {})
    assert results["A"].series == (Series({"node": "a", "n": "7"}, float(2 * (T0 + 123))),)
    assert results.errors == 0 and results["A"].seconds > 0


async def test_a_broken_rule_is_an_error_and_the_others_still_run(db: ClickHouse) -> None:
    rules = [
        rule("Syntax", f"SELEC 1 AS value WHERE {NOW} > 0"),
        rule("NoTable", f"SELECT 1 AS value FROM nowhere WHERE {NOW} > 0"),
        rule("NoValue", f"SELECT 1 AS v WHERE {NOW} > 0"),
        rule("Null", f"SELECT CAST(NULL, 'Nullable(Float64)') AS value WHERE {NOW} > 0"),
        rule("Nan", f"SELECT nan AS value WHERE {NOW} > 0"),
        rule("Twice", f"SELECT 'a' AS node, number AS value FROM numbers(2) WHERE {NOW} > 0"),
        rule("Fine", f"SELECT 1.5 AS value WHERE {NOW} > 0"),
        rule("Probe", probe="redis"),
    ]
    results = await evaluate(db, rules, T0, {})
    assert results.errors == 7
    errors = {n: r.error for n, r in results.items()}
    assert errors["Syntax"] is not None and errors["Syntax"].startswith("DatabaseError: ")
    assert "UNKNOWN_TABLE" in (errors["NoTable"] or "")
    assert errors["NoValue"] == "no `value` column in ['v']"
    assert errors["Null"] == "`value` is None, not a finite number"
    assert errors["Nan"] == "`value` is nan, not a finite number"
    assert errors["Twice"] == "two rows with the labels {'node': 'a'}"
    assert errors["Probe"] == "probe 'redis' was not reported"
    assert results["Fine"] == RuleResult((Series({}, 1.5),), None, results["Fine"].seconds)


async def test_probe_rules_fire_while_down_or_while_over_their_bound(db: ClickHouse) -> None:
    rules = [RULES["RedisDown"], RULES["OutboxBacklog"]]
    up = await evaluate(db, rules, T0, {"redis": (True, 0.002), "relay": (True, 30.0)})
    assert up["RedisDown"].series == () and up["OutboxBacklog"].series == ()
    down = await evaluate(db, rules, T0, {"redis": (False, 5.0), "relay": (True, 30.5)})
    assert down["RedisDown"].series == (Series({}, 5.0),)
    assert down["OutboxBacklog"].series == (Series({}, 30.5),)
    blind = await evaluate(db, rules, T0, {"redis": (False, 0.0), "relay": (False, 0.0)})
    assert blind["OutboxBacklog"].series == ()  # unmeasurable: RedisDown speaks


async def test_every_rule_of_the_repository_runs_on_empty_tables(db: ClickHouse) -> None:
    probes = {p: (True, 0.0) for p in ("redis", "kafka", "clickhouse", "analytics",
                                       "collector", "relay", "analytics_lag")}  # fmt: skip
    results = await evaluate(db, list(RULES.values()), T0, probes)
    assert {n: r.error for n, r in results.items() if r.error} == {}
    # Only the telemetry rule fires on an empty ClickHouse: no sample in the last hour.
    assert {n for n, r in results.items() if r.series} == {"TelemetryStale"}
