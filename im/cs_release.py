"""Taking customer service away from someone who is no longer an agent.

When an admin changes an agent's role or disables the account, what the
agent role gave ends at once: the user is no longer available for
assignment, each session still active with them goes back to the queue at
its first place (a `queued` notice with `from_agent` and `reason`, and
`cs_queued` to the online agents), and they leave every customer-service
conversation they served (closed ones too). Reading what they saw as a
former member needs the agent role again (im/messages.py). Each
conversation is one atomic step (im/lua/cs_release.lua).
"""

from __future__ import annotations

import redis.asyncio as aioredis

from im import keys, lua
from im.cs import CustomerService
from im.replies import decoded

REASONS = ("role_changed", "disabled")


class AgentRelease:
    def __init__(self, redis: aioredis.Redis, cs: CustomerService) -> None:
        self.redis, self.cs = redis, cs
        self._release = lua.register(redis, "cs_release")

    async def release(self, user: str, reason: str) -> list[str]:
        """Take the user out of customer service; the sessions that went back to the queue."""
        if reason not in REASONS:
            raise ValueError(f"reason {reason!r} is not one of {REASONS}")
        await self.cs.set_agent_state(user, "offline", check_role=False)
        requeued = []
        for conv in await self._served(user):
            res = await self._release(args=[conv, user, reason, self.cs.node_id])
            if int(res[0]) != 1:
                continue
            sid, customer, waiting_since = decoded(res[1]), decoded(res[2]), int(res[3])
            await self.cs.notice(sid, conv, "queued", from_agent=user, reason=reason)
            await self.cs.announce_queued(sid, conv, customer, waiting_since)
            requeued.append(sid)
        if requeued and self.cs.assign_mode != "manual":
            await self.cs.drain_queue()
        return requeued

    async def _served(self, user: str) -> list[str]:
        """The user's customer-service conversations where they are not the customer."""
        convs = [decoded(c) async for c in self.redis.sscan_iter(keys.user_convs(user), count=500)]
        out: list[str] = []
        for i in range(0, len(convs), 500):
            chunk = convs[i : i + 500]
            async with self.redis.pipeline(transaction=False) as p:
                for c in chunk:
                    p.hmget(keys.conv(c), "kind", "owner")
                rows = await p.execute()
            out += [c for c, (kind, owner) in zip(chunk, rows, strict=True)
                    if kind == "cs" and owner != user]  # fmt: skip
        return out
