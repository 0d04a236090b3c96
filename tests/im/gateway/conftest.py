"""The node most gateway tests share: started once for the whole package."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stack.manager import Stack
from tests.client import User
from tests.im.gateway.helpers import TIMERS, Solo
from tests.ports import free_port
from tests.servers import server_node

PORT_RULES = free_port()  # short timers, the stack's raised send limits
OPS_RULES = free_port()  # its ops port (/metrics)


@pytest.fixture(scope="package")
def rules(stack: Stack) -> Iterator[str]:
    """A node with short timers (auth 1 s, idle close 2 s, 4 KiB frames)."""
    with server_node(stack, "gw-rules", PORT_RULES, ops_port=OPS_RULES, **TIMERS):
        yield f"http://127.0.0.1:{PORT_RULES}"


@pytest.fixture(scope="package")
async def solo(rules: str) -> Solo:
    user = await User.create(rules, "gwsolo")
    return Solo(user, await user.group("solo", []))
