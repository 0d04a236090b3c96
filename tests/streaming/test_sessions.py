"""Conversation session end (sessions.sql) and close commands (close_inactive.sql).

Boundary, measured on Flink 2.2 and asserted here: a message exactly `gap` ms
after the previous one of its conversation stays in the same session (Flink
merges session windows that touch); `gap` + 1 ms apart starts a new session.
"""

from __future__ import annotations

import random
import secrets
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from stack import install
from stack.manager import Stack
from streaming import ddl
from streaming.queries import statements
from tests.streaming import reference_cep as ref
from tests.streaming.flinkrun import on_flink_thread, run_views_on_rows, table_env
from traffic.scenario import generate

T0 = 1_795_000_020_000
GAP_S = 600
GAP = GAP_S * 1000


def cs(
    conv: str,
    ts: int,
    seq: int,
    role: str = "user",
    session: str | None = "s1",
    kind: str = "chat",
    sender: str | None = None,
) -> dict[str, Any]:
    row = {
        "v": 1,
        "id": f"m:{conv}:{seq}",
        "type": "chat.message",
        "ts": ts,
        "node": "n1",
        "conv": conv,
        "conv_kind": "cs",
        "seq": seq,
        "sender": sender or f"{role}-1",
        "sender_role": role,
        "kind": kind,
        "cmid": f"c:{conv}:{seq}",
        "text_len": 4,
        "content_hash": f"h{seq}",
        "flags": [],
        "agent": "agent-1",
    }
    if session is not None:
        row["session"] = session
    return row


def tick(ts: int, n: int = 0) -> dict[str, Any]:
    return {"v": 1, "id": f"t:{ts}:{n}", "type": "tick", "ts": ts, "node": "n1"}


def in_time_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # A row more than the watermark's lateness behind the newest is late: write in order.
    return sorted(rows, key=lambda r: r["ts"])


def sessions(rows: list[dict[str, Any]], tmp: Path, gap_s: int = GAP_S) -> list[tuple[Any, ...]]:
    views, select = statements("sessions", session_gap_s=gap_s)
    return ref.ordered(run_views_on_rows(views, select, in_time_order(rows), tmp))


def close_inactive(
    rows: list[dict[str, Any]], tmp: Path, gap_s: int = GAP_S
) -> list[tuple[Any, ...]]:
    views, _ = statements("sessions", session_gap_s=gap_s)
    more, select = statements("close_inactive", session_gap_s=gap_s)
    return ref.ordered(run_views_on_rows(views + more, select, in_time_order(rows), tmp))


def test_gap_boundary(tmp_path: Path) -> None:
    """gap - 1 ms and exactly gap: one session. gap + 1 ms: two."""
    rows = []
    for conv, second in (("minus", GAP - 1), ("exact", GAP), ("plus", GAP + 1)):
        rows += [cs(conv, T0, 1), cs(conv, T0 + second, 2, role="agent")]
    got = sessions(rows, tmp_path)
    assert got == [
        ("exact", "s1", T0, T0 + GAP, 2, 1, 1, "agent"),
        ("minus", "s1", T0, T0 + GAP - 1, 2, 1, 1, "agent"),
        ("plus", "s1", T0, T0, 1, 1, 0, "user"),
        ("plus", "s1", T0 + GAP + 1, T0 + GAP + 1, 1, 0, 1, "agent"),
    ]
    assert ref.sessions(rows, GAP_S) == got


