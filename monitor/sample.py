"""One sample of one metric, and the `ops.sample` event it becomes.

A metric's name says its unit (`_bytes`, `_seconds`, `_total` for counters,
`_ratio` for 0-1 fractions, `_per_second` for rates; a bare noun is a count).
Labels are strings and name things (topic, group, key family, service),
never users or message text.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from contract import events


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Sample:
    source: str  # redis, kafka, host, pipeline, monitor
    metric: str
    value: float
    labels: Mapping[str, str] = field(default_factory=dict)
    ts: int = field(default_factory=_now_ms)  # event time (ms): when the value held
    # When it was taken (monotonic s): its age in the queue, whatever `ts` says.
    taken: float = field(default_factory=time.monotonic)
    # Chosen once, so a sample written twice (a retried XADD) is one row downstream.
    id: str = field(default_factory=lambda: events.OPS_SAMPLE_ID + secrets.token_hex(10))

    def event(self, node: str) -> dict[str, Any]:
        """The checked `ops.sample` event (ValueError if it breaks the contract, or if
        the value is NaN or infinite: JSON has no such number)."""
        if not math.isfinite(self.value):
            raise ValueError(f"{self.metric}: {self.value} is not a finite number")
        return events.record(
            events.OPS_SAMPLE, id=self.id, ts=self.ts, node=node, source=self.source,
            metric=self.metric, value=float(self.value), labels=dict(self.labels),
        )  # fmt: skip


class Sampler(Protocol):
    """A source of samples; one `sample()` call per round.

    `sample()` raises `Skipped` when its source is not configured or not
    reachable (counted, not an error), any other exception for a failure."""

    name: str

    async def sample(self) -> list[Sample]: ...

    async def close(self) -> None: ...


class Skipped(Exception):
    """The sampler had nothing to sample this round (unset or unreachable source)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Maker:
    """`s = Maker("redis"); s("redis_keys", 3, db="0")`: samples of one source."""

    source: str

    def __call__(self, metric: str, value: float, **labels: str) -> Sample:
        return Sample(self.source, metric, float(value), labels)

    def at(self, ts: int, metric: str, value: float, **labels: str) -> Sample:
        """A sample whose event time is `ts` (ms), not now."""
        return Sample(self.source, metric, float(value), labels, ts)
