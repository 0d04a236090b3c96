"""dashboards/macros.py and templating.py expand as grafana/clickhouse-datasource does
(pkg/macros/macros.go; CHDatasource.ts applyConditionalAll and its formatter; Grafana's
sqlstring), refuse what would not be safe or valid, and the result runs on chDB."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.clickhouse import ClickHouse
from dashboards.macros import MacroError, expand
from dashboards.templating import ALL, TemplateError, bind
from tests.alerts.harness import put

FROM = dt.datetime(2026, 11, 18, 10, 0, 0, 999_000, tzinfo=dt.UTC)  # .999 s: Unix() rounds down
TO = dt.datetime(2026, 11, 18, 11, 0, 0, tzinfo=dt.UTC)
F, T = 1_794_996_000, 1_794_999_600  # FROM, TO in whole seconds


def x(sql: str, interval_s: float = 60, **variables: object) -> str:
    return expand(sql, FROM, TO, interval_s, variables)  # type: ignore[arg-type]


def test_time_macros_are_the_plugins_text() -> None:
    assert x("$__timeFilter(ts)") == f"ts >= toDateTime({F}) AND ts <= toDateTime({T})"
    assert x("$__timeFilter_ms(s.ts)") == (
        f"s.ts >= fromUnixTimestamp64Milli({F}999) AND s.ts <= fromUnixTimestamp64Milli({T}000)"
    )
    assert x("$__fromTime, $__toTime") == f"toDateTime({F}), toDateTime({T})"
    assert x("$__fromTime_ms $__toTime_ms") == (
        f"fromUnixTimestamp64Milli({F}999) fromUnixTimestamp64Milli({T}000)"
    )
    assert x("$__dateFilter(d)") == "d >= toDate('2026-11-18') AND d <= toDate('2026-11-18')"


def test_intervals_are_whole_seconds_and_at_least_one() -> None:
    assert x("$__timeInterval(ts)", 90.9) == (
        "toStartOfInterval(toDateTime(ts), INTERVAL 90 second)"
    )
    assert x("$__timeInterval(ts) / $__interval_s", 0.2) == (
        "toStartOfInterval(toDateTime(ts), INTERVAL 1 second) / 1"
    )
    assert x("$__timeInterval_ms(ts)", 0.25) == (
        "toStartOfInterval(toDateTime64(ts, 3), INTERVAL 250 millisecond)"
    )


def test_arguments_are_one_bracket_split_at_its_own_commas_and_trimmed() -> None:
    assert x("$__timeFilter( toDateTime(a, 'UTC') )") == (
        f"toDateTime(a, 'UTC') >= toDateTime({F}) AND toDateTime(a, 'UTC') <= toDateTime({T})"
    )
    # a bracket after a space is not the macro's: $__fromTime takes none
    assert x("($__fromTime) (1)") == f"(toDateTime({F})) (1)"
    with pytest.raises(MacroError, match="takes 1 argument, got 2"):
        x("$__timeFilter(a, b)")
    with pytest.raises(MacroError, match="not closed"):
        x("$__timeFilter(ts")
    with pytest.raises(MacroError, match="not expanded"):
        x("$__timeFrom(ts)")  # its text differs between plugin versions


def test_conditional_all() -> None:
    sql = "WHERE $__conditionalAll(agent IN (${agent:sqlstring}), $agent) AND 1"
    assert x(sql, agent=ALL) == "WHERE 1=1 AND 1"
    assert x(sql, agent=[]) == "WHERE 1=1 AND 1"  # empty: as All (plugin issue #262)
    assert x(sql, agent=["u_1", "b"]) == "WHERE agent IN ('u_1','b') AND 1"
    nested = "$__conditionalAll(a = 1 AND $__conditionalAll(f(b, c), ${b}), $a)"
    assert x(nested, a=["x"], b=ALL) == "a = 1 AND 1=1"
    assert x(nested, a=ALL, b=["y"]) == "1=1"
    with pytest.raises(TemplateError, match="2 arguments"):
        x("$__conditionalAll(a)", a=ALL)
    with pytest.raises(TemplateError, match="no variable"):
        x("$__conditionalAll(a, $nope)", a=ALL)


def test_variable_formats() -> None:
    many = ["u_1", "a.b:c@d*"]
    assert bind("$v ${v} [[v]]", {"v": many}) == "'u_1','a.b:c@d*' " * 2 + "'u_1','a.b:c@d*'"
    assert bind("${v:sqlstring}|${v:singlequote}|${v:csv}|${v:raw}", {"v": many}) == (
        "'u_1','a.b:c@d*'|'u_1','a.b:c@d*'|u_1,a.b:c@d*|u_1,a.b:c@d*"
    )
    assert bind("${t} < $t2 ${s:sqlstring}", {"t": 0.8, "t2": 80, "s": "x"}) == "0.8 < 80 'x'"
    assert bind("$__interval $__timeFilter(ts)", {}) == "$__interval $__timeFilter(ts)"


@pytest.mark.parametrize(
    "value",
    ["x' OR 1=1 --", "a\\", "a b", "1--", "/*", "$x", 'a"', "", "x" * 129, ["ok", "no'"],
     float("nan"), float("inf"), True, [1]],
)  # fmt: skip
def test_no_value_can_change_the_statement(value: object) -> None:
    with pytest.raises(TemplateError):
        bind("agent IN (${v:sqlstring})", {"v": value})  # type: ignore[dict-item]


def test_what_has_no_value_is_an_error() -> None:
    with pytest.raises(TemplateError, match=r"\$missing has no value"):
        bind("$missing", {})
    with pytest.raises(TemplateError, match="inside \\$__conditionalAll only"):
        bind("agent IN ($agent)", {"agent": ALL})
    with pytest.raises(TemplateError, match="format not supported"):
        bind("${v:json}", {"v": "x"})
    with pytest.raises(MacroError, match="time zone"):
        expand("1", dt.datetime(2026, 1, 1), TO, 1, {})
    with pytest.raises(MacroError):
        expand("1", TO, FROM, 1, {})


async def test_the_expanded_filter_runs_on_chdb_and_is_inclusive_in_whole_seconds(
    db: ClickHouse,
) -> None:
    at = [F * 1000 - 1, F * 1000, F * 1000 + 999, T * 1000, T * 1000 + 1]
    await put(db, "ops_samples", [
        {"id": f"o:{i}", "type": "ops.sample", "ts": ms, "node": "m", "source": "host",
         "metric": "host_cpu_ratio", "value": i, "labels": {}} for i, ms in enumerate(at)
    ])  # fmt: skip
    sql = x(
        "SELECT $__timeInterval(ts) AS time, groupArray(value) AS v FROM ops_samples\n"
        "WHERE $__timeFilter(ts) GROUP BY time ORDER BY time",
        3600,
    )
    _, rows = await db.query(sql)
    # FROM is .999 s: the filter starts at its whole second; TO's second ends it
    assert [(t.replace(tzinfo=dt.UTC).timestamp(), sorted(v)) for t, v in rows] == [
        (F, [1.0, 2.0]), (T, [3.0])
    ]  # fmt: skip
