"""Options of the streaming benchmark, in one frozen object (read by bench.base.config.parse)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from bench.base.config import OUT_DIR, RESULTS, OptionError, StackPorts, csv, option, parse

FULL_EVENTS = 500_000
FULL_RATES = (1000.0, 10000.0)
FULL_DURATION_S = 30.0
RUNS = ("throughput", "freshness")
# Its own Kafka, away from the dev (19092), test (29092) and chat bench (39092) stacks.
# Redis, HTTP and analytics are never started; set so no setting points at another stack.
PORTS = StackPorts(kafka=49092, kafka_controller=49093, redis=46379, http=48080, analytics=48090,
                   monitor=48095, ops=48180)  # fmt: skip
# --cluster: the stack's Flink session cluster on ports of its own (REST / web UI, RPC).
FLINK_REST_PORT, FLINK_RPC_PORT = 48081, 46123


def _rates(raw: str) -> tuple[float, ...]:
    out = csv(float)(raw)
    if not out or min(out) <= 0:
        raise argparse.ArgumentTypeError("rates must be > 0")
    return out


@dataclass(frozen=True)
class StreamBenchConfig:
    only: str | None = option(None, "--only", choices=RUNS, help="run one part only")
    # 1. sustained throughput: a pre-produced batch
    events: int = option(  # chat.message events (duplicates and ticks come on top)
        FULL_EVENTS, "--events", int, "chat.message events in the batch"
    )
    span_s: float = option(  # event time the batch covers
        3600.0, "--span", float, "event-time span of the batch, s"
    )
    batch_count_window_s: int = option(  # message_count window in this run (the job's default)
        60, "--batch-count-window", int, "IM_STREAM_COUNT_WINDOW_S of the throughput run"
    )
    timeout_s: float = option(  # bound on the job's processing of the batch
        900.0, "--timeout", float, "s the job may take for the batch"
    )
    # 2. freshness: open loop at fixed rates
    rates: tuple[float, ...] = option(  # chat.message events per second
        FULL_RATES, "--rates", _rates, "events/s, e.g. 1000,10000"
    )
    warmup_s: float = option(10.0, "--warmup", float, "s at the rate, not measured")
    duration_s: float = option(FULL_DURATION_S, "--duration", float, "s measured per rate")
    fresh_count_window_s: int = option(  # message_count window in these runs (several per run)
        5, "--fresh-count-window", int, "IM_STREAM_COUNT_WINDOW_S of the freshness runs"
    )
    tick_interval_s: float = 0.5  # ticks into every partition
    flood_every_s: float = option(  # one injected flood (flood_count messages of a new sender)
        1.0, "--flood-every", float, "s between injected floods"
    )
    grace_max_s: float = option(  # bound on waiting for the last rows after the input stops
        90.0, "--grace-max", float, "s to wait at most for the last rows"
    )
    # the job
    checkpoint_s: float = option(1.0, "--checkpoint", float, "IM_STREAM_CHECKPOINT_S of every run")
    lateness_s: int = option(  # the job's default watermark bound
        5, "--lateness", int, "IM_STREAM_LATENESS_S"
    )
    parallelism: int = option(1, "--parallelism", int, "IM_STREAM_PARALLELISM")  # job's default
    # Where the job runs: its own process (a local mini-cluster, `python -m streaming`), or
    # submitted to a Flink session cluster configured as the local stack's (stack/flink.py:
    # state backend, memory), whose TaskManager's memory is then the job's.
    cluster: bool = option(
        False, "--cluster", action="store_true", help="run the job on the stack's Flink cluster"
    )
    partitions: int = 4  # the stack's default partitions per topic
    seed: int = option(1, "--seed", int)
    out_dir: Path = OUT_DIR / "stream"
    results: Path = option(RESULTS, "--results", Path,
                           "Markdown file whose streaming block is (re)written")  # fmt: skip
    ports: StackPorts = PORTS

    @property
    def runs(self) -> tuple[str, ...]:
        """The parts to run: both, or the one of --only."""
        return RUNS if self.only is None else (self.only,)

    @property
    def full_run(self) -> bool:
        return (
            ("throughput" not in self.runs or self.events >= FULL_EVENTS)
            and ("freshness" not in self.runs or set(FULL_RATES) <= set(self.rates))
            and ("freshness" not in self.runs or self.duration_s >= FULL_DURATION_S)
            and set(self.runs) == set(RUNS)
        )


def _settle(c: StreamBenchConfig, given: frozenset[str]) -> StreamBenchConfig:
    if c.events < 1000 or c.span_s < 60 or c.duration_s < 5 or c.warmup_s < 0:
        raise OptionError("--events >= 1000, --span >= 60, --duration >= 5, --warmup >= 0")
    if (
        c.checkpoint_s <= 0
        or c.lateness_s < 1
        or c.fresh_count_window_s < 1
        or (c.flood_every_s <= 0)
    ):
        raise OptionError(
            "--checkpoint > 0, --lateness >= 1, --fresh-count-window >= 1, --flood-every > 0"
        )
    if c.batch_count_window_s < 1 or c.parallelism < 1 or c.timeout_s <= 0 or c.grace_max_s <= 0:
        raise OptionError(
            "--batch-count-window >= 1, --parallelism >= 1, --timeout and --grace-max > 0"
        )
    return c


def parse_args(argv: list[str]) -> StreamBenchConfig:
    return parse(
        StreamBenchConfig,
        argv,
        prog="python -m bench.stream",
        description="Throughput and freshness of the streaming job (python -m streaming, "
        "every query) on its own Kafka; results into bench/RESULTS.md.",
        settle=_settle,
    )
