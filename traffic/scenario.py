"""Realistic `im.chat` traffic, generated deterministically from a seed.

The events are shaped like the server's (EVENTS.md `chat.message`, see
im/messages.py and im/lua/send.lua) plus its `tick` events, and come out in the
order a consumer of the topic would read them:

- customer-service sessions: a `queued` system notice, customers who write
  in bursts and wait, bots that greet and stall, agents who accept (some
  never do), reply fast, slowly, around the 5-minute mark, at exactly 300 s,
  late or never, and transfers to another agent (some while the customer
  waits) with their system notices, then a `closed` notice;
- group and direct chats (noise for the cs metrics);
- a quiet period (no chat, ticks only) and windows without any cs traffic;
- per conversation, seq and ts never go backwards (one Lua step stores both)
  and messages arrive in seq order (one partition per conversation); across
  conversations arrival lags ts by up to `max_disorder_ms`, less than the
  jobs' lateness bound, so no original event is late;
- some events delivered twice (same id and content, as the at-least-once
  relay does), the copy up to `duplicate_delay_ms` later (possibly late).

A few messages of one conversation share a millisecond, as Redis' clock
allows. Usage: `events = generate(seed=7)`; `Traffic` has the knobs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from contract.events import TICK_ID
from traffic.chat import ChatLog, Event, tick

START_MS = 1_795_000_123_456  # not aligned to any window

PHRASES = (
    "hi",
    "hello, I need help with my order",
    "my payment failed twice",
    "where is my parcel?",
    "can I change the delivery address",
    "thanks!",
    "still waiting...",
    "hello?",
    "ok",
    "the app crashes when I open the cart",
    "refund please",
    "is anyone there",
)
AGENT_PHRASES = (
    "Hi, I'm looking into it now.",
    "Could you send me the order number?",
    "Thanks for waiting, it is fixed.",
    "Let me check with the warehouse.",
    "Anything else I can help with?",
)
BOT_PHRASES = (
    "Hi! An agent will be with you shortly.",
    "You are in the queue, thanks for your patience.",
    "Meanwhile, our FAQ may help: /faq",
)


@dataclass
class Traffic:
    """The knobs of one traffic; `arrivals()` builds it (once per instance).
    Times: `start_ms` + [0, `duration_s`) of event time."""

    seed: int = 1
    start_ms: int = START_MS
    duration_s: int = 2 * 3600
    cs_sessions: int = 300
    agents: int = 40
    bots: int = 3
    groups: int = 12
    directs: int = 30
    quiet: tuple[tuple[int, int], ...] = ((3300, 4200),)  # [from, to) s: no chat at all
    max_session_s: int = 30 * 60
    tick_interval_s: float = 5.0
    max_disorder_ms: int = 2000
    duplicate_rate: float = 0.01
    duplicate_delay_ms: int = 30_000
    nodes: tuple[str, ...] = ("n1", "n2")
    rng: random.Random = field(init=False, repr=False)
    events: list[Event] = field(init=False, default_factory=list, repr=False)
    log: ChatLog = field(init=False, default_factory=ChatLog, repr=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # -- building blocks ---------------------------------------------------------------
    def _token(self, n: int = 8) -> str:
        return f"{self.rng.getrandbits(n * 8):0{n * 2}x}"

    def message(
        self,
        conv: str,
        conv_kind: str,
        ts: int,
        sender: str,
        role: str,
        text: str,
        kind: str = "chat",
        session: str | None = None,
        agent: str | None = None,
        flags: tuple[str, ...] = (),
    ) -> Event:
        """Store one message: the next seq of `conv`, ts never before the last one."""
        node = self.rng.choice(self.nodes)
        ev = self.log.message(conv, conv_kind, ts, node, sender, role, kind,
                              f"{sender}-{self._token(6)}", text, flags=flags,
                              session=session, agent=agent)  # fmt: skip
        self.events.append(ev)
        return ev

    def _quiet(self, t_s: float) -> bool:
        return any(a <= t_s < b for a, b in self.quiet)

    def _active_start(self, length_s: float) -> float:
        """A start time whose next `length_s` seconds hold no quiet period."""
        while True:
            t = self.rng.uniform(0, self.duration_s - length_s)
            if not any(t < b and a < t + length_s for a, b in self.quiet):
                return t

    def _ms(self, t_s: float) -> int:
        return self.start_ms + round(t_s * 1000)

    def _span(self, lo_s: float, hi_s: float) -> int:
        """A random duration in whole ms."""
        return round(self.rng.uniform(lo_s, hi_s) * 1000)

    # -- customer service ---------------------------------------------------------------
    def _reply_delay_ms(self) -> int | None:
        """How long an agent takes to answer a waiting customer (None: never)."""
        r = self.rng.random()
        if r < 0.50:
            return self._span(3, 90)
        if r < 0.65:
            return self._span(90, 280)
        if r < 0.75:
            return self._span(280, 320)
        if r < 0.78:
            return 300_000  # exactly at the limit
        if r < 0.80:
            return 300_001
        if r < 0.81:
            return 0  # the same ms as the customer's message
        if r < 0.92:
            return self._span(320, 900)
        return None

    def cs_session(self, n: int) -> None:
        rng, span = self.rng, self._span
        customer, conv, session = f"cust{n:04d}", f"c_{self._token()}", f"s_{self._token()}"
        start = self._ms(self._active_start(self.max_session_s))
        end = start + self.max_session_s * 1000
        # (ts, order, action): replayed in time order, so that every message
        # carries the agent assigned at its moment
        plan: list[tuple[int, int, str]] = [(start, 0, "queued")]
        if rng.random() < 0.85:  # else nobody ever accepts
            plan.append((start + rng.choice([50, span(1, 420)]), 1, "accept"))
        t = start + span(1, 20)
        for turn in range(rng.randint(1, 8)):
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                plan.append((t, 2, "customer"))
                if rng.random() < 0.02:
                    plan.append((t, 2, "customer"))  # two in the same ms
                t += span(0.3, 20)
            last = plan[-1][0]  # the burst's last message
            if turn == 0 and rng.random() < 0.35:
                plan.append((last + span(0.2, 2), 3, "bot"))
            delay = self._reply_delay_ms()
            if delay is None:  # the customer gives up
                break
            reply = last + delay
            if rng.random() < 0.3 and delay > 30_000:  # impatient follow-ups
                for _ in range(rng.randint(1, 3)):
                    plan.append((rng.randint(last, reply), 2, "customer"))
            if rng.random() < 0.1 and delay > 20_000:  # the bot stalls
                plan.append((rng.randint(last, reply), 3, "bot"))
            if rng.random() < 0.08:  # transferred, often while the customer waits
                plan.append((rng.randint(last - 60_000, reply), 1, "transfer"))
            plan.append((reply, 4, "agent"))
            if rng.random() < 0.3:
                plan.append((reply + span(2, 40), 4, "agent"))
            t = reply + span(5, 180)
        plan.append((max(t, start + 30_000), 5, "closed"))

        agent: str | None = None
        for ts, _, action in sorted(plan, key=lambda p: (p[0], p[1])):
            if ts >= end:
                break
            if action in ("queued", "closed"):
                self.message(conv, "cs", ts, "system", "system", f"session {action}", "event",
                             session, agent)  # fmt: skip
            elif action == "accept" and agent is None:
                agent = f"agent{rng.randint(1, self.agents):02d}"
                self.message(conv, "cs", ts, "system", "system", "session accepted", "event",
                             session, agent)  # fmt: skip
            elif action == "transfer" and agent is not None:
                agent = rng.choice(
                    [f"agent{i:02d}" for i in range(1, self.agents + 1) if f"agent{i:02d}" != agent]
                )
                self.message(conv, "cs", ts, "system", "system", "session transferred", "event",
                             session, agent)  # fmt: skip
            elif action == "customer":
                flags = ("masked",) if rng.random() < 0.03 else ()
                self.message(conv, "cs", ts, customer, "user", rng.choice(PHRASES), "chat",
                             session, agent, flags)  # fmt: skip
            elif action == "bot":
                self.message(conv, "cs", ts, f"bot{rng.randint(1, self.bots)}", "bot",
                             rng.choice(BOT_PHRASES), "chat", session, agent)  # fmt: skip
            elif action == "agent" and agent is not None:  # only an assigned agent answers
                self.message(conv, "cs", ts, agent, "agent", rng.choice(AGENT_PHRASES), "chat",
                             session, agent)  # fmt: skip

    # -- other chat ----------------------------------------------------------------------
    def group_chat(self, n: int) -> None:
        rng = self.rng
        conv = f"g_{self._token()}"
        members = [f"user{rng.randint(1, 500):03d}" for _ in range(rng.randint(3, 12))]
        t = self._active_start(0)
        for _ in range(rng.randint(20, 150)):
            t += rng.expovariate(1 / 30)
            if t >= self.duration_s:
                break
            if self._quiet(t):
                continue
            sender = rng.choice(members)
            role = "admin" if sender == members[0] and rng.random() < 0.2 else "user"
            flags = ("abusive",) if rng.random() < 0.01 else ()
            self.message(conv, "group", self._ms(t), sender, role, rng.choice(PHRASES),
                         flags=flags)  # fmt: skip

    def direct_chat(self, n: int) -> None:
        rng = self.rng
        conv = f"d_{self._token()}"
        pair = [f"user{rng.randint(1, 500):03d}" for _ in range(2)]
        t = self._active_start(0)
        for _ in range(rng.randint(5, 60)):
            t += rng.expovariate(1 / 60)
            if t >= self.duration_s:
                break
            if not self._quiet(t):
                self.message(conv, "direct", self._ms(t), rng.choice(pair), "user",
                             rng.choice(PHRASES))  # fmt: skip

    def ticks(self) -> list[Event]:
        n = int(self.duration_s / self.tick_interval_s) + 1
        return [
            tick(
                self.start_ms + round(i * self.tick_interval_s * 1000),
                self.nodes[0],
                f"{TICK_ID}{self._token()}",
            )
            for i in range(n)
        ]

    # -- the topic as read ---------------------------------------------------------------
    def arrivals(self) -> list[tuple[int, Event]]:
        """(arrival ms, event) of the whole traffic, in arrival order."""
        assert not self.events, "arrivals() builds the traffic: call it once"
        for n in range(self.cs_sessions):
            self.cs_session(n)
        for n in range(self.groups):
            self.group_chat(n)
        for n in range(self.directs):
            self.direct_chat(n)
        out: list[tuple[int, int, Event]] = []
        last: dict[str, int] = {}  # per conversation: arrivals in seq order
        for ev in sorted(self.events, key=lambda e: (e["conv"], e["seq"])):
            at = max(last.get(ev["conv"], 0), ev["ts"] + self.rng.randint(0, self.max_disorder_ms))
            last[ev["conv"]] = at
            out.append((at, len(out), ev))
            if self.rng.random() < self.duplicate_rate:  # relayed again later
                dup_at = at + self.rng.randint(1, self.duplicate_delay_ms)
                out.append((dup_at, len(out), dict(ev, flags=list(ev["flags"]))))
        out += [(tick["ts"], len(out), tick) for tick in self.ticks()]
        return [(at, ev) for at, _, ev in sorted(out, key=lambda x: (x[0], x[1]))]


def generate(seed: int = 1, **knobs: Any) -> list[Event]:
    """The events of `Traffic(seed, **knobs)` in arrival order."""
    return [ev for _, ev in Traffic(seed=seed, **knobs).arrivals()]
