"""Real Chromium for the console's page: Debian's `chromium` driven by Playwright (never a
browser Playwright downloads), one browser per test module; every test saves a full-page
PNG under .stack-test/screenshots/ (kept after the run; the next test session starts
from an empty .stack-test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from bench.console.chromium import ARGS, CHROMIUM
from tests.conftest import TEST_DIR

SCREENSHOTS = TEST_DIR / "screenshots"
VIEWPORT = {"width": 1400, "height": 900}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def shot(page: Page, name: str) -> Path:
    """A full-page screenshot, .stack-test/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def fresh_page(browser: Browser) -> Page:
    """A page in a context of its own (its own cookie jar)."""
    context = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    return await context.new_page()


async def sign_in(browser: Browser, console: str, username: str, password: str) -> Page:
    """A page signed in through the sign-in form, on the start page."""
    page = await fresh_page(browser)
    await page.goto(f"{console}/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    await page.wait_for_selector("#signout")
    return page


async def rendered(page: Page, timeout_ms: float = 30_000) -> None:
    """Every panel of the dashboard's latest load has drawn (or failed, or has no data)."""
    # A selector, not a JS predicate: the console's CSP (default-src 'self') forbids eval.
    await page.wait_for_selector("body[data-rendered='1']", state="attached", timeout=timeout_ms)


async def panel_states(page: Page) -> dict[int, str]:
    """Each panel's state (ok, nodata, error: <the server's message>)."""
    states: dict[str, str] = await page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('.panel')].map(p => [p.dataset.panelId,"
        " p.dataset.state + (p.dataset.state === 'error' ? ': ' + p.querySelector('.badge').title"
        " : '')]))"
    )
    return {int(k): v for k, v in states.items()}
