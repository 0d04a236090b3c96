"""`python -m bench.stream`: throughput, then freshness per rate, then the report."""

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

from bench.base import machine
from bench.base.config import ROOT
from bench.base.report import STREAMING, RunInfo
from bench.stream import freshness, throughput
from bench.stream.config import StreamBenchConfig, parse_args
from bench.stream.freshness import FreshResult
from bench.stream.kafkaio import fresh_kafka, stop_all
from bench.stream.report import render
from bench.stream.throughput import ThroughputResult
from stack.manager import Stack


def say(msg: str) -> None:
    print(f"[bench.stream {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _commit() -> str:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  check=False).stdout.strip()  # fmt: skip
        except OSError:
            return ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{head}{' (with uncommitted changes)' if dirty else ''}"


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _measure(
    cfg: StreamBenchConfig, notes: list[str]
) -> tuple[ThroughputResult | None, list[FreshResult]]:
    tput: ThroughputResult | None = None
    fresh: list[FreshResult] = []
    st: Stack | None = None
    try:
        if "throughput" in cfg.runs:
            st = fresh_kafka(cfg, say)
            tput = throughput.run(cfg, st, say)
            say(f"  throughput: {tput.events_per_s:,.0f} events/s "
                f"(steady {tput.steady_per_s:,.0f}/s)")  # fmt: skip
            stop_all(st)
        if "freshness" in cfg.runs:
            for rate in cfg.rates:
                st = fresh_kafka(cfg, say)
                f = freshness.run(cfg, st, rate, say)
                fresh.append(f)
                say(f"  {rate:,.0f}/s: final→visible p50/p99/max s: message_count "
                    f"{f.count.total.fmt()}, moderation {f.moderation.total.fmt()}")  # fmt: skip
                stop_all(st)
    finally:
        if st is not None:
            stop_all(st)
    return tput, fresh


def main(argv: list[str]) -> int:
    cfg = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    started, t_start = time.strftime("%Y-%m-%d %H:%M", time.gmtime()), time.monotonic()
    machine_line = machine.describe()
    say(f"machine: {machine_line}")
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    tput: ThroughputResult | None = None
    fresh: list[FreshResult] = []
    interrupted = failed = False
    try:
        tput, fresh = _measure(cfg, notes)
    except KeyboardInterrupt:
        interrupted = True
        say("interrupted: the job, the load processes and Kafka are stopped")
    except Exception as e:
        failed = True
        notes.append(f"failed: `{f'{type(e).__name__}: {e}'.strip()[:1500]}`")
        say(f"failed:\n{traceback.format_exc()}")
    info = RunInfo(
        command=shlex.join([".venv/bin/python", "-m", "bench.stream", *argv]),
        started=started,
        minutes=(time.monotonic() - t_start) / 60,
        commit=_commit(),
        machine=machine_line,
        load_end=machine.loadavg(),
        notes=notes,
        interrupted=interrupted,
    )
    text = render(cfg, info, tput, fresh)
    print(text)
    raw = cfg.out_dir / "results.json"
    everything = {
        "info": asdict(info),
        "throughput": asdict(tput) if tput else None,
        "freshness": [asdict(f) for f in fresh],
    }
    raw.write_bytes(orjson.dumps(everything, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    if interrupted or failed:
        path = cfg.out_dir / "RESULTS.partial.md"
        path.write_text(text)
        say(f"{cfg.results} left alone; partial report in {path} (raw numbers: {raw})")
        return 130 if interrupted else 1
    STREAMING.write(cfg.results, text)
    say(f"streaming block written to {cfg.results} (raw numbers: {raw})")
    return 0
