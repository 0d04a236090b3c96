"""The live customer-service view, read from the server's Redis (the keys of im/cs.py):
the queue, the agents with their status and open sessions, and customers waiting for
an answer in accepted sessions.

Agents are those with a status (`ag:state`: they signed in as agents, or set one);
a status of online or away counts only while the agent's presence is live (a
crashed node's agents show offline, as im.cs.online_agents has it). Open sessions
are the active ones among the agent's customer-service conversations. A session is
unanswered when the last chat message of its conversation (system notices skipped)
is the customer's.
"""

from __future__ import annotations

from typing import Any

import orjson
import redis.asyncio as aioredis

from im import keys
from im.replies import decoded

LOOK_BACK = 20  # messages read back from the newest to find the last chat message


async def now_ms(redis: aioredis.Redis) -> int:
    secs, micros = await redis.time()
    return int(secs) * 1000 + int(micros) // 1000


async def queue(redis: aioredis.Redis, now: int) -> dict[str, Any]:
    entries: list[Any] = await redis.zrange(keys.CS_QUEUE, 0, 499, withscores=True)
    waiting: list[dict[str, Any]] = []
    for sid_raw, since in entries:
        sid = decoded(sid_raw)
        customer = await redis.hget(keys.session(sid), "customer")
        if customer is None:
            continue
        waiting.append({"session": sid, "customer": decoded(customer),
                        "waiting_s": max(0, (now - int(since)) // 1000)})  # fmt: skip
    length = int(await redis.zcard(keys.CS_QUEUE))
    oldest = max((int(w["waiting_s"]) for w in waiting), default=None)
    return {"length": length, "oldest_wait_s": oldest, "waiting": waiting}


async def _status(redis: aioredis.Redis, agent: str, state: str, now: int) -> str:
    if state not in ("online", "away"):
        return "offline"
    expiries = await redis.hvals(keys.presence(agent))
    return state if any(int(e) > now for e in expiries) else "offline"


async def open_sessions(redis: aioredis.Redis, agent: str) -> list[dict[str, str]]:
    """The agent's active sessions: {session, conv, customer}."""
    out = []
    async for c in redis.sscan_iter(keys.user_convs(agent), count=500):
        conv = decoded(c)
        kind, sid, conv_agent = await redis.hmget(keys.conv(conv), "kind", "session", "agent")
        if kind is None or decoded(kind) != "cs" or sid is None:
            continue
        if conv_agent is None or decoded(conv_agent) != agent:
            continue
        state, customer = await redis.hmget(keys.session(decoded(sid)), "state", "customer")
        if state is not None and decoded(state) == "active":
            out.append({"session": decoded(sid), "conv": conv,
                        "customer": decoded(customer or b"")})  # fmt: skip
    return sorted(out, key=lambda s: s["session"])


async def last_chat(redis: aioredis.Redis, conv: str) -> dict[str, Any] | None:
    """The newest message of kind chat in `conv` (its frame), or None."""
    top = int(await redis.hget(keys.conv(conv), "max_seq") or 0)
    seqs = list(range(top, max(0, top - LOOK_BACK), -1))
    if not seqs:
        return None
    for raw in await redis.hmget(keys.messages(conv), [str(s) for s in seqs]):
        if raw is None:
            continue
        frame = orjson.loads(raw)
        if frame.get("kind", "chat") == "chat":
            return dict(frame)
    return None


async def cs_view(redis: aioredis.Redis) -> dict[str, Any]:
    """Everything of GET /api/live/cs but the reply rate."""
    now = await now_ms(redis)
    states = {decoded(k): decoded(v) for k, v in (await redis.hgetall(keys.AGENT_STATES)).items()}
    agents: list[dict[str, Any]] = []
    unanswered: list[dict[str, Any]] = []
    for agent in sorted(states):
        name = await redis.hget(keys.user(agent), "username")
        sessions = await open_sessions(redis, agent)
        agents.append({"user_id": agent, "username": decoded(name or b""),
                       "status": await _status(redis, agent, states[agent], now),
                       "open_sessions": len(sessions),
                       "sessions": [s["session"] for s in sessions]})  # fmt: skip
        for s in sessions:
            last = await last_chat(redis, s["conv"])
            if last is not None and last.get("from") == s["customer"]:
                waited = max(0, (now - int(last["ts"])) // 1000)
                unanswered.append({"session": s["session"], "customer": s["customer"],
                                   "agent": agent, "waiting_s": waited})  # fmt: skip
    unanswered.sort(key=lambda u: -int(u["waiting_s"]))
    return {"at_ms": now, "queue": await queue(redis, now), "agents": agents,
            "unanswered": unanswered}  # fmt: skip
