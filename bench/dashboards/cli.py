"""`python -m bench.dashboards`: a chDB of its own, the baseline's days, then all days, a report."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

from bench.base.cli import Benchmark, Say, run
from bench.base.machine import chdb_version
from bench.base.report import RunInfo, write_check
from bench.dashboards.config import DashboardsBenchConfig, parse_args
from bench.dashboards.measure import SizeResult, measure
from bench.dashboards.report import SECTION, render


class DashboardsBench(Benchmark[DashboardsBenchConfig]):
    """Every panel's query, over the baseline's days and over all days."""

    module = "bench.dashboards"
    partial_name = "RESULTS.partial.md"
    stopped = "its chDB is closed and removed"

    def __init__(self, cfg: DashboardsBenchConfig, say: Say) -> None:
        super().__init__(cfg, say)
        self.sizes: list[SizeResult] = []

    @staticmethod
    def parse(argv: list[str]) -> DashboardsBenchConfig:
        return parse_args(argv)

    def measure(self, notes: list[str]) -> None:
        asyncio.run(measure(self.cfg, self.say, self.sizes))

    def versions(self) -> dict[str, str]:
        return {"chdb": chdb_version()}

    def render(self, info: RunInfo) -> str:
        return render(self.cfg, info, self.sizes)

    def raw(self) -> dict[str, object]:
        return {"sizes": [asdict(s) for s in self.sizes]}

    def publish(self, text: str) -> str:
        """The section goes inside the checks block, which every benchmark keeps."""
        write_check(self.cfg.results, SECTION, text)
        return f"dashboards section of the checks block written to {self.cfg.results}"


def main(argv: list[str]) -> int:
    return run(DashboardsBench, argv)
