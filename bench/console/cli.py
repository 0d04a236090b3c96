"""`python -m bench.console`: a stack of its own, the baseline's days, then all days, a report."""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import asdict

from bench.base.cli import Benchmark, Say, run
from bench.base.machine import chdb_version
from bench.base.report import RunInfo, write_check
from bench.console.chromium import CHROMIUM
from bench.console.config import ConsoleBenchConfig, parse_args
from bench.console.measure import SizeResult, measure
from bench.console.report import SECTION, render


class ConsoleBench(Benchmark[ConsoleBenchConfig]):
    """The reply-rate dashboard's first render in Chromium, over the baseline's days and all."""

    module = "bench.console"
    partial_name = "RESULTS.partial.md"
    stopped = "its stack is stopped"

    def __init__(self, cfg: ConsoleBenchConfig, say: Say) -> None:
        super().__init__(cfg, say)
        self.sizes: list[SizeResult] = []

    @staticmethod
    def parse(argv: list[str]) -> ConsoleBenchConfig:
        return parse_args(argv)

    def measure(self, notes: list[str]) -> None:
        asyncio.run(measure(self.cfg, self.say, self.sizes))

    def versions(self) -> dict[str, str]:
        browser = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True,
                                 check=False).stdout.strip()  # fmt: skip
        engine = chdb_version()
        return {"chromium": browser or CHROMIUM, "chdb": engine}

    def render(self, info: RunInfo) -> str:
        return render(self.cfg, info, self.sizes)

    def raw(self) -> dict[str, object]:
        return {"sizes": [asdict(s) for s in self.sizes]}

    def publish(self, text: str) -> str:
        write_check(self.cfg.results, SECTION, text)
        return f"console section of the checks block written to {self.cfg.results}"


def main(argv: list[str]) -> int:
    return run(ConsoleBench, argv)
