"""Signing in to the console as a browser does (cookie jar, X-Console header)."""

from __future__ import annotations

import sys

import httpx

from stack import probes
from stack.procs import Proc
from tests.alerts.helpers import PASSWORD, staff
from tests.client import User
from tests.waiting import wait_until_sync

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


def start(proc: Proc, module: str, env: dict[str, str], url: str) -> None:
    """`python -m <module>` as `proc`, waited for until `url` answers."""
    proc.stop()
    proc.start([sys.executable, "-m", module], env)

    def ready() -> bool:
        assert proc.running(), proc.tail()
        return probes.http_ready(url) is None

    wait_until_sync(ready, 60, what=f"{module} ready", interval=0.2)
