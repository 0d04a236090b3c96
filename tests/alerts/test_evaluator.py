"""The evaluator's round on real Redis, real chDB and real probes (the collector and
analytics are not running, so their probes fail): the production rules stepped at
chosen times; state and undelivered notifications in Redis; a silence from the
API and its lifting reach the engine; a restarted evaluator takes over the state
and says nothing twice."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio as aioredis

from alerts.chat import AlertChat
from alerts.engine import Engine
from alerts.evaluator import Evaluator
from alerts.lease import Lease
from alerts.model import State
from alerts.probes import Probes
from alerts.rules import load_rules
from alerts.silences import Silences
from analytics.clickhouse import ClickHouse
from im import keys
from stack.manager import Stack
from tests.ports import free_port

RULES = load_rules(Path(__file__).resolve().parents[2] / "alerts" / "rules")
T0 = 1_795_000_020_000
NOWHERE = f"http://127.0.0.1:{free_port()}"  # no collector, no analytics there


def evaluator(redis: aioredis.Redis, db: ClickHouse, stack: Stack) -> Evaluator:
    probes = Probes(redis, stack.settings.kafka_bootstrap, "im-analytics", db, NOWHERE,
                    NOWHERE, timeout_s=2.0)  # fmt: skip
    return Evaluator(redis, RULES, Engine(RULES), Lease(redis, "test-evaluator", 60_000), db,
                     probes, AlertChat(redis, "test-evaluator"), None, None)  # fmt: skip


def collector_down(ev: Evaluator) -> list[str]:
    return [a.state.value for a in ev.engine.active() + ev.engine.recent()
            if a.name == "CollectorDown"]  # fmt: skip


async def test_a_round_stores_state_then_a_restart_says_nothing_twice(
    redis: aioredis.Redis, db: ClickHouse, stack: Stack
) -> None:
    await redis.delete(keys.ALERT_STATE, keys.ALERT_PENDING, keys.ALERT_LEASE,
                       keys.ALERT_SILENCES)  # fmt: skip
    ev = evaluator(redis, db, stack)
    try:
        assert await ev.round(T0)
        assert not ev.last_probes["collector"][0] and ev.last_probes["redis"][0]
        assert collector_down(ev) == ["pending"]  # for: 1m
        assert await ev.round(T0 + 59_000) and collector_down(ev) == ["pending"]
        assert await ev.round(T0 + 60_000) and collector_down(ev) == ["firing"]
        # Stored, and posted (the chat is the only channel here): nothing pending.
        state = await redis.hgetall(keys.ALERT_STATE)
        fp = next(a.fingerprint for a in ev.engine.active() if a.name == "CollectorDown")
        assert '"state":"firing"' in state[fp]
        assert await redis.hlen(keys.ALERT_PENDING) == 0
        assert ev.counts.sent[("chat", "delivered")] >= 1
        posted = ev.counts.sent[("chat", "delivered")]
        # A silence from the API reaches the engine; lifting it (for_s 0) too.
        await Silences(redis).set(fp, T0 + 3_600_000, "u_1")
        await ev.round(T0 + 70_000)
        assert ev.engine._alerts[fp].silenced_until_ms == T0 + 3_600_000
        await Silences(redis).lift(fp)
        await ev.round(T0 + 80_000)
        until = ev.engine._alerts[fp].silenced_until_ms
        assert until is None or until <= T0 + 80_000  # over (the engine drops a past one)
        # Killed and restarted (same id: it renews its own lease): it takes the state over.
        again = evaluator(redis, db, stack)
        assert await again.round(T0 + 90_000)
        assert [a.state for a in again.engine.active() if a.name == "CollectorDown"] == [
            State.FIRING
        ]
        assert again.counts.sent.get(("chat", "delivered"), 0) == 0  # nothing said twice
        assert posted == ev.counts.sent[("chat", "delivered")]
        await again.probes.close()
    finally:
        await ev.probes.close()
