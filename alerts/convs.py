"""The alert conversations: one group per team, owned by the system account.

`sre` alerts go to the ops conversation, `cs` alerts to the managers'. Each
is created once, by whoever asks first (the evaluator at start, or a server
node when an admin adds someone): im/lua/alert_conv.lua, atomic, so several
processes and restarts all get the same one (`al:convs`). Admins add and
remove members (`POST`/`DELETE /api/alerts/conversations/{team}/members`);
members may leave like any group member (`POST /api/groups/{group_id}/leave`).
"""

from __future__ import annotations

import redis.asyncio as aioredis

from alerts.model import TEAMS
from im import errors as E
from im import ids, lua
from im.relations import MAX_GROUP_MEMBERS, is_person
from im.replies import decoded

TITLES = {"sre": "Ops alerts", "cs": "Customer-service alerts"}


class AlertConvs:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._ensure = lua.register(redis, "alert_conv")
        self._join = lua.register(redis, "member_join")
        self._leave = lua.register(redis, "member_leave")
        self._convs: dict[str, str] = {}  # they never change once made

    async def ensure(self) -> dict[str, str]:
        """team -> conv, every team's conversation created if it is not yet."""
        for team in TEAMS:
            if team not in self._convs:
                conv = ids.new("c")
                made = await self._ensure(args=[team, conv, ids.group_of(conv), TITLES[team]])
                self._convs[team] = decoded(made)
        return dict(self._convs)

    async def conv(self, team: str) -> str:
        return (await self.ensure())[team]

    def team_of(self, conv: str) -> str | None:
        """The team whose conversation `conv` is (after `ensure`)."""
        return next((t for t, c in self._convs.items() if c == conv), None)

    async def add(self, team: str, user: str) -> bool:
        """`user` joins the team's conversation now; False: a member already."""
        conv = await self._team_conv(team)
        if not await is_person(self.redis, user):
            raise E.ApiError(E.NOT_FOUND, "no such user", 404)
        res = int(await self._join(args=[conv, user, MAX_GROUP_MEMBERS]))
        if res == -1:
            raise E.ApiError(E.INVALID, f"at most {MAX_GROUP_MEMBERS} members", 400)
        return res == 1

    async def remove(self, team: str, user: str) -> None:
        conv = await self._team_conv(team)
        if not int(await self._leave(args=[conv, user, ids.group_of(conv)])):
            raise E.ApiError(E.NOT_FOUND, "not a member", 404)

    async def _team_conv(self, team: str) -> str:
        if team not in TEAMS:
            raise E.ApiError(E.NOT_FOUND, "no such team", 404)
        return await self.conv(team)
