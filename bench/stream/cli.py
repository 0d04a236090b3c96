"""`python -m bench.stream`: throughput, then freshness per rate, then the report."""

from __future__ import annotations

from dataclasses import asdict

from bench.base.cli import Benchmark, Say, run
from bench.base.report import STREAMING, RunInfo
from bench.stream import freshness, throughput
from bench.stream.config import StreamBenchConfig, parse_args
from bench.stream.freshness import FreshResult
from bench.stream.kafkaio import fresh_kafka, stop_all
from bench.stream.report import render
from bench.stream.throughput import ThroughputResult
from stack.manager import Stack


class StreamBench(Benchmark[StreamBenchConfig]):
    """The streaming job: a batch's throughput, then freshness at each rate."""

    module = "bench.stream"
    partial_name = "RESULTS.partial.md"
    stopped = "the job, the load processes and Kafka are stopped"

    def __init__(self, cfg: StreamBenchConfig, say: Say) -> None:
        super().__init__(cfg, say)
        self.tput: ThroughputResult | None = None
        self.fresh: list[FreshResult] = []

    @staticmethod
    def parse(argv: list[str]) -> StreamBenchConfig:
        return parse_args(argv)

    def measure(self, notes: list[str]) -> None:
        cfg, say = self.cfg, self.say
        st: Stack | None = None
        try:
            if "throughput" in cfg.runs:
                st = fresh_kafka(cfg, say)
                tput = self.tput = throughput.run(cfg, st, say)
                say(f"  throughput: {tput.events_per_s:,.0f} events/s "
                    f"(steady {tput.steady_per_s:,.0f}/s)")  # fmt: skip
                stop_all(st)
            if "freshness" in cfg.runs:
                for rate in cfg.rates:
                    st = fresh_kafka(cfg, say)
                    f = freshness.run(cfg, st, rate, say)
                    self.fresh.append(f)
                    say(f"  {rate:,.0f}/s: final→visible p50/p99/max s: message_count "
                        f"{f.count.total.fmt()}, "
                        f"moderation {f.moderation.total.fmt()}")  # fmt: skip
                    stop_all(st)
        finally:
            if st is not None:
                stop_all(st)

    def render(self, info: RunInfo) -> str:
        return render(self.cfg, info, self.tput, self.fresh)

    def raw(self) -> dict[str, object]:
        return {
            "throughput": asdict(self.tput) if self.tput else None,
            "freshness": [asdict(f) for f in self.fresh],
        }

    def publish(self, text: str) -> str:
        STREAMING.write(self.cfg.results, text)
        return f"streaming block written to {self.cfg.results}"


def main(argv: list[str]) -> int:
    return run(StreamBench, argv)
