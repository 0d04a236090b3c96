"""The client address is the TCP peer unless a trusted proxy names another one.

Before, uvicorn believed `X-Forwarded-For` from 127.0.0.1 (its default): a
new made-up header per attempt slipped past the per-address login limit.
The attack comes from 127.0.0.1, whose failed-login bucket in the shared
Redis is emptied before and after; a peer that is not the proxy connects
from a loopback address of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis.asyncio as aioredis

from im.loginlimit import address_key
from stack.manager import Stack
from tests.im.edge_helpers import fresh_address, http_from
from tests.ports import free_port
from tests.servers import server_node

PER_ADDRESS = 3
LIMITS = {
    "IM_LOGIN_MAX_PER_ADDRESS": str(PER_ADDRESS),
    "IM_LOGIN_MAX_PER_USER": "1000",  # every attempt names another user anyway
    "IM_ARGON2_TIME_COST": "1",  # unknown users are hashed too (same time): keep it cheap
    "IM_ARGON2_MEMORY_KIB": "1024",
}
PORT_PLAIN, PORT_PROXIED = free_port(), free_port()
PROXY = "127.0.0.1"  # the peer the second node trusts (its failed logins never count: it forwards)


@pytest.fixture(scope="module")
def plain(stack: Stack) -> Iterator[str]:
    """A node that trusts no proxy (the default)."""
    with server_node(stack, "edge-addr", PORT_PLAIN, **LIMITS):
        yield f"http://127.0.0.1:{PORT_PLAIN}"


@pytest.fixture(scope="module")
def proxied(stack: Stack) -> Iterator[str]:
    """A node behind a proxy at PROXY (and any 10.250.0.0/16 hop before it)."""
    trusted = f"{PROXY},10.250.0.0/16"
    with server_node(stack, "edge-proxied", PORT_PROXIED, IM_TRUSTED_PROXIES=trusted, **LIMITS):
        yield f"http://127.0.0.1:{PORT_PROXIED}"


async def login(http: httpx.AsyncClient, forwarded_for: str, n: int) -> int:
    """The status of one failed login (an unknown user) sent with this header."""
    r = await http.post(
        "/api/login",
        json={"username": f"nobody{n}", "password": "not the password"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return r.status_code


@pytest.fixture
async def loopback_bucket(redis: aioredis.Redis) -> AsyncIterator[None]:
    """127.0.0.1's failed logins, empty for the test and left empty after it."""
    await redis.delete(address_key("127.0.0.1"))
    yield
    await redis.delete(address_key("127.0.0.1"))


@pytest.mark.usefixtures("loopback_bucket")
async def test_a_forwarded_for_header_from_loopback_is_ignored(plain: str) -> None:
    async with http_from("127.0.0.1", plain) as http:
        for n in range(PER_ADDRESS):  # each pretends to be another client
            assert await login(http, f"10.1.0.{n}", n) == 401
        # All of them counted for the real peer: the limit holds, whatever the header says.
        assert await login(http, "10.1.0.99", 99) == 429
        assert await login(http, "10.1.0.100, 10.1.0.101", 100) == 429


async def test_a_trusted_proxy_names_the_client(proxied: str) -> None:
    async with http_from(PROXY, proxied) as http:
        for n in range(PER_ADDRESS):
            assert await login(http, "10.2.0.1", n) == 401
        assert await login(http, "10.2.0.1", 10) == 429  # that client is limited
        assert await login(http, "10.2.0.2", 11) == 401  # another is not, nor the proxy
        # Entries left of the proxy's own were written by the client: the
        # rightmost one that is not a trusted proxy counts.
        assert await login(http, "10.2.0.2, 10.2.0.1", 12) == 429
        assert await login(http, "10.2.0.1, 10.2.0.2, 10.250.1.1", 13) == 401
    # A peer that is not the proxy cannot borrow the header.
    async with http_from(fresh_address(), proxied) as http:
        for n in range(PER_ADDRESS):
            assert await login(http, f"10.3.0.{n}", 20 + n) == 401
        assert await login(http, "10.3.0.99", 30) == 429
