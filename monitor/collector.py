"""The collector: every IM_OPS_INTERVAL_S, every sampler at once, then the samples out.

A sampler that raises `Skipped` (its source unset or unreachable) is
counted as skipped with its reason; one that fails otherwise, or takes
longer than the interval, is counted as an error. Neither stops the round.
The collector samples itself too (source `monitor`): samples written and
dropped (by reason) so far, the samples earlier rounds left queued, and
each sampler's time, errors and skips.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from redis.exceptions import RedisError

from monitor.sample import Maker, Sample, Sampler, Skipped
from monitor.writer import SampleWriter

log = logging.getLogger("monitor")
S = Maker("monitor")


@dataclass
class SamplerStats:
    samples: int = 0
    errors: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0  # the last round's
    last_error: str = ""


class Collector:
    def __init__(
        self, samplers: Sequence[Sampler], writer: SampleWriter, interval_s: float
    ) -> None:
        self.samplers, self.writer, self.interval_s = list(samplers), writer, interval_s
        self.stats = {s.name: SamplerStats() for s in self.samplers}
        self.rounds = 0
        self.flush_failures = 0

    async def _run(self, sampler: Sampler) -> list[Sample]:
        st = self.stats[sampler.name]
        started = time.monotonic()
        out: list[Sample] = []
        try:
            out = await asyncio.wait_for(sampler.sample(), self.interval_s)
        except Skipped as e:
            st.skipped[e.reason] += 1
        except Exception as e:  # a broken source must not stop the others
            st.errors += 1
            st.last_error = f"{type(e).__name__}: {e}"
            log.warning("sampler %s failed: %s", sampler.name, st.last_error)
        st.seconds = time.monotonic() - started
        st.samples += len(out)
        return out

    def own_samples(self) -> list[Sample]:
        w = self.writer
        out = [
            S("monitor_samples_written_total", w.written),
            S("monitor_queue_length", len(w)),
            *(
                S("monitor_samples_dropped_total", n, reason=r)
                for r, n in sorted(w.dropped.items())
            ),
        ]
        for name, st in sorted(self.stats.items()):
            out += [
                S("monitor_sampler_seconds", st.seconds, sampler=name),
                S("monitor_sampler_errors_total", st.errors, sampler=name),
                *(
                    S("monitor_sampler_skipped_total", n, sampler=name, reason=reason)
                    for reason, n in sorted(st.skipped.items())
                ),
            ]
        return out

    async def round(self) -> int:
        """One round; returns how many samples were written (0 while Redis is away)."""
        found = await asyncio.gather(*(self._run(s) for s in self.samplers))
        self.rounds += 1
        own = self.own_samples()  # the queue as earlier rounds left it
        self.writer.put([s for batch in found for s in batch])
        self.writer.put(own)
        try:
            return await self.writer.flush()
        except (RedisError, OSError) as e:
            self.flush_failures += 1
            log.warning("outbox write failed (%d samples wait): %s", len(self.writer), e)
            return 0

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds on a fixed schedule until `stop` is set (a slow round is not made up)."""
        next_at = time.monotonic()
        while not stop.is_set():
            await self.round()
            next_at = max(next_at + self.interval_s, time.monotonic())
            try:
                await asyncio.wait_for(stop.wait(), next_at - time.monotonic())
            except TimeoutError:
                pass

    async def close(self) -> None:
        for s in self.samplers:
            try:
                await s.close()
            except Exception as e:
                log.warning("closing sampler %s: %s", s.name, e)

    def health(self) -> dict[str, object]:
        return {
            "rounds": self.rounds,
            "written": self.writer.written,
            "queued": len(self.writer),
            "dropped": dict(self.writer.dropped),
            "flush_failures": self.flush_failures,
            "samplers": {
                name: {"samples": st.samples, "errors": st.errors, "skipped": dict(st.skipped),
                       "seconds": round(st.seconds, 4), "last_error": st.last_error}
                for name, st in sorted(self.stats.items())
            },
        }  # fmt: skip
