"""Issue 11: killing the analytics process or Kafka for 30 s loses no chat,
connection or session event in the raw tables, and duplicates none.

One stack of its own (Redis, Kafka, the analytics process on its own chDB
folder) and one real server node. Clients chat without pause in a direct, a
group and customer-service conversations, and devices sign in and out:

- phase A: the analytics process is killed (kill -9) for 30 s, then started
  again; the clients stop, and once everything has settled each raw table is
  compared with what the server stored;
- phase B: the same with Kafka killed (kill -9) for 30 s: the server's outbox
  holds the events meanwhile, its relay publishes them afterwards;
- then what a kill between the sink's insert and its offset commit leaves,
  made certain instead of left to the timing of a kill: analytics stops, its
  group's offsets go back to the start of the raw topics, and the next
  process inserts every event a second time.

"What the server stored", the expected answer of each table:

- `chat_events`: every message in Redis (`msg:{conv}` of every conversation
  the server has, found by SCAN, so a message the clients did not count is
  expected too): one `chat.message` with id `m:<conv>:<seq>` each. The
  clients' own count (their `sent` answers plus the 4 session notices of each
  support session) must be the same number.
- `session_events`: every session in Redis went created, accepted,
  transferred, closed (its `events` counter is 4), so its ids are
  `s:<session>:<type>:<n>` for n = 1..4.
- `connection_events`: connection events live nowhere else in the server, so
  the clients' bookkeeping says what to expect: one `conn.open` per sign-in and
  one `conn.close` (reason `client`) per device the client closed, each device
  name used once; the node's own counters (`im_connects_total`,
  `im_disconnects_total{reason="client"}`) must agree.

"Settled": the node has signed every closed device out (`im_connections` is
0, so each `conn.close` is in the outbox), the outbox is empty (the relay
deletes only what Kafka acknowledged) and the analytics consumer group has no
lag on the raw topics (the sink commits only after its insert returned).

"Duplicates none", for a ReplacingMergeTree whose sorting key ends with the
event id: the sink delivers at least once (a batch inserted before a kill or
a failed commit is read and inserted again; the relay republishes what it
could not see acknowledged), so a table may hold a second copy of an event
until a background merge collapses it. What must hold, and is asserted after
each step: with FINAL (how docs/events.md tells every reader to read these
tables) `count()` = `uniqExact(id)` = the expected number, and the ids (or
connection rows) are exactly the expected ones; after the second insert of
every event, the same; and at the end, after `OPTIMIZE TABLE ... FINAL` and
read without FINAL, `count()` = `uniqExact(id)` = that number (the rows as
stored). The report printed (`-s`) shows each table's rows as stored before
that merge (the third number of each triple), i.e. whether copies existed.
"""

from __future__ import annotations

import asyncio
import collections
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, TopicPartition

from analytics.settings import AnalyticsSettings
from contract import events, topics
from im import keys
from im.envconfig import load
from monitor.kafka_read import KafkaClients
from stack.manager import Stack
from tests.analytics.api import admin, rows
from tests.client import Device, User
from tests.im.cs_helpers import ADMIN, ADMIN_PW, agent
from tests.metrics import scrape
from tests.servers import own_stack, server_node
from tests.waiting import wait_until

OUTAGE_S = 30  # the acceptance line's outage
MARKER = "outage-probe"  # in every text sent: must appear in no raw table
RAW = {"chat_events": topics.CHAT, "connection_events": topics.CONNECTION,
       "session_events": topics.SESSION}  # fmt: skip
CS_CYCLE = ("cs.created", "cs.accepted", "cs.transferred", "cs.closed")
NODE_ENV = {
    "IM_ADMIN_USERNAME": ADMIN,
    "IM_ADMIN_PASSWORD": ADMIN_PW,
    # Quick to register and log in; no sending, registration or session limits.
    "IM_ARGON2_TIME_COST": "1",
    "IM_ARGON2_MEMORY_KIB": "1024",
    "IM_RATE_BURST": "100000",
    "IM_RATE_PER_S": "100000",
    "IM_REGISTER_MAX_PER_ADDRESS": "100000",
    "IM_REGISTER_MAX_PER_MINUTE": "100000",
    "IM_CS_OPENS_PER_HOUR": "100000",
    # Devices that only receive are neither closed as silent nor sent pushes
    # again (they do not ack): every close is the client's, as counted.
    "IM_HEARTBEAT_S": "600",
    "IM_ACK_TIMEOUT_S": "600",
}


