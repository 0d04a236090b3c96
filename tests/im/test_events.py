"""Every event of EVENTS.md reaches Kafka with exactly its fields and key."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from im import topics
from im.consumer import decode
from stack.manager import Stack
from tests.client import User
from tests.doctables import EVENTS, fields, one, plain
from tests.im.cs_helpers import ADMIN, ADMIN_PW, agent
from tests.ports import free_ports
from tests.servers import server_node

PORT, PORT_TICKER = free_ports(2)
ENVELOPE = {"v": int, "id": str, "type": str, "ts": int, "node": str}
OPT = object()  # marks an optional field
# type -> (topic, key field, {field: type or (type, OPT)})
SCHEMA: dict[str, tuple[str, str, dict[str, Any]]] = {
    "chat.message": (topics.CHAT, "conv", {
        "conv": str, "conv_kind": str, "seq": int, "sender": str, "sender_role": str,
        "kind": str, "cmid": str, "text_len": int, "content_hash": str, "flags": list,
        "session": (str, OPT), "agent": (str, OPT),
    }),
    "conn.open": (topics.CONNECTION, "user", {"user": str, "device": str}),
    "conn.close": (topics.CONNECTION, "user", {
        "user": str, "device": str, "reason": str, "duration_ms": int}),
    "conn.auth_failed": (topics.CONNECTION, "device", {
        "user": type(None), "device": str, "reason": str}),
    "cs.created": (topics.SESSION, "session", {"session": str, "conv": str, "customer": str}),
    "cs.accepted": (topics.SESSION, "session", {
        "session": str, "conv": str, "customer": str, "agent": str}),
    "cs.transferred": (topics.SESSION, "session", {
        "session": str, "conv": str, "customer": str, "agent": str, "from_agent": str,
        "to_agent": str}),
    "cs.closed": (topics.SESSION, "session", {
        "session": str, "conv": str, "customer": str, "agent": (str, OPT), "reason": str}),
}  # fmt: skip
# How docs/events.md spells the types of SCHEMA ("?" after it: optional).
DOC_TYPES = {str: "string", int: "integer", list: "string[]", type(None): "null"}


def check(event: dict[str, Any], key: bytes | None) -> None:
    _, key_field, fields = SCHEMA[event["type"]]
    allowed = {**ENVELOPE, **fields}
    assert set(event) <= set(allowed), f"unknown fields {set(event) - set(allowed)}"
    for name, spec in allowed.items():
        typ, optional = spec if isinstance(spec, tuple) else (spec, None)
        if name not in event:
            assert optional is OPT, f"{event['type']} lacks {name}"
            continue
        assert isinstance(event[name], typ) and not isinstance(event[name], bool), (name, event)
    expected_key = event.get(key_field) or "-"
    assert key == str(expected_key).encode(), (event["type"], key)


def test_the_schema_is_the_one_of_docs_events_md() -> None:
    """docs/events.md lists exactly the fields, types, topics and keys checked here."""
    envelope = fields(one(EVENTS, "Envelope"))
    assert envelope == {name: (DOC_TYPES[typ], False) for name, typ in ENVELOPE.items()}
    rows = {plain(r["type"]): r for r in one(EVENTS, "Event types").rows}
    assert {t for t, r in rows.items() if plain(r["status"]) == "built"} == {*SCHEMA, "tick"}
    for etype, (topic, key_field, spec) in SCHEMA.items():
        assert plain(rows[etype]["topic"]) == topic, etype
        assert plain(rows[etype]["key"]) == key_field, etype
        want = {}
        for name, s in spec.items():
            typ, optional = s if isinstance(s, tuple) else (s, None)
            want[name] = (DOC_TYPES[typ], optional is OPT)
        assert fields(one(EVENTS, "Event types", etype)) == want, etype
    assert fields(one(EVENTS, "Event types", "tick")) == {}  # the envelope only


async def read_until(
    bootstrap: str, topic_names: list[str], done: Callable[[list[Any]], bool], until: float
) -> list[Any]:
    """Every committed record of the topics, read until `done(records)` or the deadline."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, isolation_level="read_committed"
    )
    await consumer.start()
    records: list[Any] = []
    try:
        parts = [TopicPartition(t, p) for t in topic_names
                 for p in (consumer.partitions_for_topic(t) or range(4))]  # fmt: skip
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        while time.monotonic() < until and not done(records):
            batch = await consumer.getmany(timeout_ms=300)
            records += [r for recs in batch.values() for r in recs]
    finally:
        await consumer.stop()
    return records


