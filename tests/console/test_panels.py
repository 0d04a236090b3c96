"""Panel data through the real console and analytics (chDB), on reply-rate rows with known
numbers sent through the sink's path (Kafka): the same rows as the panel's own SQL,
expanded by dashboards.catalog for the same range and variables, run by an admin
through analytics' /query; bad input is a clear 400, never ClickHouse's text."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from contract import topics
from dashboards import catalog
from dashboards.macros import EPOCH
from dashboards.templating import Value
from tests.alerts.helpers import staff
from tests.analytics.api import admin, rows
from tests.console.conftest import Running
from tests.console.helpers import CSRF, member
from tests.waiting import wait_until

WINDOW_MS = 300_000
UID = "im-cs-reply-rate"


@dataclass(frozen=True)
class Data:
    start_ms: int  # an hour of its own, far from every other test's rows
    end_ms: int
    a: str  # two agents: a answered 5 of 6 waits, b 1 of 4
    b: str


def reply_row(start: int, agent: str, waits: int, replied: int) -> dict[str, Any]:
    return {"window_start": start, "window_end": start + WINDOW_MS, "agent": agent,
            "waits": waits, "replied_5m": replied, "reply_rate": replied / waits,
            "avg_reply_s": 30.0, "p90_reply_s": 60.0}  # fmt: skip


@pytest.fixture(scope="module")
async def data(running: Running) -> AsyncIterator[Data]:
    hour = secrets.randbelow(24 * 365) * 3_600_000
    start = 1_900_000_000_000 - 1_900_000_000_000 % 3_600_000 + hour  # in 2030
    tag = secrets.token_hex(3)
    d = Data(start, start + 3_600_000, f"ca{tag}", f"cb{tag}")
    sent = [
        reply_row(start, d.a, 4, 3),
        reply_row(start + WINDOW_MS, d.a, 2, 2),
        reply_row(start, d.b, 4, 1),
        reply_row(start, "*", 100, 0),  # the all-agents row: no panel counts it
    ]
    p = AIOKafkaProducer(bootstrap_servers=running.stack.settings.kafka_bootstrap)
    await p.start()
    try:
        for row in sent:
            await p.send_and_wait(topics.REPLY_RATE, orjson.dumps(row))
    finally:
        await p.stop()
    token = (await admin(running.node)).token
    sql = f"SELECT count() FROM reply_rates WHERE agent IN ('{d.a}', '{d.b}')"

    async def landed() -> bool | None:
        return (await rows(running.analytics, token, sql)) == [[3]] or None

    await wait_until(landed, 60, what="the reply-rate rows in ClickHouse", interval=0.3)
    yield d


async def ask(
    http: httpx.AsyncClient, panel: int, d: Data, variables: dict[str, Any], **more: Any
) -> httpx.Response:
    body = {"from_ms": d.start_ms, "to_ms": d.end_ms, "interval_ms": 60_000,
            "variables": variables, **more}  # fmt: skip
    return await http.post(f"/api/dashboards/{UID}/panels/{panel}/query", json=body,
                           headers=CSRF)  # fmt: skip


def expanded(d: Data, panel: int, ref: str, variables: dict[str, Value]) -> str:
    board = next(b for b in catalog.load() if b["uid"] == UID)
    q = next(q for q in catalog.queries([board]) if (q.panel_id, q.ref_id) == (panel, ref))
    values = {**catalog.defaults(board), **variables}
    t0 = EPOCH + dt.timedelta(milliseconds=d.start_ms)
    t1 = EPOCH + dt.timedelta(milliseconds=d.end_ms)
    return q.expand(t0, t1, 60.0, values)


async def test_the_reply_rate_stat_is_the_known_number_and_the_same_rows_as_its_sql(
    running: Running, data: Data
) -> None:
    _, http = await member(running.node, running.console, "manager")
    token = (await admin(running.node)).token
    async with aclosing(http):
        for variables, rate in (({"agent": [data.a, data.b]}, 0.6), ({"agent": [data.a]}, 5 / 6)):
            r = await ask(http, 2, data, variables)  # "Reply rate over the range", target A
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["columns"] == [{"name": "reply_rate", "type": "Float64"}]
            assert body["rows"] == [[pytest.approx(rate)]]
            assert body["elapsed_ms"] >= 0
            direct = await rows(running.analytics, token, expanded(data, 2, "A", variables))
            assert body["rows"] == direct
        target = await ask(http, 2, data, {"target": "0.9"}, ref_id="B")
        assert target.json()["rows"] == [[0.9]]


async def test_the_agent_variable_changes_the_per_agent_table(running: Running, data: Data) -> None:
    _, http = await member(running.node, running.console, "manager")
    token = (await admin(running.node)).token
    async with aclosing(http):
        options = await ask(http, 0, data, {}, ref_id="agent")
        assert options.status_code == 200, options.text
        assert [data.a] in options.json()["rows"] and [data.b] in options.json()["rows"]
        both = await ask(http, 6, data, {"agent": [data.a, data.b]})
        assert [r[:3] for r in both.json()["rows"]] == [[data.b, 4, 1], [data.a, 6, 5]]
        one = await ask(http, 6, data, {"agent": [data.b]})
        assert [r[:3] for r in one.json()["rows"]] == [[data.b, 4, 1]]
        sql = expanded(data, 6, "A", {"agent": [data.b]})
        assert one.json()["rows"] == await rows(running.analytics, token, sql)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"variables": {"nope": "1"}}, "unknown variable $nope (this dashboard's: agent, target)"),
        ({"variables": {"agent": ["x' OR 1=1 --"]}}, "not 1-128 of letters, digits"),
        ({"variables": {"target": "0.5"}}, "$target: '0.5' is not one of"),
        ({"variables": {"target": ["0.7", "0.8"]}}, "$target takes one value, not a list"),
        ({"to_ms": 1_899_000_000_000}, "the range is empty"),
        ({"from_ms": 1_900_000_000_000 - 401 * 86_400_000}, "longer than 400 days"),
        ({"interval_ms": 0}, "interval_ms out of range"),
        ({"from_ms": "yesterday"}, "'from_ms' must be an integer"),
        ({"variables": ["agent"]}, "'variables' must be an object"),
    ],
)
async def test_bad_input_is_a_clear_400(
    running: Running, change: dict[str, Any], message: str
) -> None:
    _, http = await member(running.node, running.console, "manager")
    async with aclosing(http):
        body = {"from_ms": 1_899_000_000_000, "to_ms": 1_900_000_000_000, "interval_ms": 60_000,
                "variables": {}, **change}  # fmt: skip
        r = await http.post(f"/api/dashboards/{UID}/panels/6/query", json=body, headers=CSRF)
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert error["code"] == "invalid" and message in error["message"], error
        assert "DB::" not in r.text and "Code:" not in r.text


async def test_non_json_oversized_unknown_and_forbidden(running: Running) -> None:
    _, manager = await member(running.node, running.console, "manager")
    async with aclosing(manager):
        path = f"/api/dashboards/{UID}/panels/6/query"
        r = await manager.post(path, content=b"{from_ms", headers=CSRF)
        assert r.status_code == 400 and r.json()["error"]["message"] == "body must be JSON"
        big = b'{"variables": {"agent": "' + b"a" * 70_000 + b'"}}'
        r = await manager.post(path, content=big, headers=CSRF)
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
        r = await manager.post(path, json={}, headers={})
        assert r.status_code == 403  # no X-Console header
        body = {"from_ms": 0, "to_ms": 60_000, "interval_ms": 1000}
        r = await manager.post(f"/api/dashboards/{UID}/panels/99/query", json=body, headers=CSRF)
        assert r.status_code == 404
        r = await manager.post("/api/dashboards/im-redis/panels/1/query", json=body, headers=CSRF)
        assert r.status_code == 403


async def test_analytics_refuses_panels_to_the_wrong_role_directly(running: Running) -> None:
    """The check is analytics' own too (dashboards/access.py), not only the console's."""
    manager, agent = await staff(running.node, "manager"), await staff(running.node, "agent")
    body = {"uid": "im-redis", "panel_id": 1, "from_ms": 0, "to_ms": 60_000, "interval_ms": 1000}
    async with httpx.AsyncClient(base_url=running.analytics) as http:
        for token, status in ((manager.token, 403), (agent.token, 403), ("nope", 401)):
            r = await http.post("/panels/query", json=body,
                                headers={"authorization": f"Bearer {token}"})  # fmt: skip
            assert r.status_code == status, r.text
