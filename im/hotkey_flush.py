"""Every window, this node's hottest keys into Redis, where all nodes' counts add up.

Just after each window of the Redis clock ends (`IM_HOTKEY_WINDOW_S`), the
node takes the windows of its `HotKeys` that ended and adds the estimated
accesses (count / sample rate) of each one's `TOP` keys to the sorted set
`ops:hotkeys:<window start, epoch s>` (ZINCRBY, one pipeline, then EXPIRE):
every node adds into the same set, so it holds the cluster's counts without
a list of nodes, and a collector reads the top of it (monitor/redis_hotkeys.py).
An SRE reads the key names there. The same round sets the counter's offset
to the Redis clock (one TIME). Sets expire after `KEEP_S` (or three
windows). A clean stop flushes the window under way too; while Redis is
away, ended windows wait in the counter (a few, im/hotkeys.KEEP_CLOSED).
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis

from im import keys
from im.background import Background
from im.hotkeys import KEEP_CLOSED, HotKeys, Window
from im.noderegistry import redis_ms

log = logging.getLogger("im.hotkey_flush")
TOP = 50  # keys per node and window: enough for any top-N a collector reports
KEEP_S = 300  # an SRE paged by an alert can still read the key names
FLUSH_DELAY_S = 0.1  # after the window's end (a command's time decides its window)
STOP_TIMEOUT_S = 2.0


class HotKeyFlush(Background):
    task_name = "hot-keys"

    def __init__(self, redis: aioredis.Redis, hot: HotKeys, top: int = TOP) -> None:
        self.redis, self.hot, self.top = redis, hot, top
        self.ttl_s = max(KEEP_S, 3 * hot.window_s)

    async def start(self) -> None:
        if self.hot.rate > 0:  # 0: counting is off
            await super().start()

    async def sync_clock(self) -> float:
        """The Redis clock now (s); the counter's offset to it is set on the way."""
        before = self.hot.clock()
        now = await redis_ms(self.redis) / 1000
        self.hot.offset_s = now - (before + self.hot.clock()) / 2
        return now

    async def flush(self, now: float | None) -> int:
        """Write the windows that ended by `now` (Redis clock, s; None: every window,
        the one under way too); keys written."""
        pending = self.hot.take(now)
        written = 0
        try:
            while pending:
                written += await self._write(pending[0])
                pending.pop(0)
        finally:  # Redis away: what is left waits for the next round
            if pending:
                self.hot.closed = [*pending, *self.hot.closed][-KEEP_CLOSED:]
        return written

    async def _write(self, w: Window) -> int:
        top = w.top(self.top)
        if top:
            key = keys.hot_keys(w.start)
            async with self.redis.pipeline(transaction=False) as p:
                for name, n in top:
                    p.zincrby(key, n / self.hot.rate, name)
                p.expire(key, self.ttl_s)
                await p.execute()
        return len(top)

    async def _run(self) -> None:
        w = self.hot.window_s
        while True:
            try:
                now = await self.sync_clock()
                await self.flush(now)
            except Exception as e:  # Redis away: the windows wait for the next round
                log.warning("hot keys: %s: %s", type(e).__name__, e)
                now = self.hot.clock() + self.hot.offset_s
            await asyncio.sleep(w - now % w + FLUSH_DELAY_S)

    async def stop(self) -> None:
        """Stop, and flush what was counted so far (the window under way too)."""
        if self._task is None:
            return
        await super().stop()
        try:
            await asyncio.wait_for(self.flush(None), STOP_TIMEOUT_S)
        except Exception as e:
            log.warning("hot keys: last flush: %s: %s", type(e).__name__, e)
