"""`/silence` from the chat: a member of an alert conversation replies
`/silence 1h` (the newest alert posted there) or `/silence <fingerprint
prefix> 30m`, and the alert is silenced until the command's time plus that.

`parse` reads the text (pure); `Target` finds the alert it means. Who may:
alerts.access, with the sender's role read when the command is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson
import redis.asyncio as aioredis

from alerts.access import team_of
from alerts.model import Alert
from alerts.silences import MAX_SILENCE_S
from im import keys
from im.accounts import SYSTEM_USER
from im.replies import decoded

COMMAND = "/silence"
USAGE = "usage: /silence 1h (the newest alert here) or /silence <fingerprint> 30m"
LOOK_BACK = 1000  # messages searched back for the newest alert
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(?:\d{1,7}[smhd])+")
_PREFIX = re.compile(r"[0-9a-f]{4,16}")


@dataclass(frozen=True)
class Silence:
    prefix: str | None  # None: the newest alert posted in the conversation
    seconds: int


def is_command(text: str) -> bool:
    words = text.split(maxsplit=1)
    return bool(words) and words[0] == COMMAND


def parse(text: str) -> Silence | str:
    """The silence a command asks for, or why it is not one (a sentence)."""
    words = text.split()[1:]
    if not 1 <= len(words) <= 2:
        return USAGE
    prefix = words[0].lower() if len(words) == 2 else None
    if prefix is not None and not _PREFIX.fullmatch(prefix):
        return f"{words[0]!r} is no fingerprint (4-16 hex digits); {USAGE}"
    if not _DURATION.fullmatch(words[-1]):
        return f"{words[-1]!r} is no duration (e.g. 45m, 2h, 1h30m, 1d); {USAGE}"
    seconds = sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([smhd])", words[-1]))
    if not 0 < seconds <= MAX_SILENCE_S:
        return f"a silence lasts from 1s to {MAX_SILENCE_S // 86400}d"
    return Silence(prefix, seconds)


@dataclass(frozen=True)
class Target:
    fingerprint: str
    name: str


async def by_prefix(redis: aioredis.Redis, team: str, prefix: str) -> Target | str:
    """The team's alert (active or recent, `al:state`) whose fingerprint starts so."""
    found = []
    async for fp, raw in redis.hscan_iter(keys.ALERT_STATE, match=f"{prefix}*", count=500):
        alert = Alert.from_json(raw)
        if team_of(alert.team) == team:
            found.append(Target(decoded(fp), alert.name))
    if not found:
        return f"no alert of this conversation has a fingerprint starting {prefix}"
    if len(found) > 1:
        names = ", ".join(f"{t.name} ({t.fingerprint})" for t in sorted(found, key=str))
        return f"{prefix} fits {len(found)} alerts: {names}; give more digits"
    return found[0]


async def newest_posted(redis: aioredis.Redis, conv: str, before: int) -> Target | str:
    """The newest alert the system account posted in `conv` before seq `before`."""
    low = max(1, before - LOOK_BACK)
    for hi in range(before - 1, low - 1, -100):
        seqs = [str(s) for s in range(hi, max(low, hi - 99) - 1, -1)]
        for raw in await redis.hmget(keys.messages(conv), seqs):
            if raw is None:
                continue
            msg = orjson.loads(raw)
            alert = msg["body"].get("alert") if msg["from"] == SYSTEM_USER else None
            if isinstance(alert, dict):
                return Target(alert["fingerprint"], alert["name"])
    return "no alert was posted here yet"
