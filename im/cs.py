"""Customer-service sessions: queue, accept, transfer, close, assignment.

State changes are Lua steps (im/lua/cs_*.lua) that also write the
`im.session` event. After each step the system account posts an `event`
message into the conversation (cmid `cs:<session>:<n>:<what>`, so a repeated
step never posts twice) and online agents are told about the queue.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as aioredis

from im import errors as E
from im import ids, keys, lua
from im.accounts import SYSTEM_USER
from im.messages import Messages, Stored
from im.quota import Quota, Quotas
from im.replies import decoded

AGENT_STATES = ("online", "away", "offline")
OPEN_WINDOW_S = 3600  # the window of IM_CS_OPENS_PER_HOUR
Push = Callable[[str, str], Awaitable[None]]  # (user, frame)
Publish = Callable[[Stored], Awaitable[None]]


class CustomerService:
    def __init__(
        self, redis: aioredis.Redis, messages: Messages, node_id: str, push: Push,
        publish: Publish, assign: str = "manual", capacity: int = 5, opens_per_hour: int = 10,
    ) -> None:  # fmt: skip
        self.redis, self.messages, self.node_id = redis, messages, node_id
        self.push, self.publish = push, publish
        self.assign_mode, self.capacity = assign, capacity
        self.opens_per_hour = opens_per_hour
        self.quotas = Quotas(redis)
        self._create = lua.register(redis, "cs_create")
        self._accept = lua.register(redis, "cs_accept")
        self._transfer = lua.register(redis, "cs_transfer")
        self._close = lua.register(redis, "cs_close")
        self._agent_state = lua.register(redis, "cs_agent_state")

    async def session(self, sid: str) -> dict[str, str]:
        data = await self.redis.hgetall(keys.session(ids.checked(sid, ids.SESSION, "session")))
        if not data:
            raise E.ApiError(E.NOT_FOUND, "no such session", 404)
        return {decoded(k): decoded(v) for k, v in data.items()}

    async def notice(self, sid: str, conv: str, what: str, **fields: Any) -> None:
        """The `event` message of a transition, posted by the system account."""
        n = await self.redis.hincrby(keys.session(sid), "notices", 1)
        body = {"text": f"session {what}", "event": what, "session": sid, **fields}
        stored = await self.messages.store(
            conv, SYSTEM_USER, f"cs:{sid}:{n}:{what}", body["text"], kind="event",
            enforce_limits=False, body=body,
        )  # fmt: skip
        if not stored.duplicate:
            await self.publish(stored)

    async def create(self, customer: str, topic: str) -> dict[str, Any]:
        if (open_sid := await self.redis.get(keys.open_session(customer))) is not None:
            raise _already_open(open_sid)  # before the quota: a retry costs nothing
        quota = Quota(keys.cs_opens(customer), self.opens_per_hour, OPEN_WINDOW_S)
        await self.quotas.take_or_refuse(quota, message="too many support sessions, wait")
        sid, conv = ids.new("s"), ids.new("c")
        res = await self._create(args=[sid, conv, customer, topic[:64], self.node_id])
        if int(res[0]) == -1:
            raise _already_open(res[1])
        await self.notice(sid, conv, "queued")
        await self.announce_queued(sid, conv, customer, int(res[1]))
        out: dict[str, Any] = {"session": sid, "conv": conv, "state": "queued"}
        if self.assign_mode != "manual":
            agent = await self.auto_assign(sid)
            if agent is not None:
                out.update(state="active", agent=agent)
        return out

    async def announce_queued(self, sid: str, conv: str, customer: str, waiting_since: int) -> None:
        """`cs_queued` to every online agent."""
        queued = {"type": "cs_queued", "session": sid, "conv": conv, "customer": customer,
                  "waiting_since": waiting_since}  # fmt: skip
        await self.tell_agents(orjson.dumps(queued).decode())

    async def accept(self, sid: str, agent: str) -> dict[str, Any]:
        ids.checked(sid, ids.SESSION, "session")
        res = await self._accept(args=[sid, agent, self.node_id])
        status = int(res[0])
        if status == -1:
            raise E.ApiError(E.NOT_FOUND, "no such session", 404)
        if status == -2:
            raise E.ApiError(E.CONFLICT, "taken by another agent", 409)
        if status == -3:
            raise E.ApiError(E.CONFLICT, "the session is closed", 409)
        if status == -7:
            raise E.ApiError(E.FORBIDDEN, "agents only", 403)
        s = await self.session(sid)
        await self.notice(sid, s["conv"], "accepted", agent=agent)
        return {"session": sid, "conv": s["conv"], "state": "active", "agent": agent}

    async def transfer(self, sid: str, caller: str, is_admin: bool, to: str) -> dict[str, Any]:
        ids.checked(sid, ids.SESSION, "session")
        ids.checked(to, ids.USER, "agent")
        res = await self._transfer(args=[sid, caller, to, "1" if is_admin else "0", self.node_id])
        status = int(res[0])
        if status == -1:
            raise E.ApiError(E.NOT_FOUND, "no such session", 404)
        if status == -3:
            raise E.ApiError(E.CONFLICT, "the session is closed", 409)
        if status in (-4, -5):
            raise E.ApiError(E.FORBIDDEN, "only the session's agent may transfer it", 403)
        if status == -7:
            raise E.ApiError(E.NOT_FOUND, "no such agent", 404)
        s = await self.session(sid)
        if decoded(res[1]) != to:
            await self.notice(sid, s["conv"], "transferred", from_agent=decoded(res[1]),
                              agent=to)  # fmt: skip
        return {"session": sid, "agent": to}

    async def close(
        self, sid: str, caller: str, reason: str, not_after_ts: int = 0
    ) -> dict[str, Any] | None:
        """Close; None when a pipeline command is stale (a later message) or repeated."""
        ids.checked(sid, ids.SESSION, "session")
        res = await self._close(args=[sid, caller, reason, not_after_ts, self.node_id])
        status = int(res[0])
        if status == -1:
            raise E.ApiError(E.NOT_FOUND, "no such session", 404)
        if status == -3:
            if not caller:
                return None  # idempotent for the pipeline
            raise E.ApiError(E.CONFLICT, "the session is already closed", 409)
        if status == -4:
            raise E.ApiError(E.FORBIDDEN, "not a party to this session", 403)
        if status == -6:
            return None
        conv = decoded(res[1])
        await self.notice(sid, conv, "closed", reason=reason)
        if self.assign_mode != "manual":
            await self.drain_queue()
        return {"session": sid, "state": "closed"}

    async def queue(self) -> list[dict[str, Any]]:
        sids = [decoded(s) for s in await self.redis.zrange(keys.CS_QUEUE, 0, 499)]
        out = []
        for sid in sids:
            s = await self.redis.hmget(keys.session(sid), "conv", "customer", "waiting_since")
            if s[0] is not None:
                row = {"session": sid, "conv": decoded(s[0]), "customer": decoded(s[1])}
                out.append({**row, "waiting_since": int(s[2] or 0)})
        return out

    # -- agents -------------------------------------------------------------------
    async def set_agent_state(self, agent: str, state: str, check_role: bool = True) -> bool:
        """Set; False (nothing changed) when checking the role and `agent` is not
        an enabled agent. Without the check (sign-out, release) it only ever
        sets `offline`."""
        if state not in AGENT_STATES:
            raise E.ApiError(E.BAD_FRAME, "status must be online, away or offline")
        check = "1" if check_role or state != "offline" else "0"
        if not int(await self._agent_state(args=[agent, state, check, self.node_id])):
            return False
        if state == "online" and self.assign_mode != "manual":
            await self.drain_queue()
        return True

    async def tell_agents(self, frame: str) -> None:
        for agent in await self.online_agents():
            await self.push(agent, frame)

    async def online_agents(self) -> list[str]:
        """Agents marked online whose presence is live (a crashed node's agents are not)."""
        agents = sorted(decoded(a) for a in await self.redis.smembers(keys.AGENTS_ONLINE))
        secs, micros = await self.redis.time()
        now = int(secs) * 1000 + int(micros) // 1000
        async with self.redis.pipeline(transaction=False) as p:
            for a in agents:
                p.hvals(keys.presence(a))
            entries = await p.execute()
        return [a for a, exps in zip(agents, entries, strict=True)
                if any(int(e) > now for e in exps)]  # fmt: skip

    async def _candidates(self) -> list[str]:
        agents = await self.online_agents()
        if not agents:
            return []
        loads = [int(x or 0) for x in await self.redis.mget([keys.agent_load(a) for a in agents])]
        free = [(load, a) for load, a in zip(loads, agents, strict=True) if load < self.capacity]
        if self.assign_mode == "least_busy":
            return [a for _, a in sorted(free)]
        start = await self.redis.incr(keys.CS_ROUND_ROBIN)  # round robin over the free ones
        names = [a for _, a in free]
        return names[start % len(names) :] + names[: start % len(names)] if names else []

    async def auto_assign(self, sid: str) -> str | None:
        for agent in await self._candidates():
            try:
                await self.accept(sid, agent)
                return agent
            except E.ApiError as err:
                if err.status == 409 and "closed" in err.message:
                    return None
                if err.status == 409:  # someone took it meanwhile
                    return None
        return None

    async def drain_queue(self) -> None:
        for item in await self.queue():
            if await self.auto_assign(item["session"]) is None:
                return


def _already_open(sid: object) -> E.ApiError:
    return E.ApiError(E.CONFLICT, "you already have an open session", 409, session=decoded(sid))