def conversations() -> list[dict[str, Any]]:
    """Two cs conversations, one without a session id, and what is not a cs message."""
    a = [
        cs("a", T0, 1),  # customer
        cs("a", T0 + 1_000, 2, role="bot"),  # a bot answers: neither customer nor agent
        cs("a", T0 + 60_000, 3),
        cs("a", T0 + 120_000, 4, role="agent"),
        cs("a", T0 + 120_000, 5, role="system", kind="event"),  # same ts, later seq
    ]
    a.append(cs("a", a[-1]["ts"] + GAP - 1, 6))  # customer again just in time
    a.append(cs("a", a[-1]["ts"] + GAP, 7, role="agent"))  # exactly the gap: same session
    a.append(dict(a[-1]))  # a relayed duplicate (same id and ts): counted once
    a.append(cs("a", a[-1]["ts"] + GAP + 1, 8, session="s2"))  # a new session
    a.append(cs("a", a[-1]["ts"] + 5_000, 9, role="agent", kind="system", session="s2"))
    b = [
        cs("b", T0 + 5_000, 1, session="s9"),
        cs("b", T0 + 5_000, 1, session="s9"),  # duplicate
        cs("b", T0 + 10_000, 2, role="agent", session="s9"),
        cs("b", T0 + 10_000, 3, role="system", kind="event", session="s9"),  # ends it
    ]
    c = [cs("c", T0 + 7_000, 1, session=None), cs("c", T0 + 8_000, 2, role="agent", session=None)]
    other = [
        {**cs("g", T0 + 2_000, 1), "conv_kind": "group"},  # not a cs conversation
        {**cs("d", T0 + 3_000, 1), "conv_kind": "direct"},
        {**cs("a", T0 + 3 * GAP, 99), "type": "cs.closed"},  # another event type on im.chat
        *(tick(T0 + k * 250_000) for k in range(12)),  # ticks: no messages, no windows
    ]
    return a + b + c + other


def test_sessions_counts_and_ended_by(tmp_path: Path) -> None:
    rows = conversations()
    a7 = T0 + 120_000 + GAP - 1 + GAP
    want = [
        ("a", "s1", T0, a7, 7, 3, 2, "agent"),
        ("a", "s2", a7 + GAP + 1, a7 + GAP + 5_001, 2, 1, 0, "agent"),
        ("b", "s9", T0 + 5_000, T0 + 10_000, 3, 1, 1, "system"),
        ("c", None, T0 + 7_000, T0 + 8_000, 2, 1, 1, "agent"),
    ]
    assert ref.sessions(rows, GAP_S) == want
    assert sessions(rows, tmp_path) == want


def test_close_inactive_commands(tmp_path: Path) -> None:
    rows = conversations()
    a7 = T0 + 120_000 + GAP - 1 + GAP
    want = [  # one per ended session with a cs session id, at last message + gap
        ("cs.close_inactive", "s1", a7 + GAP, None, None, None),
        ("cs.close_inactive", "s2", a7 + GAP + 5_001 + GAP, None, None, None),
        ("cs.close_inactive", "s9", T0 + 10_000 + GAP, None, None, None),
    ]
    assert ref.close_inactive(rows, GAP_S) == want
    assert close_inactive(rows, tmp_path) == want


def test_gap_is_a_parameter(tmp_path: Path) -> None:
    rows = [cs("a", T0, 1), cs("a", T0 + 30_000, 2), cs("a", T0 + 60_001, 3)]
    assert sessions(rows, tmp_path, gap_s=30) == [
        ("a", "s1", T0, T0 + 30_000, 2, 2, 0, "user"),
        ("a", "s1", T0 + 60_001, T0 + 60_001, 1, 1, 0, "user"),
    ]


# -- a quiet conversation's window closes on a tick (real Kafka, unbounded source) --

KAFKA_GAP_S = 60
SESSION_COLUMNS = ("conv", "session", "start", "end", "messages", "customer_messages",
                   "agent_messages", "ended_by")  # fmt: skip


async def _topics(bootstrap: str, *partitions: int) -> list[str]:
    names = [f"test-sessions-{secrets.token_hex(4)}" for _ in partitions]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(n, p, replication_factor=1) for n, p in zip(names, partitions, strict=True)]
        )
    finally:
        await admin.close()
    return names


