"""Silences of alerts, in one place: `al:silences` (fingerprint -> JSON
{until, by}), written by `POST /api/alerts/{fingerprint}/silence` and by
`/silence` in the chat, read by the evaluator. A later silence of the same
alert replaces an earlier one (it may shorten it); one whose time passed
counts for nothing and is dropped when read.
"""

from __future__ import annotations

import contextlib

import orjson
import redis.asyncio as aioredis
from redis.exceptions import WatchError

from im import keys
from im.replies import decoded

MAX_SILENCE_S = 7 * 86400  # the longest silence, from the chat or the API


class Silences:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def set(self, fingerprint: str, until_ms: int, by: str) -> None:
        await self.redis.hset(
            keys.ALERT_SILENCES, fingerprint, orjson.dumps({"until": until_ms, "by": by})
        )

    async def lift(self, fingerprint: str) -> None:
        await self.redis.hdel(keys.ALERT_SILENCES, fingerprint)

    async def current(self, now_ms: int) -> dict[str, int]:
        """fingerprint -> silenced until (ms), of the silences not over at `now_ms`."""
        found = await self._read()
        if any(until <= now_ms for until in found.values()):
            await self._drop_over(now_ms)
        return {fp: until for fp, until in found.items() if until > now_ms}

    async def _read(self) -> dict[str, int]:
        raw = await self.redis.hgetall(keys.ALERT_SILENCES)
        return {decoded(fp): int(orjson.loads(v)["until"]) for fp, v in raw.items()}

    async def _drop_over(self, now_ms: int) -> None:
        """Drop the silences over at `now_ms`, unless the hash changed meanwhile
        (a new silence of the same alert must not go with the old one)."""
        async with self.redis.pipeline(transaction=True) as p:
            await p.watch(keys.ALERT_SILENCES)
            raw = await p.hgetall(keys.ALERT_SILENCES)
            over = [fp for fp, v in raw.items() if int(orjson.loads(v)["until"]) <= now_ms]
            if over:
                p.multi()  # type: ignore[no-untyped-call]
                p.hdel(keys.ALERT_SILENCES, *over)
                with contextlib.suppress(WatchError):  # changed: the next read drops them
                    await p.execute()
