"""GET /metrics in the Prometheus text format, and the node registry (a real node)."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families

from im import keys
from im.gwmetrics import frame_type
from im.noderegistry import live_nodes, ops_url
from stack.manager import Stack
from tests.client import Device, User
from tests.metrics import scrape
from tests.ports import free_port
from tests.servers import server_node
from tests.waiting import wait_until

PORT, OPS = free_port(), free_port()
OPS_BASE = f"http://127.0.0.1:{OPS}"
NODE = "gw-metrics"
K = 4


@pytest.fixture(scope="module")
def base(stack: Stack) -> Iterator[str]:
    with server_node(stack, NODE, PORT, ops_port=OPS):
        yield f"http://127.0.0.1:{PORT}"


async def _settles(key: str, value: float) -> None:
    """`key` reaches `value` (a close reaches the node a moment after the client's)."""

    async def there() -> bool:
        return (await scrape(OPS_BASE))[key] == value

    await wait_until(there, what=f"{key} == {value}")


async def test_k_signed_in_connections_move_the_gauges_by_exactly_k(base: str) -> None:
    user = await User.create(base, "gwm")
    before = await scrape(OPS_BASE)
    devices = [await user.connect(f"d{i}") for i in range(K)]
    during = await scrape(OPS_BASE)
    assert during["im_connections"] - before["im_connections"] == K
    assert during["im_signed_in"] - before["im_signed_in"] == K
    assert during["im_connects_total"] - before["im_connects_total"] == K
    auth = 'im_frames_in_total{type="auth"}'
    assert during[auth] - before[auth] == K
    auth_ok = 'im_frames_out_total{type="auth_ok"}'
    assert during[auth_ok] - before[auth_ok] == K
    for d in devices:
        await d.close()
    await _settles("im_connections", before["im_connections"])
    after = await scrape(OPS_BASE)
    assert after["im_signed_in"] == before["im_signed_in"]
    client = 'im_disconnects_total{reason="client"}'
    assert after[client] - before[client] == K


async def test_each_failed_auth_counts_once(base: str) -> None:
    before = await scrape(OPS_BASE)
    failures = 3
    for i in range(failures):
        dev = await Device.open(base)
        await dev.send_auth(secrets.token_urlsafe(32), f"bad-{i}")
        _, code = await dev.until_closed(5)
        assert code == 4401
    await _settles("im_connections", before["im_connections"])
    after = await scrape(OPS_BASE)
    assert after["im_auth_failures_total"] - before["im_auth_failures_total"] == failures
    error = 'im_disconnects_total{reason="error"}'  # 4401 is the server's close
    assert after[error] - before[error] == failures


async def test_a_send_is_counted_timed_and_delivered(base: str) -> None:
    alice, bob = await User.create(base, "gwma"), await User.create(base, "gwmb")
    conv = await alice.group("gwm", [bob])
    da, db = await alice.connect(), await bob.connect()
    before = await scrape(OPS_BASE)
    await da.send_text(conv, "hello")
    await db.recv_type("msg")
    after = await scrape(OPS_BASE)
    for d in (da, db):
        await d.close()
    assert after["im_sends_total"] - before["im_sends_total"] == 1
    count = "im_send_latency_seconds_count"
    assert after[count] - before[count] == 1
    assert after["im_deliveries_total"] - before["im_deliveries_total"] >= 1  # bob (+ echo)
    sent = 'im_frames_out_total{type="sent"}'
    assert after[sent] - before[sent] == 1
    send = 'im_frames_in_total{type="send"}'
    assert after[send] - before[send] == 1


@pytest.mark.usefixtures("base")
async def test_the_whole_body_is_prometheus_text() -> None:
    async with httpx.AsyncClient(base_url=OPS_BASE) as http:
        r = await http.get("/metrics")
    assert r.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    expected = {
        "im_connections": "gauge", "im_signed_in": "gauge", "im_connects": "counter",
        "im_disconnects": "counter", "im_auth_failures": "counter", "im_frames_in": "counter",
        "im_frames_out": "counter", "im_sends": "counter", "im_deliveries": "counter",
        "im_send_latency_seconds": "histogram", "im_retransmits": "counter",
        "im_pushes_dropped": "counter", "im_slow_reader_closes": "counter",
        "im_event_loop_lag_seconds": "histogram", "im_gc_collections": "counter",
        "im_gc_pause_seconds": "counter", "im_outbox_length": "gauge",
        "im_relay_lag_seconds": "gauge", "im_relay_published": "counter",
        "im_auth_failed_unrecorded": "counter",
    }  # fmt: skip
    assert {n: families[n].type for n in expected if n in families} == expected
    assert all(name.startswith("im_") for name in families)
    # Bounded labels only: reasons, frame types, generations, histogram buckets.
    labels = {k for f in families.values() for s in f.samples for k in s.labels}
    assert labels <= {"reason", "type", "generation", "le"}
    reasons = {s.labels["reason"] for s in families["im_disconnects"].samples}
    assert reasons == {"client", "heartbeat_timeout", "replaced", "shutdown", "error"}

    async def lag_measured() -> bool:
        return (await scrape(OPS_BASE))["im_event_loop_lag_seconds_count"] > 0

    await wait_until(lag_measured, what="the event-loop lag sampled")


async def test_a_node_is_in_the_registry_while_it_runs(stack: Stack, redis: aioredis.Redis) -> None:
    name, ops = f"gwm-reg-{secrets.token_hex(3)}", free_port()
    with server_node(stack, name, free_port(), ops_port=ops):
        nodes = await live_nodes(redis)
        assert nodes[name]["ops_url"] == f"http://127.0.0.1:{ops}"
        raw = await redis.hget(keys.NODES, name)
        assert raw is not None
        entry = orjson.loads(raw)
        assert entry["seen"] >= entry["started"] > 0
        assert 0 < await redis.pttl(keys.NODES) <= 15_000
        async with httpx.AsyncClient() as http:  # the URL is the node's /metrics
            assert (await http.get(f"{nodes[name]['ops_url']}/metrics")).status_code == 200
    assert await redis.hget(keys.NODES, name) is None  # a clean stop leaves
    assert name not in await live_nodes(redis)


def test_reply_types_are_read_from_the_encoded_frame_and_bounded() -> None:
    assert frame_type(orjson.dumps({"type": "sent", "cmid": "x"})) == "sent"
    assert frame_type(b'{"type":"history","conv":"c","messages":[]}') == "history"
    assert frame_type(orjson.dumps({"type": "something_new"})) == "other"
    assert frame_type(b'{"cmid":"x","type":"sent"}') == "other"  # type not first


def test_the_ops_url_names_a_wildcard_address_by_the_host_name() -> None:
    assert ops_url("127.0.0.1", 9080) == "http://127.0.0.1:9080"
    assert ops_url("0.0.0.0", 9080) == f"http://{socket.gethostname()}:9080"  # noqa: S104
    assert ops_url("::1", 9080) == "http://[::1]:9080"
