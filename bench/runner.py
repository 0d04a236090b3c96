"""One scenario on one target: connect everybody, then sweep the send rate."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from bench.base import machine
from bench.base.cli import Say
from bench.config import BenchConfig
from bench.loadclient import ConnectResult, StepCmd
from bench.plan import Scenario
from bench.stats import StepResult, combine
from bench.target import Target
from bench.workers import Pool, WorkerFailed

START_DELAY_S = 1.0  # between the step command and the first scheduled send
SETTLE_S = 1.0  # quiet pause between two steps


@dataclass
class ScenarioResult:
    target: str
    scenario: Scenario
    connect: ConnectResult
    rss_per_conn: float
    steps: list[StepResult] = field(default_factory=list)
    stopped_early: str = ""

    def best(self, bound_ms: float) -> StepResult | None:
        """The step with the most deliveries/s whose delivery p99 was within the bound."""
        ok = [s for s in self.steps if s.within(bound_ms)]
        return max(ok, key=lambda s: s.delivered_per_s) if ok else None

    def saturated_at_top(self, bound_ms: float) -> bool:
        """True when even the last rate of the sweep was within the bound."""
        return bool(self.steps) and not self.stopped_early and self.steps[-1].within(bound_ms)


def _sleep_until(t_ns: int) -> None:
    left = (t_ns - time.monotonic_ns()) / 1e9
    if left > 0:
        time.sleep(left)


def _rss(pids: list[int]) -> int:
    return sum(machine.rss_bytes(p) for p in pids)


def run_step(
    cfg: BenchConfig, pool: Pool, target: Target, sc: Scenario, rate: float, per_conn: float
) -> StepResult:
    roles = machine.Roles(target.server_pids(), target.aux_pids(), [*pool.pids, os.getpid()])
    t0 = time.monotonic_ns() + int(START_DELAY_S * 1e9)
    cmd = StepCmd(t0, rate, sc.clients, cfg.warmup_s, cfg.duration_s, cfg.grace_s, cfg.text_size)
    pool.start_step(cmd)
    win_start = t0 + int(cfg.warmup_s * 1e9)
    _sleep_until(win_start)
    a = machine.sample(roles, time.monotonic())
    _sleep_until(win_start + int(cfg.duration_s * 1e9))
    b = machine.sample(roles, time.monotonic())
    parts = pool.collect(cfg.grace_s + 120)
    return combine(
        target.name, sc.kind, sc.clients, rate, cfg.duration_s, parts, machine.delta(a, b), per_conn
    )


def run_scenario(
    cfg: BenchConfig, pool: Pool, target: Target, sc: Scenario, say: Say
) -> ScenarioResult:
    say(f"== {target.name}: {sc.title}")
    specs = target.prepare(sc)
    time.sleep(SETTLE_S)
    rss0 = _rss(target.server_pids())
    conn = pool.connect(target.ws_url(), target.dialect, specs, cfg.ack_interval_s)
    time.sleep(SETTLE_S)
    rss1 = _rss(target.server_pids())
    per_conn = (rss1 - rss0) / conn.ok if conn.ok else float("nan")
    say(
        f"  connected {conn.ok}/{len(specs)} in {conn.seconds:.1f}s, "
        f"server RSS {rss0 / 2**20:.0f} -> {rss1 / 2**20:.0f} MiB "
        f"({per_conn / 1024:.1f} KiB/connection)"
        + (f"; failures: {dict(conn.errors)}" if conn.failed else "")
    )
    result = ScenarioResult(target.name, sc, conn, per_conn)
    if conn.ok == 0:
        result.stopped_early = "no client could connect"
        return result
    try:
        for rate in cfg.rates_for(sc.kind):
            step = run_step(cfg, pool, target, sc, rate, per_conn)
            result.steps.append(step)
            say("  " + step_line(step, cfg.p99_bound_ms))
            if not step.within(cfg.p99_bound_ms) and not cfg.keep_going:
                result.stopped_early = f"stopped after {rate:g} msg/s per client: past the bound"
                break
            time.sleep(SETTLE_S)
    except WorkerFailed:
        raise
    except Exception:
        pool.disconnect()  # leave the workers clean for the next target
        raise
    pool.disconnect()  # (on Ctrl-C the caller kills the workers instead of waiting)
    return result


def verdict_of(s: StepResult, bound_ms: float) -> str:
    """ok / OVER, and whether the load client itself fell behind (then it measured itself)."""
    if s.within(bound_ms):
        return "ok"
    return "OVER (client lag)" if s.lag.p99 > bound_ms / 2 else "OVER"


def step_line(s: StepResult, bound_ms: float) -> str:
    verdict = verdict_of(s, bound_ms)
    errs = f" errors={s.errors}" if s.errors else ""
    return (
        f"rate {s.rate:g}/client: {s.sends_per_s:.0f} sends/s, {s.delivered_per_s:.0f} del/s, "
        f"sent {s.sent.fmt()} ms, msg {s.msg.fmt()} ms, lag p99 {s.lag.p99:.1f} ms, "
        f"lost {s.lost}, srv {s.server_cpu_per_1k:.3f} cpu-s/1k, "
        f"client {s.cpu.client_s / s.cpu.wall_s:.2f} cores, "
        f"others {s.cpu.others_cores:.2f} cores [{verdict}]{errs}"
    )
