"""Signing in and out of the real console, its cookie, CSRF header, and who may open what."""

from __future__ import annotations

import json
from contextlib import aclosing

import httpx
import pytest

from dashboards.catalog import BUILD_DIR as BUILD
from tests.alerts.helpers import PASSWORD, staff
from tests.client import User
from tests.console.conftest import Running
from tests.console.helpers import CSRF, member, sign_in
from tests.im.cs_helpers import ADMIN, ADMIN_PW


async def test_sign_in_sets_a_strict_http_only_cookie_and_tells_who(running: Running) -> None:
    user = await staff(running.node, "manager")
    async with httpx.AsyncClient(base_url=running.console) as http:
        body = {"username": user.username, "password": PASSWORD}
        r = await http.post("/api/session", json=body, headers=CSRF)
        assert r.status_code == 200, r.text
        assert r.json() == {"user_id": user.user_id, "username": user.username, "role": "manager"}
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("im_console=")
        for flag in ("HttpOnly", "SameSite=strict", "Path=/"):
            assert flag.lower() in cookie.lower(), cookie
        assert "secure" not in cookie.lower()  # IM_CONSOLE_SECURE_COOKIE defaults to false
        me = (await http.get("/api/session")).json()
        assert me["role"] == "manager" and me["username"] == user.username
        assert me["pages"] == ["live", "alerts"]
        assert [d["uid"] for d in me["dashboards"]] == [
            "im-cs-reply-rate", "im-cs-sessions", "im-moderation"]  # fmt: skip


async def test_wrong_password_401_and_no_cookie(running: Running) -> None:
    user = await staff(running.node, "sre")
    async with httpx.AsyncClient(base_url=running.console) as http:
        body = {"username": user.username, "password": "not the password"}
        r = await http.post("/api/session", json=body, headers=CSRF)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized", r.text
        assert "set-cookie" not in r.headers


async def test_a_plain_user_may_not_sign_in(running: Running) -> None:
    user = await User.create(running.node)
    async with httpx.AsyncClient(base_url=running.console) as http:
        body = {"username": user.username, "password": user.password}
        r = await http.post("/api/session", json=body, headers=CSRF)
        assert r.status_code == 403 and "set-cookie" not in r.headers, r.text


async def test_anonymous_pages_go_to_sign_in_and_the_api_says_401(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.console) as http:
        for path in ("/", "/d/im-cs-reply-rate", "/live", "/alerts", "/admin"):
            r = await http.get(path)
            assert r.status_code == 303, path
            assert r.headers["location"] == f"/login?next={path}"
        login = await http.get("/login")
        assert login.status_code == 200 and '<base href="/">' in login.text
        assert login.headers["content-security-policy"].startswith("default-src 'self'")
        for path in ("/api/session", "/api/dashboards", "/api/dashboards/im-redis",
                     "/api/live/cs", "/api/alerts"):  # fmt: skip
            r = await http.get(path)
            assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized", path
        r = await http.post("/api/dashboards/im-cs-reply-rate/panels/1/query",
                            json={}, headers=CSRF)  # fmt: skip
        assert r.status_code == 401


async def test_roles_decide_pages_and_api(running: Running) -> None:
    _, manager = await member(running.node, running.console, "manager")
    _, sre = await member(running.node, running.console, "sre")
    async with aclosing(manager), aclosing(sre):
        assert (await manager.get("/d/im-cs-reply-rate")).status_code == 200
        page = await manager.get("/d/im-redis")
        assert page.status_code == 403 and '<base href="/">' in page.text
        assert (await manager.get("/api/dashboards/im-redis")).status_code == 403
        assert (await manager.get("/admin")).status_code == 403
        assert (await manager.get("/live")).status_code == 200
        assert (await sre.get("/live")).status_code == 403
        assert (await sre.get("/api/live/cs")).status_code == 403
        assert (await sre.get("/d/im-redis")).status_code == 200
        assert (await sre.get("/d/im-cs-reply-rate")).status_code == 403
        assert (await sre.get("/alerts")).status_code == 200
        assert (await sre.get("/d/no-such-board")).status_code == 404
        assert (await sre.get("/api/dashboards/no-such-board")).status_code == 404
        uids = [d["uid"] for d in (await sre.get("/api/dashboards")).json()]
        assert uids == ["im-gateway", "im-host", "im-kafka-pipeline", "im-redis"]


