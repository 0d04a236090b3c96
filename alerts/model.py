"""What an alert is, between the parts of `alerts/`: the evaluator's state machine
makes `Alert`s and `Notification`s; delivery (webhook, Alertmanager, the chat)
only reads them. Field names follow Alertmanager's (`startsAt`, `endsAt`,
`fingerprint`) so the webhook payload is a rendering, not a translation.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

SEVERITIES = ("critical", "warning", "info")
TEAMS = ("sre", "cs")  # sre alerts go to the ops conversation, cs to the managers'


class State(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"  # the condition holds, for `for` not yet
    FIRING = "firing"
    RESOLVED = "resolved"  # cleared (after keep_firing_for); kept a while as "recent"


class Kind(StrEnum):
    FIRING = "firing"  # first notification of a firing alert
    REPEAT = "repeat"  # still firing after the repeat interval
    RESOLVED = "resolved"


def fingerprint(labels: dict[str, str]) -> str:
    """16 hex digits of SHA-256 over the sorted labels (alertname included)."""
    text = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Alert:
    """One series of one rule: the rule's labels plus the row's, its state and times (ms)."""

    labels: dict[str, str]  # alertname, severity, team, the rule's labels, the row's labels
    annotations: dict[str, str]  # summary, description, runbook_url, dashboard (rendered)
    state: State
    value: float
    active_since_ms: int  # first evaluation the condition held (pending from then)
    fired_at_ms: int | None = None  # when it went firing (Alertmanager's startsAt)
    resolved_at_ms: int | None = None  # endsAt
    last_true_ms: int = 0  # last evaluation the condition held
    last_notified_ms: int | None = None  # for the repeat interval; None: nothing said yet
    silenced_until_ms: int | None = None
    fingerprint: str = field(default="")
    # First evaluation the condition no longer held while firing: keep_firing_for
    # counts from it (Prometheus' KeepFiringSince); None while it holds.
    keep_firing_since_ms: int | None = None
    repeats: int = 0  # REPEAT notifications sent since it fired

    def __post_init__(self) -> None:
        if not self.fingerprint:
            self.fingerprint = fingerprint(self.labels)

    @property
    def name(self) -> str:
        return self.labels["alertname"]

    @property
    def team(self) -> str:
        return self.labels.get("team", "sre")

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "warning")

    def to_json(self) -> str:
        """One JSON object (the value of the evaluator's `al:state` hash)."""
        return orjson.dumps(dataclasses.asdict(self)).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Alert:
        """The alert `to_json` wrote; fields it does not know are ignored, missing ones
        take their defaults (an older or newer evaluator's state still loads)."""
        raw: dict[str, Any] = orjson.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        data = {k: v for k, v in raw.items() if k in known}
        data["state"] = State(data["state"])
        data["value"] = float(data["value"])
        return cls(**data)


@dataclass(frozen=True)
class Notification:
    """What delivery sends: one alert at one transition. `key` is unique per
    transition (fingerprint, startsAt, kind, repeat number), so a notification
    retried after a crash is recognised as already sent (the chat's `cmid`)."""

    kind: Kind
    alert: Alert
    at_ms: int  # evaluation time that caused it
    key: str
