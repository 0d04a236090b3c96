"""python -m monitor as the stack runs it: probed by /healthz, its samples relayed to im.ops."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from contract import events, topics
from stack.manager import Stack
from tests.ports import free_port
from tests.servers import server_node


@pytest.fixture
def monitor(stack: Stack) -> Iterator[Stack]:
    stack.up(["monitor"])
    try:
        yield stack
    finally:
        stack.down(["monitor"])


async def ops_events(bootstrap: str, node: str, timeout_s: float) -> list[dict[str, Any]]:
    """The ops samples of `node` on im.ops, once the sources redis, kafka and host are all in."""
    consumer = AIOKafkaConsumer(
        topics.OPS, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
        isolation_level="read_committed",
    )  # fmt: skip
    await consumer.start()
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for rec in records:
                    event = orjson.loads(rec.value)
                    if event.get("node") == node:
                        assert rec.key.decode() == event["source"]
                        found.append(event)
            if {"redis", "kafka", "host"} <= {e["source"] for e in found}:
                return found
    finally:
        await consumer.stop()
    raise AssertionError(f"no redis, kafka and host samples of {node} within {timeout_s}s")


async def test_the_stack_runs_the_collector_and_its_samples_reach_kafka(monitor: Stack) -> None:
    s = monitor.settings
    assert monitor.proc("monitor").running()
    async with httpx.AsyncClient() as http:
        health = (await http.get(f"http://127.0.0.1:{s.monitor_port}/healthz")).json()
    assert health["status"] == "ok" and health["rounds"] >= 1
    # The stack names its Flink cluster's REST URL; this test runs no cluster (a
    # session that started the apps' cluster first would have it answer).
    assert health["samplers"]["flink"]["skipped"] in ({"unreachable": health["rounds"]}, {})
    for name in ("redis", "kafka", "host", "pipeline"):
        assert health["samplers"][name]["errors"] == 0, health["samplers"][name]
    # A server node's relay publishes the outbox, the collector's samples with it.
    with server_node(monitor, "relay-for-monitor", free_port()):
        found = await ops_events(s.kafka_bootstrap, "monitor", 60)
    assert all(events.problems(e) == [] for e in found)
    services = {e["labels"].get("service") for e in found if e["metric"] == "process_up"}
    assert {"redis", "kafka", "monitor"} <= services
    redis_max = [e for e in found if e["metric"] == "redis_maxmemory_bytes"]
    assert redis_max and redis_max[0]["value"] == 2**30  # the stack's IM_REDIS_MAXMEMORY