def _kafka_job(stack: Stack, source: str, sink: str) -> Any:
    """The sessions query from topic `source` into topic `sink`, running (call it
    on the Flink thread: flinkrun's docstring says why).

    Rows are read back from the sink topic rather than with collect(), which
    would keep the Flink thread busy until the job ends."""
    jars = install.flink_connector_jars(Path(stack.settings.cache_dir), print)
    t_env = table_env()
    t_env.get_config().set("pipeline.jars", ";".join(j.as_uri() for j in jars))
    bootstrap = stack.settings.kafka_bootstrap
    kafka = f"'connector' = 'kafka', 'properties.bootstrap.servers' = '{bootstrap}'"
    t_env.execute_sql("DROP TEMPORARY TABLE IF EXISTS chat_events")
    t_env.execute_sql(
        f"CREATE TEMPORARY TABLE chat_events ({ddl.CHAT_COLUMNS},\n{ddl.event_time(1)}\n) WITH ("
        f"{kafka}, 'topic' = '{source}', 'properties.group.id' = '{source}',"
        " 'scan.startup.mode' = 'earliest-offset', 'format' = 'json')"
    )
    t_env.execute_sql("DROP TEMPORARY TABLE IF EXISTS sessions_out")
    t_env.execute_sql(
        "CREATE TEMPORARY TABLE sessions_out (conv STRING, `session` STRING, `start` BIGINT,"
        " `end` BIGINT, messages BIGINT, customer_messages BIGINT, agent_messages BIGINT,"
        f" ended_by STRING) WITH ({kafka}, 'topic' = '{sink}', 'format' = 'json')"
    )
    views, select = statements("sessions", session_gap_s=KAFKA_GAP_S)
    for view in views:
        t_env.execute_sql(f"DROP TEMPORARY VIEW IF EXISTS {view.split()[3]}")
        t_env.execute_sql(view)
    return t_env.execute_sql(f"INSERT INTO sessions_out\n{select}")  # returns once submitted


def _cancel(job: Any) -> None:
    if job.get_job_client() is not None:
        job.get_job_client().cancel().result()


