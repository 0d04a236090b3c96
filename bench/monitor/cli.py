"""`python -m bench.monitor`: a Redis of its own, each key count in turn, then the report."""

from __future__ import annotations

import asyncio
import shutil
import socket
from dataclasses import asdict

from bench.base.cli import Benchmark, Say, run
from bench.base.report import RunInfo, write_check
from bench.monitor.config import MonitorBenchConfig, parse_args
from bench.monitor.measure import SizeResult, measure
from bench.monitor.report import SECTION, render
from im.envconfig import load
from stack.manager import Stack
from stack.settings import StackSettings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MonitorBench(Benchmark[MonitorBenchConfig]):
    """The collector's CPU and the Redis time of one round, by number of keys."""

    module = "bench.monitor"
    partial_name = "RESULTS.partial.md"
    stopped = "its Redis is stopped"

    def __init__(self, cfg: MonitorBenchConfig, say: Say) -> None:
        super().__init__(cfg, say)
        self.sizes: list[SizeResult] = []

    @staticmethod
    def parse(argv: list[str]) -> MonitorBenchConfig:
        return parse_args(argv)

    def measure(self, notes: list[str]) -> None:
        cfg, say = self.cfg, self.say
        folder = cfg.out_dir / "stack"
        shutil.rmtree(folder, ignore_errors=True)
        env = {"IM_STACK_DIR": str(folder), "IM_REDIS_PORT": str(free_port()),
               "IM_REDIS_MAXMEMORY": cfg.maxmemory}  # fmt: skip
        st = Stack(load(StackSettings, env), say=lambda m: say(f"stack: {m}"))
        try:
            st.up(["redis"])
            pid = st.proc("redis").pid()
            assert pid is not None
            for n in cfg.keys:
                say(f"{n:,} keys: filling, then {cfg.rounds} rounds")
                size = asyncio.run(measure(st.settings.redis_url, pid, n, cfg))
                self.sizes.append(size)
                say(f"  Redis {size.median('redis_ms'):.2f} ms/round (longest command "
                    f"{size.most('longest_us'):.0f} µs), collector CPU "
                    f"{size.median('cpu_ms'):.1f} ms/round")  # fmt: skip
        finally:
            st.down(["redis"])

    def render(self, info: RunInfo) -> str:
        return render(self.cfg, info, self.sizes)

    def raw(self) -> dict[str, object]:
        return {"sizes": [asdict(s) for s in self.sizes]}

    def publish(self, text: str) -> str:
        """The section goes inside the checks block, which every benchmark keeps."""
        write_check(self.cfg.results, SECTION, text)
        return f"monitor section of the checks block written to {self.cfg.results}"


def main(argv: list[str]) -> int:
    return run(MonitorBench, argv)
