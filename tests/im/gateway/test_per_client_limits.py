"""Per-client bounds of signing in (PROTOCOL.md "Limits and settings"): signed-in
connections per user, and `conn.auth_failed` events per client address. On
a node of their own with small limits."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

from contract import topics
from im.consumer import decode
from stack.manager import Stack
from tests.client import Device, User
from tests.im.gateway.helpers import assert_clean
from tests.im.test_events import read_until
from tests.metrics import scrape
from tests.ports import free_port
from tests.servers import server_node
from tests.waiting import wait_until

PORT, OPS = free_port(), free_port()
MAX_CONNECTIONS = 3
AUTH_FAILED_EVENTS = 3
UNRECORDED = "im_auth_failed_unrecorded_total"


@pytest.fixture(scope="module")
def bounded(stack: Stack) -> Iterator[str]:
    env = {"IM_MAX_CONNECTIONS_PER_USER": str(MAX_CONNECTIONS),
           "IM_AUTH_FAILED_EVENTS_PER_MIN": str(AUTH_FAILED_EVENTS)}  # fmt: skip
    with server_node(stack, "gw-bounded", PORT, ops_port=OPS, **env):
        yield f"http://127.0.0.1:{PORT}"


async def metrics() -> dict[str, float]:
    """The node's samples (its ops port)."""
    return await scrape(f"http://127.0.0.1:{OPS}")


async def test_a_user_past_the_connection_cap_is_refused_with_4429(bounded: str) -> None:
    user = await User.create(bounded, "gwcap")
    devices = [await user.connect(f"d{i}") for i in range(MAX_CONNECTIONS)]
    try:
        extra = await Device.open(bounded)
        await extra.send_auth(user.token, "one-too-many")
        frames, code = await extra.until_closed(5)
        assert code == 4429
        assert [(f["type"], f["code"]) for f in frames] == [("error", "too_many_connections")]
        assert_clean(frames[0])
        # The same device again replaces its older connection: no place taken.
        again = await user.connect("d0")
        assert (await devices[0].until_closed(5))[1] == 4409
        devices[0] = again
        # A place freed is a place to sign in again (once the node saw it go).
        await devices[1].close()
        devices[1] = await _sign_in_soon(bounded, user.token, "d1-later")
        other = await User.create(bounded, "gwcapother")  # another user is not affected
        await (await other.connect("o1")).close()
    finally:
        for d in devices:
            await d.close()


async def _sign_in_soon(base: str, token: str, device: str) -> Device:
    """Sign in, retrying while the node has not yet seen the freed place."""

    async def attempt() -> Device | None:
        dev = await Device.open(base)
        await dev.send_auth(token, device)
        first = await dev.recv()
        if first["type"] == "auth_ok":
            return dev
        await dev.close()
        return None

    return await wait_until(attempt, 5, what="a freed connection place")


async def test_auth_failed_events_are_bounded_per_client_address(
    stack: Stack, bounded: str
) -> None:
    tag = f"afe-{secrets.token_hex(4)}"
    before = await metrics()
    failures = AUTH_FAILED_EVENTS + 5
    for i in range(failures):
        dev = await Device.open(bounded)
        await dev.send_auth(secrets.token_urlsafe(32), f"{tag}-{i}")
        frames, code = await dev.until_closed(5)
        assert code == 4401 and [f["code"] for f in frames] == ["unauthorized"]
    after = await metrics()
    unrecorded = int(after[UNRECORDED] - before[UNRECORDED])
    # Every failed auth counts once in the node's failure counter, written or not.
    assert after["im_auth_failures_total"] - before["im_auth_failures_total"] == failures

    def ours(records: list[Any]) -> list[dict[str, Any]]:
        events = (decode(r.value) for r in records)
        return [e for e in events if e and str(e.get("device", "")).startswith(tag)]

    # Every failure is either written (and reaches Kafka) or counted, never both.
    records = await read_until(stack.settings.kafka_bootstrap, [topics.CONNECTION],
                               lambda rs: len(ours(rs)) + unrecorded >= failures,
                               time.monotonic() + 30)  # fmt: skip
    written = ours(records)
    assert len(written) + unrecorded == failures
    # The window may hold this address's earlier failures (other nodes, tests).
    assert len(written) <= AUTH_FAILED_EVENTS and unrecorded >= failures - AUTH_FAILED_EVENTS
    assert {e["type"] for e in written} <= {"conn.auth_failed"}
