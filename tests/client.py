"""A small test client that speaks PROTOCOL.md over real HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import orjson
import websockets


class Device:
    """One signed-in connection; a background reader keeps every frame until asked for.

    Several tasks may wait at once (one for `sent`, another for `msg`): only
    the reader calls `recv` on the socket.
    """

    def __init__(self, ws: websockets.ClientConnection, welcome: dict[str, Any]) -> None:
        self.ws = ws
        self.welcome = welcome
        self.inbox: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self.close_code: int | None = None
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                async with self._arrived:
                    self.inbox.append(orjson.loads(raw))
                    self._arrived.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code or 1006
            async with self._arrived:
                self._arrived.notify_all()

    async def send_json(self, frame: dict[str, Any]) -> None:
        await self.ws.send(orjson.dumps(frame).decode())

    async def _take(
        self, kind: str | None, timeout: float, cmid: str | None = None
    ) -> dict[str, Any]:
        """The first frame of `kind` (any if None); with `cmid`, the first
        `kind` frame for that cmid or the `error` refusing it."""

        def wanted(frame: dict[str, Any]) -> bool:
            if cmid is not None:
                return (frame.get("type") == kind and frame.get("cmid") == cmid) or (
                    frame.get("type") == "error" and frame.get("ref") == cmid
                )
            return kind is None or frame.get("type") == kind

        async def wait() -> dict[str, Any]:
            async with self._arrived:
                while True:
                    for i, frame in enumerate(self.inbox):
                        if wanted(frame):
                            return self.inbox.pop(i)
                    if self.close_code is not None:
                        raise websockets.ConnectionClosedOK(None, None)
                    await self._arrived.wait()

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            want = f"{kind} for {cmid}" if cmid else kind or "any frame"
            seen = [f.get("type") for f in self.inbox][-20:]
            raise TimeoutError(f"no {want} within {timeout}s; inbox holds {seen}") from None

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next frame of any type."""
        return await self._take(None, timeout)

    async def recv_type(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        """The next frame of `kind` (frames of other types stay for others)."""
        return await self._take(kind, timeout)

    async def closed(self, timeout: float = 10.0) -> int:
        """Wait for the server to close the connection; its close code."""
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        assert self.close_code is not None
        return self.close_code

    async def send_text(
        self, conv: str, text: str, cmid: str | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Send and wait for this message's own `sent` (an `error` for it fails)."""
        cmid = cmid or secrets.token_hex(8)
        await self.send_json({"type": "send", "cmid": cmid, "conv": conv, "body": {"text": text}})
        frame = await self._take("sent", timeout, cmid)
        assert frame["type"] == "sent", f"send refused: {frame}"
        return frame

    async def close(self) -> None:
        await self.ws.close()
        await asyncio.gather(self._reader, return_exceptions=True)


class User:
    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.username = username
        self.password = password
        self.user_id = ""
        self.token = ""

    @classmethod
    async def create(cls, base_url: str, prefix: str = "u") -> User:
        user = cls(base_url, f"{prefix}{secrets.token_hex(4)}", "correct horse battery")
        async with httpx.AsyncClient(base_url=base_url) as http:
            r = await http.post(
                "/api/register", json={"username": user.username, "password": user.password}
            )
            assert r.status_code == 201, r.text
            user.user_id = r.json()["user_id"]
            r = await http.post(
                "/api/login", json={"username": user.username, "password": user.password}
            )
            assert r.status_code == 200, r.text
            user.token = r.json()["token"]
        return user

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            return await http.post(path, json=body, headers=self.headers)

    async def get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            return await http.get(path, headers=self.headers)

    async def group(self, name: str, members: list[User]) -> str:
        r = await self.post("/api/groups", {"name": name, "members": [m.user_id for m in members]})
        assert r.status_code == 201, r.text
        conv: str = r.json()["conv"]
        return conv

    async def connect(self, device: str = "d1", ws_url: str | None = None) -> Device:
        url = ws_url or self.base_url.replace("http", "ws", 1) + "/ws"
        ws = await websockets.connect(url, max_size=2**22)
        await ws.send(
            orjson.dumps({"type": "auth", "token": self.token, "device": device}).decode()
        )
        welcome = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert welcome["type"] == "auth_ok", welcome
        return Device(ws, welcome)
