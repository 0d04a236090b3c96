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


def _kafka_sink(s: StreamSettings, topic: str, key: str) -> str:
    return f"""
  'connector' = 'kafka',
  'topic' = '{topic}',
  'properties.bootstrap.servers' = '{s.kafka_bootstrap}',
  'key.format' = 'raw',
  'key.fields' = '{key}',
  'value.format' = 'json',
  'value.fields-include' = 'ALL',
  'sink.delivery-guarantee' = 'at-least-once'"""


def chat_events(s: StreamSettings) -> str:
    return (
        f"CREATE TABLE chat_events ({CHAT_COLUMNS},\n{event_time(s.lateness_s)}\n)"
        f" WITH ({_kafka_source(s, topics.CHAT)}\n)"
    )


def message_counts(s: StreamSettings) -> str:
    return (
        "CREATE TABLE message_counts (\n"
        "  window_start BIGINT, window_end BIGINT, conv STRING, messages BIGINT\n"
        f") WITH ({_kafka_sink(s, topics.MESSAGE_COUNT, 'conv')}\n)"
    )


def all_tables(s: StreamSettings) -> list[str]:
    return [chat_events(s), message_counts(s)]
