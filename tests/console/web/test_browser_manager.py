"""A manager in real Chromium on the real stack: the reply-rate dashboard over generated
customer-service traffic (traffic.scenario's chat events on im.chat, and the reply-rate
rows the streaming job makes of them, from tests/streaming/reference.py, on its result
topic: the analytics sink stores both), checked against ClickHouse; the agent variable;
the Redis dashboard refused; an anonymous visitor sent to sign in."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from playwright.async_api import Browser

from contract import topics
from dashboards import catalog
from tests.alerts.helpers import PASSWORD, staff
from tests.analytics.api import admin, rows
from tests.console.conftest import Running
from tests.console.web.conftest import fresh_page, panel_states, rendered, shot, sign_in
from tests.streaming import reference
from tests.waiting import wait_until
from traffic.scenario import generate

UID = "im-cs-reply-rate"
REPLY_COLUMNS = ("window_start", "window_end", "agent", "waits", "replied_5m", "reply_rate",
                 "avg_reply_s", "p90_reply_s")  # fmt: skip


@dataclass(frozen=True)
class Traffic:
    start_ms: int
    end_ms: int
    agents: list[str]


@pytest.fixture(scope="module")
async def traffic(running: Running) -> Traffic:
    """Two hours of cs traffic ending about an hour ago, stored by the analytics sink."""
    now = int(time.time() * 1000)
    start = now - 3 * 3600_000
    start -= start % 300_000
    events = generate(seed=14, start_ms=start, duration_s=2 * 3600, cs_sessions=40, agents=3,
                      groups=2, directs=2)  # fmt: skip
    chat = [e for e in events if e["type"] == "chat.message"]
    rates = [dict(zip(REPLY_COLUMNS, r, strict=True)) for r in reference.reply_rates(chat)]
    producer = AIOKafkaProducer(bootstrap_servers=running.stack.settings.kafka_bootstrap)
    await producer.start()
    try:
        for e in chat:
            await producer.send(topics.CHAT, orjson.dumps(e), key=e["conv"].encode())
        for r in rates:
            await producer.send(topics.REPLY_RATE, orjson.dumps(r), key=r["agent"].encode())
        await producer.flush()
    finally:
        await producer.stop()
    token = (await admin(running.node)).token
    ids = ", ".join(f"'{e['id']}'" for e in chat[:1] + chat[-1:])

    async def stored() -> bool:
        since = f"window_start >= fromUnixTimestamp64Milli({start})"
        n_rates = await rows(running.analytics, token,
                             f"SELECT count() FROM reply_rates FINAL WHERE {since}")  # fmt: skip
        n_chat = await rows(running.analytics, token,
                            f"SELECT count() FROM chat_events WHERE id IN ({ids})")  # fmt: skip
        return int(n_rates[0][0]) >= len(rates) and int(n_chat[0][0]) == 2

    await wait_until(stored, 60, what="the generated traffic in ClickHouse", interval=0.5)
    agents = sorted({str(r["agent"]) for r in rates} - {"*"})
    return Traffic(start, now, agents)


async def test_anonymous_visitor_is_sent_to_sign_in(running: Running, browser: Browser) -> None:
    page = await fresh_page(browser)
    await page.goto(f"{running.console}/d/{UID}?from=now-6h&to=now")
    await page.wait_for_selector("#username")
    assert page.url == f"{running.console}/login?next=/d/{UID}?from%3Dnow-6h%26to%3Dnow" or (
        page.url.startswith(f"{running.console}/login?next=/d/{UID}")
    ), page.url
    await shot(page, "anonymous-sign-in")
    await page.context.close()


async def test_manager_reply_rate_dashboard_draws_matches_clickhouse_and_follows_the_agent(
    running: Running, browser: Browser, traffic: Traffic
) -> None:
    manager = await staff(running.node, "manager")
    page = await sign_in(browser, running.console, manager.username, PASSWORD)
    # An absolute range (URL state), so the stat can be checked against the same query.
    f, t = traffic.start_ms, traffic.end_ms
    started = time.monotonic()
    await page.goto(f"{running.console}/d/{UID}?from={f}&to={t}")
    await rendered(page)
    took = time.monotonic() - started
    board = next(b for b in catalog.load() if b["uid"] == UID)
    states = await panel_states(page)
    assert sorted(states) == sorted(p["id"] for p in board["panels"])  # the alert state's too
    assert len(states) == 12
    assert {k: v for k, v in states.items() if v != "ok"} == {}, states
    assert await page.locator(".badge-error:visible").count() == 0
    assert await page.locator(".panel-heatmap .hm-cell").count() > 0  # the heatmap drew
    assert await page.locator(".panel-timeseries canvas").count() >= 3  # uPlot drew
    # The stat shows what the panel's own query says in ClickHouse (analytics' admin API).
    query = next(q for q in catalog.queries([board]) if q.panel_id == 2 and q.ref_id == "A")
    t0 = dt.datetime.fromtimestamp(f / 1000, dt.UTC)
    t1 = dt.datetime.fromtimestamp(t / 1000, dt.UTC)
    sql = query.expand(t0, t1, 60, catalog.defaults(board))
    token = (await admin(running.node)).token
    (expected,) = (await rows(running.analytics, token, sql))[0]
    stat = page.locator('.panel[data-panel-id="2"] .stat-value')
    assert float(await stat.get_attribute("data-value") or "nan") == pytest.approx(expected)
    shown = await stat.inner_text()  # percentunit: "83.3%"
    assert shown.endswith("%") and float(shown[:-1]) == pytest.approx(expected * 100, abs=0.051)
    # The per-agent table: every agent, then only the chosen one.
    table = page.locator('.panel[data-panel-id="6"] tbody tr td:first-child')
    assert await table.all_inner_texts() != []
    before = set(await table.all_inner_texts())
    assert set(traffic.agents) <= before, (traffic.agents, before)
    chosen = traffic.agents[1]
    await page.click("#var-agent")
    await page.check(f'input[name="agent"][value="{chosen}"]')
    await rendered(page)
    assert await table.all_inner_texts() == [chosen]
    assert f"var-agent={chosen}" in page.url  # the view is in the link
    await page.click("#var-agent")  # closes the list
    # The charts fill their panels (uPlot sized to the panel body, less its legend).
    charts_js = (
        "() => [...document.querySelectorAll('.panel-timeseries')].map(p =>"
        " [p.querySelector('.panel-body').clientHeight, p.querySelector('.u-wrap').clientHeight,"
        " p.querySelector('.u-legend').offsetHeight])"
    )
    heights = await page.evaluate(charts_js)
    assert all(wrap >= body - legend - 4 for body, wrap, legend in heights), heights
    await shot(page, "manager-reply-rate")
    assert heights == await page.evaluate(charts_js), "the screenshot resized the charts"
    assert took < 30, took
    # The link reproduces the view.
    again = await page.context.new_page()
    await again.goto(page.url)
    await rendered(again)
    cells = again.locator('.panel[data-panel-id="6"] tbody tr td:first-child')
    assert await cells.all_inner_texts() == [chosen]
    # The time picker and the auto-refresh go into the link too; the variable stays.
    await again.select_option("#range", "now-7d")
    await rendered(again)
    await again.select_option("#refresh", "10s")
    assert "from=now-7d&to=now" in again.url and "refresh=10s" in again.url, again.url
    assert f"var-agent={chosen}" in again.url
    states = await panel_states(again)
    assert not [v for v in states.values() if v.startswith("error")], states
    await page.context.close()


async def test_a_manager_may_not_open_the_redis_dashboard(
    running: Running, browser: Browser
) -> None:
    manager = await staff(running.node, "manager")
    page = await sign_in(browser, running.console, manager.username, PASSWORD)
    assert await page.locator('a[data-uid="im-redis"]').count() == 0  # not offered at home
    assert await page.locator('a[data-uid="im-cs-reply-rate"]').count() == 1
    response = await page.goto(f"{running.console}/d/im-redis")
    assert response is not None and response.status == 403
    await page.wait_for_selector("text=You may not open this page")
    assert await page.locator(".panel").count() == 0
    await shot(page, "manager-redis-403")
    await page.context.close()
