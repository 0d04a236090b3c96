"""Alerts in the chat: the system account posts them into the team's alert
conversation (alerts.convs), and reads `/silence` commands there.

`post` stores a `kind: "system"` message through the send step, with a
`cmid` made from the notification's `key`: a notification posted again (the
evaluator restarted before it recorded the post) is answered as the first
post by the send step's dedup, and nothing is stored or pushed twice. A
stored message goes to the members' online devices through the nodes'
bus channels (im.bus.publish_to_nodes), from any process. While Redis is
down nothing can be posted: `post` raises, and the evaluator posts the same
notification later; the message says when the alert fired, not when it is
posted.

`commands` reads every message after `al:cursor` in each conversation,
silences what `/silence` commands ask (alerts.silences), answers each in the
conversation (cmid `alert.reply.<seq>`: read again after a crash, it is not
answered twice), moves the cursor, and returns the silences.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import orjson
import redis.asyncio as aioredis

from alerts import chatcommands as cc
from alerts.access import may_silence, silencers, team_of
from alerts.chattext import alert_body, utc
from alerts.convs import AlertConvs
from alerts.model import Notification
from alerts.silences import Silences
from im import keys
from im.accounts import SYSTEM_USER
from im.bus import publish_to_nodes
from im.messages import Messages, Stored
from im.replies import decoded

BATCH = 100  # messages read per round trip
Publish = Callable[[Stored], Awaitable[None]]
CommandSilence = tuple[str, int, str]  # (fingerprint, until ms, by user id)


def cmid_of(key: str) -> str:
    """The cmid of a notification's message (<= 64 characters, as a client's)."""
    return "alert." + hashlib.sha256(key.encode()).hexdigest()[:32]


class AlertChat:
    """`publish`: how a stored message reaches devices (default: the bus channels
    of the nodes where members are online; a node passes its own bus)."""

    def __init__(
        self, redis: aioredis.Redis, node_id: str = "alerts", external_url: str = "",
        publish: Publish | None = None,
    ) -> None:  # fmt: skip
        self.redis, self.external_url = redis, external_url
        self.messages = Messages(redis, node_id)
        self.convs = AlertConvs(redis)
        self.silences = Silences(redis)
        self.publish = publish or partial(publish_to_nodes, redis)

    async def start(self) -> dict[str, str]:
        """The alert conversations (team -> conv), created if they are not yet."""
        return await self.convs.ensure()

    async def post(self, notification: Notification) -> Stored:
        conv = await self.convs.conv(team_of(notification.alert.team))
        body = alert_body(notification, self.external_url)
        return await self.say(conv, cmid_of(notification.key), body)

    async def say(self, conv: str, cmid: str, body: dict[str, Any]) -> Stored:
        """A `system` message from the system account, pushed unless it was there already."""
        stored = await self.messages.store(conv, SYSTEM_USER, cmid, body["text"], kind="system",
                                           enforce_limits=False, body=body)  # fmt: skip
        if not stored.duplicate:
            await self.publish(stored)
        return stored

    async def silenced(self, team: str, fingerprint: str, name: str, until: int, by: str) -> None:
        """Tell the team's conversation of a silence set elsewhere (the HTTP API)."""
        silence = {"fingerprint": fingerprint, "until": until, "by": by}
        text = f"Silenced {name} ({fingerprint}) until {utc(until)}, by {await self._name(by)}."
        await self.say(await self.convs.conv(team), f"alert.silence.{fingerprint}.{until}",
                       {"text": text, "silence": silence})  # fmt: skip

    async def _name(self, user: str) -> str:
        return decoded(await self.redis.hget(keys.user(user), "username") or user)

    async def commands(self) -> list[CommandSilence]:
        out: list[CommandSilence] = []
        for team, conv in (await self.convs.ensure()).items():
            while True:
                cursor = int(await self.redis.hget(keys.ALERT_CURSOR, conv) or 0)
                max_seq = int(await self.redis.hget(keys.conv(conv), "max_seq") or 0)
                hi = min(max_seq, cursor + BATCH)
                if hi <= cursor:
                    break
                seqs = list(range(cursor + 1, hi + 1))
                for seq, raw in zip(seqs, await self.redis.hmget(keys.messages(conv), seqs),
                                    strict=True):  # fmt: skip
                    msg = orjson.loads(raw) if raw is not None else None
                    if msg and msg["from"] != SYSTEM_USER and msg["kind"] == "chat":
                        if cc.is_command(text := msg["body"].get("text", "")):
                            done = await self._silence(team, conv, seq, msg, text)
                            out += [done] if done else []
                await self.redis.hset(keys.ALERT_CURSOR, conv, hi)
        return out

    async def _silence(
        self, team: str, conv: str, seq: int, msg: dict[str, Any], text: str
    ) -> CommandSilence | None:
        user = msg["from"]
        who = await self._name(user)
        found = await self._target(team, conv, seq, user, text)
        if isinstance(found, str):
            await self._answer(conv, seq, f"{who}: {found}")
            return None
        target, seconds = found
        until = int(msg["ts"]) + seconds * 1000
        await self.silences.set(target.fingerprint, until, user)
        said = f"Silenced {target.name} ({target.fingerprint}) until {utc(until)}, by {who}."
        silence = {"fingerprint": target.fingerprint, "until": until, "by": user}
        await self._answer(conv, seq, said, silence)
        return (target.fingerprint, until, user)

    async def _target(
        self, team: str, conv: str, seq: int, user: str, text: str
    ) -> tuple[cc.Target, int] | str:
        """The alert a command silences and for how long, or why it silences none."""
        role, disabled = await self.redis.hmget(keys.user(user), "role", "disabled")
        if not may_silence(decoded(role or ""), team) or decoded(disabled or "") == "1":
            *others, last = silencers(team)
            return f"only {', '.join(others)} or {last} may silence alerts here"
        asked = cc.parse(text)
        if isinstance(asked, str):
            return asked
        target = await (cc.by_prefix(self.redis, team, asked.prefix) if asked.prefix
                        else cc.newest_posted(self.redis, conv, seq))  # fmt: skip
        return target if isinstance(target, str) else (target, asked.seconds)

    async def _answer(
        self, conv: str, seq: int, text: str, silence: dict[str, Any] | None = None
    ) -> None:
        body: dict[str, Any] = {"text": text, "reply_to": seq}
        if silence is not None:
            body["silence"] = silence
        await self.say(conv, f"alert.reply.{seq}", body)
