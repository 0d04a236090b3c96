"""The contract checks what it should, and everything derived from it agrees with it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from analytics import schema
from contract import events, results, topics
from contract.content import content_hash
from contract.fields import Kind
from streaming import ddl
from streaming.settings import StreamSettings

GOLDEN_EVENTS = Path(__file__).with_name("golden") / "chat_message_events.txt"


def golden_events() -> list[dict[str, Any]]:
    return [orjson.loads(line.split(" ", 2)[2].replace('"ts":TS', '"ts":1')) for line in
            GOLDEN_EVENTS.read_text().splitlines()]  # fmt: skip


def test_the_recorded_server_events_fit_the_contract() -> None:
    recorded = golden_events()
    assert len(recorded) == 5
    for event in recorded:
        assert events.problems(event) == []
    assert {e["conv_kind"] for e in recorded} == {"group", "cs"}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"colour": "red"}, "chat.message: unknown field colour"),
        ({"seq": "1"}, "chat.message: seq: '1' is not long"),
        ({"seq": True}, "chat.message: seq: True is not long"),
        ({"flags": ["a", 1]}, "chat.message: flags: ['a', 1] is not strings"),
        ({"v": 2}, "chat.message: v is 2, not 1"),
        ({"type": "chat.deleted"}, "unknown event type 'chat.deleted'"),
    ],
)
def test_problems_name_each_break(change: dict[str, Any], problem: str) -> None:
    event = {**golden_events()[0], **change}
    assert events.problems(event) == [problem]


def test_a_missing_field_is_named_and_an_optional_one_is_not() -> None:
    event = golden_events()[2]  # a cs message: has session and agent
    assert events.problems({k: v for k, v in event.items() if k != "agent"}) == []
    assert events.problems({k: v for k, v in event.items() if k != "cmid"}) == [
        "chat.message: missing cmid"
    ]


def test_record_refuses_what_the_contract_does_not_allow() -> None:
    ok = events.record(events.CONN_OPEN, id="n:1", ts=5, node="a", user="u", device="d")
    assert list(ok) == ["v", "id", "type", "ts", "node", "user", "device"]
    with pytest.raises(ValueError, match="missing device"):
        events.record(events.CONN_OPEN, id="n:1", ts=5, node="a", user="u")
    assert events.CONN_AUTH_FAILED.key_of({"device": ""}) == "-"
    assert events.TICK.key_of({}) == "-"


def test_content_hash_folds_space_and_case_and_takes_lone_surrogates() -> None:
    assert content_hash("Hello   World") == content_hash(" hello world ")
    assert content_hash("hello") == "2cf24dba5fb0a30e"  # sha256("hello")[:16]
    assert len(content_hash("\ud800")) == 16


def test_every_topic_is_declared_once() -> None:
    assert len(set(topics.ALL)) == len(topics.ALL)
    used = {t for e in events.SERVER_EVENTS for t in e.topics} | {r.topic for r in results.RESULTS}
    assert used <= set(topics.ALL)
    assert set(topics.ALL) == used | {topics.OPS}
    assert events.OPS_SAMPLE.topics == (topics.OPS,)


def _flink_columns(statement: str) -> list[str]:
    body = statement[statement.index("(") + 1 : statement.index(") WITH (")]
    names = [line.strip().split()[0].strip("`") for line in body.split(",\n") if line.strip()]
    return [n for n in names if n not in ("event_time", "WATERMARK")]


def test_flink_tables_have_the_contract_columns_in_order() -> None:
    s = StreamSettings()
    chat, *sinks = ddl.all_tables(s)
    assert set(ddl.SOURCE_ENVELOPE) <= {f.name for f in events.ENVELOPE}
    want = [*ddl.SOURCE_ENVELOPE, *(f.name for f in events.CHAT_MESSAGE.fields)]
    assert _flink_columns(chat) == want
    assert len(sinks) == len(results.RESULTS)
    for statement, result in zip(sinks, results.RESULTS, strict=True):
        assert statement.startswith(f"CREATE TABLE {result.table} (")
        assert _flink_columns(statement) == [f.name for f in result.fields]
        assert f"'topic' = '{result.topic}'" in statement
        assert (f"'key.fields' = '{result.key}'" in statement) == (result.key is not None)
    assert "`session` STRING" in chat and "flags ARRAY<STRING>" in chat


def test_clickhouse_tables_are_the_stored_results() -> None:
    assert [t.name for t in schema.RESULT_TABLES] == [r.table for r in results.STORED]
    assert results.CONTROL not in results.STORED
    for t, r in zip(schema.RESULT_TABLES, results.STORED, strict=True):
        assert t.columns == [f.name for f in r.fields]
        for f in r.fields:
            assert re.search(rf"^  {f.name} {re.escape(f.clickhouse_type)},$", t.ddl, re.M), f
        assert f"ORDER BY ({', '.join(r.order_by or ())})" in t.ddl


def test_every_result_names_a_time_field_of_its_own() -> None:
    """The collector's freshness of a result is now minus its newest time field."""
    for r in results.RESULTS:
        times = {f.name for f in r.fields if f.kind is Kind.MS}
        assert r.time_field in times, r.table
    assert results.MESSAGE_COUNTS.time_field == "window_end"
    assert results.MODERATION.time_field == "last_ts"


def _sample(kind: Kind) -> Any:
    return {Kind.STRING: "x", Kind.LONG: 7, Kind.INT: 3, Kind.MS: 1_700_000_000_123,
            Kind.DOUBLE: 0.5, Kind.STRINGS: ["a"]}[kind]  # fmt: skip


def test_row_converters_turn_a_full_row_into_typed_values() -> None:
    at = dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=dt.UTC)
    for t, r in zip(schema.RESULT_TABLES, results.STORED, strict=True):
        row = {f.name: _sample(f.kind) for f in r.fields}
        assert r.problems(row) == []
        expected = [at if f.kind is Kind.MS else _sample(f.kind) for f in r.fields]
        assert t.row(row) == expected, t.name


def test_row_converters_fill_optional_fields_and_refuse_missing_required_ones() -> None:
    row = {"window_start": 0, "window_end": 1, "agent": "a", "waits": 2, "replied_5m": 1,
           "reply_rate": 0.5}  # fmt: skip
    assert schema.REPLY_RATES.row(row)[-2:] == [None, None]
    sessions = {"conv": "c", "start": 0, "end": 1, "messages": 1, "customer_messages": 1,
                "agent_messages": 0}  # fmt: skip
    converted = schema.CONVERSATION_SESSIONS.row(sessions)
    assert converted[1] == "" and converted[-1] == ""
    with pytest.raises(KeyError):
        schema.MODERATION.row({"user": "u"})


def test_commands_have_their_shapes() -> None:
    mute = {"type": "user.mute", "ts": 4, "user": "u", "until": 5, "rule": "flood"}
    assert results.command_problems(mute) == []
    assert results.command_problems({"type": "cs.close_inactive", "session": "s"}) == [
        "cs.close_inactive: missing ts"
    ]
    assert [f.name for f in results.CONTROL.fields] == [
        "type", "session", "ts", "user", "until", "rule"
    ]  # fmt: skip
