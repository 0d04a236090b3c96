"""Slowloris and connection floods against real nodes, with raw sockets.

Before: 200 sockets that never finished their upgrade heads stayed open for
minutes, and nothing capped how many sockets one address (or everyone) could
hold. Each test connects from loopback addresses of its own
(tests.im.edge_helpers), so the per-address counts start empty.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import orjson
import pytest
import websockets

from stack.manager import Stack
from tests.client import Device, User
from tests.im.edge_helpers import closed_by_server, fresh_address, http_from, raw, read_response
from tests.ports import free_port
from tests.servers import server_node
from tests.waiting import wait_until

HEADER_TIMEOUT_S = 1.0
PER_ADDRESS, UNAUTHENTICATED, TOTAL = 5, 3, 6
PORT_SLOW, PORT_CAPPED, PORT_FULL, OPS_FULL = free_port(), free_port(), free_port(), free_port()
HALF_HEAD = b"GET /ws HTTP/1.1\r\nHost: node\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: node\r\n\r\n"
# Idle test sockets and WebSockets not signed in meet no deadline during a test.
LONG = {"IM_HEADER_TIMEOUT_S": "60", "IM_AUTH_TIMEOUT_S": "60"}
PORT_PROXIED, PROXY = free_port(), fresh_address()


@pytest.fixture(scope="module")
def slow(stack: Stack) -> Iterator[str]:
    with server_node(stack, "edge-slow", PORT_SLOW, IM_HEADER_TIMEOUT_S=str(HEADER_TIMEOUT_S)):
        yield f"http://127.0.0.1:{PORT_SLOW}"


@pytest.fixture(scope="module")
def capped(stack: Stack) -> Iterator[str]:
    with server_node(stack, "edge-capped", PORT_CAPPED, **LONG,
                     IM_MAX_CONNECTIONS_PER_ADDRESS=str(PER_ADDRESS),
                     IM_MAX_UNAUTHENTICATED=str(UNAUTHENTICATED)):  # fmt: skip
        yield f"http://127.0.0.1:{PORT_CAPPED}"


@pytest.fixture(scope="module")
def proxied(stack: Stack) -> Iterator[str]:
    with server_node(stack, "edge-proxy-caps", PORT_PROXIED, **LONG, IM_TRUSTED_PROXIES=PROXY,
                     IM_MAX_CONNECTIONS_PER_ADDRESS="2"):  # fmt: skip
        yield f"http://127.0.0.1:{PORT_PROXIED}"


@pytest.fixture(scope="module")
def full(stack: Stack) -> Iterator[str]:
    with server_node(stack, "edge-full", PORT_FULL, ops_port=OPS_FULL, **LONG,
                     IM_MAX_CONNECTIONS=str(TOTAL)):  # fmt: skip
        yield f"http://127.0.0.1:{PORT_FULL}"


def assert_refused(status: int, body: dict[str, object]) -> None:
    assert status == 503, body
    assert body["error"]["code"] == "unavailable"  # type: ignore[index]


async def test_unfinished_heads_are_closed_after_the_deadline(slow: str) -> None:
    attacker = fresh_address()
    socks = [raw(PORT_SLOW, attacker) for _ in range(200)]
    silent = [raw(PORT_SLOW, attacker) for _ in range(20)]  # connected, never a byte
    kept_alive = raw(PORT_SLOW, fresh_address())
    try:
        for sock in socks:
            sock.sendall(HALF_HEAD)
        socks += silent
        # A kept-alive connection gets the same deadline for its next head.
        kept_alive.sendall(HEALTHZ)
        assert read_response(kept_alive)[0] == 200
        kept_alive.sendall(HALF_HEAD)
        # The node serves everyone else meanwhile.
        async with http_from(fresh_address(), slow) as http:
            assert (await http.get("/healthz")).status_code == 200
        user = await User.create(slow, "slowloris")
        await (await user.connect()).close()
        await wait_until(lambda: all(closed_by_server(s) for s in [*socks, kept_alive]),
                         HEADER_TIMEOUT_S + 10, what="every unfinished head closed")  # fmt: skip
    finally:
        for sock in [*socks, kept_alive]:
            sock.close()


async def test_a_head_sent_byte_by_byte_is_closed_at_the_deadline(slow: str) -> None:
    # Activity does not extend the deadline: it bounds the whole head.
    head = HALF_HEAD + b"X-Pad: 1\r\n" * 1000  # valid all along, never finished
    loop = asyncio.get_running_loop()
    started = loop.time()
    with raw(PORT_SLOW, fresh_address()) as sock:
        for byte in head:
            if closed_by_server(sock) or loop.time() - started > HEADER_TIMEOUT_S + 5:
                break
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            await asyncio.sleep(0.02)  # the dribble's pace is the subject
    took = loop.time() - started
    assert took < HEADER_TIMEOUT_S + 3, f"still open after {took:.1f} s"


async def test_connections_past_the_per_address_cap_are_refused(capped: str) -> None:
    crowded = fresh_address()
    held = [raw(PORT_CAPPED, crowded) for _ in range(PER_ADDRESS)]  # counted from connecting
    try:
        with raw(PORT_CAPPED, crowded) as extra:
            assert_refused(*read_response(extra))
        # Another address is served meanwhile.
        async with http_from(fresh_address(), capped) as http:
            assert (await http.get("/healthz")).status_code == 200
        # A place given back can be taken again.
        held.pop().close()

        def admitted() -> bool:
            with raw(PORT_CAPPED, crowded) as sock:
                sock.sendall(HEALTHZ)
                return read_response(sock)[0] == 200

        await wait_until(admitted, 10, what="a connection admitted after one closed")
    finally:
        for sock in held:
            sock.close()


async def test_websockets_not_signed_in_are_capped(capped: str) -> None:
    user = await User.create(capped, "unauth")
    waiting = [await Device.open(capped, local_addr=(fresh_address(), 0))
               for _ in range(UNAUTHENTICATED)]  # fmt: skip
    try:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await Device.open(capped, local_addr=(fresh_address(), 0))
        response = refused.value.response
        assert response.status_code == 503
        assert orjson.loads(response.body)["error"]["code"] == "unavailable"
        # Signing in frees the place.
        await waiting[0].send_auth(user.token, "d1")
        assert (await waiting[0].recv())["type"] == "auth_ok"

        async def admitted() -> Device | None:
            try:
                return await Device.open(capped, local_addr=(fresh_address(), 0))
            except websockets.InvalidStatus:
                return None

        waiting.append(await wait_until(admitted, 10, what="a WebSocket admitted after sign-in"))
    finally:
        for dev in waiting:
            await dev.close()


async def test_past_the_total_cap_the_ops_port_still_answers(full: str) -> None:
    held = [raw(PORT_FULL, fresh_address()) for _ in range(TOTAL)]
    try:
        with raw(PORT_FULL, fresh_address()) as extra:
            assert_refused(*read_response(extra))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{OPS_FULL}") as ops:
            assert (await ops.get("/readyz")).status_code == 200
    finally:
        for sock in held:
            sock.close()


async def test_behind_a_trusted_proxy_the_cap_is_per_forwarded_client(proxied: str) -> None:
    async def via_proxy(client: str) -> Device:
        return await Device.open(proxied, local_addr=(PROXY, 0),
                                 additional_headers={"X-Forwarded-For": client})  # fmt: skip

    devices = [await via_proxy("10.4.0.1") for _ in range(2)]
    held = []
    try:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await via_proxy("10.4.0.1")
        assert refused.value.response.status_code == 503
        # Another client through the same proxy: the proxy's own connections are not capped.
        devices.append(await via_proxy("10.4.0.2"))
        # A peer that is not a trusted proxy counts as itself, from the start.
        direct = fresh_address()
        held = [raw(PORT_PROXIED, direct) for _ in range(2)]
        with raw(PORT_PROXIED, direct) as extra:
            assert_refused(*read_response(extra))
    finally:
        for dev in devices:
            await dev.close()
        for sock in held:
            sock.close()
