"""Options of the streaming benchmark, in one frozen object."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from bench.config import BENCH_DIR

FULL_EVENTS = 500_000
FULL_RATES = (1000.0, 10000.0)
FULL_DURATION_S = 30.0


@dataclass(frozen=True)
class Ports:
    """Its own Kafka, away from the dev (19092), test (29092) and chat bench (39092) stacks.
    Redis, HTTP and analytics are never started; set so no setting points at another stack."""

    kafka: int = 49092
    kafka_controller: int = 49093
    redis: int = 46379
    http: int = 48080
    analytics: int = 48090


@dataclass(frozen=True)
class StreamBenchConfig:
    runs: tuple[str, ...] = ("throughput", "freshness")
    # 1. sustained throughput: a pre-produced batch
    events: int = FULL_EVENTS  # chat.message events (duplicates and ticks come on top)
    span_s: float = 3600.0  # event time the batch covers
    batch_count_window_s: int = 60  # message_count window in this run (the job's default)
    timeout_s: float = 900.0  # bound on the job's processing of the batch
    # 2. freshness: open loop at fixed rates
    rates: tuple[float, ...] = FULL_RATES  # chat.message events per second
    warmup_s: float = 10.0
    duration_s: float = FULL_DURATION_S  # measured
    fresh_count_window_s: int = 5  # message_count window in these runs (several per run)
    tick_interval_s: float = 0.5  # ticks into every partition
    flood_every_s: float = 1.0  # one injected flood (flood_count messages of a new sender)
    grace_max_s: float = 90.0  # bound on waiting for the last rows after the input stops
    # the job
    checkpoint_s: float = 1.0
    lateness_s: int = 5  # the job's default watermark bound
    parallelism: int = 1  # the job's default
    partitions: int = 4  # the stack's default partitions per topic
    seed: int = 1
    out_dir: Path = BENCH_DIR / "out" / "stream"
    results: Path = BENCH_DIR / "RESULTS.md"
    ports: Ports = Ports()

    @property
    def full_run(self) -> bool:
        return (
            ("throughput" not in self.runs or self.events >= FULL_EVENTS)
            and ("freshness" not in self.runs or set(FULL_RATES) <= set(self.rates))
            and ("freshness" not in self.runs or self.duration_s >= FULL_DURATION_S)
            and set(self.runs) == {"throughput", "freshness"}
        )


def _rates(raw: str) -> tuple[float, ...]:
    try:
        out = tuple(float(p) for p in raw.split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list: {raw!r}") from None
    if not out or min(out) <= 0:
        raise argparse.ArgumentTypeError("rates must be > 0")
    return out


def parse_args(argv: list[str]) -> StreamBenchConfig:
    d = StreamBenchConfig()
    p = argparse.ArgumentParser(
        prog="python -m bench.stream",
        description="Throughput and freshness of the streaming job (python -m streaming, "
        "every query) on its own Kafka; results into bench/RESULTS.md.",
    )
    p.add_argument("--only", choices=["throughput", "freshness"], help="run one part only")
    p.add_argument("--events", type=int, default=d.events, help="chat.message events in the batch")
    p.add_argument("--span", type=float, default=d.span_s, help="event-time span of the batch, s")
    p.add_argument("--batch-count-window", type=int, default=d.batch_count_window_s,
                   help="IM_STREAM_COUNT_WINDOW_S of the throughput run")  # fmt: skip
    p.add_argument("--timeout", type=float, default=d.timeout_s,
                   help="s the job may take for the batch")  # fmt: skip
    p.add_argument("--rates", type=_rates, default=d.rates, help="events/s, e.g. 1000,10000")
    p.add_argument("--warmup", type=float, default=d.warmup_s, help="s at the rate, not measured")
    p.add_argument("--duration", type=float, default=d.duration_s, help="s measured per rate")
    p.add_argument("--fresh-count-window", type=int, default=d.fresh_count_window_s,
                   help="IM_STREAM_COUNT_WINDOW_S of the freshness runs")  # fmt: skip
    p.add_argument("--flood-every", type=float, default=d.flood_every_s,
                   help="s between injected floods")  # fmt: skip
    p.add_argument("--grace-max", type=float, default=d.grace_max_s,
                   help="s to wait at most for the last rows")  # fmt: skip
    p.add_argument("--checkpoint", type=float, default=d.checkpoint_s,
                   help="IM_STREAM_CHECKPOINT_S of every run")  # fmt: skip
    p.add_argument("--lateness", type=int, default=d.lateness_s, help="IM_STREAM_LATENESS_S")
    p.add_argument("--parallelism", type=int, default=d.parallelism,
                   help="IM_STREAM_PARALLELISM")  # fmt: skip
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--results", type=Path, default=d.results,
                   help="Markdown file whose streaming block is (re)written")  # fmt: skip
    a = p.parse_args(argv)
    if a.events < 1000 or a.span < 60 or a.duration < 5 or a.warmup < 0:
        p.error("--events >= 1000, --span >= 60, --duration >= 5, --warmup >= 0")
    if a.checkpoint <= 0 or a.lateness < 1 or a.fresh_count_window < 1 or a.flood_every <= 0:
        p.error("--checkpoint > 0, --lateness >= 1, --fresh-count-window >= 1, --flood-every > 0")
    if a.batch_count_window < 1 or a.parallelism < 1 or a.timeout <= 0 or a.grace_max <= 0:
        p.error("--batch-count-window >= 1, --parallelism >= 1, --timeout and --grace-max > 0")
    return StreamBenchConfig(
        runs=(a.only,) if a.only else d.runs,
        events=a.events,
        span_s=a.span,
        batch_count_window_s=a.batch_count_window,
        timeout_s=a.timeout,
        rates=a.rates,
        warmup_s=a.warmup,
        duration_s=a.duration,
        fresh_count_window_s=a.fresh_count_window,
        flood_every_s=a.flood_every,
        grace_max_s=a.grace_max,
        checkpoint_s=a.checkpoint,
        lateness_s=a.lateness,
        parallelism=a.parallelism,
        seed=a.seed,
        results=a.results,
    )
