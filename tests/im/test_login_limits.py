"""Failed-login limits on a real node: they slow the guesser, not the owner.

Client addresses are distinct loopback addresses (127.x.y.z), so each test
has addresses of its own; the node runs with the default limits (10 per
username, 200 per address, per 5 minutes) and cheap password hashing, so
hundreds of attempts take a second or two.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from stack.manager import Stack
from tests.client import User, http_client, loopback_address
from tests.ports import free_port
from tests.servers import server_node

PORT = free_port()


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    # The login limits are the defaults: this is what a deployment gets.
    env = {"IM_ARGON2_TIME_COST": "1", "IM_ARGON2_MEMORY_KIB": "1024"}
    with server_node(stack, "login-limits", PORT, **env):
        yield f"http://127.0.0.1:{PORT}"


async def attempt(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/api/login", json={"username": username, "password": password})


async def test_a_guesser_elsewhere_is_locked_out_and_the_owner_is_not(base: str) -> None:
    home, attacker, new_place = loopback_address(), loopback_address(), loopback_address()
    owner = await User.create(base, "owner", address=home)  # signed in from home once
    async with http_client(base, attacker) as http:
        codes = [(await attempt(http, owner.username, "guess " + str(i))).status_code
                 for i in range(11)]  # fmt: skip
        assert codes == [401] * 10 + [429]
        r = await attempt(http, owner.username, owner.password)  # even the right one
        assert r.status_code == 429 and 0 < r.json()["error"]["retry_after"] <= 300_000
    async with http_client(base, new_place) as http:  # any address new to the account
        assert (await attempt(http, owner.username, owner.password)).status_code == 429
    async with http_client(base, home) as http:  # the owner, from where they signed in before
        r = await attempt(http, owner.username, owner.password)
        assert r.status_code == 200, r.text
        assert r.json()["user_id"] == owner.user_id


async def test_the_owners_own_typos_lock_only_their_address(base: str) -> None:
    home, office = loopback_address(), loopback_address()
    owner = await User.create(base, "typo", address=home)
    await User.login(base, owner.username, owner.password, address=office)
    async with http_client(base, home) as http:
        codes = [(await attempt(http, owner.username, "typo")).status_code for _ in range(11)]
        assert codes == [401] * 10 + [429]
    async with http_client(base, office) as http:
        assert (await attempt(http, owner.username, owner.password)).status_code == 200


async def test_an_address_is_refused_after_200_failures_not_199(base: str) -> None:
    nat = loopback_address()  # an office behind one NAT: many people, many typos
    async with http_client(base, nat) as http:

        async def fail() -> int:
            return (await attempt(http, f"nobody-{secrets.token_hex(6)}", "wrong")).status_code

        assert [await fail() for _ in range(199)] == [401] * 199
        assert await fail() == 401  # 199 failures so far: the 200th attempt is still heard
        r = await attempt(http, f"nobody-{secrets.token_hex(6)}", "wrong")
        assert r.status_code == 429  # 200 failures: the address waits for its window
        assert r.json()["error"]["code"] == "rate_limited"
        assert 0 < r.json()["error"]["retry_after"] <= 300_000
    async with http_client(base, loopback_address()) as http:  # other addresses go on
        assert (await attempt(http, f"nobody-{secrets.token_hex(6)}", "wrong")).status_code == 401
