"""Hot keys, counted by the server: a random sample of its own Redis commands, per key.

Redis' own per-key counters (`OBJECT FREQ`) need an LFU eviction policy and
the stack keeps `noeviction` (README, Decisions), so each node counts what
it sends: its Redis connections (im/hotkey_conn.py) hand a random `rate`
share of the commands to `HotKeys.count`, and im/hotkey_flush.py writes the
top of each window into Redis.

`HotKeys` keeps the counts per window of `window_s` seconds of the Redis
clock (the time a command is packed decides its window), at most
`max_keys` distinct keys per window: accesses to further keys are dropped
and counted (`dropped`). The hot-key windows' own keys are never counted
(the flush, im/hotkey_flush.py, writes them).
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from im import keys
from im.command_keys import command_keys

log = logging.getLogger("im.hotkeys")
OWN = keys.PREFIXES["hot_keys"]
KEEP_CLOSED = 3  # windows kept for a flush while Redis is away; older ones are dropped


@dataclass
class Window:
    start: int  # epoch s of the Redis clock
    counts: dict[str, int] = field(default_factory=dict)
    dropped: int = 0  # sampled accesses not counted: the window held max_keys keys

    def top(self, n: int) -> list[tuple[str, int]]:
        return heapq.nlargest(n, self.counts.items(), key=itemgetter(1))


class HotKeys:
    """Sampled key accesses of one node, per window, bounded."""

    def __init__(
        self, rate: float, window_s: int, max_keys: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.rate, self.window_s, self.max_keys, self.clock = rate, window_s, max_keys, clock
        self.offset_s = 0.0  # Redis clock - this clock (the flush sets it)
        self.counted = 0  # key accesses counted since start
        self.dropped = 0  # key accesses dropped since start (a window was full)
        self.current = Window(self.window_of(clock()))
        self.closed: list[Window] = []

    def window_of(self, redis_now: float) -> int:
        return int(redis_now // self.window_s) * self.window_s

    def count(self, args: Sequence[object]) -> None:
        """Count the keys of one (sampled) command; never raises."""
        try:
            names = command_keys(args)
            if names:
                self.count_keys(names)
        except Exception:  # a command we cannot read must not fail the command
            log.exception("hot keys: cannot read a command's keys")

    def count_keys(self, names: Iterable[str]) -> None:
        start = self.window_of(self.clock() + self.offset_s)
        if start > self.current.start:
            self._close(Window(start))
        w, counts = self.current, self.current.counts
        for key in names:
            if key.startswith(OWN):
                continue
            n = counts.get(key)
            if n is not None:
                counts[key] = n + 1
            elif len(counts) < self.max_keys:
                counts[key] = 1
            else:
                w.dropped += 1
                self.dropped += 1
                continue
            self.counted += 1

    def _close(self, new: Window) -> None:
        if self.current.counts or self.current.dropped:
            self.closed = [*self.closed, self.current][-KEEP_CLOSED:]
        self.current = new

    def take(self, redis_now: float | None) -> list[Window]:
        """The windows that ended by `redis_now`, the current one too if it did
        (None: every window, the current one too)."""
        if redis_now is None or redis_now >= self.current.start + self.window_s:
            start = self.current.start if redis_now is None else self.window_of(redis_now)
            self._close(Window(start))
        out, self.closed = self.closed, []
        return out


class HotKeyMetrics(Collector):
    """The counter's totals on GET /metrics (read when scraped)."""

    def __init__(self, hot: HotKeys) -> None:
        self.hot = hot

    def collect(self) -> Iterable[Metric]:
        yield CounterMetricFamily(
            "im_hot_key_accesses_counted",
            "key accesses of sampled Redis commands counted into hot-key windows",
            value=self.hot.counted,
        )
        yield CounterMetricFamily(
            "im_hot_key_accesses_dropped",
            "sampled key accesses not counted: the window already held IM_HOTKEY_MAX_KEYS keys",
            value=self.hot.dropped,
        )
