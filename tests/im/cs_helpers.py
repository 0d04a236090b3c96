"""Shared set-up for customer-service tests: an admin, agents, Kafka reads."""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx

from im.consumer import EventConsumer
from tests.client import User

ADMIN, ADMIN_PW = "cs-admin", "admin password 1"


async def login(base: str, username: str, password: str) -> User:
    user = User(base, username, password)
    async with httpx.AsyncClient(base_url=base) as http:
        r = await http.post("/api/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    user.token, user.user_id = r.json()["token"], r.json()["user_id"]
    return user


async def agent(base: str) -> User:
    admin = await login(base, ADMIN, ADMIN_PW)
    name = f"agent-{secrets.token_hex(4)}"
    staff = {"username": name, "password": "agent password", "role": "agent"}
    r = await admin.post("/api/admin/users", staff)
    assert r.status_code == 201, r.text
    return await login(base, name, "agent password")


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
