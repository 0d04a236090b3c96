"""Registration on a real node: limited per client address and per cluster,
display names normalised, invisible and reserved ones refused."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest
import redis.asyncio as aioredis

from im import keys
from stack.manager import Stack
from tests.client import User, http_client, loopback_address
from tests.ports import free_port
from tests.servers import server_node

PORT = free_port()
PER_ADDRESS, PER_MINUTE = 3, 5
CHEAP_HASH = {"IM_ARGON2_TIME_COST": "1", "IM_ARGON2_MEMORY_KIB": "1024"}


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    env = {"IM_REGISTER_MAX_PER_ADDRESS": str(PER_ADDRESS),
           "IM_REGISTER_MAX_PER_MINUTE": str(PER_MINUTE), **CHEAP_HASH}  # fmt: skip
    with server_node(stack, "register", PORT, **env):
        yield f"http://127.0.0.1:{PORT}"


@pytest.fixture
async def fresh_minute(redis: aioredis.Redis) -> None:
    """The cluster-wide count starts at 0 (other tests' nodes registered users in it)."""
    await redis.delete(keys.REGISTRATIONS_TOTAL)


async def register(http: httpx.AsyncClient, display_name: str | None = None) -> httpx.Response:
    body = {"username": f"reg{secrets.token_hex(5)}", "password": "correct horse battery"}
    if display_name is not None:
        body["display_name"] = display_name
    return await http.post("/api/register", json=body)


def refused_for(r: httpx.Response, longest_ms: int) -> None:
    assert r.status_code == 429, r.text
    error = r.json()["error"]
    assert set(error) == {"code", "message", "retry_after"}
    assert error["code"] == "rate_limited" and 0 < error["retry_after"] <= longest_ms


async def test_registrations_are_limited_per_address_then_for_the_cluster(
    base: str, fresh_minute: None
) -> None:
    office, home = loopback_address(), loopback_address()
    async with http_client(base, office) as http:
        assert [(await register(http)).status_code for _ in range(PER_ADDRESS)] == [201] * 3
        refused_for(await register(http), 600_000)  # the address's 10-minute window
        bad = await http.post("/api/register", json={"username": "x", "password": "short"})
        assert bad.status_code == 400  # refused before counting: costs nothing
    async with http_client(base, home) as http:  # another address: its own count ...
        assert [(await register(http)).status_code for _ in range(2)] == [201] * 2
        refused_for(await register(http), 60_000)  # ... but the cluster's minute is used up


@pytest.mark.parametrize(
    "name",
    ["System", " system ", "SYSTEM", "S y s t e m", "Ｓｙｓｔｅｍ", "[system]", "Admin",
     "administrator", "ROOT"],
)  # fmt: skip
async def test_reserved_display_names_are_refused(base: str, name: str) -> None:
    async with http_client(base, loopback_address()) as http:
        r = await register(http, name)
    assert r.status_code == 400, r.text
    assert r.json() == {"error": {"code": "invalid", "message": "this display name is reserved"}}


@pytest.mark.parametrize(
    "name",
    ["Bob\u202eevil", "\u2066Bob\u2069", "Bo\u200bb", "\u200b", "Bob\x00", "Bob\nBob", "\u3164",
     "Bob\u2028", "\ufeffBob", "   "],
)  # fmt: skip
async def test_control_and_invisible_characters_are_refused(base: str, name: str) -> None:
    async with http_client(base, loopback_address()) as http:
        r = await register(http, name)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid"


async def test_a_reserved_username_is_refused_as_the_default_display_name(base: str) -> None:
    async with http_client(base, loopback_address()) as http:
        r = await http.post("/api/register", json={"username": "admin", "password": "longenough"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"


async def test_display_names_are_stored_normalised(base: str, fresh_minute: None) -> None:
    address = loopback_address()
    user = User(base, f"norm{secrets.token_hex(4)}", "correct horse battery", address=address)
    async with http_client(base, address) as http:
        r = await http.post("/api/register", json={
            "username": user.username, "password": user.password,
            "display_name": "  Ａｌｉｃｅ \u3000  Smith  "})  # fmt: skip
        assert r.status_code == 201, r.text
    logged_in = await User.login(base, user.username, user.password, address=address)
    assert (await logged_in.get("/api/me")).json()["display_name"] == "Alice Smith"
