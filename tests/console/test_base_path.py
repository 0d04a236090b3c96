"""The console as docker-compose runs it behind the proxy: IM_CONSOLE_BASE_PATH=/console and
a Secure cookie scoped to /console/ (a real console process on the session's stack)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from stack.procs import Proc
from stack.services import base_env
from tests.alerts.helpers import PASSWORD, staff
from tests.console.conftest import Running
from tests.console.helpers import CSRF, start
from tests.ports import free_port


@pytest.fixture(scope="module")
def behind_proxy(running: Running) -> Iterator[str]:
    s = running.stack.settings
    port = free_port()
    env = {**base_env(s), "IM_CONSOLE_PORT": str(port), "IM_CONSOLE_SERVER_URL": running.node,
           "IM_CONSOLE_ANALYTICS_URL": running.analytics, "IM_CONSOLE_BASE_PATH": "/console",
           "IM_CONSOLE_SECURE_COOKIE": "true"}  # fmt: skip
    proc = Proc("test-console-base", s.run, s.logs)
    try:
        start(proc, "console", env, f"http://127.0.0.1:{port}/healthz")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.stop()


async def test_everything_lives_under_the_base_path(running: Running, behind_proxy: str) -> None:
    user = await staff(running.node, "sre")
    async with httpx.AsyncClient(base_url=behind_proxy) as http:
        r = await http.get("/console/d/im-redis")
        assert (
            r.status_code == 303
            and r.headers["location"] == "/console/login?next=/console/d/im-redis"
        )
        r = await http.get("/console")
        assert r.status_code == 308 and r.headers["location"] == "/console/"
        login = await http.get("/console/login")
        assert login.status_code == 200 and '<base href="/console/">' in login.text
        assert (await http.get("/login")).status_code == 404
        body = {"username": user.username, "password": PASSWORD}
        r = await http.post("/console/api/session", json=body, headers=CSRF)
        assert r.status_code == 200, r.text
        cookie = r.headers["set-cookie"].lower()
        for flag in ("path=/console/", "secure", "httponly", "samesite=strict"):
            assert flag in cookie, cookie
        # httpx keeps a Secure cookie off plain http: send it as a browser over HTTPS would.
        token = r.cookies["im_console"]
        me = await http.get("/console/api/session", headers={"cookie": f"im_console={token}"})
        assert me.status_code == 200 and me.json()["role"] == "sre"
        page = await http.get("/console/d/im-redis", headers={"cookie": f"im_console={token}"})
        assert page.status_code == 200 and '<base href="/console/">' in page.text
