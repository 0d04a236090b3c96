"""Alerts and notifications for delivery tests, as the evaluator makes them."""

from __future__ import annotations

import secrets

import redis.asyncio as aioredis

from alerts.model import Alert, Kind, Notification, State
from im import keys
from tests.client import User
from tests.im.cs_helpers import ADMIN, ADMIN_PW

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z
PASSWORD = "staff password"


def alert(
    name: str = "RedisDown",
    team: str = "sre",
    severity: str = "critical",
    state: State = State.FIRING,
    value: float = 0.0,
    since_ms: int = T0,
    fired_ms: int | None = T0 + 60_000,
    resolved_ms: int | None = None,
    **labels: str,
) -> Alert:
    return Alert(
        labels={"alertname": name, "severity": severity, "team": team, **labels},
        annotations={
            "summary": f"{name} on {labels.get('instance', 'the stack')}",
            "description": "what it means",
            "runbook_url": f"https://runbooks.example/{name}.md",
            "dashboard": f"/d/{name.lower()}",
        },
        state=state,
        value=value,
        active_since_ms=since_ms,
        fired_at_ms=fired_ms,
        resolved_at_ms=resolved_ms,
        last_true_ms=resolved_ms or fired_ms or since_ms,
    )


def unique_name(prefix: str) -> str:
    """An alert name no other test uses (the test Redis is shared by the session)."""
    return f"{prefix}{secrets.token_hex(4)}"


def notification(a: Alert, kind: Kind | None = None, at_ms: int | None = None) -> Notification:
    kind = kind or (Kind.RESOLVED if a.state is State.RESOLVED else Kind.FIRING)
    at = at_ms if at_ms is not None else (a.resolved_at_ms or a.fired_at_ms or a.active_since_ms)
    start = a.fired_at_ms or a.active_since_ms
    return Notification(kind, a, at, f"{a.fingerprint}:{start}:{kind.value}:0")


async def staff(base: str, role: str) -> User:
    """A new account with `role`, made by the stack's admin, logged in."""
    admin = await User.login(base, ADMIN, ADMIN_PW)
    name = f"{role}-{secrets.token_hex(4)}"
    r = await admin.post("/api/admin/users", {"username": name, "password": PASSWORD,
                                              "role": role})  # fmt: skip
    assert r.status_code == 201, r.text
    return await User.login(base, name, PASSWORD)


async def store(redis: aioredis.Redis, *alerts: Alert) -> None:
    """Write alerts into `al:state` as the evaluator does."""
    await redis.hset(keys.ALERT_STATE, mapping={a.fingerprint: a.to_json() for a in alerts})
