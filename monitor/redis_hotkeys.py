"""Hot keys: the top of the newest complete window the server nodes counted.

Each node counts a sample of its own Redis commands per key and, after
every window of `IM_HOTKEY_WINDOW_S` (Redis clock), adds its top keys'
estimated accesses to `ops:hotkeys:<window start>` (im/hotkeys.py,
im/hotkey_flush.py), so the set holds the whole cluster's. Each round reads
the newest window that ended at least half a window (at most 2 s) ago, so
every node had time to add to it: one TIME and one ZREVRANGE WITHSCORES of
the `top` keys. A key is reported by its family and rank, never by name
(key names hold user and conversation ids); the value is estimated
accesses per second over the window, and the sample's time is the window's
end. The names are in that set, for an SRE to read, for KEEP_S.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis.asyncio as aioredis

from im import keys
from im.noderegistry import redis_ms
from monitor.redis_keys import family
from monitor.sample import Maker, Sample

S = Maker("redis")
MAX_GRACE_S = 2.0


def newest_complete(now_ms: int, window_s: int) -> int:
    """Start (epoch s) of the newest window that ended half a window (at most 2 s) ago."""
    grace = min(window_s / 2, MAX_GRACE_S)
    end = int((now_ms / 1000 - grace) // window_s) * window_s
    return end - window_s


def hot_key_samples(
    top: Sequence[tuple[str, float]], window_s: int, window_end_ms: int
) -> list[Sample]:
    """`redis_hot_key_accesses_per_second` of the keys of `top` (name, estimated
    accesses in the window, hottest first), by family and rank, at the window's end."""
    return [
        S.at(
            window_end_ms,
            "redis_hot_key_accesses_per_second",
            n / window_s,
            family=family(key),
            rank=str(rank),
        )
        for rank, (key, n) in enumerate(top, 1)
    ]


class HotKeyReader:
    def __init__(self, redis: aioredis.Redis, top: int, window_s: int) -> None:
        self.redis, self.top, self.window_s = redis, top, window_s
        # The ZREVRANGE of the last round is a keyspace hit or miss in INFO; the
        # hit ratio takes it out again.
        self.own_hits = 0
        self.own_misses = 0

    async def sample(self) -> list[Sample]:
        if self.top < 1:
            return []
        start = newest_complete(await redis_ms(self.redis), self.window_s)
        rows = await self.redis.zrevrange(keys.hot_keys(start), 0, self.top - 1, withscores=True)
        self.own_hits, self.own_misses = (1, 0) if rows else (0, 1)
        top = [(str(row[0]), float(row[1])) for row in rows]
        return hot_key_samples(top, self.window_s, (start + self.window_s) * 1000)
