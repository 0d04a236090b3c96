"""What an alert message in the chat says: its text and its `alert` object
(docs/protocol.md, "Alert conversations"). Pure: no I/O.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from alerts.model import Kind, Notification
from alerts.payload import starts_at_ms

HEADLINE = {Kind.FIRING: "FIRING", Kind.REPEAT: "STILL FIRING", Kind.RESOLVED: "RESOLVED"}


def utc(ms: int) -> str:
    """2023-11-14 22:13:20 UTC"""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def span(ms: int) -> str:
    """A duration as people say it: 45s, 4m 0s, 2h 5m, 3d 1h."""
    s = max(0, ms) // 1000
    d, h, m = s // 86400, s // 3600 % 24, s // 60 % 60
    if d:
        return f"{d}d {h}h"
    if h:
        return f"{h}h {m}m"
    return f"{m}m {s % 60}s" if m else f"{s}s"


def number(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else f"{value:.4g}"


def link(url: str, external_url: str) -> str:
    """An annotation's link made absolute: one starting with / is under `external_url`."""
    return external_url.rstrip("/") + url if url.startswith("/") else url


def alert_body(n: Notification, external_url: str) -> dict[str, Any]:
    """The body of the `system` message of a notification."""
    a = n.alert
    since = starts_at_ms(a)
    resolved = n.kind is Kind.RESOLVED
    ended = (a.resolved_at_ms if a.resolved_at_ms is not None else n.at_ms) if resolved else None
    runbook = a.annotations.get("runbook_url") or None
    dashboard = link(a.annotations["dashboard"], external_url) if a.annotations.get(
        "dashboard") else None  # fmt: skip
    summary = a.annotations.get("summary") or a.name
    lines = [f"{HEADLINE[n.kind]} · {a.severity} · {a.name}", summary]
    if ended is None:
        lines.append(f"value {number(a.value)} · since {utc(since)}")
    else:
        lines.append(f"fired {utc(since)} · resolved {utc(ended)} (after {span(ended - since)})"
                     f" · last value {number(a.value)}")  # fmt: skip
    links = [f"runbook: {runbook}"] if runbook else []
    links += [f"dashboard: {dashboard}"] if dashboard else []
    if links:
        lines.append(" · ".join(links))
    hint = "" if resolved else " · reply /silence 1h to silence it"
    lines.append(f"fingerprint {a.fingerprint}{hint}")
    return {
        "text": "\n".join(lines),
        "alert": {
            "fingerprint": a.fingerprint,
            "name": a.name,
            "status": "resolved" if resolved else "firing",
            "kind": n.kind.value,
            "severity": a.severity,
            "team": a.team,
            "summary": summary,
            "value": a.value if math.isfinite(a.value) else None,
            "since": since,
            "resolved_at": ended,
            "runbook_url": runbook,
            "dashboard": dashboard,
        },
    }
