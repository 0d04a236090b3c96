"""The 5-minute reply-rate query (streaming/sql/reply_rate.sql) on fixed rows
with exact answers, on generated traffic against the plain-Python reference,
and with late events through a real Kafka topic.

Fixed rows: every case below lives in its own hour of event time and its own
conversations, and all cases run as one Flink job (a job costs ~4 s here),
case after case, each case's rows in time order unless it says otherwise.
The watermark is not only +inf at the end of the bounded input: Flink's
WatermarkAssignerOperator emits it (newest ts - 5 s) right after a row that
moves it by more than the auto-watermark interval (200 ms), so a row more
than 5 s older than the newest is late here as on Kafka, and each case's
windows close while the next case streams in.
"""

from __future__ import annotations

import asyncio
import queue
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pyflink.java_gateway import get_gateway
from pyflink.table import EnvironmentSettings, TableEnvironment

from stack import install
from stack.manager import Stack
from streaming import ddl
from streaming.queries import statements
from tests.streaming import reference
from tests.streaming.flinkrun import run_views_on_rows, submit
from traffic.scenario import generate

T0 = 1_795_000_200_000  # a multiple of 300 s (ms)
HOUR = 3_600_000
W = 300_000  # the default window (ms)
LATENESS_S = 5  # run_views_on_rows' watermark bound
Row = tuple[Any, ...]


def reply_rate(
    rows: list[dict[str, Any]], tmp: Path, window_s: int = 300, within_s: int = 300
) -> list[Row]:
    views, select = statements("reply_rate", reply_window_s=window_s, reply_within_s=within_s)
    return sorted(run_views_on_rows(views, select, rows, tmp, LATENESS_S))


@dataclass
class Case:
    """Rows of one case, in arrival order, at `base` + t seconds, in
    conversations of its own (`tag` + the name the case gives)."""

    base: int
    tag: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    seqs: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def msg(
        self,
        conv: str,
        t: float,
        role: str,
        agent: str | None = None,
        kind: str = "chat",
        conv_kind: str = "cs",
        sender: str | None = None,
    ) -> dict[str, Any]:
        conv = self.tag + conv
        self.seqs[conv] += 1
        seq = self.seqs[conv]
        row: dict[str, Any] = {
            "v": 1, "id": f"m:{conv}:{seq}", "type": "chat.message", "ts": self.ms(t),
            "node": "n1", "conv": conv, "conv_kind": conv_kind, "seq": seq,
            "sender": sender or {"user": f"cust-{conv}", "system": "system"}.get(role, role),
            "sender_role": role, "kind": kind, "cmid": f"c{seq}", "text_len": 5,
            "content_hash": "0123456789abcdef", "flags": [],
        }  # fmt: skip
        if conv_kind == "cs":
            row["session"] = f"s-{conv}"
            if agent is not None:
                row["agent"] = agent
        self.rows.append(row)
        return row

    def customer(self, conv: str, t: float, agent: str | None = "ag1") -> dict[str, Any]:
        return self.msg(conv, t, "user", agent)

    def agent(self, conv: str, t: float, who: str = "ag1") -> dict[str, Any]:
        return self.msg(conv, t, "agent", who, sender=who)

    def again(self, row: dict[str, Any]) -> None:
        """The same event delivered once more (same id and content)."""
        self.rows.append(dict(row))

    def tick(self, t: float) -> None:
        self.rows.append({"v": 1, "id": f"t:{t}", "type": "tick", "ts": self.ms(t), "node": "n1"})

    def ms(self, t: float) -> int:
        return self.base + round(t * 1000)

    def out(
        self,
        window: int,
        agent: str,
        waits: int,
        replied: int,
        avg: float | None,
        p90: float | None,
    ) -> Row:
        """An expected output row of window number `window` (0: [base, base + 300 s))."""
        start = self.base + window * W
        return (start, start + W, agent, waits, replied, replied / waits, avg, p90)


Build = Callable[[Case], list[Row]]  # writes a case's rows, returns its expected rows
CASES: dict[str, Build] = {}
AS_WRITTEN: set[str] = set()  # cases whose rows arrive as written, not in time order
LATE_CASES = {"late_events_inside_and_outside_the_bound"}  # the reference ignores lateness


def case(fn: Build) -> Build:
    CASES[fn.__name__] = fn
    return fn


def as_written(fn: Build) -> Build:
    AS_WRITTEN.add(fn.__name__)
    return fn


