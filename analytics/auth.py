"""Who may query: admins of the IM server (raw SQL), or staff for their dashboards' panels
(analytics/panels.py, dashboards/access.py), by their bearer token.

Tokens and roles live in the server's Redis (im/tokens.py); this process
reads both on every request, so a logout, an expired token or a role change
acts at once, as on the server itself.
"""

from __future__ import annotations

import hmac

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from im import errors as E
from im.tokens import Identity, Tokens

SERVICE = Identity("service", "admin")  # the service token's caller


class Admins:
    """`service_token`: the alert evaluator's secret (IM_ANALYTICS_SERVICE_TOKEN). It is
    checked before Redis, so the evaluator still reads ClickHouse while Redis is
    down; empty, only admins' tokens are accepted."""

    def __init__(self, redis_url: str, service_token: str = "") -> None:
        self.service_token = service_token.encode()
        self.redis = aioredis.Redis.from_url(
            redis_url, socket_timeout=5.0, socket_connect_timeout=5.0
        )
        # Checking only: the lifetime of tokens it would issue does not matter here.
        self._check = Tokens(self.redis, ttl_s=0).check

    async def require(self, authorization: str) -> None:
        """Raise 401 without a live token, 403 for a non-admin, 503 when Redis is down."""
        ask = "give an admin token: Authorization: Bearer"
        if (await self.identity(authorization, ask)).role != "admin":
            raise E.ApiError(E.FORBIDDEN, "admins only", 403)

    async def identity(
        self, authorization: str, ask: str = "give a token: Authorization: Bearer"
    ) -> Identity:
        """Whose token (the service token counts as an admin's); 401 without a live
        token, 503 when Redis is down."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise E.ApiError(E.UNAUTHORIZED, ask, 401)
        if self.service_token and hmac.compare_digest(token.strip().encode(), self.service_token):
            return SERVICE
        try:
            ident = await self._check(token.strip())
        except (RedisError, OSError):
            raise E.Unavailable() from None
        if ident is None:
            raise E.ApiError(E.UNAUTHORIZED, "invalid or expired token", 401)
        return ident

    async def close(self) -> None:
        await self.redis.aclose()