def counts(events: list[tuple[dict[str, Any], bytes | None]]) -> dict[str, int]:
    seen: dict[str, int] = {}
    for event, _ in events:
        seen[event["type"]] = seen.get(event["type"], 0) + 1
    return seen


async def test_every_event_type_with_its_fields_and_key(stack: Stack) -> None:
    env = {"IM_ADMIN_USERNAME": ADMIN, "IM_ADMIN_PASSWORD": ADMIN_PW}
    with server_node(stack, "schema", PORT, **env):
        base = f"http://127.0.0.1:{PORT}"
        a1, a2 = await agent(base), await agent(base)
        customer = await User.create(base, "evt")
        sid = (await customer.post("/api/cs/sessions")).json()["session"]
        await a1.post(f"/api/cs/sessions/{sid}/accept")
        await a1.post(f"/api/cs/sessions/{sid}/transfer", {"to": a2.user_id})
        dc = await customer.connect("evt-device")
        conv = (await customer.get("/api/conversations")).json()[0]["conv"]
        await dc.send_text(conv, "hello")
        await customer.post(f"/api/cs/sessions/{sid}/close")
        await dc.close()
        other = await User.create(base, "grp")
        g = await other.group("g", [])
        do = await other.connect()
        await do.send_text(g, "group chat")
        await do.close()
        bad = User(base, "x", "y")
        bad.token = "forged"
        with pytest.raises(AssertionError):
            await bad.connect("bad-device")

        mine = {customer.user_id, other.user_id, sid, conv, g, "bad-device"}

        def ours(records: list[Any]) -> list[tuple[dict[str, Any], bytes | None]]:
            out = []
            for r in records:
                event = decode(r.value)
                assert event is not None
                if event["type"] != "tick" and mine & {
                    str(event.get(k)) for k in ("user", "session", "conv", "device")
                }:  # not another test's events
                    out.append((event, r.key))
            return out

        def complete(records: list[Any]) -> bool:
            seen = counts(ours(records))
            return set(seen) >= set(SCHEMA) and min(seen["conn.open"], seen["conn.close"]) >= 2

        # Read while the node runs: whichever node holds the relay lease
        # publishes (this one, at the latest once an earlier holder's lease expired).
        records = await read_until(stack.settings.kafka_bootstrap,
                                   [topics.CHAT, topics.CONNECTION, topics.SESSION],
                                   complete, time.monotonic() + 40)  # fmt: skip
    for event, key in ours(records):
        check(event, key)
    seen = counts(ours(records))
    assert set(seen) == set(SCHEMA)
    assert seen["cs.created"] == seen["cs.closed"] == seen["cs.transferred"] == 1
    assert seen["conn.open"] == seen["conn.close"] == 2


async def test_ticks_reach_every_partition_while_nobody_chats(stack: Stack) -> None:
    with server_node(stack, "ticker", PORT_TICKER):
        consumer = AIOKafkaConsumer(bootstrap_servers=stack.settings.kafka_bootstrap,
                                    group_id=None, auto_offset_reset="latest")  # fmt: skip
        await consumer.start()
        try:
            parts = [TopicPartition(t, p) for t in topics.TICKED for p in range(4)]
            consumer.assign(parts)
            await consumer.seek_to_end(*parts)
            ticked: set[tuple[str, int]] = set()
            deadline = time.monotonic() + 10
            while len(ticked) < len(parts) and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=300)
                for tp, recs in batch.items():
                    for r in recs:
                        tick = decode(r.value) or {}
                        if tick.get("type") == "tick":
                            assert {k: type(v) for k, v in tick.items()} == ENVELOPE, tick
                            ticked.add((tp.topic, tp.partition))
        finally:
            await consumer.stop()
    assert ticked == {(p.topic, p.partition) for p in parts}
