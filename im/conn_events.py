"""Connection events (`im.connection`), written to the outbox like every event."""

from __future__ import annotations

import secrets
import time
from typing import Any

import orjson
import redis.asyncio as aioredis

from contract import events
from im import errors as E
from im import keys

# Close code -> the `reason` of EVENTS.md.
_REASONS = {
    E.CLOSE_HEARTBEAT: "heartbeat_timeout",
    E.CLOSE_REPLACED: "replaced",
    E.CLOSE_GOING_AWAY: "shutdown",
}


def close_reason(server_code: int | None) -> str:
    """`client` when the client closed; else what the server closed it for."""
    if server_code is None:
        return "client"
    return _REASONS.get(server_code, "error")


class ConnectionEvents:
    """Writes connection events to the outbox.

    `conn.auth_failed` is bounded per client address: at most
    `auth_failed_per_min` events per fixed minute (`afe:{address}`, across
    nodes); the rest are only counted in `auth_failed_unrecorded` (this
    node's /metrics: `im_auth_failed_unrecorded_total`), so a client
    retrying bad tokens cannot grow the outbox.
    """

    def __init__(self, redis: aioredis.Redis, node_id: str, auth_failed_per_min: int = 10) -> None:
        self.redis = redis
        self.node_id = node_id
        self.auth_failed_per_min = auth_failed_per_min
        self.auth_failed_unrecorded = 0

    async def _emit(self, etype: events.EventType, **fields: Any) -> None:
        event = events.record(
            etype, id=events.CONNECTION_EVENT_ID + secrets.token_hex(10),
            ts=int(time.time() * 1000), node=self.node_id, **fields,
        )  # fmt: skip
        await self.redis.xadd(
            keys.OUTBOX, {"t": etype.topics[0], "k": etype.key_of(event), "v": orjson.dumps(event)}
        )

    async def opened(self, user: str, device: str) -> None:
        await self._emit(events.CONN_OPEN, user=user, device=device)

    async def closed(self, user: str, device: str, reason: str, duration_ms: int) -> None:
        await self._emit(events.CONN_CLOSE, user=user, device=device, reason=reason,
                         duration_ms=duration_ms)  # fmt: skip

    async def auth_failed(self, device: str, reason: str, address: str) -> None:
        """`conn.auth_failed`, unless `address` had its share of this minute."""
        key = keys.auth_failed_events(address)
        async with self.redis.pipeline(transaction=True) as p:
            p.set(key, 0, ex=60, nx=True)  # starts the window; INCR keeps its TTL
            p.incr(key)
            _, written = await p.execute()
        if written > self.auth_failed_per_min:
            self.auth_failed_unrecorded += 1
            return
        # The token named nobody: the key is the device (or "-"), never the token.
        await self._emit(events.CONN_AUTH_FAILED, user=None, device=device, reason=reason)
