"""A stack of the benchmark's own (Redis, Kafka, analytics on embedded chDB, a server node,
the console) whose chDB is filled day by day with bench.alerts' generator (raw chat and
session events, reply-rate windows: what the reply-rate dashboard reads; no ops samples,
which it does not read), and the reply-rate dashboard opened in Debian's Chromium.

The baseline's (newest) days are filled and measured first; then analytics is stopped (only
one process may open a chDB folder), the older days are added, and everything is measured
again, in one go. Each measured load is a fresh browser context (empty cache, its own
session cookie) opening `/d/im-cs-reply-rate` at the dashboard's defaults (last 24 h,
agent All): the time from navigation start to the page's `console:rendered` mark (every
panel drawn), and the bytes transferred (navigation and every resource, the panels'
queries included). One warm-up load per size first.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from playwright.async_api import Browser, async_playwright

from analytics.clickhouse import ClickHouse
from analytics.schema import TABLES
from bench.alerts.data import DAY_MS, fill_cs_days
from bench.base import machine
from bench.base.cli import Say
from bench.console.chromium import ARGS, CHROMIUM
from bench.console.config import UID, ConsoleBenchConfig
from im.envconfig import load
from stack.manager import Stack
from stack.settings import StackSettings

# Away from the developer's stack (8080...), the tests' (free ports) and bench's (3xx80).
PORTS = {"IM_REDIS_PORT": 37379, "IM_KAFKA_PORT": 37092, "IM_KAFKA_CONTROLLER_PORT": 37093,
         "IM_HTTP_PORT": 37080, "IM_OPS_PORT": 37081, "IM_ANALYTICS_PORT": 37090,
         "IM_CONSOLE_PORT": 37097, "IM_MONITOR_PORT": 37095, "IM_ALERT_PORT": 37096,
         "IM_FLINK_REST_PORT": 37181, "IM_FLINK_RPC_PORT": 37123}  # fmt: skip
SERVICES = ["redis", "kafka", "analytics", "server-1", "console"]
ADMIN = "bench-admin"
MEASURE_JS = r"""() => {
  const mark = performance.getEntriesByName("console:rendered")[0];
  const nav = performance.getEntriesByType("navigation")[0];
  const res = performance.getEntriesByType("resource");
  const states = {};
  for (const p of document.querySelectorAll(".panel")) {
    states[p.dataset.state] = (states[p.dataset.state] || 0) + 1;
  }
  const queries = res.map((r) =>
    [r.name.replace(r.name.includes("/panels/") ? /^.*\/panels\// : /^.*\//, ""),
     Math.round(r.startTime), Math.round(r.duration)]);
  const ready = Math.round(nav.domContentLoadedEventEnd);
  queries.unshift(["page", Math.round(nav.responseStart), ready]);
  return {render_ms: mark ? mark.startTime : -1, requests: res.length + 1, states, queries,
          bytes: nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0)};
}"""


@dataclass
class Load:
    render_ms: float
    bytes: int
    requests: int
    states: dict[str, int]
    queries: list[tuple[str, int, int]]  # every request: name, started (ms after navigation), took


@dataclass
class SizeResult:
    days: int
    chat_events: int
    fill_s: float
    loads: list[Load] = field(default_factory=list)
    others_cores: float = 0.0

    @property
    def times(self) -> list[float]:
        return sorted(x.render_ms for x in self.loads)


def settings(folder: Path, password: str) -> StackSettings:
    env = {"IM_STACK_DIR": str(folder), "IM_KAFKA_PARTITIONS": "4",
           **{k: str(v) for k, v in PORTS.items()}}  # fmt: skip
    extra = (("IM_ADMIN_USERNAME", ADMIN), ("IM_ADMIN_PASSWORD", password))
    return load(StackSettings, env, extra_env=extra)


async def _fill(url: str, start_ms: int, first: int, days: int, per_day: int) -> int:
    """Fill days `first`.. of the chDB at `url` (tables made if missing): chat events held."""
    ch = ClickHouse(url)
    await ch.start()
    try:
        for table in TABLES:
            await ch.command(table.ddl)
        await fill_cs_days(ch, start_ms, first, days, per_day)
        return int((await ch.query("SELECT count() FROM chat_events"))[1][0][0])
    finally:
        await ch.stop()


def _tree(pids: Iterable[int | None]) -> list[int]:
    out: list[int] = []
    for pid in pids:
        if pid is None:
            continue
        try:
            proc = psutil.Process(pid)
            out += [pid, *(c.pid for c in proc.children(recursive=True))]
        except psutil.NoSuchProcess:
            continue
    return out


async def _load(browser: Browser, console: str, password: str) -> Load:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        r = await context.request.post(f"{console}/api/session", headers={"X-Console": "1"},
                                       data={"username": ADMIN, "password": password})  # fmt: skip
        if r.status != 200:
            raise RuntimeError(f"signing in to the console: {r.status} {await r.text()}")
        page = await context.new_page()
        await page.goto(f"{console}/d/{UID}")
        await page.wait_for_selector("body[data-rendered='1']", state="attached", timeout=120_000)
        m: dict[str, Any] = await page.evaluate(MEASURE_JS)
        return Load(float(m["render_ms"]), int(m["bytes"]), int(m["requests"]), dict(m["states"]),
                    [(str(q[0]), int(q[1]), int(q[2])) for q in m["queries"]])  # fmt: skip
    finally:
        await context.close()


async def _size(st: Stack, browser: Browser, cfg: ConsoleBenchConfig, password: str,
                result: SizeResult, say: Say) -> None:  # fmt: skip
    console = f"http://127.0.0.1:{st.settings.console_port}"
    await _load(browser, console, password)  # warm-up
    roles = machine.Roles(_tree(st.proc(n).pid() for n in SERVICES), [],
                          _tree([os.getpid()]))  # fmt: skip
    before = machine.sample(roles, time.monotonic())
    for _ in range(cfg.runs):
        result.loads.append(await _load(browser, console, password))
    result.others_cores = machine.delta(
        before, machine.sample(roles, time.monotonic())
    ).others_cores
    t = result.times
    say(f"  {result.days} days: first render {t[len(t) // 2]:.0f} ms median, {t[-1]:.0f} ms max, "
        f"{result.loads[-1].bytes:,} bytes, panels {result.loads[-1].states}")  # fmt: skip
    say(f"  requests (name, started ms, took ms): {result.loads[-1].queries}")


async def measure(cfg: ConsoleBenchConfig, say: Say, sizes: list[SizeResult]) -> None:
    """Append the baseline's result, then the full size's, to `sizes` as each is done."""
    folder = cfg.out_dir / "stack"
    shutil.rmtree(folder, ignore_errors=True)
    password = secrets.token_urlsafe(18)
    st = Stack(settings(folder, password), say=say)
    url = st.settings.effective_clickhouse_url
    now_ms = int(time.time() * 1000) // 10_000 * 10_000
    start_ms = now_ms - cfg.days * DAY_MS + 10_000  # the data ends now
    plan = [(cfg.baseline_days, cfg.days - cfg.baseline_days), (cfg.days, 0)]
    (folder / "data").mkdir(parents=True)
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            done = 0
            for days, first in plan:
                say(f"{days} days: filling days {first + 1}..{cfg.days - done} "
                    f"({cfg.chat_per_day:,} chat events a day)")  # fmt: skip
                # The stack's probes run event loops of their own: in a thread.
                await asyncio.to_thread(st.down, ["analytics"])
                t0 = time.monotonic()
                held = await _fill(url, start_ms, first, days - done, cfg.chat_per_day)
                fill_s = time.monotonic() - t0
                await asyncio.to_thread(st.up, SERVICES)
                sizes.append(SizeResult(days, held, fill_s))
                await _size(st, browser, cfg, password, sizes[-1], say)
                done = days
            await browser.close()
    finally:
        await asyncio.to_thread(st.down)
        shutil.rmtree(folder, ignore_errors=True)
