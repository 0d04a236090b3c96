"""Password hashing parameters (argon2id) on real Redis."""

from __future__ import annotations

import secrets

import pytest
import redis.asyncio as aioredis

from im import errors as E
from im import keys
from im.accounts import Accounts


async def test_hash_uses_the_configured_parameters_and_old_hashes_still_verify(
    redis: aioredis.Redis,
) -> None:
    cheap = Accounts(redis, 3600, argon2_time_cost=1, argon2_memory_kib=8192)
    default = Accounts(redis, 3600)
    name = f"argon{secrets.token_hex(4)}"
    uid = await cheap.register(name, "correct horse battery")
    stored = await redis.hget(keys.user(uid), "pw")
    assert stored is not None and stored.startswith("$argon2id$v=19$m=8192,t=1,")
    # The default parameters (64 MiB, 3 passes) for new hashes ...
    other = await default.register(f"{name}x", "correct horse battery")
    stored = await redis.hget(keys.user(other), "pw")
    assert stored is not None and stored.startswith("$argon2id$v=19$m=65536,t=3,")
    # ... and a hash made with other parameters still verifies: it carries its own.
    assert (await default.login(name, "correct horse battery")).identity.user_id == uid
    with pytest.raises(E.ApiError) as wrong:
        await default.login(name, "wrong horse battery")
    assert wrong.value.code == E.UNAUTHORIZED
