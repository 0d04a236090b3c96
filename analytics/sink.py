"""Kafka result topics -> ClickHouse tables, in batches, committed after insert."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from analytics.clickhouse import ClickHouse
from analytics.schema import tables
from analytics.settings import AnalyticsSettings
from im.background import Background
from im.consumer import EventConsumer

log = logging.getLogger("analytics.sink")


class Sink(Background):
    task_name = "analytics-sink"

    def __init__(self, settings: AnalyticsSettings, ch: ClickHouse) -> None:
        self.settings = settings
        self.ch = ch
        self.created = tables(settings)  # the jobs' results, the raw topics, the rollup
        self.tables = [t for t in self.created if t.topic]  # what it inserts into
        self.by_topic = {t.topic: t for t in self.tables}
        self.inserted: dict[str, int] = {t.name: 0 for t in self.tables}
        self.bad_rows = 0

    async def start(self) -> None:
        for table in self.created:
            await self.ch.command(table.ddl)
        await super().start()

    async def _run(self) -> None:
        while True:
            consumer = EventConsumer(
                [t.topic for t in self.tables],
                self.settings.kafka_bootstrap,
                self.settings.group_id,
            )
            try:
                await consumer.start()
                async for batch in consumer.batches(
                    int(self.settings.flush_s * 1000), self.settings.batch_rows
                ):
                    await self.write(batch)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # Kafka or ClickHouse trouble: reconnect, re-read
                log.warning("sink: %s: %s; restarting consumer", type(e).__name__, e)
                await asyncio.sleep(1.0)
            finally:
                await consumer.stop()

    async def write(self, batch: list[tuple[str, dict[str, Any]]]) -> None:
        rows: dict[str, list[list[Any]]] = {}
        for topic, event in batch:
            table = self.by_topic[topic]
            try:
                rows.setdefault(table.name, []).append(table.row(event))
            except (KeyError, TypeError, ValueError):
                self.bad_rows += 1
        for table in self.tables:
            if table.name in rows:
                await self.ch.insert(table.name, rows[table.name], table.columns)
                self.inserted[table.name] += len(rows[table.name])