async def _next(consumer: AIOKafkaConsumer, timeout: float) -> tuple[Any, ...] | None:
    """The next session row of the sink topic, None if none comes within `timeout` s."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        batch = await consumer.getmany(timeout_ms=int(min(left, 1.0) * 1000), max_records=1)
        for records in batch.values():
            row = orjson.loads(records[0].value)
            return tuple(row[k] for k in SESSION_COLUMNS)
    return None


async def test_quiet_conversation_closes_on_a_later_tick(stack: Stack) -> None:
    """Ticks (no conversation) open no window but move the watermark, and that
    alone ends the session of a conversation that went quiet. Two partitions:
    the watermark is the minimum over them, so ticks go into every partition,
    as the server writes them. Watermark lateness 1 s, gap 60 s."""
    bootstrap = stack.settings.kafka_bootstrap
    source, sink = await _topics(bootstrap, 2, 1)
    gap = KAFKA_GAP_S * 1000
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    consumer = AIOKafkaConsumer(sink, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await producer.start()
    await consumer.start()
    job = None
    try:

        async def send(row: dict[str, Any], partition: int = 0) -> None:
            await producer.send_and_wait(source, orjson.dumps(row), partition=partition)

        # "early" ends when the newer messages of "quiet" move the watermark past
        # its end. "quiet" then has nothing after it but ticks.
        early = [cs("early", T0, 1, session="s0"), cs("early", T0 + 1_000, 2, "agent", "s0")]
        quiet = [cs("quiet", T0 + 100_000, 1), cs("quiet", T0 + 101_000, 2, role="agent")]
        for row in early + quiet:
            await send(row)
        await send(tick(T0 + 101_000, 1), partition=1)
        job = on_flink_thread(_kafka_job, stack, source, sink)

        assert await _next(consumer, 90) == ("early", "s0", T0, T0 + 1_000, 2, 1, 1, "agent")
        # The watermark is now at 101 s - 1 s: "quiet" (end 101 s + gap) stays open.
        assert await _next(consumer, 3) is None
        # A tick past its end plus the lateness on partition 1 alone is not
        # enough: partition 0 still holds the watermark back.
        await send(tick(T0 + 101_000 + gap + 1_000, 1), partition=1)
        assert await _next(consumer, 3) is None
        # The same on partition 0 too: only ticks, and the session ends.
        await send(tick(T0 + 101_000 + gap + 1_000, 0), partition=0)
        got = await _next(consumer, 30)
        assert got == ("quiet", "s1", T0 + 100_000, T0 + 101_000, 2, 1, 1, "agent")
    finally:
        await producer.stop()
        await consumer.stop()
        if job is not None:
            on_flink_thread(_cancel, job)


# -- differential: Flink against the plain-Python reference on generated traffic --


def cs_traffic(seed: int, convs: int = 300) -> list[dict[str, Any]]:
    """Hundreds of cs conversations over a few hours: bursts of customer, agent,
    bot and system messages, pauses around the gap (gap - 1 ms, gap, gap + 1 ms
    among them), new cs sessions, conversations without one, duplicates, group
    and direct chat, ticks. Written in event-time order up to 2 s of disorder
    (less than the watermark's 5 s, so no row is late)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    span = 3 * 3600 * 1000
    for c in range(convs):
        conv = f"cs{c}"
        t = T0 + rng.randrange(span)
        seq, sid = 0, 0
        with_session = rng.random() > 0.1
        for _ in range(rng.randint(1, 4)):
            for _ in range(rng.randint(1, 12)):
                seq += 1
                role = rng.choices(["user", "agent", "bot", "system"], [6, 4, 1, 1])[0]
                kind = "chat" if role != "system" else rng.choice(["event", "system"])
                if role == "agent" and rng.random() < 0.1:
                    kind = "event"
                session = f"{conv}/{sid}" if with_session else None
                rows.append(cs(conv, t, seq, role, session, kind=kind))
                if rng.random() < 0.04:
                    rows.append(dict(rows[-1]))  # relayed twice
                t += rng.choice([0, 1000, rng.randrange(1, 90_000), rng.randrange(1, GAP)])
            t += rng.choice([GAP - 1, GAP, GAP + 1, rng.randrange(1, 3 * GAP)])
            if rng.random() < 0.5:
                sid += 1
    for k in range(500):  # chat that is not customer service
        kind = rng.choice(["group", "direct"])
        rows.append({**cs(f"g{k % 40}", T0 + rng.randrange(span), k), "conv_kind": kind})
    rows += [tick(T0 + k * 5_000) for k in range(span // 5_000 + 1)]
    return sorted(rows, key=lambda r: r["ts"] + rng.randrange(2_000))


def test_sessions_equal_the_reference_on_generated_traffic(tmp_path: Path) -> None:
    rows = cs_traffic(seed=7)
    want = ref.sessions(rows, GAP_S)
    assert len(want) > 500 and {w[7] for w in want} == {"user", "agent", "bot", "system"}
    views, select = statements("sessions", session_gap_s=GAP_S)
    assert ref.ordered(run_views_on_rows(views, select, rows, tmp_path)) == want
    more, select = statements("close_inactive", session_gap_s=GAP_S)
    got = ref.ordered(run_views_on_rows(views + more, select, rows, tmp_path))
    assert got == ref.close_inactive(rows, GAP_S)


def test_sessions_equal_the_reference_on_realistic_traffic(tmp_path: Path) -> None:
    """traffic.py: cs sessions as the server writes them, agents slow past the
    gap, late duplicates (dropped by Flink as late, ignored by the reference)."""
    rows = generate(seed=3)
    views, select = statements("sessions", session_gap_s=GAP_S)
    want = ref.sessions(rows, GAP_S)
    assert len(want) > 300
    assert ref.ordered(run_views_on_rows(views, select, rows, tmp_path)) == want
