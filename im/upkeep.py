"""Delivery upkeep of the hub (im.hub): gap healing and retransmission.

Both run as background tasks next to the hub of a node:

- `GapHealer`: a push held after a gap in a device's seq order waits
  `GAP_WAIT_S` for the missing pushes; then the missing messages are read
  from Redis and pushed (a publish that never came, or a node that died
  between storing and publishing), and a seq that was never stored is
  skipped.
- `Retransmitter`: pushes not acked in time are sent again (Hub.retransmit).
"""

from __future__ import annotations

import asyncio
import logging
import time

import redis.asyncio as aioredis

from im import keys
from im.background import Background
from im.hub import Hub
from im.replies import decoded
from im.wire import encode

log = logging.getLogger("im.upkeep")

# How long a push waits for an earlier seq before that seq is read from Redis.
GAP_WAIT_S = 0.25


class GapHealer(Background):
    task_name = "heal"

    def __init__(self, hub: Hub, redis: aioredis.Redis) -> None:
        self.hub, self.redis = hub, redis

    async def heal(self, older_than: float) -> int:
        """Fill the gaps open since before `older_than`; returns the pushes made."""
        healed = 0
        for link in self.hub.all_links():
            for conv, first, upto in link.gaps(older_than):
                raw = await self.redis.hmget(keys.messages(conv),
                                             [str(s) for s in range(first, upto)])  # fmt: skip
                now = time.time()
                for seq, frame in zip(range(first, upto), raw, strict=True):
                    if frame is not None:
                        link.push_msg(
                            encode(decoded(frame)), conv, seq, now + self.hub.ack_timeout_s, now
                        )
                        healed += 1
                link.skip_to(conv, upto, now + self.hub.ack_timeout_s)  # a seq never stored
        return healed

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(GAP_WAIT_S / 2)
            try:
                await self.heal(time.time() - GAP_WAIT_S)
            except Exception as e:
                log.warning("gap healing: %s: %s", type(e).__name__, e)


class Retransmitter(Background):
    task_name = "retransmit"

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.hub.ack_timeout_s / 2))
            self.hub.retransmit(time.time())
