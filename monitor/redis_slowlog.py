"""Redis' slow log: the entries that are new since the last round, by id.

Only the command's name, its duration and its time leave this module. The
arguments never do: they may hold message text or tokens (an EVAL of the
send step carries the message). Entry ids restart when Redis does (its
`run_id` changes); entries that came and went between two rounds (more than
`max_entries` new ones) are counted as missed.
"""

from __future__ import annotations

import re
from typing import Any

import redis.asyncio as aioredis

from monitor.sample import Maker, Sample

S = Maker("redis")
_NAME = re.compile(r"[a-z][a-z0-9_|.-]{0,39}")


def command_name(command: object) -> str:
    """The command of a slow-log entry (its arguments joined by spaces, as redis-py
    gives them), lower case, or `unknown`; the arguments are dropped here."""
    text = command.decode(errors="replace") if isinstance(command, bytes) else str(command)
    name = text.split(" ", 1)[0].lower()
    return name if _NAME.fullmatch(name) else "unknown"


class SlowLog:
    def __init__(self, redis: aioredis.Redis, max_entries: int) -> None:
        self.redis, self.max_entries = redis, max_entries
        self._run_id: str | None = None
        self._last_id = -1  # entries with a greater id are new

    async def sample(self, run_id: str) -> list[Sample]:
        if run_id != self._run_id:  # first round, or Redis restarted: ids start again
            self._run_id, self._last_id = run_id, -1
        entries: list[dict[str, Any]] = await self.redis.slowlog_get(self.max_entries)
        fresh = sorted((e for e in entries if int(e["id"]) > self._last_id), key=lambda e: e["id"])
        missed = 0
        if fresh:
            missed = int(fresh[-1]["id"]) - self._last_id - len(fresh)
            self._last_id = int(fresh[-1]["id"])
        out = [
            S.at(
                int(e["start_time"]) * 1000,
                "redis_slowlog_duration_seconds",
                int(e["duration"]) / 1e6,
                command=command_name(e["command"]),
                entry=str(e["id"]),
            )
            for e in fresh
        ]
        out.append(S("redis_slowlog_new_entries", len(fresh)))
        out.append(S("redis_slowlog_missed_entries", missed))
        return out
