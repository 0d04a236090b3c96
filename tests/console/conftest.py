"""The console on the session's stack: Redis, Kafka, analytics (chDB), a server node and
`python -m console` itself, started as `make run` starts them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from stack.manager import Stack


@dataclass(frozen=True)
class Running:
    stack: Stack
    console: str  # the console's URL
    node: str  # the server node's
    analytics: str


@pytest.fixture(scope="session")
def running(stack: Stack) -> Running:
    stack.up(["analytics", "server-1", "console"])
    s = stack.settings
    return Running(stack, f"http://127.0.0.1:{s.console_port}", f"http://127.0.0.1:{s.http_port}",
                   f"http://127.0.0.1:{s.analytics_port}")  # fmt: skip
