"""Ids in paths on a real node: one without the server's id form is unknown
(404 with the error body), never a Redis error; support sessions are
limited per customer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from stack.manager import Stack
from tests.client import User
from tests.im.cs_helpers import ADMIN, ADMIN_PW, agent
from tests.ports import free_port
from tests.servers import server_node

PORT = free_port()
OPENS_PER_HOUR = 2


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    env = {"IM_ADMIN_USERNAME": ADMIN, "IM_ADMIN_PASSWORD": ADMIN_PW,
           "IM_CS_OPENS_PER_HOUR": str(OPENS_PER_HOUR)}  # fmt: skip
    with server_node(stack, "path-ids", PORT, **env):
        yield f"http://127.0.0.1:{PORT}"


def not_found(r: httpx.Response) -> None:
    assert r.status_code == 404, (r.request.url, r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == "not_found"
    assert "redis" not in r.text.lower() and "Traceback" not in r.text


async def test_malformed_ids_in_paths_are_unknown_not_errors(base: str) -> None:
    customer, helper = await User.create(base, "ids"), await agent(base)
    admin = await User.login(base, ADMIN, ADMIN_PW)
    sid = (await customer.post("/api/cs/sessions")).json()["session"]
    # Ids that would name keys of other families: cs:open:{uid} (a string), cs:rr.
    odd = [f"open:{customer.user_id}", "rr", "open", "s_XYZ", "s_" + "0" * 17, "x" * 300,
           "s_%E2%80%AE0123456789abcdef", "u_0123456789abcdef", "g_0123456789abcdef"]  # fmt: skip
    for bad in odd:
        not_found(await customer.post(f"/api/cs/sessions/{bad}/close"))
        not_found(await helper.post(f"/api/cs/sessions/{bad}/accept"))
        not_found(await helper.post(f"/api/cs/sessions/{bad}/transfer", {"to": helper.user_id}))
    for uid in ("system", f"open:{customer.user_id}", "u_ABC", "0" * 300):
        not_found(await customer.post(f"/api/friends/{uid}/accept"))
        not_found(await admin.post(f"/api/admin/users/{uid}/role", {"role": "agent"}))
    _, conv = await customer.create_group("g", [])
    gid = (await customer.create_group("h", []))[0]
    for bad in (f"open:{customer.user_id}", "c_zz", conv + "0"):
        not_found(await customer.post(f"/api/groups/{bad}/members", {"user_id": helper.user_id}))
        not_found(await customer.post(f"/api/groups/{bad}/slow_mode", {"interval_s": 1}))
        r = await customer.get(f"/api/conversations/{bad}/messages")  # as an unknown one
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    async with httpx.AsyncClient(base_url=base) as http:
        not_found(await http.delete(f"/api/groups/{gid}/members/rr", headers=customer.headers))
    assert (await customer.post(f"/api/cs/sessions/{sid}/close")).status_code == 200


async def test_a_customer_opens_a_limited_number_of_sessions_per_hour(base: str) -> None:
    customer, other = await User.create(base, "opens"), await User.create(base, "calm")
    for _ in range(OPENS_PER_HOUR):
        sid = (await customer.post("/api/cs/sessions")).json()["session"]
        assert (await customer.post(f"/api/cs/sessions/{sid}/close")).status_code == 200
    r = await customer.post("/api/cs/sessions")
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert error["code"] == "rate_limited" and 3_500_000 < error["retry_after"] <= 3_600_000
    r = await other.post("/api/cs/sessions")  # per customer
    assert r.status_code == 201
    assert (await other.post(f"/api/cs/sessions/{r.json()['session']}/close")).status_code == 200
