"""A user's token index `utok:{uid}` on a real node: it expires with the last
token, drops expired hashes and holds at most 100 live tokens."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis

from im import keys
from im.accounts import Accounts
from im.tokens import token_digest
from stack.manager import Stack
from tests.client import User
from tests.ports import free_ports
from tests.servers import server_node
from tests.waiting import wait_until

PORT, PORT_LONG = free_ports(2)
TTL_S = 3
CHEAP_HASH = {"IM_ARGON2_TIME_COST": "1", "IM_ARGON2_MEMORY_KIB": "1024"}


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    """Tokens live 3 s."""
    with server_node(stack, "tokens", PORT, IM_TOKEN_TTL_S=str(TTL_S), **CHEAP_HASH):
        yield f"http://127.0.0.1:{PORT}"


@pytest.fixture(scope="module")
def long_lived(stack: Stack) -> Iterator[str]:
    """Tokens live the default 7 days: only a revocation ends one."""
    with server_node(stack, "tokens-long", PORT_LONG, **CHEAP_HASH):
        yield f"http://127.0.0.1:{PORT_LONG}"


async def test_the_index_expires_with_its_tokens_and_drops_expired_ones(
    base: str, redis: aioredis.Redis
) -> None:
    user = await User.create(base, "tok")
    first = [user.token, await user.new_token(), await user.new_token()]
    index = keys.user_tokens(user.user_id)
    assert await redis.zcard(index) == 3
    assert 0 < await redis.pttl(index) <= TTL_S * 1000  # not forever
    # Once those tokens have expired, the next login leaves only its own.
    await wait_until(lambda: all_gone(redis, first), TTL_S + 5, what="the tokens expired")
    latest = await user.new_token()
    assert await redis.zrange(index, 0, -1) == [token_digest(latest)]
    await wait_until(lambda: index_gone(redis, index), TTL_S + 5, what="the index expired")


async def all_gone(redis: aioredis.Redis, tokens: list[str]) -> bool:
    return not await redis.exists(*[keys.token(token_digest(t)) for t in tokens])


async def index_gone(redis: aioredis.Redis, index: str) -> bool:
    return not await redis.exists(index)


async def test_a_user_holds_at_most_100_live_tokens(long_lived: str, redis: aioredis.Redis) -> None:
    user = await User.create(long_lived, "many")  # the first token
    ws = await user.connect()
    second = await user.new_token()
    for _ in range(98):
        await user.new_token()
    assert await ws.quiet(0.5) == []  # 100 tokens: all live
    await user.new_token()
    _, code = await ws.until_closed(5)  # the 101st: the oldest went, with its socket
    assert code == 4401
    assert (await user.get("/api/me")).status_code == 401
    user.token = second
    assert (await user.get("/api/me")).status_code == 200
    assert await redis.zcard(keys.user_tokens(user.user_id)) == 100


async def test_an_index_written_as_a_plain_set_is_converted(redis: aioredis.Redis) -> None:
    accounts = Accounts(redis, 60, argon2_time_cost=1, argon2_memory_kib=1024)
    name = f"old{secrets.token_hex(4)}"
    uid = await accounts.register(name, "correct horse battery")
    live = (await accounts.login(name, "correct horse battery")).token
    index = keys.user_tokens(uid)
    digests = [token_digest(live), "0" * 64]  # one live, one long gone
    await redis.delete(index)
    await redis.sadd(index, *digests)  # as an older server wrote it
    await accounts.logout("not a token")  # harmless on any index
    newest = (await accounts.login(name, "correct horse battery")).token
    assert await redis.type(index) == "zset"
    assert set(await redis.zrange(index, 0, -1)) == {token_digest(live), token_digest(newest)}
    assert await accounts.check(live) is not None
