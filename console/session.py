"""The console's session: the IM token in an HttpOnly cookie, checked against Redis on
every request (im/tokens.py), so a logout, an expiry or a role change acts at once."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from console.settings import ConsoleSettings
from im import errors as E
from im import keys
from im.replies import opt_decoded
from im.tokens import Tokens

COOKIE = "im_console"
CSRF_HEADER = "x-console"  # must be "1" on every POST and DELETE
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Viewer:
    token: str
    user_id: str
    username: str
    role: str


class Sessions:
    def __init__(self, settings: ConsoleSettings, redis: aioredis.Redis) -> None:
        self.settings = settings
        self.redis = redis
        self._check = Tokens(redis, ttl_s=0).check  # checking only

    async def viewer(self, request: Request) -> Viewer | None:
        """Whose live session the request carries; None without one."""
        token = request.cookies.get(COOKIE, "")
        if not token:
            return None
        try:
            ident = await self._check(token)
            if ident is None:
                return None
            name = opt_decoded(await self.redis.hget(keys.user(ident.user_id), "username"))
        except (RedisError, OSError):
            raise E.Unavailable() from None
        return Viewer(token, ident.user_id, name or "", ident.role)

    async def require(self, request: Request) -> Viewer:
        """The API's check: 401 without a live session."""
        v = await self.viewer(request)
        if v is None:
            raise E.ApiError(E.UNAUTHORIZED, "sign in first", 401)
        return v

    def set_cookie(self, response: Response, token: str, max_age_s: int) -> None:
        response.set_cookie(
            COOKIE, token, max_age=max(max_age_s, 0), path=f"{self.settings.base_path}/",
            secure=self.settings.secure_cookie, httponly=True, samesite="strict",
        )  # fmt: skip

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            COOKIE, path=f"{self.settings.base_path}/", secure=self.settings.secure_cookie,
            httponly=True, samesite="strict",
        )  # fmt: skip


def check_csrf(request: Request) -> None:
    """A state-changing request must carry `X-Console: 1` (a form or an image on another
    site cannot set it; with SameSite=Strict this is the CSRF defence)."""
    if request.method in UNSAFE and request.headers.get(CSRF_HEADER) != "1":
        raise E.ApiError(E.FORBIDDEN, "send the header X-Console: 1", 403)
