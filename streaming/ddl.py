"""Connector DDL: Kafka source and sink tables (kept apart from the queries)."""

from __future__ import annotations

from im import topics
from streaming.settings import StreamSettings

CHAT_COLUMNS = """
  `type` STRING,
  `id` STRING,
  ts BIGINT,
  node STRING,
  conv STRING,
  conv_kind STRING,
  seq BIGINT,
  sender STRING,
  sender_role STRING,
  kind STRING,
  cmid STRING,
  text_len INT,
  content_hash STRING,
  flags ARRAY<STRING>,
  `session` STRING,
  agent STRING
"""


def event_time(lateness_s: int) -> str:
    """Computed event-time column and watermark, shared by every source table."""
    return (
        "  event_time AS TO_TIMESTAMP_LTZ(ts, 3),\n"
        f"  WATERMARK FOR event_time AS event_time - INTERVAL '{lateness_s}' SECOND"
    )


def _kafka_source(s: StreamSettings, topic: str) -> str:
    return f"""
  'connector' = 'kafka',
  'topic' = '{topic}',
  'properties.bootstrap.servers' = '{s.kafka_bootstrap}',
  'properties.group.id' = '{s.group_id}',
  'properties.isolation.level' = 'read_committed',
  'properties.auto.offset.reset' = 'earliest',
  'scan.startup.mode' = 'group-offsets',
  'format' = 'json',
  'json.ignore-parse-errors' = 'true',
  'json.fail-on-missing-field' = 'false'"""


def _kafka_sink(s: StreamSettings, topic: str, key: str | None, name: str) -> str:
    """Exactly-once Kafka sink: rows are written in a transaction per checkpoint,
    so a reader with isolation.level=read_committed sees each row once even if
    the job is killed and restarted from its last checkpoint."""
    keyed = (
        f"""
  'key.format' = 'raw',
  'key.fields' = '{key}',
  'value.fields-include' = 'ALL',"""
        if key
        else ""
    )
    return f"""
  'connector' = 'kafka',
  'topic' = '{topic}',
  'properties.bootstrap.servers' = '{s.kafka_bootstrap}',{keyed}
  'value.format' = 'json',
  'value.json.encode.ignore-null-fields' = 'true',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = '{s.group_id}-{name}',
  'properties.transaction.timeout.ms' = '900000'"""


def chat_events(s: StreamSettings) -> str:
    return (
        f"CREATE TABLE chat_events ({CHAT_COLUMNS},\n{event_time(s.lateness_s)}\n)"
        f" WITH ({_kafka_source(s, topics.CHAT)}\n)"
    )


def _sink(s: StreamSettings, table: str, columns: str, topic: str, key: str | None) -> str:
    return f"CREATE TABLE {table} (\n{columns}\n) WITH ({_kafka_sink(s, topic, key, table)}\n)"


def message_counts(s: StreamSettings) -> str:
    return _sink(s, "message_counts",
                 "  window_start BIGINT, window_end BIGINT, conv STRING, messages BIGINT",
                 topics.MESSAGE_COUNT, "conv")  # fmt: skip


def reply_rates(s: StreamSettings) -> str:
    return _sink(s, "reply_rates",
                 "  window_start BIGINT, window_end BIGINT, agent STRING, waits BIGINT,\n"
                 "  replied_5m BIGINT, reply_rate DOUBLE, avg_reply_s DOUBLE, p90_reply_s DOUBLE",
                 topics.REPLY_RATE, "agent")  # fmt: skip


def conversation_sessions(s: StreamSettings) -> str:
    return _sink(s, "conversation_sessions",
                 "  conv STRING, `session` STRING, `start` BIGINT, `end` BIGINT, messages BIGINT,\n"
                 "  customer_messages BIGINT, agent_messages BIGINT, ended_by STRING",
                 topics.SESSIONS, "conv")  # fmt: skip


def moderation(s: StreamSettings) -> str:
    return _sink(s, "moderation",
                 "  `user` STRING, rule STRING, first_ts BIGINT, last_ts BIGINT, `count` BIGINT,\n"
                 "  conv STRING",
                 topics.MODERATION, "user")  # fmt: skip


def control(s: StreamSettings) -> str:
    # Both command shapes share this table; NULL fields are left out of the JSON.
    return _sink(s, "control",
                 "  `type` STRING, `session` STRING, ts BIGINT, `user` STRING, until BIGINT,\n"
                 "  rule STRING",
                 topics.CONTROL, None)  # fmt: skip


SINK_DDL = {
    "message_counts": message_counts,
    "reply_rates": reply_rates,
    "conversation_sessions": conversation_sessions,
    "moderation": moderation,
    "control": control,
}


def all_tables(s: StreamSettings) -> list[str]:
    return [chat_events(s), *(make(s) for make in SINK_DDL.values())]
