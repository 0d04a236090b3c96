"""Looking samples up by metric and labels; storing them as the analytics sink does."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import clickhouse_connect

from analytics.clickhouse import ClickHouse
from analytics.settings import AnalyticsSettings
from analytics.sink import Sink
from contract import events, topics
from im.envconfig import load
from monitor.sample import Sample


def find(samples: Iterable[Sample], metric: str, **labels: str) -> list[Sample]:
    """The samples of `metric` whose labels include `labels`."""
    return [
        s
        for s in samples
        if s.metric == metric and all(s.labels.get(k) == v for k, v in labels.items())
    ]


def value(samples: Iterable[Sample], metric: str, **labels: str) -> float:
    """The value of the one sample of `metric` with exactly `labels`."""
    found = [s for s in find(samples, metric, **labels) if dict(s.labels) == labels]
    assert len(found) == 1, (metric, labels, found)
    return found[0].value


async def stored(folder: Path, samples: Iterable[Sample], sql: str) -> list[tuple[Any, ...]]:
    """The rows `sql` reads after the analytics sink stored `samples` (as im.ops events,
    each checked against the contract) in a real chDB in `folder`."""
    url = f"chdb://{folder}"
    ch = ClickHouse(url)
    await ch.start()
    try:
        sink = Sink(load(AnalyticsSettings, {"IM_CLICKHOUSE_URL": url}), ch)
        for table in sink.tables:
            await ch.command(table.ddl)
        batch = [(topics.OPS, s.event("monitor")) for s in samples]
        assert all(events.problems(e) == [] for _, e in batch)
        await sink.write(batch)
        client = clickhouse_connect.get_client(dsn=url)
        try:
            return [tuple(r) for r in client.query(sql).result_rows]
        finally:
            client.close()
    finally:
        await ch.stop()