@dataclass
class System:
    stack: Stack
    base: str  # the server node
    ops: str  # its ops port
    analytics: str  # the query API

    @property
    def chdb_url(self) -> str:
        return self.stack.settings.effective_clickhouse_url


@pytest.fixture(scope="module")
def system() -> Iterator[System]:
    extra = tuple(NODE_ENV.items())
    with own_stack("outage", ["redis", "kafka", "analytics"], {}, extra) as st:
        s = st.settings
        with server_node(st, "outage", s.http_port, ops_port=s.ops_port):
            yield System(st, f"http://127.0.0.1:{s.http_port}",
                         f"http://127.0.0.1:{s.ops_port}",
                         f"http://127.0.0.1:{s.analytics_port}")  # fmt: skip


@dataclass
class Ledger:
    """What the clients did, as they saw it."""

    sent: int = 0  # `sent` answers
    notices: int = 0  # session notices the server posts (4 per support session)
    sessions: list[str] = field(default_factory=list)
    opened: list[tuple[str, str]] = field(default_factory=list)  # (user, device) signed in
    closed: list[tuple[str, str]] = field(default_factory=list)  # (user, device) closed by us


@dataclass
class Cast:
    alice: User
    bob: User
    carol: User
    agents: tuple[User, User]
    customers: list[User]
    direct: str
    group: str

    @classmethod
    async def create(cls, base: str) -> Cast:
        alice, bob, carol = [await User.create(base, n) for n in ("alice", "bob", "carol")]
        assert (await alice.post("/api/friends", {"user_id": bob.user_id})).status_code == 202
        assert (await bob.post(f"/api/friends/{alice.user_id}/accept")).status_code == 200
        direct = (await alice.get("/api/friends")).json()[0]["conv"]
        group = await alice.group("outage", [bob, carol])
        agents = (await agent(base), await agent(base))
        customers = [await User.create(base, "cust") for _ in range(3)]
        return cls(alice, bob, carol, agents, customers, direct, group)


@dataclass(eq=False)
class Conn:
    user: User
    device: Device
    name: str  # the device name: each used once


class Traffic:
    """Chat, support sessions and sign-ins/outs, paced, until `stop()`.

    Every step waits for the server's answer, so the ledger holds exactly what
    the server accepted; when stopped, every device is closed."""

    PACE_S = 0.05  # between two chat messages (traffic paced)
    CHURN_S = 0.4  # between two short-lived sign-ins
    CS_PAUSE_S = 0.3  # between two support sessions

    def __init__(self, cast: Cast, ledger: Ledger, phase: str) -> None:
        self.cast, self.ledger, self.phase = cast, ledger, phase
        self._stop = asyncio.Event()
        self._open: list[Conn] = []
        self._task: asyncio.Task[None] | None = None
        self._n = 0

    def _name(self, what: str) -> str:
        self._n += 1
        return f"{self.phase}-{what}-{self._n}"

    async def connect(self, user: User, what: str) -> Conn:
        name = self._name(what)
        conn = Conn(user, await user.connect(name), name)
        self.ledger.opened.append((user.user_id, name))
        self._open.append(conn)
        return conn

    async def close(self, conn: Conn) -> None:
        self._open.remove(conn)
        await conn.device.close()
        self.ledger.closed.append((conn.user.user_id, conn.name))

    async def send(self, conn: Conn, conv: str) -> None:
        await conn.device.send_text(conv, f"{MARKER} {self._name('text')}")
        self.ledger.sent += 1

    async def start(self) -> None:
        c = self.cast
        held = [await self.connect(u, "dev") for u in (c.alice, c.bob, c.carol, *c.agents)]
        self._task = asyncio.create_task(self._run(*held))

    async def stop(self) -> None:
        """Let each loop finish its step (a support session runs to its close),
        then close every device."""
        self._stop.set()
        assert self._task is not None
        await self._task
        for conn in list(self._open):
            await self.close(conn)

    async def _run(self, alice: Conn, bob: Conn, carol: Conn, a1: Conn, a2: Conn) -> None:
        try:
            await asyncio.gather(
                self._chat(alice, bob, carol), self._churn(), self._support(a1, a2)
            )
        finally:  # one loop failed: the others end too (stop() raises the failure)
            self._stop.set()

    async def _chat(self, alice: Conn, bob: Conn, carol: Conn) -> None:
        c = self.cast
        turns = [(alice, c.direct), (bob, c.direct), (alice, c.group), (bob, c.group),
                 (carol, c.group)]  # fmt: skip
        i = 0
        while not self._stop.is_set():
            conn, conv = turns[i % len(turns)]
            await self.send(conn, conv)
            i += 1
            await asyncio.sleep(self.PACE_S)

    async def _churn(self) -> None:
        users = [self.cast.alice, self.cast.bob, self.cast.carol, *self.cast.customers]
        i = 0
        while not self._stop.is_set():
            await self.close(await self.connect(users[i % len(users)], "churn"))
            i += 1
            await asyncio.sleep(self.CHURN_S)

    async def _support(self, first: Conn, second: Conn) -> None:
        """Sessions that go created, accepted, transferred, closed, with chat."""
        a1, a2 = self.cast.agents
        i = 0
        while not self._stop.is_set():
            customer = self.cast.customers[i % len(self.cast.customers)]
            r = await customer.post("/api/cs/sessions", {"topic": "outage"})
            assert r.status_code == 201, r.text
            sid, conv = r.json()["session"], r.json()["conv"]
            self.ledger.sessions.append(sid)
            self.ledger.notices += 1  # queued
            conn = await self.connect(customer, "cust")
            assert (await a1.post(f"/api/cs/sessions/{sid}/accept")).status_code == 200
            self.ledger.notices += 1
            await self.send(conn, conv)
            await self.send(first, conv)
            r = await a1.post(f"/api/cs/sessions/{sid}/transfer", {"to": a2.user_id})
            assert r.status_code == 200, r.text
            self.ledger.notices += 1
            await self.send(second, conv)
            await self.send(conn, conv)
            assert (await customer.post(f"/api/cs/sessions/{sid}/close")).status_code == 200
            self.ledger.notices += 1
            await self.close(conn)
            i += 1
            await asyncio.sleep(self.CS_PAUSE_S)