@case
def reply_at_exactly_300_s_is_answered_at_300_001_s_missed(c: Case) -> list[Row]:
    c.customer("a", 10)
    c.customer("b", 20)
    c.agent("a", 310)  # 300.000 s after its wait started: counts
    c.agent("b", 320.001)  # 300.001 s: missed
    return [c.out(0, "*", 2, 1, 300.0, 300.0), c.out(0, "ag1", 2, 1, 300.0, 300.0)]


@case
def wait_without_reply_is_missed(c: Case) -> list[Row]:
    c.customer("a", 5)
    c.msg("a", 60, "system", "ag1", kind="event")  # session closed
    return [c.out(0, "*", 1, 0, None, None), c.out(0, "ag1", 1, 0, None, None)]


@case
def two_replies_count_once_with_the_first_ones_time(c: Case) -> list[Row]:
    c.customer("a", 0)
    c.agent("a", 30)
    c.agent("a", 40)
    return [c.out(0, "*", 1, 1, 30.0, 30.0), c.out(0, "ag1", 1, 1, 30.0, 30.0)]


@case
def consecutive_customer_messages_make_one_wait(c: Case) -> list[Row]:
    c.customer("a", 0)
    c.customer("a", 10)
    c.customer("a", 20)
    c.agent("a", 50)  # 50 s after the first of the three
    c.customer("a", 60)  # a new wait
    c.customer("a", 61)
    c.agent("a", 70)
    return [c.out(0, "*", 2, 2, 30.0, 46.0), c.out(0, "ag1", 2, 2, 30.0, 46.0)]


@case
def bot_messages_neither_end_nor_restart_a_wait(c: Case) -> list[Row]:
    c.customer("a", 0)
    c.msg("a", 1, "bot", "ag1", sender="bot1")  # "an agent will be with you shortly"
    c.customer("a", 10)  # still the same wait
    c.agent("a", 100)
    return [c.out(0, "*", 1, 1, 100.0, 100.0), c.out(0, "ag1", 1, 1, 100.0, 100.0)]


@case
def system_and_event_messages_do_not_end_a_wait(c: Case) -> list[Row]:
    c.customer("a", 0)
    c.msg("a", 5, "system", "ag1", kind="event")  # a notice from the system account
    c.msg("a", 6, "agent", "ag1", kind="event", sender="ag1")  # not a chat message
    c.msg("a", 7, "agent", "ag1", kind="system", sender="ag1")
    c.msg("a", 8, "admin", "ag1", sender="boss")  # not an agent
    c.agent("a", 60)
    return [c.out(0, "*", 1, 1, 60.0, 60.0), c.out(0, "ag1", 1, 1, 60.0, 60.0)]


@case
def transfer_mid_wait_counts_for_the_agent_assigned_at_its_start(c: Case) -> list[Row]:
    c.customer("a", 0, agent="ag1")
    c.msg("a", 20, "system", "ag2", kind="event")  # session transferred to ag2
    c.agent("a", 40, who="ag2")  # ends the wait that belongs to ag1
    c.customer("a", 50, agent="ag2")
    c.agent("a", 55, who="ag2")
    return [
        c.out(0, "*", 2, 2, 22.5, 36.5),  # p90 of 5 and 40 s: 5 + 0.9 * 35
        c.out(0, "ag1", 1, 1, 40.0, 40.0),
        c.out(0, "ag2", 1, 1, 5.0, 5.0),
    ]


@case
def wait_before_an_agent_is_assigned_is_unassigned(c: Case) -> list[Row]:
    c.customer("a", 0, agent=None)  # queued
    c.msg("a", 30, "system", "ag1", kind="event")  # accepted by ag1
    c.agent("a", 45)
    return [c.out(0, "*", 1, 1, 45.0, 45.0), c.out(0, "unassigned", 1, 1, 45.0, 45.0)]


@case
def group_and_direct_conversations_are_ignored(c: Case) -> list[Row]:
    c.msg("g", 0, "user", conv_kind="group")
    c.msg("g", 10, "agent", conv_kind="group", sender="ag1")
    c.msg("d", 1, "user", conv_kind="direct")
    c.msg("d", 2, "agent", conv_kind="direct", sender="ag1")
    c.msg("d", 3, "user", conv_kind="direct")  # never answered, yet no wait
    c.customer("a", 5)
    c.agent("a", 25)
    return [c.out(0, "*", 1, 1, 20.0, 20.0), c.out(0, "ag1", 1, 1, 20.0, 20.0)]


