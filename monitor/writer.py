"""Samples into the Redis outbox, through a bounded queue that outlives a Redis outage.

Samples take the path of every other event: XADD into the outbox stream
(fields t = topic, k = key, v = the event JSON), from where the relay of a
server node publishes them to Kafka, so a Kafka outage loses nothing. While
Redis itself is away they wait here, at most `queue_max` of them (beyond
that the oldest go) and at most `max_age_s` (older ones are of no use any
more). Both kinds of drop are counted, and the collector samples the counts.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import orjson
import redis.asyncio as aioredis

from contract import events
from im import keys
from monitor.sample import Sample

log = logging.getLogger("monitor.writer")
TOPIC = events.OPS_SAMPLE.topics[0]
BATCH = 500  # XADDs per pipeline


@dataclass(frozen=True)
class _Entry:
    taken: float  # monotonic s
    key: str
    value: bytes


class SampleWriter:
    def __init__(
        self,
        redis: aioredis.Redis,
        node: str,
        max_age_s: float,
        queue_max: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis, self.node = redis, node
        self.max_age_s, self.queue_max, self.clock = max_age_s, queue_max, clock
        self._queue: deque[_Entry] = deque()
        self.written = 0
        self.dropped = {"stale": 0, "overflow": 0, "invalid": 0}

    def __len__(self) -> int:
        return len(self._queue)

    def put(self, samples: Iterable[Sample]) -> None:
        for s in samples:
            try:
                event = s.event(self.node)
            except ValueError as e:  # a bug in a sampler: never block the queue with it
                log.error("dropping a sample that breaks the contract: %s", e)
                self.dropped["invalid"] += 1
                continue
            if len(self._queue) >= self.queue_max:
                self._queue.popleft()
                self.dropped["overflow"] += 1
            key = events.OPS_SAMPLE.key_of(event)
            self._queue.append(_Entry(s.taken, key, orjson.dumps(event)))

    def expire(self) -> int:
        """Drop what waited longer than max_age_s; returns how many."""
        oldest = self.clock() - self.max_age_s
        before = len(self._queue)
        if self._queue and self._queue[0].taken < oldest:
            self._queue = deque(e for e in self._queue if e.taken >= oldest)
        gone = before - len(self._queue)
        self.dropped["stale"] += gone
        return gone

    async def flush(self) -> int:
        """Write what is queued (stale samples dropped first); returns how many were written.

        A failed write keeps the samples for the next flush. If Redis applied part
        of a batch before failing, those samples are written again with the same
        ids, and consumers drop the repeats."""
        self.expire()
        done = 0
        while self._queue:
            chunk = [self._queue[i] for i in range(min(BATCH, len(self._queue)))]
            pipe = self.redis.pipeline(transaction=False)
            for e in chunk:
                pipe.xadd(keys.OUTBOX, {"t": TOPIC, "k": e.key, "v": e.value})
            await pipe.execute()
            for _ in chunk:
                self._queue.popleft()
            done += len(chunk)
            self.written += len(chunk)
        return done