@dataclass
class Expected:
    chat: set[str]  # event ids
    session: set[str]  # event ids
    connection: collections.Counter[tuple[str, str, str]]  # (type, user, device)


async def stored(system: System, redis: aioredis.Redis, ledger: Ledger) -> Expected:
    """What the server stored (module docstring), checked against the clients' ledger."""
    chat: set[str] = set()
    async for key in redis.scan_iter(match=keys.conv("*"), count=1000):
        conv = key.removeprefix(keys.conv(""))
        seqs = sorted(int(s) for s in await redis.hkeys(keys.messages(conv)))
        assert seqs == list(range(1, int(await redis.hget(key, "max_seq") or 0) + 1))
        chat |= {events.message_id(conv, seq) for seq in seqs}
    assert len(chat) == ledger.sent + ledger.notices
    sids = [k.removeprefix(keys.session("")) async for k in redis.scan_iter(keys.session("s_*"))]
    assert sorted(sids) == sorted(ledger.sessions)
    session: set[str] = set()
    for sid in sids:
        assert await redis.hget(keys.session(sid), "events") == str(len(CS_CYCLE))
        session |= {f"{events.SESSION_EVENT_ID}{sid}:{etype}:{n}"
                    for n, etype in enumerate(CS_CYCLE, 1)}  # fmt: skip
    connection = collections.Counter(
        [("conn.open", u, d) for u, d in ledger.opened]
        + [("conn.close", u, d) for u, d in ledger.closed]
    )
    node = await scrape(system.ops)
    assert (node["im_connects_total"], node['im_disconnects_total{reason="client"}']) == (
        len(ledger.opened), len(ledger.closed))  # fmt: skip
    return Expected(chat, session, connection)


def raw_partitions(system: System) -> list[TopicPartition]:
    s = system.stack.settings
    return [TopicPartition(t, p) for t in RAW.values() for p in range(s.kafka_partitions)]


SINK_GROUP = load(AnalyticsSettings, {}).group_id  # the stack's analytics uses the default


