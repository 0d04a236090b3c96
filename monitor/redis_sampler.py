"""The Redis sampler: INFO, the keyspace by family, the biggest and hottest keys, the slow log.

One INFO call (sections server, clients, memory, stats, keyspace) gives
the gauges and counters; the hit ratio is over the interval since the last
round (the collector's own TYPE and ZREVRANGE lookups taken out). Keys per
family and the biggest keys come from redis_keys, the hottest keys (counted
by the server nodes) from redis_hotkeys, new slow-log entries from redis_slowlog.
Every command is O(1) or bounded (SCAN COUNT 100, MEMORY USAGE of one key),
so none holds Redis for long; bench/monitor.py measures a round.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from monitor.redis_hotkeys import HotKeyReader
from monitor.redis_keys import KeySampler
from monitor.redis_slowlog import SlowLog
from monitor.sample import Maker, Sample

S = Maker("redis")

# INFO field -> metric
GAUGES = {
    "used_memory": "redis_used_memory_bytes",
    "used_memory_rss": "redis_rss_bytes",
    "maxmemory": "redis_maxmemory_bytes",
    "mem_fragmentation_ratio": "redis_fragmentation_ratio",
    "instantaneous_ops_per_sec": "redis_ops_per_second",
    "connected_clients": "redis_connected_clients",
    "blocked_clients": "redis_blocked_clients",
    "maxclients": "redis_maxclients",
    "rejected_connections": "redis_rejected_connections_total",
    "evicted_keys": "redis_evicted_keys_total",
    "expired_keys": "redis_expired_keys_total",
    "keyspace_hits": "redis_keyspace_hits_total",
    "keyspace_misses": "redis_keyspace_misses_total",
}


def redis_client(url: str) -> aioredis.Redis:
    """The collector's client: replies as str (a binary value cannot fail a round)."""
    return aioredis.Redis.from_url(
        url,
        decode_responses=True,
        encoding_errors="replace",
        socket_timeout=5.0,
        socket_connect_timeout=2.0,
    )


class RedisSampler:
    name = "redis"

    def __init__(
        self,
        redis: aioredis.Redis,
        scan_keys: int,
        big_keys: int,
        slowlog_max: int,
        hot_keys: int = 10,
        hot_window_s: int = 10,
    ) -> None:
        self.redis = redis
        self.keys = KeySampler(redis, scan_keys, big_keys)
        self.hot = HotKeyReader(redis, hot_keys, hot_window_s)
        self.slowlog = SlowLog(redis, slowlog_max)
        self._last_lookups: tuple[str, int, int] | None = None  # run_id, hits, misses

    async def sample(self) -> list[Sample]:
        info = await self.redis.info("server", "clients", "memory", "stats", "keyspace")
        out = info_samples(info)
        out += self._hit_ratio(info)
        out += await self.keys.sample()
        out += await self.hot.sample()
        out += await self.slowlog.sample(str(info["run_id"]))
        return out

    def _hit_ratio(self, info: dict[str, Any]) -> list[Sample]:
        """Hits / lookups since the last round, the collector's own lookups excluded."""
        run_id, hits, misses = str(info["run_id"]), info["keyspace_hits"], info["keyspace_misses"]
        last, self._last_lookups = self._last_lookups, (run_id, hits, misses)
        if last is None or last[0] != run_id:
            return []  # first round, or Redis restarted: no interval yet
        d_hits = hits - last[1] - self.keys.own_hits - self.hot.own_hits
        d_misses = misses - last[2] - self.keys.own_misses - self.hot.own_misses
        if d_hits + d_misses <= 0:
            return []  # no lookups: no ratio
        return [S("redis_hit_ratio", d_hits / (d_hits + d_misses))]

    async def close(self) -> None:
        return None


def info_samples(info: dict[str, Any]) -> list[Sample]:
    out = [Sample(S.source, name, float(info[f])) for f, name in GAUGES.items() if f in info]
    used, most = info.get("used_memory", 0), info.get("maxmemory", 0)
    if most:
        policy = str(info.get("maxmemory_policy", ""))
        out.append(S("redis_memory_used_ratio", used / most, policy=policy))
    for db, stats in sorted(info.items()):
        if db.startswith("db") and db[2:].isdigit() and isinstance(stats, dict):
            out.append(S("redis_keys", stats["keys"], db=db[2:]))
            out.append(S("redis_keys_expiring", stats["expires"], db=db[2:]))
    return out
