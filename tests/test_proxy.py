"""deploy/caddy/Caddyfile in front of a real server node, where a `caddy` binary is at hand.

docker-compose.yml's proxy, run here on loopback: the Caddyfile of the
repository with only what Docker provides swapped for this machine (the
upstream's DNS name `server` -> `localhost`, port 8080 -> the node's, the
listen ports and Caddy's local CA through global options), PUBLIC_HOST
127.0.0.1. Through it: HTTPS, a WebSocket upgraded to the node (its own
error frame and close code come back), and the node trusting the proxy's
X-Forwarded-For only as Caddy writes it: a header the client made up does
not get past the proxy, so the per-address login limit still counts the
client. The binary is the compose image's version, built by the set-up
(tests/caddy.py).
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import websockets

from stack.manager import Stack
from tests.caddy import caddy_binary
from tests.im.edge_helpers import fresh_address
from tests.ports import free_port
from tests.servers import server_node
from tests.waiting import wait_until_sync

CADDYFILE = Path(__file__).resolve().parent.parent / "deploy" / "caddy" / "Caddyfile"
PER_ADDRESS = 3
LIMITS = {
    "IM_LOGIN_MAX_PER_ADDRESS": str(PER_ADDRESS),
    "IM_LOGIN_MAX_PER_USER": "1000",
    "IM_ARGON2_TIME_COST": "1",
    "IM_ARGON2_MEMORY_KIB": "1024",
}


@pytest.fixture(scope="module")
def proxy(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The node behind Caddy; the proxy's base URL."""
    node_port, https, http = free_port(), free_port(), free_port()
    folder = tmp_path_factory.mktemp("caddy")
    text = CADDYFILE.read_text()
    assert "name server" in text and "port 8080" in text
    text = text.replace("name server", "name localhost").replace("port 8080", f"port {node_port}")
    config = folder / "Caddyfile"
    config.write_text(
        f"{{\n\tadmin off\n\thttp_port {http}\n\thttps_port {https}\n\tlocal_certs\n"
        f"\tskip_install_trust\n}}\n{text}"
    )
    env = {**os.environ, "PUBLIC_HOST": "127.0.0.1", "XDG_DATA_HOME": str(folder / "data"),
           "XDG_CONFIG_HOME": str(folder / "config")}  # fmt: skip
    with server_node(stack, "behind-caddy", node_port, IM_TRUSTED_PROXIES="127.0.0.1", **LIMITS):
        log = (folder / "caddy.log").open("w")
        caddy = subprocess.Popen([str(caddy_binary()), "run", "--config", str(config)], env=env,
                                 stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        try:

            def serving() -> bool:
                """Listening is not enough: Caddy issues the address's certificate from
                its local CA after it starts, and a handshake before that fails."""
                assert caddy.poll() is None, (folder / "caddy.log").read_text()[-2000:]
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", https)) != 0:
                        return False
                try:
                    url = f"https://127.0.0.1:{https}/healthz"
                    r = httpx.get(url, verify=False, timeout=5)  # noqa: S501 - its local CA
                except (httpx.TransportError, ssl.SSLError):
                    return False
                return r.status_code == 200

            wait_until_sync(serving, 30, what="caddy serving HTTPS", interval=0.2)
            yield f"https://127.0.0.1:{https}"
        finally:
            caddy.terminate()
            caddy.wait(15)
            log.close()


async def test_a_websocket_goes_through_to_the_node(proxy: str) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # Caddy's local CA
    async with websockets.connect(proxy.replace("https", "wss", 1) + "/ws", ssl=ctx) as ws:
        await ws.send(orjson.dumps({"type": "auth", "token": "nope", "device": "d1"}).decode())
        frame = orjson.loads(await ws.recv())
        assert frame["type"] == "error" and frame["code"] == "unauthorized"  # the node's answer
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def login_statuses(proxy: str, client: str, attempts: int) -> list[int]:
    """Failed logins from loopback address `client` through the proxy, each with a
    made-up X-Forwarded-For of its own."""
    transport = httpx.AsyncHTTPTransport(local_address=client, verify=False)
    async with httpx.AsyncClient(base_url=proxy, transport=transport, timeout=10) as http:
        statuses = []
        for n in range(attempts):
            r = await http.post(
                "/api/login",
                json={"username": f"nobody{n}", "password": "not the password"},
                headers={"X-Forwarded-For": f"10.9.{n}.{n}"},
            )
            statuses.append(r.status_code)
    return statuses


async def test_the_node_counts_each_client_behind_the_proxy(proxy: str) -> None:
    """The node trusts 127.0.0.1 (the proxy), from which every request comes. Caddy
    writes the client's address into X-Forwarded-For, not the one the client sent: a
    client is limited whatever header it makes up, and another client is not."""
    assert await login_statuses(proxy, fresh_address(), PER_ADDRESS + 1) == (
        [401] * PER_ADDRESS + [429]
    )
    assert await login_statuses(proxy, fresh_address(), 1) == [401]
