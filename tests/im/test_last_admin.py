"""The last enabled admin cannot be demoted or disabled, on a real node whose
Redis database holds no other admin (a database of its own)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis

from stack.manager import Stack
from tests.client import User
from tests.ports import free_port
from tests.servers import server_node

PORT = free_port()
ADMIN, ADMIN_PW = "only-admin", "admin password 1"
DB = 11  # nobody else uses it: this node's admin is the only one


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    url = stack.settings.redis_url.rsplit("/", 1)[0] + f"/{DB}"
    redis.Redis.from_url(url).flushdb()
    env = {"IM_REDIS_URL": url, "IM_ADMIN_USERNAME": ADMIN, "IM_ADMIN_PASSWORD": ADMIN_PW}
    with server_node(stack, "last-admin", PORT, **env):
        yield f"http://127.0.0.1:{PORT}"


def refused_as_last(r: httpx.Response) -> None:
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "last_admin"


async def test_the_only_admin_can_neither_demote_nor_disable_itself(base: str) -> None:
    admin = await User.login(base, ADMIN, ADMIN_PW)
    refused_as_last(await admin.post(f"/api/admin/users/{admin.user_id}/role", {"role": "user"}))
    refused_as_last(await admin.post(f"/api/admin/users/{admin.user_id}/disable"))
    assert (await admin.get("/api/me")).json()["role"] == "admin"  # nothing changed
    # Promoting itself again (a no-op) is fine.
    r = await admin.post(f"/api/admin/users/{admin.user_id}/role", {"role": "admin"})
    assert r.status_code == 204

    # With a second admin, either may go, but not both.
    second = {"username": "second-admin", "password": "admin password 2", "role": "admin"}
    assert (await admin.post("/api/admin/users", second)).status_code == 201
    other = await User.login(base, second["username"], second["password"])
    r = await other.post(f"/api/admin/users/{admin.user_id}/role", {"role": "agent"})
    assert r.status_code == 204
    refused_as_last(await other.post(f"/api/admin/users/{other.user_id}/disable"))
    refused_as_last(await other.post(f"/api/admin/users/{other.user_id}/role", {"role": "bot"}))
    # A disabled admin does not count: promote the first again, disable it, and the
    # second is the last enabled one again.
    r = await other.post(f"/api/admin/users/{admin.user_id}/role", {"role": "admin"})
    assert r.status_code == 204
    assert (await other.post(f"/api/admin/users/{admin.user_id}/disable")).status_code == 204
    refused_as_last(await other.post(f"/api/admin/users/{other.user_id}/role", {"role": "user"}))
    assert (await other.post(f"/api/admin/users/{admin.user_id}/enable")).status_code == 204
    assert (await other.post(f"/api/admin/users/{other.user_id}/role", {"role": "user"})
            ).status_code == 204  # fmt: skip
