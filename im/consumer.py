"""The consumer helper every consumer in the project uses.

Decodes JSON values, skips tick events (they only move event time), drops
events whose `id` was seen within the last `dedup_window` ids, and commits
offsets only after the caller has handled a batch (at-least-once in, exactly
once out as far as ids go).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer

log = logging.getLogger("im.consumer")


class SeenIds:
    """The last `capacity` event ids, for dropping duplicates."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, event_id: str) -> bool:
        """True if new (and now remembered), False if a duplicate."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True


def decode(raw: bytes | None) -> dict[str, Any] | None:
    """The event object, or None for a value that is not a JSON object."""
    if raw is None:
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


class EventConsumer:
    def __init__(
        self,
        topics: list[str],
        bootstrap: str,
        group_id: str | None,
        dedup_window: int = 100_000,
        from_beginning: bool = True,
    ) -> None:
        self.topics = topics
        self.seen = SeenIds(dedup_window)
        self.duplicates = 0
        self.undecodable = 0
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=group_id,
            isolation_level="read_committed",
            enable_auto_commit=False,
            auto_offset_reset="earliest" if from_beginning else "latest",
        )
        self._started = False

    async def start(self) -> None:
        if not self._started:
            try:
                await self._consumer.start()
            except BaseException:
                # A half-started consumer holds connections (and warns
                # "Unclosed AIOKafkaConsumer"): close it before giving up.
                with contextlib.suppress(Exception):
                    await self._consumer.stop()
                raise
            self._started = True

    async def stop(self) -> None:
        if self._started:
            self._started = False
            with contextlib.suppress(Exception):
                await self._consumer.stop()

    async def __aenter__(self) -> EventConsumer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def accept(self, obj: dict[str, Any] | None) -> bool:
        if obj is None:
            self.undecodable += 1
            return False
        if obj.get("type") == "tick":
            return False
        event_id = obj.get("id")
        if isinstance(event_id, str) and not self.seen.add(event_id):
            self.duplicates += 1
            return False
        return True

    async def batches(
        self, timeout_ms: int = 500, max_records: int = 5000
    ) -> AsyncIterator[list[tuple[str, dict[str, Any]]]]:
        """Yield [(topic, event)] batches; offsets commit when the caller asks for the next."""
        while True:
            records = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
            batch: list[tuple[str, dict[str, Any]]] = []
            for tp, recs in records.items():
                for r in recs:
                    obj = decode(r.value)
                    if self.accept(obj) and obj is not None:
                        batch.append((tp.topic, obj))
            if batch or records:
                yield batch
                if records and self._consumer._group_id is not None:
                    await self._consumer.commit()
            else:
                await asyncio.sleep(0)
