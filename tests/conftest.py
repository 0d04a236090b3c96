"""Shared real services for the whole test session, started once.

Redis and Kafka come from the same stack manager as `make run`, in their own
folder (.stack-test) and on their own ports, so a running dev stack is left
alone. Apps (server nodes, the streaming job, analytics) start on demand.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from im.envconfig import load
from stack.manager import Stack
from stack.settings import StackSettings
from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
TEST_DIR = ROOT / ".stack-test"
# Chosen once per test session: two sessions (clones, worktrees) can run at once.
PORTS = {
    name: free_port()
    for name in (
        "IM_REDIS_PORT",
        "IM_KAFKA_PORT",
        "IM_KAFKA_CONTROLLER_PORT",
        "IM_HTTP_PORT",
        "IM_OPS_PORT",
        "IM_ANALYTICS_PORT",
        "IM_MONITOR_PORT",
        "IM_ALERT_PORT",
        "IM_CONSOLE_PORT",
        "IM_FLINK_REST_PORT",
        "IM_FLINK_RPC_PORT",
    )
}


def test_stack_settings() -> StackSettings:
    env = {
        "IM_STACK_DIR": str(TEST_DIR),
        "IM_REDIS_PORT": str(PORTS["IM_REDIS_PORT"]),
        "IM_KAFKA_PORT": str(PORTS["IM_KAFKA_PORT"]),
        "IM_KAFKA_CONTROLLER_PORT": str(PORTS["IM_KAFKA_CONTROLLER_PORT"]),
        "IM_HTTP_PORT": str(PORTS["IM_HTTP_PORT"]),
        "IM_OPS_PORT": str(PORTS["IM_OPS_PORT"]),
        "IM_ANALYTICS_PORT": str(PORTS["IM_ANALYTICS_PORT"]),
        "IM_MONITOR_PORT": str(PORTS["IM_MONITOR_PORT"]),
        "IM_ALERT_PORT": str(PORTS["IM_ALERT_PORT"]),
        "IM_CONSOLE_PORT": str(PORTS["IM_CONSOLE_PORT"]),
        "IM_FLINK_REST_PORT": str(PORTS["IM_FLINK_REST_PORT"]),
        "IM_FLINK_RPC_PORT": str(PORTS["IM_FLINK_RPC_PORT"]),
        "IM_KAFKA_PARTITIONS": "4",
        # Short windows and ticks so event-time results come within seconds.
        "IM_TICK_INTERVAL_S": "0.5",
        "IM_STREAM_COUNT_WINDOW_S": "5",
        "IM_STREAM_LATENESS_S": "1",
    }
    if "IM_CACHE_DIR" in os.environ:
        env["IM_CACHE_DIR"] = os.environ["IM_CACHE_DIR"]
    # The stack's own server node lets tests send bursts; the limits have
    # their own tests on nodes started with the defaults.
    extra = (
        ("IM_RATE_BURST", "100000"),
        ("IM_RATE_PER_S", "100000"),
        # Tests register users and open sessions quickly, all from 127.0.0.1.
        ("IM_REGISTER_MAX_PER_ADDRESS", "100000"),
        ("IM_REGISTER_MAX_PER_MINUTE", "100000"),
        ("IM_CS_OPENS_PER_HOUR", "100000"),
        # Every test connects from 127.0.0.1: failed-auth events are not capped
        # per address here (tests/im/gateway/test_per_client_limits.py checks the cap).
        ("IM_AUTH_FAILED_EVENTS_PER_MIN", "100000"),
        # Short checkpoints (exactly-once rows appear when one completes),
        # windows and gaps, so pipeline results come within seconds.
        ("IM_STREAM_CHECKPOINT_S", "2"),
        ("IM_SESSION_GAP_S", "4"),
        ("IM_REPLY_WINDOW_S", "10"),
        ("IM_REPLY_WITHIN_S", "5"),
        ("IM_MUTE_S", "60"),
        ("IM_ADMIN_USERNAME", "cs-admin"),  # = tests.im.cs_helpers.ADMIN
        ("IM_ADMIN_PASSWORD", "admin password 1"),
        # Query API tests run a query past the time bound: a short one keeps them quick.
        ("IM_ANALYTICS_QUERY_TIMEOUT_S", "6"),
    )
    return load(StackSettings, env, extra_env=extra)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Redis + Kafka (fresh data), up for the whole session.

    Two test sessions on one machine would share these ports and folder, so a
    session holds an exclusive lock on it; a second one waits its turn.
    """
    lock = open(ROOT / ".stack-test.lock", "w")  # held for the whole session
    fcntl.flock(lock, fcntl.LOCK_EX)
    settings = test_stack_settings()
    st = Stack(settings)
    st.down()  # leftovers of an interrupted earlier session
    shutil.rmtree(TEST_DIR, ignore_errors=True)
    st.up(["redis", "kafka"])
    yield st
    if os.environ.get("IM_TEST_KEEP_STACK") != "1":  # =1: leave it up to look around
        st.down()
    fcntl.flock(lock, fcntl.LOCK_UN)
    lock.close()


@pytest.fixture
async def redis(stack: Stack) -> AsyncIterator[aioredis.Redis]:
    """A client of the session's Redis, replies decoded to str."""
    client = aioredis.Redis.from_url(stack.settings.redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def analytics(stack: Stack) -> Stack:
    """The analytics process (ClickHouse sink and query API), on top of `stack`."""
    stack.up(["analytics"])
    return stack


@pytest.fixture(scope="session")
def apps(stack: Stack) -> Stack:
    """Analytics, the streaming job (on the stack's Flink cluster) and one server
    node, on top of `stack`.

    Once the job runs it moderates every chat of the session: a test user who
    sends 10 messages within 10 s is muted. So only the end-to-end tests,
    which run last, ask for it; a test that needs the analytics process alone
    asks for `analytics`.
    """
    stack.up(["analytics", "flink-jobmanager", "flink-taskmanager", "stream", "server-1"])
    return stack
