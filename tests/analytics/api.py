"""Calling the analytics query API as the tests' admin (cs-admin of the test stack)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.client import User
from tests.im.cs_helpers import ADMIN, ADMIN_PW


async def admin(node_url: str) -> User:
    """The stack's first admin, logged in on the server node at `node_url`."""
    return await User.login(node_url, ADMIN, ADMIN_PW)


async def query(analytics_url: str, token: str | None, sql: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token is not None else {}
    async with httpx.AsyncClient(timeout=60) as http:
        return await http.get(f"{analytics_url}/query", params={"sql": sql}, headers=headers)


async def rows(analytics_url: str, token: str, sql: str) -> list[list[Any]]:
    """The rows of a query that must succeed."""
    r = await query(analytics_url, token, sql)
    assert r.status_code == 200, r.text
    found: list[list[Any]] = r.json()["rows"]
    return found
