"""One command per benchmark: parse the options, measure, print and write the report.

A benchmark is a `Benchmark` subclass; `run(cls, argv)` does what every
benchmark does around its measurement: SIGTERM handled as Ctrl-C, the machine
line, the run's facts (`RunInfo`), the report printed, the raw numbers in
`<out_dir>/results.json`, and the report published into bench/RESULTS.md, or,
when the run was interrupted or failed, left in `<out_dir>/<partial_name>`
with RESULTS.md untouched (exit 130 for an interruption, 1 for a failure).
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import ClassVar, Generic, Protocol, TypeVar

import orjson

from bench.base import machine
from bench.base.config import ROOT
from bench.base.report import RunInfo

Say = Callable[[str], None]


class RunConfig(Protocol):
    """What `run` reads of a benchmark's settings."""

    @property
    def out_dir(self) -> Path: ...

    @property
    def results(self) -> Path: ...


C = TypeVar("C", bound=RunConfig)


def sayer(name: str) -> Say:
    """Progress lines on stderr, `[name HH:MM:SS] ...`."""

    def say(msg: str) -> None:
        print(f"[{name} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    return say


def git_commit(root: Path = ROOT) -> str:
    """The short HEAD commit, and whether tracked files have uncommitted changes."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                  check=False).stdout.strip()  # fmt: skip
        except OSError:
            return ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{head}{' (with uncommitted changes)' if dirty else ''}"


def command_line(module: str, argv: Sequence[str]) -> str:
    """The command as the README gives it."""
    return shlex.join([".venv/bin/python", "-m", module, *argv])


class Benchmark(ABC, Generic[C]):
    """One benchmark: its options, its measurement and its report."""

    module: ClassVar[str]  # python -m <module>; also the prefix of its progress lines
    partial_name: ClassVar[str]  # the report of an interrupted or failed run, in out_dir
    stopped: ClassVar[str]  # said after an interruption: what measure() has stopped

    def __init__(self, cfg: C, say: Say) -> None:
        self.cfg, self.say = cfg, say

    @staticmethod
    @abstractmethod
    def parse(argv: list[str]) -> C:
        """The settings from the command line (exits 2 with usage on bad options)."""

    def prepare(self) -> None:
        """Before the run's clock starts."""

    @abstractmethod
    def measure(self, notes: list[str]) -> None:
        """Run every measurement, keeping each result as it comes (a Ctrl-C or an error
        leaves the ones done for the partial report) and stopping everything it started
        before it returns or raises. Notes go into the report."""

    def versions(self) -> dict[str, str]:
        """What ran -> its description, for the report."""
        return {}

    @abstractmethod
    def render(self, info: RunInfo) -> str:
        """The Markdown report."""

    @abstractmethod
    def raw(self) -> dict[str, object]:
        """The raw results (results.json has them next to "info")."""

    @abstractmethod
    def publish(self, text: str) -> str:
        """Write the report into its results file; say what was written."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _text_file(text: str) -> str:
    return text.rstrip("\n") + "\n"


def run(kind: type[Benchmark[C]], argv: list[str]) -> int:
    """`python -m <kind.module> argv`: the exit status."""
    cfg = kind.parse(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _run(kind(cfg, sayer(kind.module)), argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(bench: Benchmark[C], argv: list[str]) -> int:
    cfg, say = bench.cfg, bench.say
    bench.prepare()
    started, t_start = time.strftime("%Y-%m-%d %H:%M", time.gmtime()), time.monotonic()
    machine_line = machine.describe()
    say(f"machine: {machine_line}")
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    interrupted = failed = False
    try:
        bench.measure(notes)
    except KeyboardInterrupt:
        interrupted = True
        say(f"interrupted: {bench.stopped}")
    except Exception as e:
        failed = True
        notes.append(f"failed: `{f'{type(e).__name__}: {e}'.strip()[:1500]}`")
        say(f"failed:\n{traceback.format_exc()}")
    info = RunInfo(
        command=command_line(bench.module, argv),
        started=started,
        minutes=(time.monotonic() - t_start) / 60,
        commit=git_commit(),
        machine=machine_line,
        load_end=machine.loadavg(),
        versions=bench.versions(),
        notes=notes,
        interrupted=interrupted,
    )
    text = bench.render(info)
    print(text)
    raw = cfg.out_dir / "results.json"
    everything = {"info": asdict(info), **bench.raw()}
    raw.write_bytes(orjson.dumps(everything, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    if interrupted or failed:
        path = cfg.out_dir / bench.partial_name
        path.write_text(_text_file(text))
        say(f"{cfg.results} left alone; partial report in {path} (raw numbers: {raw})")
        return 130 if interrupted else 1
    say(f"{bench.publish(_text_file(text))} (raw numbers: {raw})")
    return 0
