"""Fill a chDB of the benchmark's own day by day and time every panel's query.

The data is bench.alerts' (inside ClickHouse with numbers(): one collector
round every 10 s, here with the series only the dashboards read added, raw
chat and session events, reply-rate windows, detections), ending now. The
baseline's days are filled and measured first, then the older days are added
and everything is measured again, in one process on one machine in one go.
Each query runs as Grafana would run it when its dashboard is opened: macros
expanded (dashboards.macros) for the dashboard's default range ending now,
the variables at their defaults, an interval of the range over 1,000 points
rounded up to a round step (at least the collectors' 10 s). One warm-up, then
`runs` timed runs per query (wall time of the query through clickhouse-connect,
chDB in this process). At the full size, optionally, each query again with all
the days as its range. Each size is measured once ClickHouse's background merges of
its fill are done (`settle`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from analytics.clickhouse import ClickHouse
from bench.alerts.data import DAY_MS, growing, scratch_chdb
from bench.base import machine
from bench.base.cli import Say
from bench.dashboards.config import DashboardsBenchConfig
from bench.dashboards.series import SERIES
from dashboards.catalog import PanelQuery, defaults, load, queries

COUNTED = ("ops_samples", "chat_events", "session_events", "reply_rates")
STEPS_S = (10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200,
           86400)  # fmt: skip
POINTS = 1000


def interval_s(range_s: float) -> int:
    """Grafana-like: the range over POINTS points, rounded up to a round step."""
    return next((s for s in STEPS_S if s >= range_s / POINTS), STEPS_S[-1])


def default_range_s(board: dict[str, object]) -> int:
    """Seconds of a dashboard's default range (`now-6h`, `now-24h`)."""
    spec = str(board["time"]["from"])  # type: ignore[index]
    n, unit = int(spec[4:-1]), spec[-1]
    return n * {"m": 60, "h": 3600, "d": 86400}[unit]


@dataclass
class QueryTimes:
    key: str  # uid/panel ref
    title: str
    range_s: int
    ms: list[float] = field(default_factory=list)
    rows: int = 0

    @property
    def p50(self) -> float:
        return float(statistics.median(self.ms))


@dataclass
class SizeResult:
    days: int
    rows: dict[str, int]
    fill_s: float
    disk_mib: float
    default: list[QueryTimes] = field(default_factory=list)  # the dashboards' ranges
    whole: list[QueryTimes] = field(default_factory=list)  # all days as the range
    others_cores: float = 0.0


def _dir_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


async def _time(ch: ClickHouse, q: PanelQuery, board: dict[str, object], now: dt.datetime,
                range_s: int, runs: int) -> QueryTimes:  # fmt: skip
    sql = q.expand(now - dt.timedelta(seconds=range_s), now, interval_s(range_s),
                   defaults(board))  # fmt: skip
    out = QueryTimes(f"{q.dashboard}/{q.panel_id}{q.ref_id}", q.title, range_s)
    _, rows = await ch.query(sql)  # warm-up
    out.rows = len(rows)
    for _ in range(runs):
        t0 = time.perf_counter()
        await ch.query(sql)
        out.ms.append((time.perf_counter() - t0) * 1000)
    return out


async def settle(ch: ClickHouse, say: Say, limit_s: float = 600.0) -> float:
    """Wait until ClickHouse merges no parts (the fill's, the rollups' views' included):
    merges run on this process' threads and would take cores from the queries, as a
    system that is not bulk-loading does not. The seconds waited."""
    t0 = time.monotonic()
    while (await ch.query("SELECT count() FROM system.merges"))[1][0][0]:
        if time.monotonic() - t0 > limit_s:
            say(f"  merges still running after {limit_s:.0f} s: measuring anyway")
            break
        await asyncio.sleep(0.5)
    return time.monotonic() - t0


async def _size(ch: ClickHouse, cfg: DashboardsBenchConfig, now: dt.datetime, days: int,
                fill_s: float, folder: Path, whole: bool) -> SizeResult:  # fmt: skip
    count = "SELECT count() FROM {t:Identifier}"
    rows = {t: int((await ch.query(count, {"t": t}))[1][0][0]) for t in COUNTED}
    result = SizeResult(days, rows, fill_s, _dir_mib(folder))
    boards = {b["uid"]: b for b in load()}
    me = machine.Roles([], [], [psutil.Process().pid])
    before = machine.sample(me, time.monotonic())
    for q in queries(boards.values()):
        board = boards[q.dashboard]
        result.default.append(await _time(ch, q, board, now, default_range_s(board), cfg.runs))
        if whole:
            result.whole.append(await _time(ch, q, board, now, days * 86400, cfg.runs))
    result.others_cores = machine.delta(before, machine.sample(me, time.monotonic())).others_cores
    return result


async def measure(cfg: DashboardsBenchConfig, say: Say, sizes: list[SizeResult]) -> None:
    """Append the baseline's result, then the full size's, to `sizes` as each is done."""
    folder = cfg.out_dir / "chdb"
    now_ms = int(time.time() * 1000) // 10_000 * 10_000
    now = dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC)
    start_ms = now_ms - cfg.days * DAY_MS + 10_000  # the newest round is at now
    async with scratch_chdb(folder) as ch:
        fills = growing(ch, start_ms, (cfg.baseline_days, cfg.days), cfg.chat_per_day, SERIES, say)
        async for days, fill_s in fills:
            say(f"  merges done {await settle(ch, say):.1f} s after the fill")
            whole = cfg.whole_range and days == cfg.days
            sizes.append(await _size(ch, cfg, now, days, fill_s, folder, whole))
            s = sizes[-1]
            worst = max(s.default, key=lambda t: max(t.ms))
            say(f"  {len(s.default)} queries: slowest {worst.key} p50 {worst.p50:.0f} ms, "
                f"max {max(worst.ms):.0f} ms")  # fmt: skip
