"""A ClickHouse failure behind a panel: 502 `query_failed` with a generic message through
analytics and through the console, ClickHouse's text only in analytics' log.

Real processes: an analytics process of its own whose chDB folder holds a
`reply_rates` table of another shape (made before it starts; the sink's
CREATE TABLE IF NOT EXISTS keeps it), and a console pointed at it."""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import aclosing
from dataclasses import dataclass

import pytest

from stack.procs import Proc
from stack.services import base_env
from tests.console.conftest import Running
from tests.console.helpers import CSRF, member, start
from tests.ports import free_port

BROKEN = """
import asyncio, sys
from analytics.clickhouse import ClickHouse
async def main():
    ch = ClickHouse(sys.argv[1])
    await ch.start()
    await ch.command("CREATE TABLE reply_rates (x UInt8) ENGINE = MergeTree ORDER BY x")
    await ch.stop()
asyncio.run(main())
"""


@dataclass(frozen=True)
class Broken:
    analytics: str
    console: str
    log: Proc


@pytest.fixture(scope="module")
def broken(running: Running) -> Iterator[Broken]:
    s = running.stack.settings
    folder = s.data / f"broken-chdb-{secrets.token_hex(3)}"
    env = base_env(s)
    made = subprocess.run([sys.executable, "-c", BROKEN, f"chdb://{folder}"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert made.returncode == 0, made.stderr
    a_port, c_port = free_port(), free_port()
    analytics = Proc("test-broken-analytics", s.run, s.logs)
    console = Proc("test-broken-console", s.run, s.logs)
    a_env = {**env, "IM_CLICKHOUSE_URL": f"chdb://{folder}", "IM_ANALYTICS_PORT": str(a_port),
             "IM_ANALYTICS_GROUP_ID": f"broken-{secrets.token_hex(3)}"}  # fmt: skip
    c_env = {**env, "IM_CONSOLE_PORT": str(c_port), "IM_CONSOLE_SERVER_URL": running.node,
             "IM_CONSOLE_ANALYTICS_URL": f"http://127.0.0.1:{a_port}"}  # fmt: skip
    try:
        start(analytics, "analytics", a_env, f"http://127.0.0.1:{a_port}/healthz")
        start(console, "console", c_env, f"http://127.0.0.1:{c_port}/healthz")
        yield Broken(f"http://127.0.0.1:{a_port}", f"http://127.0.0.1:{c_port}", analytics)
    finally:
        console.stop()
        analytics.stop()


async def test_a_clickhouse_failure_is_a_generic_502(running: Running, broken: Broken) -> None:
    _, http = await member(running.node, broken.console, "manager")
    async with aclosing(http):
        body = {"from_ms": 1_900_000_000_000, "to_ms": 1_900_003_600_000, "interval_ms": 60_000,
                "variables": {}}  # fmt: skip
        r = await http.post("/api/dashboards/im-cs-reply-rate/panels/6/query", json=body,
                            headers=CSRF)  # fmt: skip
        assert r.status_code == 502, r.text
        assert r.json() == {"error": {"code": "query_failed",
                                      "message": "the panel's query failed"}}  # fmt: skip
        # A panel that reads no table still answers: the failure is that query's alone.
        r = await http.post("/api/dashboards/im-cs-reply-rate/panels/1/query",
                            json={**body, "ref_id": "B"}, headers=CSRF)  # fmt: skip
        assert r.status_code == 200 and r.json()["rows"] == [[0.8]], r.text
    log = broken.log.log.read_text(errors="replace")
    assert "panel query failed" in log and "reply_rates" in log


async def test_the_console_says_when_analytics_is_away(running: Running) -> None:
    env = base_env(running.stack.settings)
    port = free_port()
    console = Proc("test-lonely-console", running.stack.settings.run, running.stack.settings.logs)
    c_env = {**env, "IM_CONSOLE_PORT": str(port), "IM_CONSOLE_SERVER_URL": running.node,
             "IM_CONSOLE_ANALYTICS_URL": f"http://127.0.0.1:{free_port()}"}  # fmt: skip
    try:
        start(console, "console", c_env, f"http://127.0.0.1:{port}/healthz")
        _, http = await member(running.node, f"http://127.0.0.1:{port}", "sre")
        async with aclosing(http):
            body = {"from_ms": 0, "to_ms": 60_000, "interval_ms": 1000}
            r = await http.post("/api/dashboards/im-redis/panels/1/query", json=body,
                                headers=CSRF)  # fmt: skip
            assert r.status_code == 502 and r.json()["error"]["code"] == "unavailable", r.text
    finally:
        console.stop()
