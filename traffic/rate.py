"""Realistic `im.chat` events, shaped like the server's (EVENTS.md, im/messages.py).

A population of active conversations whose size follows from the rate: each
kind has a share of the messages and a mean gap between two messages of one
active conversation, so `rate × share × gap` conversations are active at a
time, each picked at random for the next message (Poisson-like, about one
message per gap). A conversation that has said what it had to say is replaced
by another one:

- customer service (`cs`): a `queued` system notice, customers writing in
  bursts, a bot greeting now and then, `accepted` with an agent, agent replies,
  sometimes a transfer to another agent, a `closed` notice; every message
  carries the session and the agent assigned at that moment;
- groups: 3-30 members from a large user population, a few talkative ones,
  bursts of 10-200 messages, now and then a system `event`; group ids recur;
- direct chats: two users, 4-40 messages; pairs recur.

Texts: 15 % are common phrases (same `content_hash`, what the repeat rule
sees), the rest unique; a few messages carry flags (`abusive`, `sensitive`,
`masked`). Per conversation seq is 1, 2, 3, ... and ts never goes back.
`jitter_ms` moves ts back by up to that much (the relay's disorder across
conversations); duplicates (the at-least-once relay) are the caller's.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka.partitioner import murmur2

from contract.content import content_hash
from contract.events import TICK, TICK_ID, record
from traffic.chat import ChatLog, Event

PHRASES = (
    "hi",
    "hello",
    "ok",
    "thanks!",
    "lol",
    "yes",
    "no",
    "where is my parcel?",
    "refund please",
    "is anyone there",
    "good morning",
    "see you",
)
CUSTOMER_OPENERS = ("hello, I need help with my order", "my payment failed twice", "hi")
AGENT_TEXTS = ("Hi, I'm looking into it now.", "Could you send me the order number?",
               "Thanks for waiting, it is fixed.", "Anything else I can help with?")  # fmt: skip
BOT_TEXTS = ("Hi! An agent will be with you shortly.", "You are in the queue, thanks.")


_HASHES = {t: content_hash(t) for t in (*PHRASES, *CUSTOMER_OPENERS, *AGENT_TEXTS, *BOT_TEXTS)}


@dataclass(frozen=True)
class Mix:
    """Share of the messages and mean gap (s) between two messages of one conversation."""

    cs_share: float = 0.30
    group_share: float = 0.45
    direct_share: float = 0.25
    cs_gap_s: float = 8.0
    group_gap_s: float = 5.0
    direct_gap_s: float = 10.0

    def describe(self) -> str:
        return (
            f"{self.cs_share:.0%} customer service, {self.group_share:.0%} group, "
            f"{self.direct_share:.0%} direct messages; one message per ~{self.cs_gap_s:g}/"
            f"{self.group_gap_s:g}/{self.direct_gap_s:g} s per active conversation"
        )


# One planned message: sender, sender_role, kind, text (None: a unique text), agent.
Step = tuple[str, str, str, str | None, str | None]


@dataclass
class Conv:
    id: str
    kind: str  # cs / group / direct
    members: list[str] = field(default_factory=list)
    left: int = 0  # messages still to say (group, direct)
    steps: list[Step] = field(default_factory=list)  # cs: the whole session, in order
    at: int = 0
    session: str | None = None


class Conversations:
    """Chat messages at `rate` per second of event time (see the module doc)."""

    def __init__(
        self,
        rate: float,
        seed: int,
        partitions: int,
        mix: Mix = Mix(),
        jitter_ms: int = 0,
        nodes: Sequence[str] = ("n1", "n2"),
    ) -> None:
        self.rng = random.Random(seed)
        self.mix = mix
        self.partitions = partitions
        self.jitter_ms = jitter_ms
        self.nodes = tuple(nodes)
        sizes = {
            "cs": rate * mix.cs_share * mix.cs_gap_s,
            "group": rate * mix.group_share * mix.group_gap_s,
            "direct": rate * mix.direct_share * mix.direct_gap_s,
        }
        self.sizes = {k: max(1, round(v)) for k, v in sizes.items()}
        active = sum(self.sizes.values())
        self.users = max(2000, 20 * active)  # people, most of them quiet at any moment
        self.groups = max(50, 4 * self.sizes["group"])  # group ids that recur
        self.agents = max(5, self.sizes["cs"] // 4)
        self.kinds = ("cs", "group", "direct")
        self.cum = (mix.cs_share, mix.cs_share + mix.group_share)
        self._serial = 0
        # Not checked per record (the benchmark's load generator must stay
        # cheap); tests/traffic checks a sample of its output instead.
        self.log = ChatLog(checked=False)
        self._part: dict[str, int] = {}
        self.pools: dict[str, list[Conv]] = {
            k: [self._new(k) for _ in range(n)] for k, n in self.sizes.items()
        }
        self.messages = 0

    # -- conversations -------------------------------------------------------------------
    def _user(self) -> str:
        return f"u{self.rng.randrange(self.users):07d}"

    def _agent(self) -> str:
        return f"agent{self.rng.randrange(self.agents):05d}"

    def _new(self, kind: str) -> Conv:
        rng = self.rng
        self._serial += 1
        if kind == "group":
            gid = rng.randrange(self.groups)
            grng = random.Random(gid * 7919 + 1)  # a group keeps its members
            members = [f"u{grng.randrange(self.users):07d}" for _ in range(grng.randint(3, 30))]
            return Conv(f"g_{gid:07d}", "group", members, left=rng.randint(10, 200))
        if kind == "direct":
            pair = sorted((self._user(), self._user()))
            return Conv(f"d_{pair[0]}_{pair[1]}", "direct", pair, left=rng.randint(4, 40))
        return self._cs(self._serial)

    def _cs(self, n: int) -> Conv:
        rng = self.rng
        customer, bot = f"cust{n:08d}", f"bot{rng.randint(1, 3)}"
        steps: list[Step] = [("system", "system", "event", "session queued", None)]
        agent: str | None = None
        for turn in range(rng.randint(1, 8)):
            for i in range(rng.choice((1, 1, 1, 2, 3))):
                text = rng.choice(CUSTOMER_OPENERS) if turn == i == 0 else None
                steps.append((customer, "user", "chat", text, agent))
            if turn == 0 and rng.random() < 0.35:
                steps.append((bot, "bot", "chat", rng.choice(BOT_TEXTS), agent))
            if agent is None:
                if rng.random() < 0.1:  # nobody ever accepts: the customer gives up
                    break
                agent = self._agent()
                steps.append(("system", "system", "event", "session accepted", agent))
            elif rng.random() < 0.08:
                agent = self._agent()
                steps.append(("system", "system", "event", "session transferred", agent))
            for _ in range(rng.choice((1, 1, 2))):
                steps.append((agent, "agent", "chat", rng.choice((*AGENT_TEXTS, None)), agent))
        steps.append(("system", "system", "event", "session closed", agent))
        return Conv(f"c_{n:08d}", "cs", [customer], steps=steps, session=f"s_{n:08d}")

    # -- events --------------------------------------------------------------------------
    def partition(self, conv: str) -> int:
        p = self._part.get(conv)
        if p is None:
            p = self._part[conv] = (murmur2(conv.encode()) & 0x7FFFFFFF) % self.partitions
        return p

    def emit(
        self,
        conv: str,
        conv_kind: str,
        ts: int,
        sender: str,
        role: str,
        kind: str = "chat",
        text: str | None = None,
        flags: list[str] | None = None,
        session: str | None = None,
        agent: str | None = None,
    ) -> Event:
        """One chat.message of `conv`: its next seq, ts never before its last one."""
        rng = self.rng
        if text is None:
            h, n = f"{rng.getrandbits(64):016x}", rng.randint(1, 400)
        else:
            h, n = _HASHES.get(text) or content_hash(text), len(text)
        self.messages += 1
        seq = self.log.next_seq(conv)
        return self.log.message(
            conv, conv_kind, ts, self.nodes[seq % len(self.nodes)], sender, role, kind,
            f"{sender}-{self.messages:x}", text_hash=(h, n), flags=flags or [],
            session=session, agent=agent,
        )  # fmt: skip

    def _flags(self) -> list[str]:
        r = self.rng.random()
        if r < 0.005:
            return ["abusive"]
        if r < 0.01:
            return ["sensitive"]
        if r < 0.02:
            return ["masked"]
        return []

    def _text(self) -> str | None:
        return self.rng.choice(PHRASES) if self.rng.random() < 0.15 else None

    def message(self, now_ms: int) -> Event:
        """The next chat message, at event time `now_ms` (minus up to jitter_ms)."""
        rng = self.rng
        r = rng.random()
        kind = "cs" if r < self.cum[0] else ("group" if r < self.cum[1] else "direct")
        pool = self.pools[kind]
        i = rng.randrange(len(pool))
        c = pool[i]
        ts = now_ms - (rng.randrange(self.jitter_ms + 1) if self.jitter_ms else 0)
        if kind == "cs":
            sender, role, mkind, text, agent = c.steps[c.at]
            c.at += 1
            flags = ["masked"] if role == "user" and rng.random() < 0.03 else []
            ev = self.emit(c.id, "cs", ts, sender, role, mkind, text, flags, c.session, agent)
            done = c.at >= len(c.steps)
        else:
            c.left -= 1
            done = c.left <= 0
            if kind == "group" and rng.random() < 0.02:
                ev = self.emit(c.id, "group", ts, "system", "system", "event", "member joined")
            else:
                # a few members do most of the talking
                m = c.members[min(int(rng.expovariate(0.5)), len(c.members) - 1)]
                admin = kind == "group" and m == c.members[0] and rng.random() < 0.3
                role = "admin" if admin else "user"
                ev = self.emit(c.id, kind, ts, m, role, "chat", self._text(), self._flags())
        if done:
            pool[i] = self._new(kind)
        return ev

    def some_group(self) -> str:
        return self.rng.choice(self.pools["group"]).id

    def describe(self) -> str:
        active = sum(self.sizes.values())
        return (
            f"{self.mix.describe()}; ~{active:,} conversations active at a time "
            f"({self.sizes['cs']:,} cs, {self.sizes['group']:,} group, "
            f"{self.sizes['direct']:,} direct), {self.users:,} users, {self.agents:,} agents"
        )


def tick(ts: int, node: str = "n1", serial: int = 0) -> Event:
    return record(TICK, id=f"{TICK_ID}{node}:{ts}:{serial}", ts=ts, node=node, checked=False)
