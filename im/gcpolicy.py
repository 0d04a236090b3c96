"""The garbage collector's settings for a server node, and the pauses it causes.

Why not the defaults: with 1,000 connections and ~15,000 deliveries/s, the
default thresholds (700, 10, 10) promoted many short-lived objects into the
old generations, and each full collection walked every connection's objects:
a ~125 ms pause every few seconds (measured with the callback below), which
alone made the delivery p99 ~130 ms at a fraction of a core. Measured after
the change (bench, 1,000 clients in groups of 50): p99 132 -> 42 ms at
14,700 deliveries/s. So:

- a young generation of 50,000 objects: short-lived objects die by
  reference counting before a collection sees them, instead of being
  promoted (a young collection costs a few ms);
- `gc.freeze()` after start-up: modules, settings and scripts are never
  walked again;
- the per-push wait-ACK records are tuples of atoms (im.hub), which the
  collector stops tracking at its first pass.

Reference counting still frees almost everything at once; the cyclic
collector still runs, only less often, and `GcPauses` reports what it costs
(`/metrics`).
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import Any

THRESHOLDS = (50_000, 20, 10)
SLOW_PAUSE_S = 0.010


def apply() -> None:
    """Set the thresholds and freeze what exists now (call once start-up is done)."""
    gc.set_threshold(*THRESHOLDS)
    gc.freeze()


@dataclass
class GcPauses:
    """Collections and pause times per generation, from `gc.callbacks`."""

    collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    seconds: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    max_ms: float = 0.0
    slow: int = 0  # pauses over SLOW_PAUSE_S
    _started: float = 0.0

    def install(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def uninstall(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        gen = int(info["generation"])
        self.collections[gen] += 1
        self.seconds[gen] += pause
        self.max_ms = max(self.max_ms, pause * 1000)
        self.slow += pause > SLOW_PAUSE_S

    def snapshot(self) -> dict[str, object]:
        return {
            "gc_collections": list(self.collections),
            "gc_pause_seconds": [round(s, 6) for s in self.seconds],
            "gc_pause_max_ms": round(self.max_ms, 3),
            "gc_pauses_over_10ms": self.slow,
        }
