"""Moderation (uid im-moderation), from the `moderation` detections of the streaming job.

A detection is (user, rule, first_ts): a row written twice counts once. It
mutes its sender until its last message + IM_MUTE_S (the job's default).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from dashboards.alerting import param, rules_markdown
from dashboards.cssql import JOB
from dashboards.grafana import board, limit, markdown, stat_panel, table_panel, timeseries

UID = "im-moderation"
DETECTIONS = "uniqExact(user, rule, first_ts)"
MUTED = f"WHERE last_ts <= $__toTime AND last_ts > $__toTime - INTERVAL {JOB.mute_s} SECOND"


def build() -> dashboard.Dashboard:
    per_rule = (
        f"SELECT $__timeInterval(last_ts) AS time, toString(rule) AS rule,\n"
        f"       {DETECTIONS} AS detections\nFROM moderation\nWHERE $__timeFilter(last_ts)\n"
        "GROUP BY time, rule\nORDER BY time, rule"
    )
    offenders = (
        f"SELECT user, {DETECTIONS} AS detections,\n"
        "       arrayStringConcat(arraySort(groupUniqArray(toString(rule))), ', ') AS rules,\n"
        "       max(last_ts) AS last_detection, argMax(conv, last_ts) AS last_conv\n"
        "FROM moderation\nWHERE $__timeFilter(last_ts)\nGROUP BY user\n"
        "ORDER BY detections DESC, last_detection DESC, user\nLIMIT 20"
    )
    active = f"SELECT uniqExact(user) AS muted\nFROM moderation\n{MUTED}"
    mutes = (
        f"SELECT user, argMax(toString(rule), last_ts) AS rule,\n"
        f"       max(last_ts) + INTERVAL {JOB.mute_s} SECOND AS muted_until\n"
        f"FROM moderation\n{MUTED}\nGROUP BY user\nORDER BY muted_until DESC, user"
    )
    waves = (
        f"SELECT toStartOfInterval(last_ts, INTERVAL 5 MINUTE) AS time, {DETECTIONS} "
        "AS detections\nFROM moderation\nWHERE $__timeFilter(last_ts)\nGROUP BY time\n"
        "ORDER BY time"
    )
    d = board(
        UID,
        "Moderation",
        ["cs", "moderation"],
        "Flood, repeat and abusive detections, the users they mute, spam waves",
    )
    return (
        d.time("now-24h", "now")
        .with_panel(timeseries((1, "Detections per rule", "Detections (flood, repeat, "
             "abusive: docs/events.md, Flood, repeat, abusive) per rule, by the time of their "
             "last message.", "short"), per_rule, bars=True, stack=True))
        .with_panel(table_panel((2, "Top offenders", "The 20 senders with the most detections "
             "in the range, their rules and their newest detection.", "short"), offenders))
        .with_panel(stat_panel((3, "Muted now", "Users muted at the range's end: a detection "
             f"mutes its sender until its last message + {JOB.mute_s} s (IM_MUTE_S).",
             "short"), active))
        .with_panel(table_panel((4, "Active mutes", "Users muted at the range's end, the rule "
             "of their newest detection, and until when.", "short"), mutes, w=18, h=5))
        .with_panel(timeseries((5, "Spam waves: detections per 5 minutes", "Detections per "
             "5-minute bucket, with the spam-wave alert's threshold (it counts a sliding 5 "
             "minutes).", "short"), waves, w=24, bars=True,
             thresholds=limit(param("CsSpamWave", "max_detections"))))
        .with_panel(markdown(6, "Alert rules on this dashboard", "The rules of alerts/rules/ "
             "that link here", rules_markdown(UID), h=4))
    )  # fmt: skip