async def test_a_dashboard_is_its_built_json(running: Running) -> None:
    built = json.loads(BUILD.joinpath("im-redis.json").read_text())
    _, sre = await member(running.node, running.console, "sre")
    async with aclosing(sre):
        r = await sre.get("/api/dashboards/im-redis")
        assert r.json() == built


async def test_logout_and_role_change_act_on_the_next_request(running: Running) -> None:
    user, http = await member(running.node, running.console, "manager")
    async with aclosing(http):
        assert (await http.get("/api/live/cs")).status_code == 200
        admin = await User.login(running.node, ADMIN, ADMIN_PW)
        r = await admin.post(f"/api/admin/users/{user.user_id}/role", {"role": "sre"})
        assert r.status_code == 204, r.text
        assert (await http.get("/api/live/cs")).status_code == 403
        assert (await http.get("/api/session")).json()["role"] == "sre"
        token = http.cookies["im_console"]
        assert (await http.delete("/api/session")).status_code == 403  # no X-Console
        r = await http.delete("/api/session", headers=CSRF)
        assert r.status_code == 204 and "im_console=" in r.headers["set-cookie"]
        assert (await http.get("/api/session")).status_code == 401
        # The token itself is revoked on the node, not just forgotten by the browser.
        reuse = await running_node_me(running.node, token)
        assert reuse == 401


async def running_node_me(node: str, token: str) -> int:
    async with httpx.AsyncClient(base_url=node) as http:
        r = await http.get("/api/me", headers={"authorization": f"Bearer {token}"})
        return r.status_code


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_state_changes_need_the_console_header(running: Running, method: str) -> None:
    _, http = await member(running.node, running.console, "admin")
    async with aclosing(http):
        path = "/api/session" if method == "DELETE" else "/api/admin/users"
        r = await http.request(method, path, json={"username": "x", "password": "y"})
        assert r.status_code == 403 and "X-Console" in r.json()["error"]["message"]
        assert (await http.get("/api/session")).status_code == 200  # still signed in
    async with httpx.AsyncClient(base_url=running.console) as anon:
        r = await anon.post("/api/session", json={"username": ADMIN, "password": ADMIN_PW})
        assert r.status_code == 403 and "set-cookie" not in r.headers


async def test_bad_bodies(running: Running) -> None:
    async with httpx.AsyncClient(base_url=running.console) as http:
        r = await http.post("/api/session", content=b"{not json", headers=CSRF)
        assert r.status_code == 400 and r.json()["error"]["message"] == "body must be JSON"
        big = b'{"username": "' + b"x" * 70_000 + b'"}'
        r = await http.post("/api/session", content=big, headers=CSRF)
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    http = await sign_in(running.console, ADMIN, ADMIN_PW)
    async with aclosing(http):
        assert (await http.get("/api/session")).json()["pages"] == ["live", "alerts", "admin"]


async def test_files_outside_the_static_folder_and_unlisted_packages_are_404(
    running: Running,
) -> None:
    async with httpx.AsyncClient(base_url=running.console) as http:
        for path in ("/static/%2e%2e/index.html", "/static/%2e%2e/%2e%2e/app.py",
                     "/static/no-such.js", "/vendor/left-pad/index.js",
                     "/vendor/%2e%2e/%2e%2e/session.py"):  # fmt: skip
            r = await http.get(path)
            assert r.status_code == 404, (path, r.text)
