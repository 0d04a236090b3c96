"""The one test client: speaks PROTOCOL.md over real HTTP and WebSocket.

`User` registers, logs in and calls the HTTP API; `Device` is one WebSocket
connection (signed in or not) whose background reader keeps every frame in
`inbox` until a test takes it, and records the close code the server sent.
"""

from __future__ import annotations

import asyncio
import secrets
import ssl
from typing import Any

import httpx
import orjson
import websockets

Frame = dict[str, Any]


def ws_url(base: str) -> str:
    """The WebSocket endpoint of the node at HTTP(S) `base` (https -> wss)."""
    return base.replace("http", "ws", 1) + "/ws"


def dumps(frame: Frame) -> str:
    """A frame as the client sends it (JSON text)."""
    return orjson.dumps(frame).decode()


def send_frame(conv: str, text: str, cmid: str | None = None) -> Frame:
    """A `send` request for a text message (a random cmid if none given)."""
    cmid = cmid or secrets.token_hex(8)
    return {"type": "send", "cmid": cmid, "conv": conv, "body": {"text": text}}


class Device:
    """One WebSocket connection; a background reader keeps every frame until asked for.

    Several tasks may wait at once (one for `sent`, another for `msg`): only
    the reader calls `recv` on the socket. With `reading=False` nothing is
    read (the socket's buffers fill up) until the first call that waits for a
    frame or for the close.
    """

    def __init__(self, ws: websockets.ClientConnection, *, reading: bool = True) -> None:
        self.ws = ws
        self.welcome: Frame = {}  # the `auth_ok` frame, once signed in
        self.inbox: list[Frame] = []
        self._arrived = asyncio.Condition()
        self._takes = 0  # how often frames were taken out of `inbox`
        self.close_code: int | None = None  # the server's close code; 1006 if none came
        self._reader: asyncio.Task[None] | None = None
        if reading:
            self._start_reading()

    @classmethod
    async def open(cls, base: str, *, reading: bool = True, **connect: Any) -> Device:
        """A connection to the node at `base`, not signed in. `connect`:
        options of `websockets.connect` (ssl, compression, sock, ...)."""
        connect.setdefault("max_size", 2**22)
        connect.setdefault("open_timeout", 10)
        return cls(await websockets.connect(ws_url(base), **connect), reading=reading)

    @classmethod
    async def sign_in(cls, base: str, token: str, device: str = "d1", **connect: Any) -> Device:
        """A connection signed in with `token` as `device`; its `auth_ok` is `welcome`."""
        dev = await cls.open(base, **connect)
        try:
            await dev.send_auth(token, device)
            welcome = await dev.recv()
            assert welcome["type"] == "auth_ok", welcome
        except BaseException:
            await dev.close()
            raise
        dev.welcome = welcome
        return dev

    def _start_reading(self) -> None:
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            while True:
                raw = await self.ws.recv()
                async with self._arrived:
                    self.inbox.append(orjson.loads(raw))
                    self._arrived.notify_all()
        except websockets.ConnectionClosed as exc:
            self.close_code = exc.rcvd.code if exc.rcvd is not None else 1006
        finally:
            if self.close_code is None:
                self.close_code = 1006
            async with self._arrived:
                self._arrived.notify_all()

    # -- sending ------------------------------------------------------------------------

    async def send_json(self, frame: Frame) -> None:
        await self.ws.send(dumps(frame))

    async def send_auth(self, token: str, device: str = "d1") -> None:
        """Send an `auth` request; its answer is left to the caller."""
        await self.send_json({"type": "auth", "token": token, "device": device})

    async def send_raw(self, data: str | bytes) -> None:
        """Exactly `data` as one text (str) or binary (bytes) frame."""
        await self.ws.send(data)

    async def send_message(
        self, conv: str, text: str, cmid: str | None = None, timeout: float = 10.0
    ) -> Frame:
        """Send a text; the answer to it: its `sent` or the `error` refusing it."""
        frame = send_frame(conv, text, cmid)
        await self.send_json(frame)
        return await self._take("sent", timeout, frame["cmid"])

    async def send_text(
        self, conv: str, text: str, cmid: str | None = None, timeout: float = 10.0
    ) -> Frame:
        """Send and wait for this message's own `sent` (an `error` for it fails)."""
        sent = await self.send_message(conv, text, cmid, timeout)
        assert sent["type"] == "sent" and sent["conv"] == conv, f"send refused: {sent}"
        return sent

    # -- receiving ----------------------------------------------------------------------

    async def _take(
        self,
        kind: str | None,
        timeout: float,
        cmid: str | None = None,
        seen: list[Frame] | None = None,
    ) -> Frame:
        """The first frame of `kind` (any if None); with `cmid`, the first
        `kind` frame for that cmid or the `error` refusing it. With `seen`,
        the frames that came before it are taken too, into `seen`."""

        def wanted(frame: Frame) -> bool:
            if cmid is not None:
                return (frame.get("type") == kind and frame.get("cmid") == cmid) or (
                    frame.get("type") == "error" and frame.get("ref") == cmid
                )
            return kind is None or frame.get("type") == kind

        async def wait() -> Frame:
            start, takes = 0, self._takes  # frames before `start` were checked already
            async with self._arrived:
                while True:
                    if takes != self._takes:  # another taker moved the frames: look again
                        start, takes = 0, self._takes
                    for i in range(start, len(self.inbox)):
                        if wanted(self.inbox[i]):
                            self._takes += 1
                            if seen is None:
                                return self.inbox.pop(i)
                            seen.extend(self.inbox[:i])
                            frame = self.inbox[i]
                            del self.inbox[: i + 1]
                            return frame
                    start = len(self.inbox)
                    if self.close_code is not None:
                        raise websockets.ConnectionClosedOK(None, None)
                    await self._arrived.wait()

        self._start_reading()
        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            want = f"{kind} for {cmid}" if cmid else kind or "any frame"
            inbox = [f.get("type") for f in self.inbox][-20:]
            raise TimeoutError(f"no {want} within {timeout}s; inbox holds {inbox}") from None

    async def recv(self, timeout: float = 10.0) -> Frame:
        """The next frame of any type."""
        return await self._take(None, timeout)

    async def recv_type(
        self, kind: str, timeout: float = 10.0, seen: list[Frame] | None = None
    ) -> Frame:
        """The next frame of `kind`. Frames of other types stay for others,
        or, with `seen`, the ones before it are taken into `seen`."""
        return await self._take(kind, timeout, seen=seen)

    def _drain(self) -> list[Frame]:
        frames, self.inbox = self.inbox, []
        self._takes += 1
        return frames

    async def until_closed(self, timeout: float = 10.0) -> tuple[list[Frame], int]:
        """Wait for the server to close the connection: every frame not yet
        taken, and the close code (1006: closed without a close frame)."""
        self._start_reading()
        assert self._reader is not None
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        assert self.close_code is not None
        return self._drain(), self.close_code

    async def frames_within(self, seconds: float) -> tuple[list[Frame], int | None]:
        """Every frame not yet taken that arrived by `seconds` from now (or
        by the close, if sooner), and the close code (None: still open)."""
        try:
            return await self.until_closed(seconds)
        except TimeoutError:
            return self._drain(), None

    async def quiet(self, seconds: float) -> list[Frame]:
        """`frames_within`, for a connection that must stay open."""
        frames, code = await self.frames_within(seconds)
        assert code is None, f"closed with {code} after {frames}"
        return frames

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