@case
@as_written
def duplicate_events_change_nothing(c: Case) -> list[Row]:
    first = c.customer("a", 0)
    c.again(first)  # relayed twice in a row
    reply = c.agent("a", 30)
    second = c.customer("a", 32)
    c.again(reply)  # 2 s behind: within the lateness bound, dropped as a duplicate
    c.again(first)  # 32 s behind: later than the bound, dropped as late
    last = c.agent("a", 42)
    c.again(second)
    c.again(last)
    c.again(last)
    return [c.out(0, "*", 2, 2, 20.0, 28.0), c.out(0, "ag1", 2, 2, 20.0, 28.0)]


@case
def per_agent_rows_and_all_agents_avg_and_p90(c: Case) -> list[Row]:
    for i, reply in enumerate([10, 20, 30, 40, 50, 60]):
        c.customer(f"a{i}", i)
        c.agent(f"a{i}", i + reply)
    c.customer("b", 10, agent="ag2")  # ag2: one wait, missed
    c.agent("b", 400, who="ag2")
    for i, reply in enumerate([70, 80, 90, 100, 100]):
        c.customer(f"u{i}", 20 + i, agent=None)
        c.agent(f"u{i}", 20 + i + reply)
    # p90 with linear interpolation: rank 0.9 * (n - 1) of the sorted replies,
    # ag1: rank 4.5 of 10..60 -> 55, unassigned: 3.6 of 70..100,100 -> 100,
    # all: 9 of 10, 20, ..., 100, 100 -> 100.
    return [
        c.out(0, "*", 12, 11, 650 / 11, 100.0),
        c.out(0, "ag1", 6, 6, 35.0, 55.0),
        c.out(0, "ag2", 1, 0, None, None),
        c.out(0, "unassigned", 5, 5, 88.0, 100.0),
    ]


@case
def waits_near_window_ends_land_in_the_window_of_their_start(c: Case) -> list[Row]:
    c.customer("a", 299.999)  # window 0, answered 1 ms later in window 1's time
    c.customer("b", 299.999)  # window 0, never answered
    c.agent("a", 300.0)
    c.customer("c", 300.0)  # window 1, never answered
    c.customer("d", 599.5)  # window 1, answered at exactly 300 s, in window 3's time
    c.tick(700)
    c.agent("d", 899.5)
    c.customer("e", 900.0)  # window 3, answered after 60 s
    c.agent("e", 960.0)
    return [
        c.out(0, "*", 2, 1, 0.001, 0.001),
        c.out(0, "ag1", 2, 1, 0.001, 0.001),
        c.out(1, "*", 2, 1, 300.0, 300.0),
        c.out(1, "ag1", 2, 1, 300.0, 300.0),
        c.out(3, "*", 1, 1, 60.0, 60.0),
        c.out(3, "ag1", 1, 1, 60.0, 60.0),
    ]


@case
def messages_in_the_same_ms(c: Case) -> list[Row]:
    c.customer("a", 0)
    c.agent("a", 0)  # the same ms as the wait's start: does not answer it
    c.agent("a", 25)
    c.customer("b", 0)
    c.customer("b", 50)
    c.agent("b", 50)  # the same ms: ends the wait open since 0 s ...
    c.customer("b", 50)  # ... and the customer waits again from 50 s
    c.agent("b", 75)
    c.customer("c", 0)
    c.customer("c", 0)  # two customer messages in one ms: one wait
    c.agent("c", 50)
    # replies 25, 50, 25, 50 s: p90 at rank 2.7 of 25, 25, 50, 50 -> 50
    return [c.out(0, "*", 4, 4, 37.5, 50.0), c.out(0, "ag1", 4, 4, 37.5, 50.0)]


@case
@as_written
def late_events_inside_and_outside_the_bound(c: Case) -> list[Row]:
    c.customer("a", 0)
    c.customer("b", 0)
    c.tick(20)  # watermark 15 s
    c.agent("a", 17)  # 3 s behind the newest event: within the 5 s bound, counted
    c.agent("b", 12)  # 8 s behind: late, dropped, so b's wait is missed
    c.customer("c", 10)  # 10 s behind: late, dropped, no wait at all
    c.agent("b", 400)  # after 300 s: b stays missed
    return [c.out(0, "*", 2, 1, 17.0, 17.0), c.out(0, "ag1", 2, 1, 17.0, 17.0)]


