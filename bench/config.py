"""Command-line options of the benchmark, in one frozen object."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
KINDS = ("group", "direct")
SERVERS = ("im", "bare", "centrifugo")


@dataclass(frozen=True)
class Ports:
    """Every port the benchmark listens on: away from the dev (8080) and test (28080) stacks."""

    redis: int = 36379
    kafka: int = 39092
    kafka_controller: int = 39093
    im_http: int = 38080
    analytics: int = 38090  # not started; set so the stack settings never collide
    bare: int = 38180
    centrifugo: int = 38280


@dataclass(frozen=True)
class BenchConfig:
    clients: tuple[int, ...] = (1000, 5000)
    kinds: tuple[str, ...] = KINDS
    servers: tuple[str, ...] = SERVERS
    rates: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5, 0.7, 1.0, 1.4, 2.0)  # msgs/s per client
    # The IM server lets a user keep sending 2 msg/s (IM_RATE_PER_S): the default
    # sweeps stay within it, so they measure the server, not its rate limiter.
    direct_rates: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0)  # direct chats
    duration_s: float = 30.0
    warmup_s: float = 5.0
    grace_s: float = 5.0
    group_size: int = 50
    workers: int = 2
    text_size: int = 100
    p99_bound_ms: float = 100.0
    keep_going: bool = False
    ack_interval_s: float = 1.0
    setup_concurrency: int = 8
    artillery: bool = True
    artillery_vusers: int = 50
    artillery_loops: int = 20
    out_dir: Path = BENCH_DIR / "out"
    results: Path = BENCH_DIR / "RESULTS.md"
    ports: Ports = Ports()

    def rates_for(self, kind: str) -> tuple[float, ...]:
        return self.rates if kind == "group" else self.direct_rates

    @property
    def full_run(self) -> bool:
        """True for a run that counts as the benchmark (else it is labelled a smoke run)."""
        return (
            min(self.clients) >= 1000
            and max(self.clients) >= 5000
            and self.duration_s >= 30
            and set(self.servers) == set(SERVERS)
        )


def _csv(conv: Callable[[str], T]) -> Callable[[str], tuple[T, ...]]:
    def parse(raw: str) -> tuple[T, ...]:
        try:
            return tuple(conv(p.strip()) for p in raw.split(",") if p.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a comma-separated list: {raw!r}") from None

    return parse


def parse_args(argv: list[str]) -> BenchConfig:
    d = BenchConfig()
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Open-loop WebSocket benchmark: the IM server vs a bare broadcast "
        "server vs Centrifugo, same client, same machine.",
    )
    p.add_argument("--clients", type=_csv(int), default=d.clients, help="e.g. 1000,5000")
    p.add_argument("--kinds", type=_csv(str), default=d.kinds, help="group,direct")
    p.add_argument("--servers", type=_csv(str), default=d.servers, help="im,bare,centrifugo")
    p.add_argument(
        "--rate", type=_csv(float), default=None, help="sweep: msgs/s per client (group chats)"
    )
    p.add_argument(
        "--direct-rate",
        type=_csv(float),
        default=None,
        help="sweep for direct chats (default: --rate if given, else its own list)",
    )
    p.add_argument("--duration", type=float, default=d.duration_s, help="seconds measured/step")
    p.add_argument("--warmup", type=float, default=d.warmup_s, help="seconds sent, not measured")
    p.add_argument("--grace", type=float, default=d.grace_s, help="seconds to wait for stragglers")
    p.add_argument("--group-size", type=int, default=d.group_size)
    p.add_argument("--workers", type=int, default=d.workers, help="load client processes")
    p.add_argument("--text-size", type=int, default=d.text_size, help="chars of message text")
    p.add_argument("--p99-bound", type=float, default=d.p99_bound_ms, help="ms, delivery p99")
    p.add_argument(
        "--keep-going", action="store_true", help="run every rate even past the p99 bound"
    )
    p.add_argument(
        "--ack-interval", type=float, default=d.ack_interval_s, help="s between batched acks"
    )
    p.add_argument("--setup-concurrency", type=int, default=d.setup_concurrency)
    p.add_argument("--no-artillery", action="store_true", help="skip the artillery cross-check")
    p.add_argument("--artillery-vusers", type=int, default=d.artillery_vusers)
    p.add_argument("--artillery-loops", type=int, default=d.artillery_loops)
    p.add_argument("--results", type=Path, default=d.results, help="Markdown file to write")
    a = p.parse_args(argv)
    bad_kind = set(a.kinds) - set(KINDS)
    bad_server = set(a.servers) - set(SERVERS)
    if bad_kind or bad_server:
        p.error(f"unknown kinds/servers: {sorted(bad_kind | bad_server)}")
    rates = a.rate or d.rates
    direct = a.direct_rate or a.rate or d.direct_rates
    if not a.clients or min(a.clients) < 2 or min(rates) <= 0 or min(direct) <= 0:
        p.error("--clients must be >= 2 and --rate > 0")
    if a.group_size < 2 or a.workers < 1 or a.duration <= 0:
        p.error("--group-size >= 2, --workers >= 1, --duration > 0")
    return BenchConfig(
        clients=tuple(a.clients),
        kinds=tuple(a.kinds),
        servers=tuple(a.servers),
        rates=tuple(sorted(rates)),
        direct_rates=tuple(sorted(direct)),
        duration_s=a.duration,
        warmup_s=a.warmup,
        grace_s=a.grace,
        group_size=a.group_size,
        workers=a.workers,
        text_size=max(24, a.text_size),
        p99_bound_ms=a.p99_bound,
        keep_going=a.keep_going,
        ack_interval_s=a.ack_interval,
        setup_concurrency=max(1, a.setup_concurrency),
        artillery=not a.no_artillery and "im" in a.servers,
        artillery_vusers=a.artillery_vusers,
        artillery_loops=a.artillery_loops,
        results=a.results,
    )
