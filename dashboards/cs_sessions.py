"""Customer service — sessions and queue (uid im-cs-sessions), from the raw `session_events`.

An event relayed twice is one event (counted by id, or as one tuple). A
session is queued from its `cs.created` or `cs.requeued` until the next
`cs.accepted` or `cs.closed`; its wait counts from its first `cs.created`
(a requeued session keeps its first place), as the queue alerts have it.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from dashboards.alerting import param, rules_markdown
from dashboards.grafana import bars_panel, board, limit, markdown, table_panel, timeseries

UID = "im-cs-sessions"
LOOKBACK = "INTERVAL 1 DAY"  # a session queued longer than this before the range is not seen
LENGTHS = [("0-5 min", 0, 300), ("5-15 min", 300, 900), ("15-30 min", 900, 1800),
           ("30-60 min", 1800, 3600), ("1-2 h", 3600, 7200),
           ("over 2 h", 7200, 10**12)]  # fmt: skip


def queue(columns: str) -> str:
    """`SELECT time, columns` per bucket start p (seconds): the sessions queued at p (alias
    q: `since` its first cs.created, in s); buckets with none are filled with 0."""
    f, t = "toInt64(toUnixTimestamp($__fromTime))", "toInt64(toUnixTimestamp($__toTime))"
    return f"""SELECT toDateTime(p) AS time, {columns}
FROM (
  SELECT since, arrayJoin(range(
           greatest(intDiv(span.1 + $__interval_s * 1000 - 1, $__interval_s * 1000),
                    intDiv({f} + $__interval_s - 1, $__interval_s)) * $__interval_s,
           least(if(span.2 = 0, {t} + 1, intDiv(span.2 + 999, 1000)), {t} + 1),
           $__interval_s)) AS p
  FROM (
    SELECT arraySort(groupUniqArray((toInt64(toUnixTimestamp64Milli(ts)),
                                     toUInt32OrZero(splitByChar(':', id)[-1]),
                                     toString(type)))) AS ev,
           if(countIf(type = 'cs.created') > 0, minIf(ts, type = 'cs.created'), min(ts))
             AS first_created,
           toUnixTimestamp64Milli(first_created) / 1000 AS since,
           arrayMap(i -> (ev[i].1, arrayFirst(x -> x.3 IN ('cs.accepted', 'cs.closed'),
                                              arraySlice(ev, i + 1)).1),
                    arrayFilter(i -> ev[i].3 IN ('cs.created', 'cs.requeued'),
                                arrayEnumerate(ev))) AS spans
    FROM session_events
    WHERE ts >= $__fromTime - {LOOKBACK} AND ts <= $__toTime
    GROUP BY session
  )
  ARRAY JOIN spans AS span
)
GROUP BY time
ORDER BY time WITH FILL
  FROM toDateTime(intDiv({f} + $__interval_s - 1, $__interval_s) * $__interval_s)
  TO toDateTime({t} + 1) STEP $__interval_s"""


def build() -> dashboard.Dashboard:
    per_hour = (
        "SELECT toStartOfHour(ts) AS time,\n"
        "       uniqExactIf(id, type = 'cs.created') AS started,\n"
        + ",\n".join(f"       uniqExactIf(id, type = 'cs.closed' AND reason = '{r}') "
                     f"AS ended_by_{r}" for r in ("customer", "agent", "inactivity"))
        + "\nFROM session_events\nWHERE $__timeFilter(ts)\nGROUP BY time\nORDER BY time"
    )  # fmt: skip
    ended = (
        "SELECT toString(reason) AS reason, uniqExact(id) AS sessions\nFROM session_events\n"
        "WHERE type = 'cs.closed' AND $__timeFilter(ts)\nGROUP BY reason\n"
        "ORDER BY sessions DESC, reason"
    )
    lengths = ", ".join(f"('{n}', {lo}, {hi})" for n, lo, hi in LENGTHS)
    length = (
        "SELECT b.1 AS length, countIf(length_s >= b.2 AND length_s < b.3) AS sessions\n"
        "FROM (\n  SELECT session, dateDiff('millisecond', minIf(ts, type = 'cs.created'),\n"
        "                                 maxIf(ts, type = 'cs.closed')) / 1000 AS length_s\n"
        "  FROM session_events\n  WHERE session IN (SELECT session FROM session_events\n"
        "                    WHERE type = 'cs.closed' AND $__timeFilter(ts))\n"
        "  GROUP BY session\n  HAVING countIf(type = 'cs.created') > 0\n)\n"
        f"ARRAY JOIN [{lengths}] AS b\nGROUP BY b\nORDER BY b.2"
    )
    agents = (
        "SELECT agent,\n"
        "       uniqExactIf(session, type IN ('cs.accepted', 'cs.transferred')) AS taken,\n"
        "       uniqExactIf(session, type = 'cs.closed') AS closed,\n"
        "       uniqExactIf(session, type = 'cs.closed' AND reason = 'inactivity')"
        " AS closed_inactive\n"
        "FROM session_events\nWHERE agent != '' AND $__timeFilter(ts)\nGROUP BY agent\n"
        "ORDER BY taken DESC, agent"
    )
    d = board(
        UID,
        "Customer service — sessions and queue",
        ["cs"],
        "Support sessions: opened, ended, their length, the queue, per agent",
    )
    d = d.time("now-24h", "now")
    return (
        d.with_panel(timeseries((1, "Sessions started and ended per hour", "Per hour: "
             "sessions opened (cs.created) and closed (cs.closed) by who ended them: the "
             "customer, the agent, or the pipeline for inactivity.", "short"), per_hour, bars=True))
        .with_panel(bars_panel((2, "How sessions ended", "Sessions closed in the range by the "
             "reason of their cs.closed.", "short"), ended, "reason"))
        .with_panel(timeseries((3, "Queue length", "Sessions queued (opened or requeued, not "
             "yet accepted or closed) at each point of the range; the queue alert's threshold "
             "as a line.", "short"), queue("count() AS queued"),
             thresholds=limit(param("CsQueueLong", "max_queued"))))
        .with_panel(timeseries((4, "Oldest wait in the queue", "At each point, how long the "
             "longest-queued session has waited since it was opened (a requeued session keeps "
             "its first place); 0 when none waits.", "s"), queue("max(p - since) AS oldest_wait_s"),
             thresholds=limit(param("CsQueueWaitLong", "max_wait_s"))))
        .with_panel(bars_panel((5, "Session length", "Sessions closed in the range, by the "
             "time from their cs.created to their cs.closed.", "short"), length, "length"))
        .with_panel(table_panel((6, "Sessions per agent", "Per agent: sessions taken "
             "(accepted, or transferred to them) and closed in the range, and of those closed "
             "for inactivity.", "short"), agents))
        .with_panel(markdown(7, "Alert rules on this dashboard", "The rules of alerts/rules/ "
             "that link here", rules_markdown(UID), h=5))
    )  # fmt: skip
