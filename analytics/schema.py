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


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


REPLY_RATES = Table(
    name="reply_rates",
    topic=topics.REPLY_RATE,
    ddl="""
CREATE TABLE IF NOT EXISTS reply_rates (
  window_start DateTime64(3, 'UTC'),
  window_end DateTime64(3, 'UTC'),
  agent String,
  waits UInt64,
  replied_5m UInt64,
  reply_rate Float64,
  avg_reply_s Nullable(Float64),
  p90_reply_s Nullable(Float64),
  inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (agent, window_start)
""",
    columns=[
        "window_start",
        "window_end",
        "agent",
        "waits",
        "replied_5m",
        "reply_rate",
        "avg_reply_s",
        "p90_reply_s",
    ],
    row=lambda e: [
        ms(e["window_start"]),
        ms(e["window_end"]),
        str(e["agent"]),
        int(e["waits"]),
        int(e["replied_5m"]),
        float(e["reply_rate"]),
        _opt_float(e.get("avg_reply_s")),
        _opt_float(e.get("p90_reply_s")),
    ],
)

CONVERSATION_SESSIONS = Table(
    name="conversation_sessions",
    topic=topics.SESSIONS,
    ddl="""
CREATE TABLE IF NOT EXISTS conversation_sessions (
  conv String,
  session String,
  start DateTime64(3, 'UTC'),
  end DateTime64(3, 'UTC'),
  messages UInt64,
  customer_messages UInt64,
  agent_messages UInt64,
  ended_by String,
  inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (conv, start)
""",
    columns=[
        "conv",
        "session",
        "start",
        "end",
        "messages",
        "customer_messages",
        "agent_messages",
        "ended_by",
    ],
    row=lambda e: [
        str(e["conv"]),
        str(e.get("session") or ""),
        ms(e["start"]),
        ms(e["end"]),
        int(e["messages"]),
        int(e["customer_messages"]),
        int(e["agent_messages"]),
        str(e.get("ended_by") or ""),
    ],
)

MODERATION = Table(
    name="moderation",
    topic=topics.MODERATION,
    ddl="""
CREATE TABLE IF NOT EXISTS moderation (
  user String,
  rule LowCardinality(String),
  first_ts DateTime64(3, 'UTC'),
  last_ts DateTime64(3, 'UTC'),
  count UInt64,
  conv String,
  inserted_at DateTime64(3, 'UTC') DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (user, rule, first_ts)
""",
    columns=["user", "rule", "first_ts", "last_ts", "count", "conv"],
    row=lambda e: [
        str(e["user"]),
        str(e["rule"]),
        ms(e["first_ts"]),
        ms(e["last_ts"]),
        int(e["count"]),
        str(e.get("conv") or ""),
    ],
)

TABLES = [MESSAGE_COUNTS, REPLY_RATES, CONVERSATION_SESSIONS, MODERATION]
BY_TOPIC = {t.topic: t for t in TABLES}