Fixed = dict[str, tuple[Case, list[Row], list[Row]]]


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> Fixed:
    """name -> (the case, its expected rows, Flink's rows of it): one Flink job."""
    built, rows = {}, []
    for i, (name, build) in enumerate(CASES.items()):
        c = Case(T0 + i * HOUR, f"{i}-")
        built[name] = (c, sorted(build(c)))
        if name not in AS_WRITTEN:
            c.rows.sort(key=lambda r: r["ts"])  # stable: same-ms rows stay as written
        rows += c.rows
    got = reply_rate(rows, tmp_path_factory.mktemp("reply_rate"))
    assert all(T0 <= r[0] < T0 + len(CASES) * HOUR for r in got)
    return {
        name: (c, want, [r for r in got if c.base <= r[0] < c.base + HOUR])
        for name, (c, want) in built.items()
    }


@pytest.mark.parametrize("name", list(CASES))
def test_fixed_rows(name: str, fixed: Fixed) -> None:
    c, want, got = fixed[name]
    assert got == approx(want)
    if name not in LATE_CASES:
        assert reference.reply_rates(c.rows) == approx(want)  # the reference agrees


def approx(rows: list[Row], rel: float = 1e-12) -> list[Row]:
    """Rows whose floats compare up to rounding: Flink's PERCENTILE interpolates
    as (ceil(r) - r) * lower + (r - floor(r)) * upper at rank r (1-based), which
    gives 45.99999999999999 for the p90 of 10 and 50 where numpy gives 46.0."""
    return [tuple(pytest.approx(x, rel=rel) if isinstance(x, float) else x for x in r)
            for r in rows]  # fmt: skip


# -- differential: Flink against the plain-Python reference on generated traffic --


@pytest.mark.parametrize(("seed", "window_s", "within_s"), [(7, 300, 300), (11, 120, 60)])
def test_equals_the_reference_on_generated_traffic(
    seed: int, window_s: int, within_s: int, tmp_path: Path
) -> None:
    events = generate(seed=seed)
    want = reference.reply_rates(events, window_s, within_s)
    stars = [r for r in want if r[2] == "*"]
    # the traffic exercises what matters: many agents, partial rates, gaps
    assert len({r[2] for r in want}) > 30 and len(stars) > 15
    assert any(0 < r[5] < 1 for r in stars) and any(r[5] == 0 for r in want)
    assert any(b[0] - a[0] > window_s * 1000 for a, b in pairwise(stars))
    assert len(events) - len({e["id"] for e in events}) > 20  # duplicates
    replies = {w[3] for w in reference.waits(events)}
    assert {300_000, 300_001, None} <= replies  # answered at the limit, just after, never
    same_ms = defaultdict(set)
    for e in events:
        if e["type"] == "chat.message" and e["conv_kind"] == "cs" and e["kind"] == "chat":
            same_ms[(e["conv"], e["ts"])].add(e["id"])
    assert any(len(ids) > 1 for ids in same_ms.values())  # distinct messages in one ms
    got = reply_rate(events, tmp_path, window_s, within_s)
    assert got == approx(want, rel=1e-9)


# -- late events through a real Kafka topic (unbounded source, periodic watermark) --

KAFKA_LATENESS_S = 10


async def _new_topic(bootstrap: str) -> str:
    name = f"test-reply-rate-{secrets.token_hex(4)}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, replication_factor=1)])
    finally:
        await admin.close()
    return name


