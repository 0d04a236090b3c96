"""This node's numbers for Prometheus: `GET /metrics` on the ops port (im.opsport).

One `CollectorRegistry` per node (never the process-global one, so two apps
in one process, as in tests, do not share counters). Names follow the
Prometheus conventions: `im_` prefix, `_total` counters, base units
(seconds). Labels are bounded sets only (close reasons, frame types, GC
generations): never a user, device, conversation or address.

What the hot paths count is cheap: a fan-out adds its number of deliveries
once per message (`Hub.stats`, read when scraped), not once per device.
Gauges that need Redis (outbox length, relay lag) are read by the route
just before rendering.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector

from im.background import Background
from im.gcpolicy import GcPauses
from im.hub import RetransmitStats

# No `_created` series: scrapers do not need them, and they double the body.
disable_created_metrics()  # type: ignore[no-untyped-call]

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # what generate_latest writes
# `conn.close` reasons of docs/events.md (im.conn_events.close_reason).
CLOSE_REASONS = ("client", "heartbeat_timeout", "replaced", "shutdown", "error")
# Client frame types (docs/protocol.md), plus `invalid` (did not parse, or
# refused before its type counted) and `binary`.
FRAMES_IN = ("auth", "send", "ack", "sync", "read", "presence", "ping", "pong", "invalid", "binary")
# Frames the server answers a connection with (replies; pushes are counted apart).
FRAMES_OUT = ("auth_ok", "sent", "history", "presence", "pong", "error", "other")
LOOP_LAG_INTERVAL_S = 0.5
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)

_TYPE_HEAD = b'{"type":"'


def frame_type(frame: bytes) -> str:
    """The `type` of an encoded server frame (written first by every builder), bounded."""
    if frame.startswith(_TYPE_HEAD):
        end = frame.find(b'"', len(_TYPE_HEAD))
        kind = frame[len(_TYPE_HEAD) : end].decode("ascii", "replace")
        if kind in FRAMES_OUT:
            return kind
    return "other"


class Scraped(Collector):
    """Numbers kept as plain ints by their owners, read only when scraped."""

    def __init__(
        self,
        hub: RetransmitStats,
        gc: GcPauses,
        relay_published: Callable[[], int],
        auth_failed_unrecorded: Callable[[], int],
    ) -> None:
        self.hub, self.gc = hub, gc
        self.relay_published, self.auth_failed_unrecorded = relay_published, auth_failed_unrecorded

    def collect(self) -> Iterable[Metric]:
        h = self.hub
        yield CounterMetricFamily(
            "im_deliveries", "msg frames pushed to devices (first sends)", value=h.delivered
        )
        yield CounterMetricFamily(
            "im_pushes", "other frames pushed to devices (unread, events)", value=h.pushed
        )
        yield CounterMetricFamily(
            "im_retransmits", "msg frames sent again for want of an ack", value=h.resent
        )
        yield CounterMetricFamily(
            "im_pushes_dropped",
            "msg frames given up after the last retry (the device syncs)",
            value=h.dropped,
        )
        yield CounterMetricFamily(
            "im_relay_published",
            "outbox events this node published to Kafka",
            value=self.relay_published(),
        )
        yield CounterMetricFamily(
            "im_auth_failed_unrecorded",
            "failed auth frames whose conn.auth_failed event was not written (per-address cap)",
            value=self.auth_failed_unrecorded(),
        )
        g = self.gc
        runs = CounterMetricFamily(
            "im_gc_collections", "garbage collections", labels=["generation"]
        )
        paused = CounterMetricFamily(
            "im_gc_pause_seconds", "time spent in garbage collections", labels=["generation"]
        )
        for gen in range(3):
            runs.add_metric([str(gen)], g.collections[gen])
            paused.add_metric([str(gen)], g.seconds[gen])
        yield runs
        yield paused
        yield GaugeMetricFamily(
            "im_gc_pause_max_seconds", "longest garbage-collection pause", value=g.max_ms / 1000
        )
        yield CounterMetricFamily(
            "im_gc_pauses_over_10ms", "garbage-collection pauses over 10 ms", value=g.slow
        )


class NodeMetrics:
    """The registry of one node and the instruments the gateway moves."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        self.connections = Gauge("im_connections", "open WebSocket connections", registry=r)
        self.signed_in = Gauge("im_signed_in", "signed-in devices (WebSockets)", registry=r)
        self.connects = Counter("im_connects", "WebSocket connections accepted", registry=r)
        self.disconnects = Counter(
            "im_disconnects", "WebSocket connections ended, by reason", ["reason"], registry=r
        )
        self.auth_failures = Counter(
            "im_auth_failures", "auth frames refused for an invalid or expired token", registry=r
        )
        self.frames_in = Counter(
            "im_frames_in", "frames received from clients, by type", ["type"], registry=r
        )
        self.frames_out = Counter(
            "im_frames_out", "reply frames written to clients, by type", ["type"], registry=r
        )
        self.sends = Counter(
            "im_sends", "send frames stored (new messages, not retries)", registry=r
        )
        self.send_latency = Histogram(
            "im_send_latency_seconds",
            "send frame to its sent answer: the store step",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.slow_closes = Counter(
            "im_slow_reader_closes",
            "connections closed with 1008 (unsent bytes over 1 MiB)",
            registry=r,
        )
        self.loop_lag = Histogram(
            "im_event_loop_lag_seconds",
            "how late a periodic sleep woke up",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.outbox_length = Gauge(
            "im_outbox_length", "events waiting in the outbox (NaN: Redis down)", registry=r
        )
        self.relay_lag = Gauge(
            "im_relay_lag_seconds",
            "age of the oldest unpublished outbox event (NaN: Redis down)",
            registry=r,
        )
        for reason in CLOSE_REASONS:  # every series exists from the start, at 0
            self.disconnects.labels(reason)
        # Every frame series exists from the start (at 0), each child looked up once.
        self._out = {kind: self.frames_out.labels(kind) for kind in FRAMES_OUT}
        self._in = {kind: self.frames_in.labels(kind) for kind in FRAMES_IN}
        ProcessCollector(namespace="im", registry=r)  # CPU, memory, open files

    def frame_in(self, kind: str) -> None:
        self._in.get(kind, self._in["invalid"]).inc()

    def frames_written(self, frames: Iterable[bytes]) -> None:
        for f in frames:
            self._out[frame_type(f)].inc()

    def set_outbox(self, stats: dict[str, int] | None) -> None:
        if stats is None:
            self.outbox_length.set(math.nan)
            self.relay_lag.set(math.nan)
        else:
            self.outbox_length.set(stats["outbox_length"])
            self.relay_lag.set(stats["relay_lag_ms"] / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class LoopLag(Background):
    """Sleeps `interval_s` again and again; how late each wake-up is goes into a histogram."""

    task_name = "loop-lag"

    def __init__(
        self, observe: Callable[[float], None], interval_s: float = LOOP_LAG_INTERVAL_S
    ) -> None:
        self.observe, self.interval_s = observe, interval_s

    async def _run(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.interval_s)
            self.observe(max(0.0, time.perf_counter() - start - self.interval_s))
