"""Users and conversations on the IM server, through its public HTTP API.

Registration and login hash with argon2 (the benchmark's server uses cheap
parameters, but it is still the slowest part of the set-up): users are made
once per run (nothing is cached across runs), with bounded concurrency and a
progress line, and reused by every scenario of the run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bench.base.cli import Say
from bench.plan import ClientSpec, Scenario

PASSWORD = "bench-password-1"  # noqa: S105 - throwaway accounts on a throwaway Redis
TRIES = 5


class SetupError(RuntimeError):
    """The server refused a setup call; the message has the status and body."""


@dataclass(frozen=True)
class BenchUser:
    user_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


async def _call(
    http: httpx.AsyncClient, path: str, body: Any, user: BenchUser | None = None
) -> httpx.Response:
    """POST with retries on 429/503 and dropped connections (bounded)."""
    for attempt in range(TRIES):
        try:
            r = await http.post(path, json=body, headers=user.headers if user else None)
        except httpx.TransportError:
            if attempt == TRIES - 1:
                raise
            await asyncio.sleep(0.5 * (attempt + 1))
            continue
        if r.status_code not in (429, 503) or attempt == TRIES - 1:
            return r
        await asyncio.sleep(float(r.headers.get("retry-after", 1)))
    raise AssertionError("unreachable")


def _expect(r: httpx.Response, *ok: int) -> dict[str, Any]:
    if r.status_code not in ok:
        raise SetupError(f"{r.request.method} {r.request.url.path} -> {r.status_code} {r.text}")
    data: dict[str, Any] = r.json() if r.content else {}
    return data


async def _accept_invitation(http: httpx.AsyncClient, user: BenchUser, group_id: str) -> None:
    r = await http.get("/api/invitations", headers=user.headers)
    if r.status_code != 200:
        raise SetupError(f"GET /api/invitations -> {r.status_code} {r.text}")
    [invitation] = [i["invitation"] for i in r.json() if i["group_id"] == group_id]
    _expect(await _call(http, f"/api/invitations/{invitation}/accept", None, user), 200)


async def _bounded(
    n: int, concurrency: int, job: Callable[[int], Awaitable[None]], say: Say, what: str
) -> None:
    """Run job(0..n-1), `concurrency` at a time, printing progress every few seconds."""
    done = 0
    started = time.monotonic()
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        nonlocal done
        async with gate:
            await job(i)
            done += 1

    async def progress() -> None:
        while True:
            await asyncio.sleep(5)
            rate = done / max(1e-9, time.monotonic() - started)
            eta = (n - done) / rate if rate else float("inf")
            say(f"  {what}: {done}/{n} ({rate:.0f}/s, ~{eta:.0f}s left)")

    ticker = asyncio.create_task(progress())
    try:
        await asyncio.gather(*(one(i) for i in range(n)))
    finally:
        ticker.cancel()
    say(f"  {what}: {n} in {time.monotonic() - started:.1f}s")


class ImSetup:
    def __init__(self, base_url: str, concurrency: int, say: Say) -> None:
        self.base_url, self.concurrency, self.say = base_url, concurrency, say
        self.users: list[BenchUser] = []
        self.convs: dict[tuple[str, int, int], str] = {}
        self.friends_api: bool | None = None
        self.friends_note = ""

    def client(self) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=self.concurrency * 2)
        return httpx.AsyncClient(base_url=self.base_url, timeout=120, limits=limits)

    async def ensure_users(self, n: int) -> None:
        first = len(self.users)
        if n <= first:
            return
        made: dict[int, BenchUser] = {}
        async with self.client() as http:

            async def register(k: int) -> None:
                creds = {"username": f"bench{first + k:06d}", "password": PASSWORD}
                _expect(await _call(http, "/api/register", creds), 201)
                data = _expect(await _call(http, "/api/login", creds), 200)
                made[k] = BenchUser(data["user_id"], data["token"])

            self.say(f"registering and signing in {n - first} users")
            await _bounded(n - first, self.concurrency, register, self.say, "users")
        self.users += [made[k] for k in range(n - first)]

    async def _group(self, http: httpx.AsyncClient, chunk: range, title: str) -> str:
        owner = self.users[chunk.start]
        members = {self.users[i].user_id: self.users[i] for i in chunk[1:]}
        body = {"name": title, "members": list(members)}
        created = _expect(await _call(http, "/api/groups", body, owner), 201)
        # Members who are not the owner's friends are invited: each accepts.
        for uid in created.get("invited", []):
            await _accept_invitation(http, members[uid], created["group_id"])
        conv: str = created["conv"]
        return conv

    async def _direct(self, http: httpx.AsyncClient, chunk: range) -> str:
        if self.friends_api is False or len(chunk) != 2:
            return await self._group(http, chunk, f"pair {chunk.start}")
        a, b = self.users[chunk.start], self.users[chunk.start + 1]
        r = await _call(http, "/api/friends", {"user_id": b.user_id}, a)
        if r.status_code in (404, 405) and self.friends_api is None:
            self.friends_api = False
            self.friends_note = (
                f"POST /api/friends answered {r.status_code} {r.text.strip()[:120]}: the friends "
                "API is not implemented, so direct chats are 2-member groups (POST /api/groups)"
            )
            self.say(self.friends_note)
            return await self._group(http, chunk, f"pair {chunk.start}")
        self.friends_api = True
        if r.status_code == 200:
            conv: str = _expect(r, 200)["conv"]
            return conv
        _expect(r, 202)
        accept = await _call(http, f"/api/friends/{a.user_id}/accept", None, b)
        conv = _expect(accept, 200)["conv"]
        return conv

    async def ensure_convs(self, sc: Scenario) -> list[ClientSpec]:
        chunks = sc.chunks()
        todo = [c for c in chunks if (sc.kind, c.start, c.stop) not in self.convs]
        if not todo:
            return self._specs(sc, chunks)
        async with self.client() as http:

            async def make(chunk: range) -> None:
                if sc.kind == "group":
                    conv = await self._group(http, chunk, f"bench {chunk.start}")
                else:
                    conv = await self._direct(http, chunk)
                self.convs[(sc.kind, chunk.start, chunk.stop)] = conv

            if sc.kind == "direct" and self.friends_api is None:
                await make(todo.pop(0))  # the first pair tells whether the friends API exists

            async def job(k: int) -> None:
                await make(todo[k])

            await _bounded(len(todo), self.concurrency, job, self.say, f"{sc.kind} chats")
        return self._specs(sc, chunks)

    async def solo_convs(self, n: int) -> list[tuple[str, str]]:
        """(token, conv) of users 0..n-1, each alone in a conversation of its own."""
        await self.ensure_users(n)
        async with self.client() as http:
            for i in range(n):
                key = ("solo", i, i + 1)
                if key not in self.convs:
                    self.convs[key] = await self._group(http, range(i, i + 1), f"solo {i}")
        return [(self.users[i].token, self.convs[("solo", i, i + 1)]) for i in range(n)]

    def _specs(self, sc: Scenario, chunks: list[range]) -> list[ClientSpec]:
        out = []
        for chunk in chunks:
            conv = self.convs[(sc.kind, chunk.start, chunk.stop)]
            for i in chunk:
                u = self.users[i]
                out.append(ClientSpec(i, u.user_id, u.token, conv, len(chunk)))
        return out