def _run_on_kafka(stack: Stack, topic: str, end_offset: int, out: queue.Queue[Any]) -> None:
    """The query over a Kafka source on `topic` that ends at `end_offset`; its rows
    go to `out`, then None once the job finished (or the exception).

    Kept apart from the other tests' Flink state (measured: a first version
    that ran on the shared environment with `pipeline.jars`, from two threads,
    left the next test's planning to fail with "java.lang.NullPointerException:
    metadataHandlerProvider" in Calcite, and creating an environment changes
    the Java thread's context class loader, after which a later test's
    `pipeline.jars` went to that loader: "Could not find any factory for
    identifier 'kafka'"). So: an environment of its own, the connector added
    with ADD JAR (into that environment's class loader), every call from this
    one thread, the context class loader restored at the end, and a bounded
    source, so that the job ends by itself (no cancel from another thread).
    """
    thread = get_gateway().jvm.Thread
    saved = thread.currentThread().getContextClassLoader()
    try:
        jars = install.flink_connector_jars(Path(stack.settings.cache_dir), print)
        t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
        t_env.get_config().set("table.local-time-zone", "UTC")
        t_env.get_config().set("parallelism.default", "1")
        for jar in jars:  # into this environment's class loader only, not the thread's
            t_env.execute_sql(f"ADD JAR '{jar}'")
        t_env.execute_sql(
            f"CREATE TEMPORARY TABLE chat_events ({ddl.CHAT_COLUMNS},\n"
            f"{ddl.event_time(KAFKA_LATENESS_S)}\n) WITH ("
            f"'connector' = 'kafka', 'topic' = '{topic}',"
            f" 'properties.bootstrap.servers' = '{stack.settings.kafka_bootstrap}',"
            f" 'properties.group.id' = '{topic}', 'scan.startup.mode' = 'earliest-offset',"
            " 'scan.bounded.mode' = 'specific-offsets',"
            f" 'scan.bounded.specific-offsets' = 'partition:0,offset:{end_offset}',"
            " 'format' = 'json', 'json.ignore-parse-errors' = 'true')"
        )
        views, select = statements("reply_rate", reply_window_s=300, reply_within_s=300)
        for view in views:
            t_env.execute_sql(view)
        with t_env.execute_sql(select).collect() as it:
            for r in it:
                out.put(tuple(r))
        out.put(None)
    except Exception as e:
        out.put(e)
    finally:
        thread.currentThread().setContextClassLoader(saved)


async def _rows(out: queue.Queue[Any], n: int | None, timeout: float) -> list[Row]:
    """The next `n` rows, or (n None) all rows until the job finished."""
    got: list[Row] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while n is None or len(got) < n:
        left = deadline - asyncio.get_running_loop().time()
        try:
            r = await asyncio.to_thread(out.get, True, max(left, 0.001))
        except queue.Empty:
            raise AssertionError(f"no more rows within {timeout} s, got {got}") from None
        assert not isinstance(r, Exception), r
        if r is None:
            assert n is None, f"the job finished after {got}"
            break
        got.append(r)
    return sorted(got)


async def test_late_events_inside_and_outside_the_bound_through_kafka(stack: Stack) -> None:
    """Watermark = newest ts - 10 s. A reply and a customer message older than
    that are dropped, ones within it count. The rows of the first window are
    the handshake: they can only come out once the source's watermark reached
    1205 s, so the late rows sent after them are late for sure. The source
    stops after the 10 rows sent (a bounded Kafka source): the job then ends
    and its output is complete."""
    bootstrap = stack.settings.kafka_bootstrap
    topic = await _new_topic(bootstrap)
    out: queue.Queue[Any] = queue.Queue()
    c = Case(T0, "k-")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    produced = 0
    try:

        async def send(*rows: dict[str, Any]) -> None:
            nonlocal produced
            for row in rows:
                await producer.send_and_wait(topic, orjson.dumps(row))
                produced += 1

        c.customer("0", 600)
        c.agent("0", 610)
        c.customer("1", 1195)  # window [900 s, 1200 s)
        c.customer("2", 1195, agent="ag2")
        c.tick(1215)  # watermark 1205 s: window [600 s, 900 s) final (its end + 300 s)
        await send(*c.rows)
        args = (stack, topic, 10, out)
        submit(_run_on_kafka, *args)  # on the Flink thread, until the job ends
        first = [c.out(2, "*", 1, 1, 10.0, 10.0), c.out(2, "ag1", 1, 1, 10.0, 10.0)]
        assert await _rows(out, 2, 120) == first

        c.rows.clear()
        c.agent("1", 1200)  # 15 s behind the newest event: late, dropped, 1's wait missed
        c.agent("2", 1208, who="ag2")  # 7 s behind: within the bound, answered after 13 s
        c.customer("3", 1190)  # late: no wait
        c.customer("4", 1206)  # within the bound: a wait in window [1200 s, 1500 s)
        c.tick(2000)
        await send(*c.rows)
    finally:
        # The job ends at offset 10 only: if this test stopped early, fill the
        # topic up so that the job ends and the Flink thread is free again.
        for _ in range(10 - produced):
            await producer.send_and_wait(topic, b"not json")
        await producer.stop()
    assert await _rows(out, None, 60) == approx(
        [
            c.out(3, "*", 2, 1, 13.0, 13.0),
            c.out(3, "ag1", 1, 0, None, None),
            c.out(3, "ag2", 1, 1, 13.0, 13.0),
            c.out(4, "*", 1, 0, None, None),
            c.out(4, "ag1", 1, 0, None, None),
        ]
    )
