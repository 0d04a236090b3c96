"""Latency samples (microseconds) and what one measured step adds up to."""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bench.base.machine import CpuDelta
from bench.base.stats import Pcts


def new_samples() -> array[int]:
    return array("Q")


def merge(chunks: Iterable[bytes]) -> list[int]:
    out: list[int] = []
    for raw in chunks:
        a = new_samples()
        a.frombytes(raw)
        out.extend(a)
    out.sort()
    return out


@dataclass
class WorkerStep:
    """What one load worker saw in one step (latencies as raw array bytes)."""

    sends: int = 0  # sends scheduled inside the measured window and written
    expected: int = 0  # deliveries those sends should cause (members - sender)
    delivered: int = 0  # of those, received in time by another member
    sent_ok: int = 0
    refused: int = 0  # sends answered by an error (no deliveries expected)
    echoes: int = 0
    duplicates: int = 0
    closed: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    sent_us: bytes = b""
    msg_us: bytes = b""
    lag_us: bytes = b""


@dataclass(frozen=True)
class StepResult:
    """One rate of one scenario on one server, all workers merged."""

    server: str
    kind: str
    clients: int
    rate: float
    duration_s: float
    sends: int
    expected: int
    delivered: int
    sent_ok: int
    refused: int
    duplicates: int
    closed: int
    errors: dict[str, int]
    sent: Pcts
    msg: Pcts
    lag: Pcts
    cpu: CpuDelta
    rss_per_conn: float

    @property
    def delivered_per_s(self) -> float:
        return self.delivered / self.duration_s

    @property
    def sends_per_s(self) -> float:
        return self.sends / self.duration_s

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.delivered)

    @property
    def server_cpu_per_1k(self) -> float:
        return self.cpu.server_s / (self.delivered / 1000) if self.delivered else float("nan")

    @property
    def aux_cpu_per_1k(self) -> float:
        return self.cpu.aux_s / (self.delivered / 1000) if self.delivered else float("nan")

    def within(self, bound_ms: float) -> bool:
        """Delivery p99 under the bound, nothing lost, no send refused."""
        ok = self.msg.n > 0 and self.msg.p99 <= bound_ms and self.sent.p99 <= bound_ms
        return ok and self.lost == 0 and not self.errors and self.closed == 0


def combine(
    server: str,
    kind: str,
    clients: int,
    rate: float,
    duration_s: float,
    parts: list[WorkerStep],
    cpu: CpuDelta,
    rss_per_conn: float,
) -> StepResult:
    errors: Counter[str] = Counter()
    for p in parts:
        errors.update(p.errors)
    return StepResult(
        server=server,
        kind=kind,
        clients=clients,
        rate=rate,
        duration_s=duration_s,
        sends=sum(p.sends for p in parts),
        expected=sum(p.expected for p in parts),
        delivered=sum(p.delivered for p in parts),
        sent_ok=sum(p.sent_ok for p in parts),
        refused=sum(p.refused for p in parts),
        duplicates=sum(p.duplicates for p in parts),
        closed=sum(p.closed for p in parts),
        errors=dict(errors),
        sent=Pcts.of(merge(p.sent_us for p in parts)),
        msg=Pcts.of(merge(p.msg_us for p in parts)),
        lag=Pcts.of(merge(p.lag_us for p in parts)),
        cpu=cpu,
        rss_per_conn=rss_per_conn,
    )
