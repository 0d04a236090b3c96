"""Connector DDL: Kafka source and sink tables (kept apart from the queries)."""

from __future__ import annotations

from contract import events, results
from contract.fields import Field
from streaming.settings import StreamSettings

# The envelope fields the job reads (not `v`: every version-1 field is read by name).
SOURCE_ENVELOPE = ("type", "id", "ts", "node")


def columns(fields: tuple[Field, ...]) -> str:
    """A Flink column list, one column a line."""
    return ",\n".join(f"  {f.flink_column}" for f in fields)


_ENVELOPE = {f.name: f for f in events.ENVELOPE}
CHAT_COLUMNS = columns(tuple(_ENVELOPE[n] for n in SOURCE_ENVELOPE) + events.CHAT_MESSAGE.fields)


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
        f"CREATE TABLE chat_events (\n{CHAT_COLUMNS},\n{event_time(s.lateness_s)}\n)"
        f" WITH ({_kafka_source(s, events.CHAT_MESSAGE.topics[0])}\n)"
    )


def sink(s: StreamSettings, result: results.Result) -> str:
    """The exactly-once Kafka sink table of a result (contract.results)."""
    return (
        f"CREATE TABLE {result.table} (\n{columns(result.fields)}\n)"
        f" WITH ({_kafka_sink(s, result.topic, result.key, result.table)}\n)"
    )


def all_tables(s: StreamSettings) -> list[str]:
    return [chat_events(s), *(sink(s, r) for r in results.RESULTS)]
