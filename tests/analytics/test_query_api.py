"""The query API of the real analytics process: admins only, one SELECT over our
tables, bounded, and never in the way of the sink's inserts."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from analytics.settings import AnalyticsSettings
from contract import topics
from im.envconfig import ConfigError, load
from stack.manager import Stack
from stack.services import base_env
from tests.analytics.api import admin, query, rows
from tests.client import User
from tests.ports import free_port
from tests.servers import server_node
from tests.waiting import wait_until

T0 = 1_795_000_020_000


@pytest.fixture(scope="module")
def node(analytics: Stack) -> Iterator[str]:
    """A server node to log in on (it creates the stack's admin at start)."""
    port = free_port()
    with server_node(analytics, "query-api", port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def url(analytics: Stack) -> str:
    return f"http://127.0.0.1:{analytics.settings.analytics_port}"


@pytest.fixture(scope="module")
def limits(analytics: Stack) -> AnalyticsSettings:
    """The settings the analytics process runs with."""
    return load(AnalyticsSettings, base_env(analytics.settings))


@pytest.fixture
async def producer(analytics: Stack) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=analytics.settings.kafka_bootstrap)
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


async def produce_counts(p: AIOKafkaProducer, conv: str, counts: list[int]) -> None:
    for i, n in enumerate(counts):
        start = T0 + i * 60_000
        row = {"window_start": start, "window_end": start + 60_000, "conv": conv, "messages": n}
        await p.send_and_wait(topics.MESSAGE_COUNT, orjson.dumps(row))


def counts_sql(conv: str) -> str:
    return (
        f"SELECT conv, messages FROM message_counts FINAL WHERE conv = '{conv}' "
        "ORDER BY window_start"
    )


# -- who may query ---------------------------------------------------------------------


async def test_without_a_valid_token_401(node: str, url: str) -> None:
    for token in (None, "not-a-token", secrets.token_urlsafe(32)):
        r = await query(url, token, "SELECT 1")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized", r.text
    async with httpx.AsyncClient() as http:
        for header in ("Bearer", "Basic YWRtaW46YWRtaW4=", "token"):
            r = await http.get(f"{url}/query?sql=SELECT+1", headers={"authorization": header})
            assert r.status_code == 401, r.text
            assert r.json()["error"]["message"] == "give an admin token: Authorization: Bearer"


async def test_a_user_who_is_not_admin_gets_403(node: str, url: str) -> None:
    user = await User.create(node, "qry")
    r = await query(url, user.token, "SELECT 1")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"


async def test_role_changes_and_logout_act_at_once(node: str, url: str) -> None:
    boss, user = await admin(node), await User.create(node, "qrole")
    assert (await query(url, user.token, "SELECT 1")).status_code == 403
    r = await boss.post(f"/api/admin/users/{user.user_id}/role", {"role": "admin"})
    assert r.status_code == 204, r.text
    assert (await query(url, user.token, "SELECT 1")).status_code == 200
    await boss.post(f"/api/admin/users/{user.user_id}/role", {"role": "user"})
    assert (await query(url, user.token, "SELECT 1")).status_code == 403
    token = await boss.new_token()
    assert (await query(url, token, "SELECT 1")).status_code == 200
    await boss.post("/api/logout")  # that login's token only
    assert (await query(url, boss.token, "SELECT 1")).status_code == 401
    assert (await query(url, token, "SELECT 1")).status_code == 200


async def test_an_admin_reads_exact_rows(node: str, url: str, producer: AIOKafkaProducer) -> None:
    token = (await admin(node)).token
    conv = f"c_q{secrets.token_hex(4)}"
    await produce_counts(producer, conv, [4, 6, 1])

    async def landed() -> list[list[object]] | None:
        found = await rows(url, token, counts_sql(conv))
        return found if len(found) == 3 else None

    assert await wait_until(landed, 30, what="rows in ClickHouse") == [
        [conv, 4], [conv, 6], [conv, 1]
    ]  # fmt: skip
    total = f"SELECT sum(messages) AS n FROM default.message_counts FINAL WHERE conv = '{conv}'"
    r = await query(url, token, total)
    assert r.json() == {"columns": ["n"], "rows": [[11]]}


# -- what may run ------------------------------------------------------------------------

OUTFILE = "/tmp/im-query-api-outfile"  # must never be written


def outfile_written() -> bool:
    return Path(OUTFILE).exists()


LEAKS = ("Code:", "DB::Exception", "version", "/etc", "vm\n", "localhost")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT count() FROM system.tables", "unknown table system.tables"),
        ("SELECT * FROM information_schema.tables", "unknown table information_schema.tables"),
        ("SELECT conv FROM message_counts WHERE conv IN system.tables", "system.tables"),
        ("SELECT (SELECT count() FROM system.tables)", "unknown table system.tables"),
        ("SELECT * FROM file('/etc/hostname', 'LineAsString')", "function file()"),
        ("SELECT file('/etc/hostname')", "function file()"),
        ("SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')", "function url()"),
        ("SELECT count() FROM merge('system', '^tables$')", "function merge()"),
        ("SELECT * FROM numbers(3)", "function numbers()"),
        # The old wrapper's breakout: its `SELECT * FROM (` ... `)` around this
        # made a UNION of the file's lines with a harmless SELECT.
        ("SELECT * FROM file('/etc/hostname', 'LineAsString')) UNION ALL (SELECT 1", "syntax"),
        ("SELECT 1; SELECT * FROM file('/etc/hostname', 'LineAsString')", "one statement only"),
        ("SELECT 1; DROP TABLE message_counts", "one statement only"),
        (f"SELECT 1 INTO OUTFILE '{OUTFILE}'", "INTO OUTFILE"),
        ("SELECT 1 SETTINGS max_execution_time = 1000", "only a SELECT"),
        ("DROP TABLE message_counts", "only a SELECT"),
        ("INSERT INTO message_counts (conv) VALUES ('x')", "only a SELECT"),
        ("SHOW TABLES", "only a SELECT"),
        ("SELECT nope FROM message_counts", "ClickHouse refused the query (code 47"),
    ],
)
async def test_anything_but_one_select_over_our_tables_is_refused(
    node: str, url: str, sql: str, message: str
) -> None:
    token = (await admin(node)).token
    r = await query(url, token, sql)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid" and message in error["message"], error
    assert not any(leak in r.text for leak in LEAKS), r.text
    assert not outfile_written()
    assert await rows(url, token, "SELECT count() > -1 FROM message_counts") == [[True]]


