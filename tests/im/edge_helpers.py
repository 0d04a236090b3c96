"""What the edge tests share: clients from chosen loopback addresses, raw sockets.

The whole 127.0.0.0/8 is local on Linux, so a test can connect from an
address of its own (`fresh_address`): its per-address counts (connection
caps, the failed-login bucket in the shared Redis) start empty and no other
test adds to them. Raw sockets send what no well-behaved client would: an
unfinished request head, a huge body.
"""

from __future__ import annotations

import random
import select
import socket
from typing import Any

import httpx
import orjson

_used: set[str] = set()


def fresh_address() -> str:
    """A loopback address no other test of this process uses (never 127.0.0.1)."""
    rng = random.SystemRandom()
    while True:
        address = f"127.{rng.randrange(100, 250)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        if address not in _used:
            _used.add(address)
            return address


def http_from(address: str, base: str) -> httpx.AsyncClient:
    """An HTTP client of `base` whose connections come from `address`."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base, transport=transport, timeout=10)


def raw(port: int, address: str, timeout: float = 10.0) -> socket.socket:
    """A TCP connection to the node's `port` on 127.0.0.1, from `address`."""
    return socket.create_connection(("127.0.0.1", port), timeout, source_address=(address, 0))


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed `sock` (EOF or reset); never blocks.
    Whatever the server wrote before closing is read and dropped."""
    while select.select([sock], [], [], 0)[0]:
        try:
            if not sock.recv(65536):
                return True
        except OSError:
            return True
    return False


def read_response(sock: socket.socket, timeout: float = 10.0) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of the HTTP response the server writes on `sock`
    (read until its Content-Length or until the server closes)."""
    sock.settimeout(timeout)
    data = b""
    while True:
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), None)  # fmt: skip
            if length is not None and len(body) >= length:
                break
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:  # closed with our unread bytes: what came first stays
            chunk = b""
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), data[:200]
    return int(head.split()[1]), orjson.loads(body) if body else {}
