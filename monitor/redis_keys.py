"""Redis keys by family (the prefixes of im/keys.py): counts, memory, the biggest keys.

Each round SCANs a bounded sample of keys (`budget`, in SCAN calls of
COUNT 100), carrying the cursor over to the next round, so rounds walk the
whole keyspace in turn and no call is long. When one round walks the whole
keyspace (it starts at cursor 0 and the cursor comes back to 0) the counts
are exact (`method=exact`); otherwise each family's share of the sample is
scaled to DBSIZE (`method=estimate`: SCAN returns keys in hash order, so
the sample is spread over the keyspace). The memory of each sampled key is
`MEMORY USAGE` (no keyspace hit or miss); the `big` biggest get a `TYPE`.
Key names never leave: a key is reported by its family, type and rank.
"""

from __future__ import annotations

from collections import Counter

import redis.asyncio as aioredis

from im import keys
from monitor.sample import Maker, Sample

S = Maker("redis")
SCAN_COUNT = 100
OTHER = "other"
# Longest prefix first, so `cs:open:` wins over `cs:`.
_PREFIXES = sorted(keys.PREFIXES.items(), key=lambda kv: -len(kv[1]))
_FIXED = {name: family for family, name in keys.FIXED.items()}


def family(key: str) -> str:
    """The family of im/keys.py a key belongs to (`other` when none)."""
    if key in _FIXED:
        return _FIXED[key]
    for name, prefix in _PREFIXES:
        if key.startswith(prefix):
            return name
    return OTHER


class KeySampler:
    def __init__(self, redis: aioredis.Redis, budget: int, big: int) -> None:
        self.redis, self.budget, self.big = redis, budget, big
        self._cursor = 0
        # TYPE calls of the last round count as keyspace hits or misses in
        # INFO; the hit ratio takes them out again.
        self.own_hits = 0
        self.own_misses = 0

    async def scan(self) -> tuple[list[str], bool]:
        """A sample of at most about `budget` keys, and whether it is the whole keyspace."""
        start, cursor = self._cursor, self._cursor
        seen: dict[str, None] = {}  # SCAN may return a key twice while rehashing
        while len(seen) < self.budget:
            cursor, batch = await self.redis.scan(cursor, count=min(SCAN_COUNT, self.budget))
            seen.update(dict.fromkeys(map(str, batch)))
            if cursor == 0:
                break
        self._cursor = cursor
        return list(seen), start == 0 and cursor == 0

    async def sample(self) -> list[Sample]:
        sample, exact = await self.scan()
        dbsize = int(await self.redis.dbsize())
        sizes = await self._memory(sample)
        method = "exact" if exact else "estimate"
        scale = 1.0 if exact or not sample else dbsize / len(sample)
        counts: Counter[str] = Counter()
        memory: Counter[str] = Counter()
        for key, size in zip(sample, sizes, strict=True):
            fam = family(key)
            counts[fam] += 1
            memory[fam] += size
        out = [S("redis_keys_sampled", len(sample), method=method)]
        for fam in sorted(counts):
            out.append(S("redis_family_keys", counts[fam] * scale, family=fam, method=method))
            out.append(
                S("redis_family_memory_bytes", memory[fam] * scale, family=fam, method=method)
            )
        return out + await self._biggest(sample, sizes)

    async def _memory(self, sample: list[str]) -> list[int]:
        sizes: list[int] = []
        for i in range(0, len(sample), 500):
            pipe = self.redis.pipeline(transaction=False)
            for key in sample[i : i + 500]:
                pipe.memory_usage(key)
            sizes += [int(n or 0) for n in await pipe.execute()]  # None: gone meanwhile
        return sizes

    async def _biggest(self, sample: list[str], sizes: list[int]) -> list[Sample]:
        top = sorted(zip(sizes, sample, strict=True), reverse=True)[: self.big]
        top = [(size, key) for size, key in top if size > 0]
        pipe = self.redis.pipeline(transaction=False)
        for _, key in top:
            pipe.type(key)
        types = [str(t) for t in await pipe.execute()] if top else []
        self.own_misses = sum(t == "none" for t in types)
        self.own_hits = len(types) - self.own_misses
        return [
            S("redis_big_key_bytes", size, family=family(key), type=typ, rank=str(rank))
            for rank, ((size, key), typ) in enumerate(zip(top, types, strict=True), 1)
            if typ != "none"
        ]
