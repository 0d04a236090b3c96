"""Shared set-up for customer-service tests: an admin, agents, Kafka reads."""

from __future__ import annotations

import secrets
import time
from typing import Any

from im.consumer import EventConsumer
from tests.client import User

ADMIN, ADMIN_PW = "cs-admin", "admin password 1"


async def agent(base: str) -> User:
    admin = await User.login(base, ADMIN, ADMIN_PW)
    name = f"agent-{secrets.token_hex(4)}"
    staff = {"username": name, "password": "agent password", "role": "agent"}
    r = await admin.post("/api/admin/users", staff)
    assert r.status_code == 201, r.text
    return await User.login(base, name, "agent password")


async def events_of(
    bootstrap: str, topic: str, match: dict[str, Any], count: int, timeout: float = 30
) -> list[dict[str, Any]]:
    """The first `count` events on `topic` whose fields include `match`."""
    found: list[dict[str, Any]] = []
    consumer = EventConsumer([topic], bootstrap, group_id=None)
    async with consumer:
        deadline = time.monotonic() + timeout
        async for batch in consumer.batches(timeout_ms=300):
            found += [e for _, e in batch if all(e.get(k) == v for k, v in match.items())]
            if len(found) >= count or time.monotonic() > deadline:
                break
    return found