def loopback_address() -> str:
    """A random 127.x.y.z address: a client address of its own for limits tests."""
    return f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(256)}.{secrets.randbelow(250) + 2}"


def http_client(
    base_url: str, address: str | None = None, verify: ssl.SSLContext | bool = True
) -> httpx.AsyncClient:
    """An HTTP client of the node at `base_url`, its calls from `address` if given."""
    transport = httpx.AsyncHTTPTransport(local_address=address, verify=verify)
    return httpx.AsyncClient(base_url=base_url, verify=verify, transport=transport)


class User:
    """An account on the node at `base_url`, with the token of one login."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        verify: ssl.SSLContext | bool = True,
        address: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.username = username
        self.password = password
        self.verify = verify  # an SSLContext for a node with a test certificate
        self.address = address  # the client address calls come from (a loopback one)
        self.user_id = ""
        self.token = ""
        self.role = ""

    def _http(self) -> httpx.AsyncClient:
        return http_client(self.base_url, self.address, self.verify)

    @classmethod
    async def create(
        cls,
        base_url: str,
        prefix: str = "u",
        verify: ssl.SSLContext | bool = True,
        address: str | None = None,
    ) -> User:
        """A new account, registered and logged in (from `address` if given)."""
        name = f"{prefix}{secrets.token_hex(4)}"
        user = cls(base_url, name, "correct horse battery", verify, address)
        async with user._http() as http:
            r = await http.post(
                "/api/register", json={"username": user.username, "password": user.password}
            )
        assert r.status_code == 201, r.text
        await user._log_in()
        return user

    @classmethod
    async def login(
        cls, base_url: str, username: str, password: str, address: str | None = None
    ) -> User:
        """An existing account (e.g. the configured admin), logged in (from `address`)."""
        user = cls(base_url, username, password, address=address)
        await user._log_in()
        return user

    async def _login_reply(self) -> dict[str, Any]:
        async with self._http() as http:
            r = await http.post(
                "/api/login", json={"username": self.username, "password": self.password}
            )
        assert r.status_code == 200, r.text
        reply: dict[str, Any] = r.json()
        return reply

    async def _log_in(self) -> None:
        reply = await self._login_reply()
        self.token, self.user_id, self.role = reply["token"], reply["user_id"], reply["role"]

    async def new_token(self) -> str:
        """The token of another login (another session); `self.token` stays."""
        token: str = (await self._login_reply())["token"]
        return token

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        async with self._http() as http:
            return await http.post(path, json=body, headers=self.headers)

    async def get(self, path: str) -> httpx.Response:
        async with self._http() as http:
            return await http.get(path, headers=self.headers)

    async def delete(self, path: str) -> httpx.Response:
        async with self._http() as http:
            return await http.delete(path, headers=self.headers)

    async def create_group(self, name: str, members: list[User]) -> tuple[str, str]:
        """A new group of this user and `members`, every one of them in it (those
        who are not this user's friends accept their invitation): (group_id, conv)."""
        r = await self.post("/api/groups", {"name": name, "members": [m.user_id for m in members]})
        assert r.status_code == 201, r.text
        group_id, conv = r.json()["group_id"], r.json()["conv"]
        invited = r.json().get("invited", [])
        for member in members:
            if member.user_id in invited:
                await member.accept_invitation(group_id)
        return group_id, conv

    async def invitation(self, group_id: str) -> dict[str, Any]:
        """This user's pending invitation to the group (fails if there is none)."""
        r = await self.get("/api/invitations")
        assert r.status_code == 200, r.text
        rows: list[dict[str, Any]] = r.json()
        [row] = [i for i in rows if i["group_id"] == group_id]
        return row

    async def accept_invitation(self, group_id: str) -> None:
        invitation = (await self.invitation(group_id))["invitation"]
        r = await self.post(f"/api/invitations/{invitation}/accept")
        assert r.status_code == 200, r.text

    async def group(self, name: str, members: list[User]) -> str:
        """A new group of this user and `members`: its conv."""
        return (await self.create_group(name, members))[1]

    async def connect(self, device: str = "d1", base: str | None = None, **connect: Any) -> Device:
        """A device signed in with this user's token, on this user's node or
        the one at `base`."""
        return await Device.sign_in(base or self.base_url, self.token, device, **connect)
