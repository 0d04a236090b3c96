"""`python -m bench`: every target, scenario and rate, one after another, then the report."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import asdict
from types import FrameType

import orjson

from bench.artillery import ArtilleryResult
from bench.artillery import run as run_artillery
from bench.bare_target import BareTarget
from bench.base import machine
from bench.base.config import ROOT
from bench.base.report import RunInfo
from bench.centrifugo import CentrifugoTarget
from bench.config import BenchConfig, parse_args
from bench.im_target import ImTarget
from bench.plan import Scenario
from bench.report import render
from bench.runner import ScenarioResult, run_scenario
from bench.target import Target
from bench.workers import Pool, WorkerFailed


def say(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}{' (with uncommitted changes)' if dirty else ''}"


def _targets(cfg: BenchConfig) -> list[Target]:
    made: dict[str, Target] = {
        "im": ImTarget(cfg, say),
        "bare": BareTarget(cfg),
        "centrifugo": CentrifugoTarget(cfg, say),
    }
    return [made[name] for name in ("im", "bare", "centrifugo") if name in cfg.servers]


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _run_target(
    cfg: BenchConfig, pool: Pool, t: Target, results: list[ScenarioResult], notes: list[str]
) -> ArtilleryResult | None:
    art = None
    try:
        t.start()
        for n in cfg.clients:
            for kind in cfg.kinds:
                results.append(run_scenario(cfg, pool, t, Scenario(kind, n, cfg.group_size), say))
        if isinstance(t, ImTarget) and cfg.artillery:
            art = run_artillery(cfg, t.solo_users(cfg.artillery_vusers), say)
            say(f"artillery: {'done' if art.ok else art.detail}")
    except (WorkerFailed, KeyboardInterrupt):
        raise
    except Exception as e:
        detail = f"{type(e).__name__}: {e}".strip()
        notes.append(f"{t.name} failed: `{detail[:1500]}`")
        say(f"{t.name} failed:\n{traceback.format_exc()}")
    finally:
        notes.extend(f"{t.name}: {n}" for n in t.notes)
        t.stop()
    return art


def main(argv: list[str]) -> int:
    cfg = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    nofile = machine.raise_nofile()
    need = max(cfg.clients) + 200
    if nofile < need:
        say(f"warning: RLIMIT_NOFILE is {nofile}, {max(cfg.clients)} clients need about {need}")
    started, t_start = time.strftime("%Y-%m-%d %H:%M", time.gmtime()), time.monotonic()
    machine_line = machine.describe()
    say(f"machine: {machine_line}")
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    results: list[ScenarioResult] = []
    notes: list[str] = []
    art: ArtilleryResult | None = None
    targets = _targets(cfg)
    interrupted = False
    pool = Pool(cfg.workers)
    try:
        for t in targets:
            art = _run_target(cfg, pool, t, results, notes) or art
    except KeyboardInterrupt:
        interrupted = True
        say("interrupted: stopping every server and worker")
    except WorkerFailed as e:
        notes.append(f"load client failed: {e}")
        say(f"load client failed: {e}")
    finally:
        pool.close(0 if interrupted else 10)
        for t in targets:
            t.stop()
    info = RunInfo(
        command=shlex.join([".venv/bin/python", "-m", "bench", *argv]),
        started=started,
        minutes=(time.monotonic() - t_start) / 60,
        commit=_commit(),
        machine=machine_line,
        load_end=machine.loadavg(),
        versions={t.name: t.description for t in targets},
        notes=notes,
        interrupted=interrupted,
    )
    text = render(cfg, info, results, art)
    print(text)
    path = cfg.results if not interrupted else cfg.out_dir / "RESULTS.interrupted.md"
    path.write_text(text + "\n")
    raw = cfg.out_dir / "results.json"
    raw.write_bytes(
        orjson.dumps(
            {"info": asdict(info), "scenarios": [asdict(r) for r in results]},
            option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS,
        )
    )
    say(f"results written to {path} (raw numbers: {raw})")
    return 130 if interrupted else 0