@pytest.mark.parametrize(
    ("sql", "bound"),
    [
        ("SELECT length(range(300000000))", "MiB of memory"),  # refused before allocating
        ("SELECT arrayJoin(range(200000))", "rows"),
        # 9 s one after the other, however many threads a query gets
        ("SELECT sleep(3) + x FROM (SELECT sleep(3) + y AS x FROM (SELECT sleep(3) AS y))", " s"),
    ],
)
async def test_a_query_over_a_bound_gets_413(
    node: str, url: str, limits: AnalyticsSettings, sql: str, bound: str
) -> None:
    token = (await admin(node)).token
    started = time.monotonic()
    r = await query(url, token, sql)
    assert r.status_code == 413, r.text
    error = r.json()["error"]
    assert error["code"] == "too_large" and bound in error["message"], error
    assert "Code:" not in r.text
    assert time.monotonic() - started < limits.query_timeout_s + 3


# -- queries apart from the sink ---------------------------------------------------------

# 5 s, under the test stack's bound; one after the other however many threads a query gets
SLOW = "SELECT sleep(3) + x FROM (SELECT sleep(2) AS x)"


async def test_a_slow_query_does_not_hold_up_inserts(
    node: str, url: str, producer: AIOKafkaProducer, limits: AnalyticsSettings
) -> None:
    assert limits.query_timeout_s > 5.5  # the stack's bound lets SLOW finish
    token = (await admin(node)).token
    slow = asyncio.create_task(query(url, token, SLOW))
    await asyncio.sleep(0.5)  # the subject: the slow query is running when the rows come
    assert not slow.done()
    conv = f"c_s{secrets.token_hex(4)}"
    produced = time.monotonic()
    await produce_counts(producer, conv, [7])

    async def landed() -> bool:
        return await rows(url, token, counts_sql(conv)) == [[conv, 7]]

    await wait_until(landed, 10, what="rows in ClickHouse", interval=0.1)
    took = time.monotonic() - produced
    assert not slow.done(), f"the rows landed only after the slow query ({took:.1f} s)"
    r = await slow
    assert r.status_code == 200 and r.json()["rows"] == [[0]], r.text


async def test_more_queries_at_once_than_allowed_get_503(
    node: str, url: str, limits: AnalyticsSettings
) -> None:
    token = (await admin(node)).token
    running = [asyncio.create_task(query(url, token, SLOW)) for _ in range(limits.max_queries)]
    await asyncio.sleep(0.5)  # the subject: every query slot is taken
    r = await query(url, token, "SELECT 1")
    assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable", r.text
    assert r.headers["retry-after"] == "1"
    assert [x.status_code for x in await asyncio.gather(*running)] == [200] * limits.max_queries
    assert await rows(url, token, "SELECT 1") == [[1]]


async def test_the_service_token_reads_without_an_account_and_a_wrong_one_does_not(
    url: str, analytics: Stack
) -> None:
    """The alert evaluator's secret (made by the stack, in the environment of both)."""
    token = base_env(analytics.settings)["IM_ANALYTICS_SERVICE_TOKEN"]
    assert len(token) >= 32
    assert await rows(url, token, "SELECT 1") == [[1]]
    wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert (await query(url, wrong, "SELECT 1")).status_code == 401


def test_a_short_service_token_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        load(AnalyticsSettings, {"IM_ANALYTICS_SERVICE_TOKEN": "short"})
