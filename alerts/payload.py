"""Alerts as Alertmanager writes them: the shape both the webhook payload and
the push to Alertmanager's API use (labels, annotations, RFC 3339 times,
generatorURL). Pure: no I/O.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alerts.model import Alert, Kind, Notification

ZERO_TIME = "0001-01-01T00:00:00Z"  # Go's zero time: Alertmanager's endsAt of a firing alert


def rfc3339(ms: int) -> str:
    """UTC, as Go prints a time (RFC3339Nano): fractions only when there are any,
    without trailing zeros: 2025-01-02T03:04:05Z, 2025-01-02T03:04:05.12Z."""
    t = datetime.fromtimestamp(ms // 1000, UTC)
    frac = f"{ms % 1000:03d}".rstrip("0")
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


def starts_at_ms(alert: Alert) -> int:
    """When it fired; an alert not firing yet counts from when it became active."""
    return alert.fired_at_ms if alert.fired_at_ms is not None else alert.active_since_ms


def generator_url(alert: Alert, external_url: str) -> str:
    """The alert's dashboard (an absolute URL, or one under `external_url`),
    else `external_url` itself, where GET /api/alerts lists it."""
    dashboard = alert.annotations.get("dashboard", "")
    base = external_url.rstrip("/")
    if dashboard.startswith(("http://", "https://")):
        return dashboard
    if dashboard.startswith("/"):
        return base + dashboard
    return base


def webhook_alert(n: Notification, external_url: str) -> dict[str, Any]:
    """One entry of a webhook payload's `alerts`."""
    a = n.alert
    resolved = n.kind is Kind.RESOLVED
    ends = a.resolved_at_ms if a.resolved_at_ms is not None else n.at_ms
    return {
        "status": "resolved" if resolved else "firing",
        "labels": dict(a.labels),
        "annotations": dict(a.annotations),
        "startsAt": rfc3339(starts_at_ms(a)),
        "endsAt": rfc3339(ends) if resolved else ZERO_TIME,
        "generatorURL": generator_url(a, external_url),
        "fingerprint": a.fingerprint,
    }


def common(maps: list[dict[str, str]]) -> dict[str, str]:
    """The pairs every map has (Alertmanager's commonLabels, commonAnnotations)."""
    if not maps:
        return {}
    first, rest = maps[0], maps[1:]
    return {k: v for k, v in sorted(first.items()) if all(m.get(k) == v for m in rest)}


def group_key(team: str) -> str:
    """As Alertmanager spells a group's key: the route ({} the root) and the group's labels."""
    return '{}:{team="' + team + '"}'


def webhook_payloads(notifications: list[Notification], external_url: str) -> list[dict[str, Any]]:
    """Alertmanager's webhook payload (version 4), one per team.

    A payload holds the team's notifications of the call, firing and
    resolved together as an Alertmanager group does (`status` is `firing`
    while any of them fires); one alert appears once (its latest
    notification). Nothing is truncated."""
    by_team: dict[str, dict[str, Notification]] = {}
    for n in notifications:
        by_team.setdefault(n.alert.team, {})[n.alert.fingerprint] = n
    payloads = []
    for team in sorted(by_team):
        alerts = [webhook_alert(n, external_url) for n in by_team[team].values()]
        firing = any(a["status"] == "firing" for a in alerts)
        payloads.append({
            "version": "4",
            "groupKey": group_key(team),
            "truncatedAlerts": 0,
            "status": "firing" if firing else "resolved",
            "receiver": f"im-{team}",
            "groupLabels": {"team": team},
            "commonLabels": common([a["labels"] for a in alerts]),
            "commonAnnotations": common([a["annotations"] for a in alerts]),
            "externalURL": external_url,
            "alerts": alerts,
        })  # fmt: skip
    return payloads


def api_alert(alert: Alert, ends_ms: int, external_url: str) -> dict[str, Any]:
    """One alert of Alertmanager's `POST /api/v2/alerts` body."""
    return {
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": rfc3339(starts_at_ms(alert)),
        "endsAt": rfc3339(ends_ms),
        "generatorURL": generator_url(alert, external_url),
    }
