"""Free TCP ports for the servers a test session starts.

Ports are picked at random below the kernel's ephemeral range (32768+), so a
client connection made later cannot take one before its server binds it, and
two test sessions on one machine (two clones, two worktrees) rarely pick the
same; a port is handed out once per process and checked free before use.
"""

from __future__ import annotations

import random
import socket

_LOW, _HIGH = 20_000, 32_000
_handed_out: set[int] = set()


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port nobody listens on now and this process has not handed out."""
    rng = random.SystemRandom()
    for _ in range(1000):
        port = rng.randrange(_LOW, _HIGH)
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port in [{_LOW}, {_HIGH})")


def free_ports(n: int) -> list[int]:
    return [free_port() for _ in range(n)]
