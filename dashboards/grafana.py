"""Our Grafana vocabulary on the foundation SDK: the ClickHouse query, the datasource
variable, and the few panel shapes the dashboards use.

The SDK has no type for the ClickHouse datasource's query, so `ClickHouseQuery`
is ours, shaped as grafana/clickhouse-datasource's `CHSqlQuery`
(src/types/sql.ts): `editorType: "sql"`, `rawSql`, `format` (sqlds'
FormatQueryOption: 0 time series, long rows pivoted by their text columns; 1
table) and `queryType` (`timeseries`, `table`). Every panel and query names
the datasource as `${datasource}`, a variable of type datasource for the
plugin, never a uid: whichever ClickHouse datasource the Grafana has.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any

from grafana_foundation_sdk.builders import barchart, common, dashboard, stat, table, text
from grafana_foundation_sdk.builders import timeseries as ts
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common as mcommon
from grafana_foundation_sdk.models import dashboard as mdash
from grafana_foundation_sdk.models.text import TextMode

PLUGIN = "grafana-clickhouse-datasource"
DATASOURCE = mdash.DataSourceRef(type_val=PLUGIN, uid="${datasource}")


class Format(IntEnum):
    TIME_SERIES = 0
    TABLE = 1


class ClickHouseQuery(cogvariants.Dataquery):
    def __init__(self, raw_sql: str, fmt: Format, ref_id: str = "A") -> None:
        self.raw_sql, self.format, self.ref_id = raw_sql.strip() + "\n", fmt, ref_id

    def to_json(self) -> dict[str, Any]:
        return {
            "refId": self.ref_id,
            "datasource": DATASOURCE.to_json(),
            "editorType": "sql",
            "format": int(self.format),
            "queryType": "timeseries" if self.format is Format.TIME_SERIES else "table",
            "rawSql": self.raw_sql,
        }


class Query(cogbuilder.Builder[cogvariants.Dataquery]):
    def __init__(self, raw_sql: str, fmt: Format, ref_id: str = "A") -> None:
        self._query = ClickHouseQuery(raw_sql, fmt, ref_id)

    def build(self) -> cogvariants.Dataquery:
        return self._query


def datasource_variable() -> dashboard.DatasourceVariable:
    return (
        dashboard.DatasourceVariable("datasource")
        .label("ClickHouse")
        .type(PLUGIN)
        .description("The ClickHouse datasource every panel reads (analytics' database)")
    )


def limit(value: float, bad_above: bool = True) -> dashboard.ThresholdsConfig:
    """Green, then red from `value` up (or red, then green from `value` up)."""
    low, high = ("green", "red") if bad_above else ("red", "green")
    steps = [mdash.Threshold(None, low), mdash.Threshold(value, high)]
    return dashboard.ThresholdsConfig().mode(mdash.ThresholdsMode.ABSOLUTE).steps(steps)


def _plain() -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(mdash.ThresholdsMode.ABSOLUTE)
        .steps([mdash.Threshold(None, "green")])
    )


Spec = tuple[int, str, str, str]  # id, title, description, unit


def timeseries(
    spec: Spec, sql: str, *, w: int = 12, h: int = 8, bars: bool = False, stack: bool = False,
    thresholds: dashboard.ThresholdsConfig | None = None,
) -> ts.Panel:  # fmt: skip
    """A time series: `time` and value columns (wide), or plus text columns (long)."""
    pid, title, description, unit = spec
    p = (
        ts.Panel().id(pid).title(title).description(description).unit(unit).span(w).height(h)
        .datasource(DATASOURCE).with_target(Query(sql, Format.TIME_SERIES))
        .legend(common.VizLegendOptions().show_legend(True)
                .display_mode(mcommon.LegendDisplayMode.LIST)
                .placement(mcommon.LegendPlacement.BOTTOM))
        .thresholds(thresholds or _plain())
    )  # fmt: skip
    if bars:
        p = p.draw_style(mcommon.GraphDrawStyle.BARS).fill_opacity(80)
    if stack:
        p = p.stacking(common.StackingConfig().mode(mcommon.StackingMode.NORMAL))
    if thresholds is not None:
        p = p.thresholds_style(
            common.GraphThresholdsStyleConfig().mode(mcommon.GraphThresholdsStyleMode.LINE)
        )
    return p


def stat_panel(
    spec: Spec, sql: str, *, w: int = 6, h: int = 5,
    thresholds: dashboard.ThresholdsConfig | None = None, extra: tuple[Query, ...] = (),
    columns: Mapping[str, str] | None = None,
) -> stat.Panel:  # fmt: skip
    """The last value of each column of a one-row (or time series) answer; `columns`: a
    column's own unit where it is not the panel's (a byName override)."""
    pid, title, description, unit = spec
    p = (
        stat.Panel().id(pid).title(title).description(description).unit(unit).span(w).height(h)
        .datasource(DATASOURCE).with_target(Query(sql, Format.TABLE))
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False)
                        .fields("/.*/"))  # text columns too (the Flink job's state)
        .color_mode(mcommon.BigValueColorMode.VALUE)
        .graph_mode(mcommon.BigValueGraphMode.NONE)
        .thresholds(thresholds or _plain())
    )  # fmt: skip
    for q in extra:
        p = p.with_target(q)
    for name, own in (columns or {}).items():
        p = p.override_by_name(name, units(own))
    return p


def table_panel(
    spec: Spec, sql: str, *, w: int = 12, h: int = 8, columns: Mapping[str, str] | None = None
) -> table.Panel:
    """A table; the panel's unit is every numeric column's but those of `columns`, which
    get their own (a byName override each), e.g. {"rank": "none", "bytes": "bytes"}."""
    pid, title, description, unit = spec
    p = (
        table.Panel().id(pid).title(title).description(description).unit(unit).span(w).height(h)
        .datasource(DATASOURCE).with_target(Query(sql, Format.TABLE)).thresholds(_plain())
    )  # fmt: skip
    for name, own in (columns or {}).items():
        p = p.override_by_name(name, units(own))
    return p


def bars_panel(spec: Spec, sql: str, x_field: str, *, w: int = 12, h: int = 8) -> barchart.Panel:
    """Bars of a table answer, one bar group per `x_field` value."""
    pid, title, description, unit = spec
    return (
        barchart.Panel().id(pid).title(title).description(description).unit(unit).span(w)
        .height(h).datasource(DATASOURCE).with_target(Query(sql, Format.TABLE))
        .x_field(x_field).thresholds(_plain())
    )  # fmt: skip


def markdown(pid: int, title: str, description: str, content: str, *, h: int = 8) -> text.Panel:
    return (
        text.Panel().id(pid).title(title).description(description).span(24).height(h)
        .mode(TextMode.MARKDOWN).content(content)
    )  # fmt: skip


def board(uid: str, title: str, tags: list[str], description: str) -> dashboard.Dashboard:
    """A dashboard with the datasource variable, UTC times and a 1-minute refresh."""
    return (
        dashboard.Dashboard(title).uid(uid).tags(["im", *tags]).description(description)
        .timezone("utc").refresh("1m").editable()
        .time("now-6h", "now").with_variable(datasource_variable())
    )  # fmt: skip


def units(unit: str) -> list[mdash.DynamicConfigValue]:
    """An override's properties: this unit."""
    return [mdash.DynamicConfigValue("unit", unit)]
