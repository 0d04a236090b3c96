"""The live customer-service view in real Chromium: a session a customer opens shows in
the queue within 5 s, and leaves it when an agent accepts it."""

from __future__ import annotations

import time

from playwright.async_api import Browser

from tests.alerts.helpers import PASSWORD, staff
from tests.client import User
from tests.console.conftest import Running
from tests.console.web.conftest import shot, sign_in
from tests.im.cs_helpers import agent


async def test_a_queued_session_shows_within_5_s_and_leaves_when_accepted(
    running: Running, browser: Browser
) -> None:
    manager = await staff(running.node, "manager")
    page = await sign_in(browser, running.console, manager.username, PASSWORD)
    await page.goto(f"{running.console}/live")
    await page.wait_for_selector("#queue-length")
    helper = await agent(running.node)
    device = await helper.connect()  # online: the agents' list shows it
    customer = await User.create(running.node, "cust")
    r = await customer.post("/api/cs/sessions", {"topic": "refund"})
    assert r.status_code == 201, r.text
    sid = r.json()["session"]
    opened = time.monotonic()
    row = page.locator(f'#queue tr[data-session="{sid}"]')
    await row.wait_for(state="attached", timeout=5000)
    assert time.monotonic() - opened <= 5
    assert customer.user_id in await row.inner_text()
    assert int(await page.inner_text("#queue-length")) >= 1
    await shot(page, "live-queued")
    r = await helper.post(f"/api/cs/sessions/{sid}/accept")
    assert r.status_code == 200, r.text
    accepted = time.monotonic()
    await row.wait_for(state="detached", timeout=5000)
    assert time.monotonic() - accepted <= 5
    mine = page.locator(f'#agents tr[data-agent="{helper.username}"]')
    await mine.wait_for(state="attached", timeout=5000)
    assert (await mine.locator("td").all_inner_texts())[1:] == ["online", "1"]
    await shot(page, "live-accepted")
    await device.close()
    await page.context.close()
