"""Request bodies are bounded before any route reads them (a real node, raw sockets).

An attacker's node went from 45 MiB to 557 MiB resident on one
`POST /api/login` with `Content-Length: 268435456`: the body was read whole
before the size check. Now the declared length is refused unread, and a
chunked body is cut off at the limit; the node's memory stays flat.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import psutil
import pytest

from stack.manager import Stack
from stack.procs import Proc
from tests.im.edge_helpers import fresh_address, raw, read_response
from tests.ports import free_port
from tests.servers import server_node

PORT = free_port()
LIMIT = 65536
MIB = 2**20
SENT_AT_MOST = 64 * MIB  # without the bound, all of it would sit in the node's memory
# Up to here the body goes out in small pieces, each after a moment's wait for
# the refusal: a client that keeps sending after the node closed may get a
# reset (the node's unread bytes) instead of the 413. Past it, as fast as it can.
EARLY, PIECE = 256 * 1024, 16 * 1024
GROWTH_BOUND = 20 * MIB
TOO_LARGE = {"error": {"code": "too_large", "message": "request body is too large"}}
# Routes with a body, one without auth, one that needs it, one that takes none.
ROUTES = ["/api/login", "/api/register", "/api/groups", "/api/logout"]


@pytest.fixture(scope="module")
def node(stack: Stack) -> Iterator[Proc]:
    with server_node(stack, "edge-body", PORT) as proc:
        yield proc


def rss(node: Proc) -> int:
    pid = node.pid()
    assert pid is not None
    return int(psutil.Process(pid).memory_info().rss)


@contextmanager
def posting(path: str, headers: str, chunks: Iterator[bytes]) -> Iterator[socket.socket]:
    """POST `path` from a socket of its own, sending `chunks` of body until the
    server answers (or stops reading, or SENT_AT_MOST went out); the socket,
    to read the answer from."""
    with raw(PORT, fresh_address()) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: node\r\n{headers}\r\n".encode())
        sent = 0
        for chunk in chunks:
            wait = 0.05 if sent < EARLY else 0.0
            if select.select([sock], [], [], wait)[0] or sent >= SENT_AT_MOST:
                break  # an answer (or the close) is there: stop sending
            try:
                sock.sendall(chunk)
            except OSError:  # the server closed, or stopped reading (timeout)
                break
            sent += len(chunk)
        yield sock


def post(path: str, headers: str, body: bytes) -> tuple[int, dict[str, object]]:
    with posting(path, headers, iter([body])) as sock:
        return read_response(sock)


def pieces() -> Iterator[bytes]:
    """Small pieces of body up to EARLY bytes, then 1 MiB ones."""
    sent = 0
    while True:
        size = PIECE if sent < EARLY else MIB
        sent += size
        yield b"x" * size


def chunked() -> Iterator[bytes]:
    for piece in pieces():
        yield b"%x\r\n" % len(piece) + piece + b"\r\n"


def warm_up() -> None:
    """One small refused body, so what the first request loads is in the baseline."""
    assert post("/api/login", "Content-Length: 1\r\n", b"x")[0] == 400


# A declared length is refused unread; a chunked body once it passes the limit.
FRAMINGS = {"content-length": ("Content-Length: 268435456", pieces),
            "chunked": ("Transfer-Encoding: chunked", chunked)}  # fmt: skip


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("path", ROUTES)
def test_a_huge_body_is_refused_and_never_held(node: Proc, path: str, framing: str) -> None:
    header, body = FRAMINGS[framing]
    warm_up()
    before = rss(node)
    with posting(path, f"Content-Type: application/json\r\n{header}\r\n", body()) as sock:
        grown = rss(node) - before
        assert grown < GROWTH_BOUND, f"the node grew by {grown / MIB:.0f} MiB"
        assert read_response(sock) == (413, TOO_LARGE)


def test_the_limit_is_exact(node: Proc) -> None:
    # A JSON body of exactly 64 KiB is read (and refused for its content, not
    # its size); one byte more is too large.
    for size, status in ((LIMIT, 400), (LIMIT + 1, 413)):
        body = b'{"username": "' + b"x" * (size - 16) + b'"}'
        assert len(body) == size
        got, _ = post("/api/login", f"Content-Length: {size}\r\n", body)
        assert got == status, size


def test_the_connection_is_closed_after_a_413(node: Proc) -> None:
    sock = raw(PORT, fresh_address())
    with sock:
        sock.sendall(b"POST /api/login HTTP/1.1\r\nHost: node\r\nContent-Length: 99999999\r\n\r\n")
        assert read_response(sock)[0] == 413
        sock.settimeout(5)
        try:
            assert sock.recv(1) == b""  # EOF: the node does not wait for the rest
        except ConnectionResetError:
            pass
