"""Obeying the pipeline: commands from the `im.control` topic.

All nodes share one consumer group, so each command is handled by one node
(another takes over its partitions if it dies). Commands are idempotent, so
a command handled twice after a rebalance changes nothing the second time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import redis.asyncio as aioredis

from contract import topics
from im import keys
from im.background import Background
from im.consumer import EventConsumer
from im.cs import CustomerService

log = logging.getLogger("im.control")
GROUP = "im-server-control"


class ControlConsumer(Background):
    task_name = "control"

    def __init__(self, bootstrap: str, redis: aioredis.Redis, cs: CustomerService) -> None:
        self.bootstrap, self.redis, self.cs = bootstrap, redis, cs
        self.handled = 0

    async def _run(self) -> None:
        while True:
            consumer = EventConsumer([topics.CONTROL], self.bootstrap, GROUP)
            try:
                await consumer.start()
                async for batch in consumer.batches(timeout_ms=500):
                    for _, command in batch:
                        await self.obey(command)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # Kafka or Redis away: reconnect and re-read
                log.warning("control: %s: %s; reconnecting", type(e).__name__, e)
                await asyncio.sleep(1.0)
            finally:
                await consumer.stop()

    async def obey(self, command: dict[str, Any]) -> None:
        kind = command.get("type")
        try:
            if kind == "cs.close_inactive" and isinstance(command.get("session"), str):
                # Not when the conversation had a message after the command's event time.
                not_after = int(command.get("ts") or 0)
                await self.cs.close(command["session"], "", "inactivity", not_after)
            elif kind == "user.mute" and isinstance(command.get("user"), str):
                until = int(command["until"])
                left = until - int(time.time() * 1000)
                if left > 0:
                    # Keep the later of two mutes; the key expires by itself.
                    current = int(await self.redis.get(keys.mute(command["user"])) or 0)
                    if until > current:
                        await self.redis.set(keys.mute(command["user"]), until, px=left)
            else:
                log.info("control: ignoring %r", kind)
                return
        except (KeyError, TypeError, ValueError) as e:
            log.warning("control: malformed %r: %s", kind, e)
            return
        except Exception as e:
            if getattr(e, "status", None) == 404:  # unknown session: nothing to do
                return
            raise
        self.handled += 1
