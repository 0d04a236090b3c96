"""Counting connections per node and per address (im.conncaps; no sockets)."""

from __future__ import annotations

from im.conncaps import ConnectionCaps


def test_the_per_address_cap() -> None:
    caps = ConnectionCaps(max_total=10, max_per_address=2)
    a1, a2 = caps.open("a"), caps.open("a")
    assert a1 is not None and a2 is not None
    assert caps.open("a") is None  # refused: counted nowhere
    assert caps.total == 2 and caps.per_address == {"a": 2}
    assert caps.open("b") is not None
    a1.close()
    a1.close()  # twice: once
    assert caps.total == 2 and caps.per_address == {"a": 1, "b": 1}
    assert caps.open("a") is not None


def test_the_total_cap() -> None:
    caps = ConnectionCaps(max_total=2, max_per_address=5)
    tickets = [caps.open("a"), caps.open(None)]
    assert caps.open("b") is None and caps.open(None) is None
    for t in tickets:
        assert t is not None
        t.close()
    assert caps.total == 0 and caps.per_address == {}  # nothing outlives its connections


def test_a_proxied_connection_moves_between_clients() -> None:
    caps = ConnectionCaps(max_total=10, max_per_address=1)
    proxied = caps.open(None)  # from a trusted proxy: the client comes with the request
    assert proxied is not None and caps.per_address == {}
    assert proxied.claim("x") and proxied.claim("x")  # the same client again: no change
    other = caps.open(None)
    assert other is not None and not other.claim("x")  # x is at its cap
    assert other.address is None
    proxied.release()  # the request is done: the proxy connection stays open
    assert caps.per_address == {} and caps.total == 2
    assert other.claim("x") and proxied.claim("y")
    assert caps.per_address == {"x": 1, "y": 1}
    proxied.close()
    other.close()
    assert caps.total == 0 and caps.per_address == {}
