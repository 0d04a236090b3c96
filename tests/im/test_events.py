"""Every event of EVENTS.md reaches Kafka with exactly its fields and key."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from contract import events, topics
from im.consumer import decode
from stack.manager import Stack
from tests.client import User
from tests.doctables import EVENTS, doc_fields, fields, one, plain
from tests.im.cs_helpers import ADMIN, ADMIN_PW, agent
from tests.ports import free_ports
from tests.servers import server_node

PORT, PORT_TICKER = free_ports(2)
SERVER_EVENTS = {e.name for e in events.SERVER_EVENTS if e is not events.TICK}


def check(event: dict[str, Any], key: bytes | None) -> None:
    """The event fits the contract and went to its topic's key."""
    assert events.problems(event) == [], event
    assert key == events.BY_TYPE[event["type"]].key_of(event).encode(), (event["type"], key)


def test_the_contract_is_the_one_of_docs_events_md() -> None:
    """docs/events.md lists exactly the contract's fields, types, topics and keys."""
    assert fields(one(EVENTS, "Envelope")) == doc_fields(events.ENVELOPE)
    rows = {plain(r["type"]): r for r in one(EVENTS, "Event types").rows}
    built = {t for t, r in rows.items() if plain(r["status"]) == "built"}
    written = (*events.SERVER_EVENTS, *events.COLLECTOR_EVENTS)
    assert built == {e.name for e in written}
    for etype in written:
        assert plain(rows[etype.name]["topic"]) == ", ".join(etype.topics), etype.name
        if etype.key is not None:
            assert plain(rows[etype.name]["key"]) == etype.key, etype.name
        assert fields(one(EVENTS, "Event types", etype.name)) == doc_fields(etype.fields)


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
        admin = await User.login(base, ADMIN, ADMIN_PW)  # a2 demoted: back to the queue
        await admin.post(f"/api/admin/users/{a2.user_id}/role", {"role": "user"})
        await a1.post(f"/api/cs/sessions/{sid}/accept")
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
            return set(seen) >= SERVER_EVENTS and min(seen["conn.open"], seen["conn.close"]) >= 2

        # Read while the node runs: whichever node holds the relay lease
        # publishes (this one, at the latest once an earlier holder's lease expired).
        records = await read_until(stack.settings.kafka_bootstrap,
                                   [topics.CHAT, topics.CONNECTION, topics.SESSION],
                                   complete, time.monotonic() + 40)  # fmt: skip
    for event, key in ours(records):
        check(event, key)
    seen = counts(ours(records))
    assert set(seen) == SERVER_EVENTS
    assert seen["cs.created"] == seen["cs.closed"] == seen["cs.transferred"] == 1
    assert seen["cs.requeued"] == 1 and seen["cs.accepted"] == 2
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
                            assert events.problems(tick) == [], tick
                            ticked.add((tp.topic, tp.partition))
        finally:
            await consumer.stop()
    assert ticked == {(p.topic, p.partition) for p in parts}
