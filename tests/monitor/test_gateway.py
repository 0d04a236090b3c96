"""The gateway sampler: every live node's /metrics into im.ops samples, and from
there into ClickHouse's ops_samples with exact values (a real node, real chDB)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from monitor.gateway import GatewaySampler, parse
from monitor.sample import Sample
from stack.manager import Stack
from tests.client import User
from tests.monitor.helpers import stored
from tests.ports import free_port
from tests.servers import server_node
from tests.waiting import wait_until

PORT, OPS = free_port(), free_port()
NODE = f"gw-sampled-{secrets.token_hex(3)}"
K = 3


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    with server_node(stack, NODE, PORT, ops_port=OPS):
        yield f"http://127.0.0.1:{PORT}"


@pytest.fixture
async def sampler(stack: Stack) -> AsyncIterator[GatewaySampler]:
    redis = aioredis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
    s = GatewaySampler(redis)
    yield s
    await s.close()
    await redis.aclose()


def value(samples: list[Sample], metric: str, **labels: str) -> float:
    found = [s.value for s in samples
             if s.metric == metric and s.labels.get("node") == NODE
             and all(s.labels.get(k) == v for k, v in labels.items())]  # fmt: skip
    assert len(found) == 1, (metric, labels, found)
    return found[0]


def test_parse_keeps_every_number_with_its_labels_and_the_node() -> None:
    text = (
        "# TYPE im_connections gauge\nim_connections 3.0\n"
        '# TYPE im_disconnects counter\nim_disconnects_total{reason="client"} 2.0\n'
        'im_disconnects_created{reason="client"} 1.7e9\n'
        "# TYPE im_outbox_length gauge\nim_outbox_length NaN\n"
    )
    got = [(s.metric, s.value, dict(s.labels), s.ts) for s in parse("n1", text, 5)]
    assert got == [
        ("im_connections", 3.0, {"node": "n1"}, 5),
        ("im_disconnects_total", 2.0, {"reason": "client", "node": "n1"}, 5),
    ]


async def test_k_connections_are_k_in_the_samples_and_in_clickhouse(
    base: str, sampler: GatewaySampler, tmp_path: Path
) -> None:
    before = value(await sampler.sample(), "im_connections")
    user = await User.create(base, "gwsampled")
    devices = [await user.connect(f"d{i}") for i in range(K)]
    try:

        async def moved() -> list[Sample] | None:
            samples = await sampler.sample()
            return samples if value(samples, "im_connections") == before + K else None

        samples = await wait_until(moved, 10, what=f"{K} more connections in the samples")
    finally:
        for d in devices:
            await d.close()
    assert value(samples, "im_signed_in") == before + K
    # Into ClickHouse as the analytics sink stores im.ops (real chDB).
    rows = await stored(
        tmp_path,
        samples,
        "SELECT value FROM ops_samples FINAL WHERE source = 'gateway' "
        f"AND metric = 'im_connections' AND labels['node'] = '{NODE}'",
    )
    assert rows == [(before + K,)]
