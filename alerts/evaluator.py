"""One evaluation round of the active evaluator: probe, evaluate, step, store, deliver.

Order, for "nothing repeated, nothing lost" across a kill -9:
1. the lease (a standby does nothing; on taking over, the state and the
   undelivered notifications are read from Redis first);
2. probes, every rule at `now`, silences (API and chat), the engine's step;
3. the new state and the new notifications are written to Redis in one
   MULTI (`al:state`, `al:pending`) *before* anything is sent: a crash after
   it sends them after the restart; a crash before it repeats the step, and
   nothing of it had gone out;
4. delivery: the webhook once per notification (its own retries, bounded),
   the chat until it is stored (its cmid makes a second post a no-op),
   Alertmanager every round with every live alert (it expects re-sends);
5. the delivered notifications leave `al:pending`.
While Redis is away, 3 and the chat wait (in memory) and the webhook still
goes out: that is when the Redis-down alert matters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from alerts.alertmanager import AlertmanagerPusher
from alerts.chat import AlertChat
from alerts.engine import Engine
from alerts.evaluate import QueryClient, Results, RuleResult, evaluate
from alerts.lease import Lease
from alerts.model import Alert, Kind, Notification
from alerts.probes import Probes
from alerts.rules import Rule
from alerts.silences import Silences
from alerts.webhook import WebhookSender
from im import keys

log = logging.getLogger("alerts.evaluator")
WEBHOOK_RETRY_MS = 600_000  # a notification a receiver did not take is retried this long


@dataclass
class Pending:
    note: Notification
    left: set[str]  # channels it has not reached yet

    def to_json(self) -> str:
        n = self.note
        return orjson.dumps(
            {
                "kind": n.kind.value,
                "at_ms": n.at_ms,
                "key": n.key,
                "alert": n.alert.to_json(),
                "left": sorted(self.left),
            }
        ).decode()

    @classmethod
    def from_json(cls, raw: str | bytes) -> Pending:
        d = orjson.loads(raw)
        note = Notification(Kind(d["kind"]), Alert.from_json(d["alert"]), d["at_ms"], d["key"])
        return cls(note, set(d["left"]))


@dataclass
class Counts:
    rounds: int = 0
    standby_rounds: int = 0
    rule_errors: dict[str, int] = field(default_factory=dict)
    sent: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, outcome) -> n
    last_seconds: float = 0.0
    last_results: Results = field(default_factory=Results)

    def add(self, channel: str, outcome: str, n: int = 1) -> None:
        self.sent[(channel, outcome)] = self.sent.get((channel, outcome), 0) + n


class Evaluator:
    def __init__(
        self,
        redis: aioredis.Redis,
        rules: list[Rule],
        engine: Engine,
        lease: Lease,
        queries: QueryClient,
        probes: Probes,
        chat: AlertChat,
        webhook: WebhookSender | None,
        alertmanager: AlertmanagerPusher | None,
    ) -> None:
        self.redis, self.rules, self.engine, self.lease = redis, rules, engine, lease
        self.queries, self.probes, self.chat = queries, probes, chat
        self.webhook, self.alertmanager = webhook, alertmanager
        self.silences = Silences(redis)
        self.pending: dict[str, Pending] = {}
        self.loaded = False  # state read from Redis since the lease was taken
        self.chat_ready = False
        self.counts = Counts()
        self.ticked = 0  # rounds run, as holder or standby (the app counts them)
        self.last_probes: dict[str, tuple[bool, float]] = {}

    async def round(self, now_ms: int) -> bool:
        """One round; False when this evaluator is a standby (or cannot start yet)."""
        if not await self.lease.hold():
            self.loaded = False  # another evaluator acts: read its state when taking over
            self.counts.standby_rounds += 1
            return False
        if not self.loaded and not await self._load():
            return False  # holds the lease but cannot read the state yet: next round
        self.last_probes = await self.probes.run()
        results = await self._evaluate(now_ms)
        for name, r in results.items():
            if r.error is not None:
                self.counts.rule_errors[name] = self.counts.rule_errors.get(name, 0) + 1
        self.counts.last_results = results
        await self._silence(now_ms)
        channels = {"chat"} | ({"webhook"} if self.webhook else set())
        for note in self.engine.step(now_ms, results):
            self.pending[note.key] = Pending(note, set(channels))
        await self._store()
        await self._deliver(now_ms)
        await self._store()
        self.counts.rounds += 1
        return True

    async def _evaluate(self, now_ms: int) -> Results:
        """Every rule; while the ClickHouse probe fails, the SQL rules are errors at once
        (held by the engine) instead of each waiting out a query timeout."""
        if self.last_probes.get("clickhouse", (True, 0.0))[0]:
            return await evaluate(self.queries, self.rules, now_ms, self.last_probes)
        probed = [r for r in self.rules if r.probe is not None]
        results = await evaluate(self.queries, probed, now_ms, self.last_probes)
        for r in self.rules:
            if r.probe is None:
                results[r.name] = RuleResult(error="ClickHouse unreachable (its probe failed)")
        return results

    async def _load(self) -> bool:
        try:
            state = await self.redis.hgetall(keys.ALERT_STATE)
            pending = await self.redis.hgetall(keys.ALERT_PENDING)
        except (RedisError, OSError):
            return False
        self.engine.load(state)
        self.pending = {p.note.key: p for p in map(Pending.from_json, pending.values())}
        self.loaded = True
        log.info("took over: %d alerts, %d undelivered notifications", len(state), len(pending))
        return True

    async def _silence(self, now_ms: int) -> None:
        """Silences set by the API and by /silence in the chat since the last round."""
        try:
            current = await self.silences.current(now_ms)
            if self.chat_ready:
                for fp, until, _by in await self.chat.commands():
                    current[fp] = until
        except (RedisError, OSError):
            return
        for a in self.engine.active() + self.engine.recent():
            silenced = current.get(a.fingerprint)
            if silenced is not None:
                self.engine.silence(a.fingerprint, silenced)
            elif a.silenced_until_ms is not None and a.silenced_until_ms > now_ms:
                self.engine.silence(a.fingerprint, now_ms)  # lifted (for_s 0): over now

    async def _store(self) -> None:
        """The engine's state and the undelivered notifications, in one MULTI."""
        try:
            async with self.redis.pipeline(transaction=True) as p:
                p.delete(keys.ALERT_STATE, keys.ALERT_PENDING)
                if state := self.engine.dump():
                    p.hset(keys.ALERT_STATE, mapping={k: v for k, v in state.items()})
                if self.pending:
                    p.hset(
                        keys.ALERT_PENDING,
                        mapping={k: v.to_json() for k, v in self.pending.items()},
                    )
                await p.execute()
        except (RedisError, OSError):
            pass  # kept in memory; stored at the next round that reaches Redis

    async def _deliver(self, now_ms: int) -> None:
        to_hook = [p for p in self.pending.values() if "webhook" in p.left]
        if to_hook and self.webhook is not None:
            report = await self.webhook.send([p.note for p in to_hook])
            self.counts.add("webhook", "failed", len(report.failures))
            self.counts.add("webhook", "delivered", report.delivered)
            # A team whose payload failed on a retriable error (timeout, refused, 5xx)
            # is sent again next round, for a while; a receiver that took it
            # gets it twice then (webhooks are at least once, keyed by fingerprint).
            again = {p.note.alert.team for p in to_hook for f in report.failures
                     if f.retriable and f'team="{p.note.alert.team}"' in f.group_key}  # fmt: skip
            for p in to_hook:
                if p.note.alert.team not in again or now_ms - p.note.at_ms > WEBHOOK_RETRY_MS:
                    p.left.discard("webhook")
        for p in [p for p in self.pending.values() if "chat" in p.left]:
            try:
                if not self.chat_ready:
                    await self.chat.start()
                    self.chat_ready = True
                await self.chat.post(p.note)
            except (RedisError, OSError):
                self.counts.add("chat", "waiting")
                break  # Redis is away: the rest waits too, in order
            p.left.discard("chat")
            self.counts.add("chat", "delivered")
        if self.alertmanager is not None:
            live = self.engine.active() + self.engine.recent()
            pushed = await self.alertmanager.push(live, now_ms)
            self.counts.add("alertmanager", "delivered" if pushed.error is None else "failed")
        self.pending = {k: p for k, p in self.pending.items() if p.left}
