"""Customer service — reply rate (uid im-cs-reply-rate), for the managers.

Rates, reply times, unanswered waits and the per-agent table come from
`reply_rates` (the streaming job's final 5-minute windows per agent: small,
and exact by construction); the first-response distribution and the longest
waits, which no result holds, from the raw `chat_events` of the range's last
24 hours (dashboards/cssql.py).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, heatmap
from grafana_foundation_sdk.models import common as mcommon
from grafana_foundation_sdk.models import dashboard as mdash
from grafana_foundation_sdk.models import heatmap as mheat

from dashboards import cssql
from dashboards.alerting import rules_markdown
from dashboards.grafana import (
    DATASOURCE,
    Format,
    Query,
    bars_panel,
    board,
    limit,
    markdown,
    stat_panel,
    table_panel,
    timeseries,
    units,
)  # fmt: skip

UID = "im-cs-reply-rate"
RATES = f"reply_rates FINAL\nWHERE {cssql.RATE_ROWS}"
BOUND = f"{cssql.JOB.reply_within_s} s"
DEFINITION = (
    "A wait starts when a customer writes while not already waiting and ends at the next "
    f"message of a human agent; it is answered if that comes within {BOUND} "
    "(docs/events.md, Wait and 5-minute reply rate)."
)
# The stats' threshold is the target: query B's `target` column sets it (Grafana's
# "Config from query results" transformation).
TARGET = Query("SELECT ${target} AS target", Format.TABLE, "B")
TARGET_THRESHOLD = mdash.DataTransformerConfig(
    id_val="configFromData",
    options={"configRefId": "B",
             "mappings": [{"fieldName": "target", "handlerKey": "threshold1"}]},
)  # fmt: skip


def _variables(d: dashboard.Dashboard) -> dashboard.Dashboard:
    agent = (
        dashboard.QueryVariable("agent").label("Agent").datasource(DATASOURCE)
        .description("Agents whose waits count (a wait is the agent's assigned when it "
                     "started; unassigned: none was)")
        .query("SELECT DISTINCT agent FROM reply_rates\n"
               "WHERE agent != '*' AND $__timeFilter(window_start)\nORDER BY agent")
        .multi(True).include_all(True).refresh(mdash.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(mdash.VariableSort.ALPHABETICAL_ASC)
        .current(mdash.VariableOption(True, ["All"], ["$__all"]))
    )  # fmt: skip
    options = ", ".join(f"{p} % : {p / 100:g}" for p in (70, 75, 80, 85, 90, 95))
    target = (
        dashboard.CustomVariable("target").label("Target").values(options)
        .description("The reply rate aimed at (share of waits answered within 5 minutes)")
        .current(mdash.VariableOption(True, "80 %", "0.8"))
    )  # fmt: skip
    return d.with_variable(agent).with_variable(target)


def _rate_stats(d: dashboard.Dashboard) -> dashboard.Dashboard:
    newest = (
        f"SELECT sum(replied_5m) / sum(waits) AS reply_rate\nFROM {RATES}\n"
        "  AND window_start = (SELECT max(window_start) FROM reply_rates\n"
        f"                      WHERE {cssql.RATE_ROWS} AND window_end <= $__toTime)"
    )
    over = (
        f"SELECT sum(replied_5m) / sum(waits) AS reply_rate\nFROM {RATES}\n"
        "  AND $__timeFilter(window_start)"
    )
    for spec, sql in [
        ((1, "Reply rate now", "Reply rate of the newest final 5-minute window that ended by "
          "the range's end: its waits answered within the bound / its waits. Red below the "
          "target. " + DEFINITION, "percentunit"), newest),
        ((2, "Reply rate over the range", "Waits that started in the range's windows and were "
          "answered within the bound / those waits. Red below the target.", "percentunit"), over),
    ]:  # fmt: skip
        d = d.with_panel(
            stat_panel(
                spec, sql, thresholds=limit(0.8, bad_above=False), extra=(TARGET,)
            ).with_transformation(TARGET_THRESHOLD)
        )
    return d


def _series(d: dashboard.Dashboard) -> dashboard.Dashboard:
    per_window = (
        "SELECT window_start AS time, sum(replied_5m) / sum(waits) AS reply_rate,\n"
        f"       ${{target}} AS target\nFROM {RATES}\n  AND $__timeFilter(window_start)\n"
        "GROUP BY time\nORDER BY time"
    )
    unanswered = (
        "SELECT window_start AS time, sum(waits) - sum(replied_5m) AS unanswered\n"
        f"FROM {RATES}\n  AND $__timeFilter(window_start)\nGROUP BY time\nORDER BY time"
    )
    times = (
        "SELECT window_start AS time, agent, avg_reply_s, p90_reply_s\nFROM reply_rates FINAL\n"
        f"WHERE {cssql.CHOSEN_ROWS}\n  AND $__timeFilter(window_start) AND replied_5m > 0\n"
        "ORDER BY time, agent"
    )
    return (
        d.with_panel(timeseries((3, "Reply rate per window", "Per 5-minute window (by when the "
             "waits started): waits answered within the bound / waits, with the target as a "
             "line. " + DEFINITION, "percentunit"), per_window, w=12))
        .with_panel(timeseries((4, "Reply time per window: average and p90", "Of the waits "
             "answered within the bound, per 5-minute window of their start: the mean and the "
             "90th percentile (linear between ranks) of the reply time; for All of all waits "
             "(*), else per chosen agent (percentiles do not add up).", "s"), times, w=12))
        .with_panel(timeseries((5, "Unanswered waits per window", "Waits that started in the "
             "window and were not answered within the bound.", "short"), unanswered, w=12,
             bars=True))
    )  # fmt: skip


def _tables(d: dashboard.Dashboard) -> dashboard.Dashboard:
    agents = (
        "SELECT agent, sum(waits) AS waits, sum(replied_5m) AS answered_5m,\n"
        "       answered_5m / waits AS reply_rate,\n"
        "       sum(avg_reply_s * replied_5m) / nullIf(answered_5m, 0) AS avg_reply_s,\n"
        "       max(p90_reply_s) AS worst_p90_s\n"
        f"FROM {RATES}\n  AND $__timeFilter(window_start)\n"
        "GROUP BY agent\nORDER BY reply_rate, waits DESC, agent"
    )
    busiest = (
        "SELECT dateName('weekday', window_start) AS weekday,\n       "
        + ",\n       ".join(
            f"sumIf(waits, toHour(window_start) = {h}) AS h{h:02d}" for h in range(24)
        )
        + f"\nFROM {RATES}\n  AND $__timeFilter(window_start)\n"
        "GROUP BY weekday\nORDER BY min(toDayOfWeek(window_start))"
    )
    return (
        d.with_panel(table_panel((6, "Agents, worst first", "Per agent, the waits that started "
             "in the range's windows: how many, answered within the bound, the reply rate, the "
             "mean reply time of the answered ones, and the highest p90 of its 5-minute "
             "windows. " + DEFINITION, "short"), agents)
             .override_by_name("reply_rate", units("percentunit"))
             .override_by_name("avg_reply_s", units("s"))
             .override_by_name("worst_p90_s", units("s")))
        .with_panel(bars_panel((7, "First response time", "Per cs session, the reply time of "
             "its first wait in the range's last 24 hours (for a session opened earlier: its "
             "first wait there), in buckets; the last: not answered within the bound. From "
             "the raw events.", "short"),
             cssql.first_response(), "first_response"))
        .with_panel(_busiest(busiest))
        .with_panel(table_panel((9, "Longest waits", "The 20 waits of the range's last 24 hours "
             "that waited longest (raw events), with their conversation, session and agent: "
             "reply_s is the reply "
             f"time, empty when not answered by the range's end + {BOUND}; waited_s is "
             "the reply time or at least that long.", "none"), cssql.longest_waits(), w=24,
             columns={"reply_s": "s", "waited_s": "s"}))
    )  # fmt: skip


def _busiest(sql: str) -> heatmap.Panel:
    """A weekday × hour heatmap of the table answer: one row per weekday, h00..h23 cells."""
    return (
        heatmap.Panel().id(8).title("Busiest weekday × hour (UTC)")
        .description("Waits started per weekday and hour of the day over the range (pick "
                     "weeks for a full picture), from the 5-minute windows.")
        .unit("short").span(24).height(7).datasource(DATASOURCE)
        .with_target(Query(sql, Format.TABLE)).calculate(False)
        .color(heatmap.HeatmapColorOptions().mode(mheat.HeatmapColorMode.SCHEME)
               .scheme("Oranges").steps(64).exponent(0.5).fill("dark-orange")
               .reverse(False))
        .show_value(mcommon.VisibilityMode.AUTO)
    )  # fmt: skip


def _freshness(d: dashboard.Dashboard) -> dashboard.Dashboard:
    sql = (
        "SELECT (SELECT dateDiff('millisecond', maxOrNull(window_end), now64(3)) / 1000\n"
        "        FROM reply_rates WHERE window_end > now() - INTERVAL 1 DAY\n"
        "          AND window_end <= now64(3)) AS reply_rates_s,\n"
        "       (SELECT dateDiff('millisecond', maxOrNull(ts), now64(3)) / 1000\n"
        "        FROM chat_events WHERE conv_kind = 'cs' AND ts > now() - INTERVAL 1 DAY\n"
        "          AND ts <= now64(3))\n"
        "         AS chat_events_s"
    )
    return d.with_panel(stat_panel((10, "Data freshness", "Seconds since the newest reply-rate "
        "window ended (a window is final about the bound plus the lateness after its end) and "
        "since the newest raw cs message; empty when none in the last day (rows stamped in the "
        "future, from a skewed clock or a replay, are not fresh data and are left out).", "s"), sql,
        w=12, thresholds=limit(900)))  # fmt: skip


def build() -> dashboard.Dashboard:
    d = board(
        UID,
        "Customer service — reply rate",
        ["cs"],
        "5-minute reply rate of customer service, per agent, against a target",
    )
    d = _variables(d.time("now-24h", "now"))
    d = _freshness(_tables(_series(_rate_stats(d))))
    return d.with_panel(
        markdown(
            11,
            "Alert rules on this dashboard",
            "The rules of alerts/rules/ that link here",
            rules_markdown(UID),
            h=5,
        )
    )
