"""HTTPS and WSS on a node with a test certificate; plain HTTP and WS to the
TLS port fail."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import websockets

from stack.manager import Stack
from tests.client import Device, User
from tests.ports import free_port
from tests.servers import server_node

PORT_TLS = free_port()  # HTTPS / WSS
OPS_TLS = free_port()  # the ops port speaks TLS too (one server, one certificate)


@dataclass
class TlsNode:
    base: str
    ctx: ssl.SSLContext


def make_cert(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "c.pem", folder / "k.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def https_probe(port: int, ctx: ssl.SSLContext) -> Callable[[], str | None]:
    def probe() -> str | None:
        url = f"https://127.0.0.1:{port}/readyz"
        try:
            r = httpx.get(url, verify=ctx, timeout=2)
        except httpx.HTTPError as e:
            return f"{url}: {e!r}"
        return None if r.status_code == 200 else f"{url} -> {r.status_code}"

    return probe


@pytest.fixture(scope="module")
def tls(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsNode]:
    cert, key = make_cert(tmp_path_factory.mktemp("tls"))
    ctx = ssl.create_default_context(cafile=str(cert))
    with server_node(stack, "gw-tls", PORT_TLS, probe=https_probe(OPS_TLS, ctx), ops_port=OPS_TLS,
                     IM_TLS_CERT=str(cert), IM_TLS_KEY=str(key)):  # fmt: skip
        yield TlsNode(f"https://127.0.0.1:{PORT_TLS}", ctx)


async def test_https_health(tls: TlsNode) -> None:
    async with httpx.AsyncClient(base_url=tls.base, verify=tls.ctx) as http:
        r = await http.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "node": "gw-tls"}


async def test_wss_sign_in_and_send(tls: TlsNode) -> None:
    user = await User.create(tls.base, "gwtls", verify=tls.ctx)  # over HTTPS
    conv = await user.group("tls", [])
    ws = await user.connect("d1", ssl=tls.ctx)  # wss://
    try:
        assert ws.welcome["type"] == "auth_ok" and ws.welcome["user"] == user.user_id
        assert (await ws.send_text(conv, "over tls"))["seq"] == 1
    finally:
        await ws.close()


async def test_plain_http_and_ws_to_the_tls_port_fail(tls: TlsNode) -> None:
    plain = tls.base.replace("https", "http", 1)
    async with httpx.AsyncClient(timeout=5) as http:
        with pytest.raises(httpx.TransportError):
            await http.get(plain + "/healthz")
    with pytest.raises((websockets.InvalidHandshake, OSError, websockets.ConnectionClosed)):
        await Device.open(plain, open_timeout=5)
    # An unverified certificate is refused by a client that checks it.
    async with httpx.AsyncClient(timeout=5) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(tls.base + "/healthz")
