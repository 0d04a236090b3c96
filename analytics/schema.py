"""ClickHouse tables fed from Kafka topics, and how an event becomes a row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from im import topics


def ms(value: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC)


@dataclass(frozen=True)
class Table:
    name: str
    topic: str
    ddl: str
    columns: list[str]
    row: Callable[[dict[str, Any]], list[Any]]


# ReplacingMergeTree keyed by what identifies a result row: a row written
# twice (a job restarted without its checkpoint) collapses to one; read
# with FINAL for exact answers.
MESSAGE_COUNTS = Table(
    name="message_counts",
    topic=topics.MESSAGE_COUNT,
    ddl="""
CREATE TABLE IF NOT EXISTS message_counts (
  window_start DateTime64(3, 'UTC'),
  window_end DateTime64(3, 'UTC'),
  conv String,
  messages UInt64,
  inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (conv, window_start)
""",
    columns=["window_start", "window_end", "conv", "messages"],
    row=lambda e: [ms(e["window_start"]), ms(e["window_end"]), str(e["conv"]), int(e["messages"])],
)

TABLES = [MESSAGE_COUNTS]
BY_TOPIC = {t.topic: t for t in TABLES}
