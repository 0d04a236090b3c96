"""Live nodes and their ops endpoints, in Redis: where a collector finds every `/metrics`.

`ops:nodes` is a hash node id -> JSON `{"ops_url", "started", "seen"}` (ms,
Redis' clock, so node clocks do not matter). A node writes its entry when it
starts, refreshes `seen` every `ttl_s / 3` and removes it when it stops
cleanly; an entry whose `seen` is older than `ttl_s` belongs to a node that
died (like presence `pr:{uid}`, the reader compares with Redis' clock), and
the whole hash expires `ttl_s` after the last refresh of any node.
"""

from __future__ import annotations

import asyncio
import logging
import socket

import orjson
import redis.asyncio as aioredis

from im import keys
from im.background import Background
from im.replies import decoded

log = logging.getLogger("im.noderegistry")
TTL_S = 15.0


async def redis_ms(redis: aioredis.Redis) -> int:
    secs, micros = await redis.time()
    return int(secs) * 1000 + int(micros) // 1000


def ops_url(host: str, port: int) -> str:
    """Where others reach the ops port: a wildcard address is named by the host name."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming, not binding
        host = socket.gethostname()
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def live_nodes(redis: aioredis.Redis, ttl_s: float = TTL_S) -> dict[str, dict[str, object]]:
    """node id -> its entry, for every node seen within `ttl_s` (Redis' clock)."""
    now = await redis_ms(redis)
    out: dict[str, dict[str, object]] = {}
    for node, raw in (await redis.hgetall(keys.NODES)).items():
        try:
            entry = orjson.loads(raw)
            if now - int(entry["seen"]) <= ttl_s * 1000:
                out[decoded(node)] = entry
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
    return out


class NodeRegistry(Background):
    """This node's entry in `ops:nodes`, kept fresh while it runs."""

    task_name = "node-registry"

    def __init__(self, redis: aioredis.Redis, node_id: str, url: str, ttl_s: float = TTL_S) -> None:
        self.redis, self.node_id, self.url = redis, node_id, url
        self.ttl_ms = int(ttl_s * 1000)
        self.started_ms = 0

    async def beat(self) -> None:
        now = await redis_ms(self.redis)
        self.started_ms = self.started_ms or now
        entry = orjson.dumps({"ops_url": self.url, "started": self.started_ms, "seen": now})
        async with self.redis.pipeline(transaction=False) as p:
            p.hset(keys.NODES, self.node_id, entry)
            p.pexpire(keys.NODES, self.ttl_ms)
            await p.execute()

    async def _run(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception as e:  # Redis down: the next beat registers again
                log.warning("node registry: %s: %s", type(e).__name__, e)
            await asyncio.sleep(self.ttl_ms / 3000)

    async def stop(self) -> None:
        """Stop beating and leave the registry (a clean stop)."""
        await super().stop()
        try:
            await self.redis.hdel(keys.NODES, self.node_id)
        except Exception as e:
            log.warning("node registry: leaving: %s: %s", type(e).__name__, e)
