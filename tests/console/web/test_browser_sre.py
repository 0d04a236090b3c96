"""An SRE in real Chromium on a stack of its own (Redis, Kafka, analytics, the ops
collector, a server node, the alert evaluator with quick rules, the console): the Redis
dashboard shows a big key the test makes; an alert fired by stopping Kafka shows on the
alerts page within the rule's time, can be silenced, and leaves the active list after it
resolves (then shows as resolved)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser

from stack.manager import Stack
from tests.alerts.helpers import PASSWORD, staff
from tests.alerts.running import FOR_S, INTERVAL_S, evaluating, quick_rules
from tests.console.web.conftest import panel_states, rendered, shot, sign_in
from tests.im.cs_helpers import ADMIN, ADMIN_PW
from tests.servers import own_stack, server_node

BOUND_S = INTERVAL_S + FOR_S + 30  # the alert issue's bound: interval + for + 30 s
PAGE_POLL_S = 5  # the alerts page asks every 5 s
BIG_KEY = "console-browser-test-big-key"  # no family of im/keys.py: family "other"


@dataclass
class System:
    stack: Stack
    node: str
    console: str
    rules: Path


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    rules = quick_rules(tmp_path_factory.mktemp("alert-rules"))
    extra = (("IM_OPS_INTERVAL_S", "2"), ("IM_ADMIN_USERNAME", ADMIN),
             ("IM_ADMIN_PASSWORD", ADMIN_PW))  # fmt: skip
    with own_stack("console-sre", ["redis", "kafka", "analytics", "monitor"], {}, extra) as st:
        s = st.settings
        with server_node(st, "console-sre", s.http_port, ops_port=s.ops_port,
                         IM_ADMIN_USERNAME=ADMIN, IM_ADMIN_PASSWORD=ADMIN_PW):  # fmt: skip
            st.up(["console"])
            yield System(st, f"http://127.0.0.1:{s.http_port}",
                         f"http://127.0.0.1:{s.console_port}", rules)  # fmt: skip


@pytest.mark.timeout(300)
async def test_sre_sees_the_big_key_and_an_alert_fire_and_resolve(
    system: System, browser: Browser
) -> None:
    st = system.stack
    sre = await staff(system.node, "sre")
    page = await sign_in(browser, system.console, sre.username, PASSWORD)
    # The big key: the collector's sampler reports it (rank, family, type, MEMORY USAGE).
    r = aioredis.Redis.from_url(st.settings.redis_url)
    await r.set(BIG_KEY, b"x" * 3_000_000)
    size = int(await r.memory_usage(BIG_KEY) or 0)
    await r.aclose()
    await page.goto(f"{system.console}/d/im-redis?from=now-15m&to=now&refresh=5s")
    await rendered(page)
    cell = page.locator(f'.panel[data-panel-id="11"] td[data-raw="{size}"]')
    await cell.wait_for(state="attached", timeout=45_000)  # collector round + sink + refresh
    row = await cell.locator("xpath=..").locator("td").all_inner_texts()
    # rank 1 (a plain number: the bytes unit is the bytes column's own override), family,
    # type, size in bytes
    assert row[:3] == ["1", "other", "string"], row
    assert row[3].endswith(" MiB") and float(row[3][:-4]) == pytest.approx(size / 2**20, abs=0.01)
    big = page.locator('.panel[data-panel-id="11"]')
    ranks = await big.locator("tbody td:first-child").all_inner_texts()
    assert ranks == [str(n) for n in range(1, len(ranks) + 1)] and len(ranks) >= 5, ranks
    sizes = await big.locator("tbody td:nth-child(4)").all_inner_texts()
    assert all(re.fullmatch(r"[\d.]+ (B|KiB|MiB)", s) for s in sizes), sizes
    # Sorted by a header click: family ascending, then descending (text), bytes ascending.
    await big.locator("th button", has_text="family").click()
    fams = await big.locator("tbody td:nth-child(2)").all_inner_texts()
    assert fams == sorted(fams) and len(set(fams)) > 1, fams
    await big.locator("th button", has_text="family").click()
    assert await big.locator("th[aria-sort=descending]").inner_text() == "family"
    fams_desc = await big.locator("tbody td:nth-child(2)").all_inner_texts()
    assert fams_desc == sorted(fams_desc, reverse=True) and fams_desc != fams, fams_desc
    await big.locator("th button", has_text="bytes").click()
    raw = await big.locator("tbody td:nth-child(4)").evaluate_all(
        "(tds) => tds.map((t) => +t.dataset.raw)"
    )
    assert raw == sorted(raw) and raw[-1] == size, raw
    rules = page.locator('.panel[data-panel-id="13"] th', has_text="summary (template)")
    assert await rules.count() == 1
    await rendered(page)
    states = await panel_states(page)
    assert not [s for s in states.values() if s.startswith("error")], states
    await shot(page, "sre-redis-big-key")
    async with evaluating(st, system.rules):
        await page.goto(f"{system.console}/alerts")
        await page.wait_for_selector("#active-title")
        st.proc("kafka").kill()
        killed = time.monotonic()
        firing = page.locator(
            '[data-team="sre"] tr[data-alert="KafkaBrokerDown"][data-state="firing"]'
        )
        await firing.wait_for(state="attached", timeout=(BOUND_S + PAGE_POLL_S) * 1000)
        assert time.monotonic() - killed <= BOUND_S + PAGE_POLL_S
        text = await firing.inner_text()
        assert "critical" in text.lower() and "runbook" in text and "dashboard" in text, text
        # Silence it for an hour (an SRE may).
        await firing.locator("select").select_option("3600")
        await firing.locator("button", has_text="Silence").click()
        await page.wait_for_selector("text=silenced until")
        await page.locator("h1").click()  # focus away: the page redraws again
        await shot(page, "sre-alert-firing")
        await asyncio.to_thread(st.up, ["kafka"])
        active = page.locator('[data-team] tr[data-alert="KafkaBrokerDown"]')
        await active.wait_for(state="detached", timeout=120_000)
        resolved = page.locator(
            '#history-title ~ * tr[data-alert="KafkaBrokerDown"][data-state="resolved"]'
        )
        await resolved.wait_for(state="attached", timeout=10_000)
        await shot(page, "sre-alert-resolved")
    await page.context.close()
