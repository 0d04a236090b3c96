"""Signing in to the console as a browser does (cookie jar, X-Console header)."""

from __future__ import annotations

import httpx

from tests.alerts.helpers import PASSWORD, staff
from tests.client import User

CSRF = {"x-console": "1"}


async def sign_in(console: str, username: str, password: str) -> httpx.AsyncClient:
    """A client holding the console's session cookie (fails unless signed in)."""
    http = httpx.AsyncClient(base_url=console, timeout=60, follow_redirects=False)
    r = await http.post("/api/session", json={"username": username, "password": password},
                        headers=CSRF)  # fmt: skip
    assert r.status_code == 200, r.text
    return http


async def member(node: str, console: str, role: str) -> tuple[User, httpx.AsyncClient]:
    """A new account with `role` (made by the stack's admin) and its console session."""
    user = await staff(node, role)
    return user, await sign_in(console, user.username, PASSWORD)
