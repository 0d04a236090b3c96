"""The gateway sampler: every live server node's `/metrics`, as samples.

The nodes are found in Redis (`ops:nodes`, im/noderegistry.py: each node's
ops URL, refreshed while it runs), so no list of hosts is configured. Each
node's Prometheus text is read with `prometheus_client`'s parser and every
sample becomes one `ops.sample` (source `gateway`) named as the node names
it (docs/events.md "Gateway metrics"; histograms as their `_bucket`, `_sum`
and `_count`), with the node's own labels and `node` added. `_created`
series and values that are not numbers (NaN while a node's Redis is away)
are left out. A node that does not answer is counted, not fatal.
"""

from __future__ import annotations

import asyncio
import math
import time

import httpx
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families

from im.noderegistry import live_nodes
from monitor.sample import Maker, Sample, Skipped

S = Maker("gateway")
SOURCE = S.source


def parse(node: str, text: str, ts: int) -> list[Sample]:
    """The samples of one node's `/metrics` body, at event time `ts` (ms)."""
    out: list[Sample] = []
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name.endswith("_created") or not math.isfinite(s.value):
                continue
            out.append(Sample(SOURCE, s.name, float(s.value), {**s.labels, "node": node}, ts))
    return out


class GatewaySampler:
    name = "gateway"

    def __init__(self, redis: aioredis.Redis, timeout_s: float = 3.0) -> None:
        self.redis = redis
        self.http = httpx.AsyncClient(timeout=timeout_s)

    async def _scrape(self, node: str, url: str) -> list[Sample]:
        ts = int(time.time() * 1000)  # when the node answered, give or take the request
        r = await self.http.get(f"{url}/metrics")
        r.raise_for_status()
        return parse(node, r.text, ts)

    async def sample(self) -> list[Sample]:
        nodes = await live_nodes(self.redis)
        if not nodes:
            raise Skipped("no_nodes")
        scraped = await asyncio.gather(
            *(self._scrape(n, str(e["ops_url"])) for n, e in sorted(nodes.items())),
            return_exceptions=True,
        )
        out: list[Sample] = []
        unanswered = 0
        for result in scraped:
            if isinstance(result, BaseException):
                unanswered += 1
            else:
                out += result
        out.append(S("gateway_nodes", len(nodes)))
        out.append(S("gateway_nodes_unanswered", unanswered))
        return out

    async def close(self) -> None:
        await self.http.aclose()