async def sink_lag(system: System) -> int:
    """Records of the raw topics the analytics consumer group has not committed."""
    kafka = KafkaClients(system.stack.settings.kafka_bootstrap)
    try:
        tps = raw_partitions(system)
        ends = await kafka.end_offsets(tps)
        committed = await (await kafka.admin()).list_consumer_group_offsets(SINK_GROUP)
        done = {tp: meta.offset for tp, meta in committed.items() if meta.offset >= 0}
        return sum(ends[tp] - done.get(tp, 0) for tp in tps)
    finally:
        await kafka.close()


async def rewind_sink(system: System) -> None:
    """The analytics group's committed offsets of the raw topics back to 0 (the
    group must have no member: analytics is stopped)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=system.stack.settings.kafka_bootstrap,
                                group_id=SINK_GROUP, enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    try:
        tps = raw_partitions(system)
        consumer.assign(tps)
        await consumer.commit({tp: 0 for tp in tps})
    finally:
        await consumer.stop()


async def settle(system: System, redis: aioredis.Redis, timeout: float) -> None:
    """Wait until every event the server wrote is in the tables (module docstring)."""

    async def signed_out() -> bool:
        return (await scrape(system.ops))["im_connections"] == 0

    await wait_until(signed_out, 30, what="every device signed out on the node", interval=0.2)
    last: dict[str, int] = {}

    async def caught_up() -> bool:
        last["outbox"] = int(await redis.xlen(keys.OUTBOX))
        if last["outbox"]:  # Kafka has not acknowledged these yet
            return False
        try:
            last["lag"] = await sink_lag(system)
        except Exception:  # Kafka still starting
            return False
        return last["lag"] == 0

    try:
        await wait_until(caught_up, timeout, what="outbox empty, no sink lag", interval=0.5)
    except AssertionError as e:
        raise AssertionError(f"{e}; last seen {last}") from None


async def counts(system: System, token: str, table: str) -> tuple[int, int, int]:
    """(count() FINAL, uniqExact(id) FINAL, count() of the rows as stored)."""
    [[final, ids]] = await rows(
        system.analytics, token, f"SELECT count(), uniqExact(id) FROM {table} FINAL"
    )
    [[physical]] = await rows(system.analytics, token, f"SELECT count() FROM {table}")
    return int(final), int(ids), int(physical)


def diff(what: str, want: set[str], got: list[str]) -> str:
    lost, extra = sorted(want - set(got)), sorted(set(got) - want)
    return f"{what}: {len(lost)} lost {lost[:5]}, {len(extra)} unexpected {extra[:5]}"


async def check(
    system: System, redis: aioredis.Redis, ledger: Ledger, token: str
) -> dict[str, tuple[int, int, int]]:
    """Each raw table holds exactly what the server stored, each event once under FINAL."""
    want = await stored(system, redis, ledger)
    url = system.analytics
    chat = [r[0] for r in await rows(url, token, "SELECT id FROM chat_events FINAL")]
    assert set(chat) == want.chat, diff("chat_events", want.chat, chat)
    session = [r[0] for r in await rows(url, token, "SELECT id FROM session_events FINAL")]
    assert set(session) == want.session, diff("session_events", want.session, session)
    conn = await rows(url, token, "SELECT type, user, device, reason FROM connection_events FINAL")
    got = collections.Counter((t, u, d) for t, u, d, _ in conn)
    assert got == want.connection, (want.connection - got, got - want.connection)
    assert {r[3] for r in conn if r[0] == "conn.close"} == {"client"}
    expected = {"chat_events": len(want.chat), "session_events": len(want.session),
                "connection_events": sum(want.connection.values())}  # fmt: skip
    found = {table: await counts(system, token, table) for table in RAW}
    # Under FINAL: one row per event id, and exactly the events stored.
    assert {t: c[:2] for t, c in found.items()} == {t: (n, n) for t, n in expected.items()}
    return found


OPTIMIZE = """
import json, sys
import clickhouse_connect
client = clickhouse_connect.get_client(dsn=sys.argv[1])
found = {}
for table in sys.argv[2:]:
    client.command(f"OPTIMIZE TABLE {table} FINAL")
    found[table] = client.query(f"SELECT count(), uniqExact(id) FROM {table}").result_rows[0]
print(json.dumps(found))
"""


def optimized(system: System) -> dict[str, list[int]]:
    """Each raw table's (count(), uniqExact(id)) without FINAL after OPTIMIZE ... FINAL,
    read by a process of its own once analytics has stopped (chDB: one process
    opens a data folder)."""
    system.stack.proc("analytics").stop()
    done = subprocess.run(
        [sys.executable, "-c", OPTIMIZE, system.chdb_url, *RAW],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found: dict[str, list[int]] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


async def outage(
    system: System, cast: Cast, ledger: Ledger, redis: aioredis.Redis, token: str, service: str
) -> dict[str, Any]:
    """Clients chat; once their new messages reach ClickHouse (the kill lands
    in the middle of the pipeline's work), `service` is killed (kill -9) for
    OUTAGE_S and started again while they go on; then they stop and
    everything settles."""
    st = system.stack
    before = (await counts(system, token, "chat_events"))[0]
    traffic = Traffic(cast, ledger, service)
    await traffic.start()

    async def flowing() -> bool:
        return (await counts(system, token, "chat_events"))[0] > before and ledger.notices >= 4

    await wait_until(flowing, 30, what="new messages in chat_events", interval=0.2)
    st.proc(service).kill()
    at_kill = (ledger.sent, len(ledger.opened), len(ledger.sessions))
    await asyncio.sleep(OUTAGE_S)  # the outage itself is the subject
    during: dict[str, Any] = {
        "messages": ledger.sent - at_kill[0],
        "sign_ins": len(ledger.opened) - at_kill[1],
        "sessions": len(ledger.sessions) - at_kill[2],
        "outbox_at_end": int(await redis.xlen(keys.OUTBOX)),
    }
    assert min(during["messages"], during["sign_ins"], during["sessions"]) > 0, during
    started = time.monotonic()
    await asyncio.to_thread(st.up, [service])
    during["restart_s"] = round(time.monotonic() - started, 1)
    await traffic.stop()
    started = time.monotonic()
    await settle(system, redis, 120)
    during["settle_s"] = round(time.monotonic() - started, 1)
    return during


@pytest.mark.timeout(480)
async def test_killing_analytics_or_kafka_for_30s_loses_and_doubles_no_raw_event(
    system: System,
) -> None:
    redis = aioredis.Redis.from_url(system.stack.settings.redis_url, decode_responses=True)
    try:
        cast = await Cast.create(system.base)
        token = (await admin(system.base)).token
        ledger = Ledger()
        report: dict[str, Any] = {}

        # Phase A: the sink dies mid-stream; the events wait in Kafka.
        report["analytics"] = await outage(system, cast, ledger, redis, token, "analytics")
        report["analytics"]["tables"] = await check(system, redis, ledger, token)

        # Phase B: Kafka dies; the outbox holds the events, the relay catches up.
        report["kafka"] = await outage(system, cast, ledger, redis, token, "kafka")
        assert report["kafka"]["outbox_at_end"] > 0  # the relay could publish nothing
        report["kafka"]["tables"] = await check(system, redis, ledger, token)

        # Inserted, then gone before the commit: what a kill between the two
        # leaves, made certain here for every event. The analytics process
        # stops and its group's offsets go back to the start of the raw topics
        # (none of its inserts committed); the next process inserts every
        # event again, and FINAL still counts each once.
        st = system.stack
        await asyncio.to_thread(st.proc("analytics").stop)
        await rewind_sink(system)
        await asyncio.to_thread(st.up, ["analytics"])
        await settle(system, redis, 60)
        async with httpx.AsyncClient(timeout=10) as http:
            inserted = (await http.get(f"{system.analytics}/healthz")).json()["inserted"]
        tables = await check(system, redis, ledger, token)
        assert all(inserted[t] >= tables[t][0] for t in RAW), (inserted, tables)
        report["redelivered"] = {"inserted": {t: inserted[t] for t in RAW}, "tables": tables}

        # No message text in any raw table (the marker is in every text sent).
        async with httpx.AsyncClient(timeout=60) as http:
            for table in RAW:
                r = await http.get(f"{system.analytics}/query",
                                   params={"sql": f"SELECT * FROM {table} FINAL"},
                                   headers={"authorization": f"Bearer {token}"})  # fmt: skip
                assert r.status_code == 200 and r.json()["rows"] and MARKER not in r.text

        final = report["redelivered"]["tables"]
        report["optimized"] = await asyncio.to_thread(optimized, system)
        # After the merge, read without FINAL: each event is one stored row.
        assert report["optimized"] == {t: [c[0], c[0]] for t, c in final.items()}
        print(json.dumps(report, indent=1))
    finally:
        await redis.aclose()
