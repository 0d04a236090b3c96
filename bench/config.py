"""Options of the benchmark, in one frozen object (read by bench.base.config.parse)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from bench.base.config import OUT_DIR, RESULTS, OptionError, StackPorts, csv, option, parse

KINDS = ("group", "direct")
# The full run's servers; `im-monitor` (the IM server with the ops collector
# sampling it, to measure what the collector costs the chat path) on request.
FULL_RUN_SERVERS = ("im", "bare", "centrifugo")
SERVERS = ("im", "im-monitor", "bare", "centrifugo")


@dataclass(frozen=True)
class Ports(StackPorts):
    """Every port the benchmark listens on: away from the dev (8080) and test (28080) stacks
    (analytics is not started)."""

    bare: int
    centrifugo: int


PORTS = Ports(redis=36379, kafka=39092, kafka_controller=39093, http=38080, analytics=38090,
              ops=38380, monitor=38395, bare=38180, centrifugo=38280)  # fmt: skip


@dataclass(frozen=True)
class BenchConfig:
    clients: tuple[int, ...] = option((1000, 5000), "--clients", csv(int), "e.g. 1000,5000")
    kinds: tuple[str, ...] = option(KINDS, "--kinds", csv(str), "group,direct")
    servers: tuple[str, ...] = option(
        FULL_RUN_SERVERS, "--servers", csv(str), "im,im-monitor,bare,centrifugo"
    )
    rates: tuple[float, ...] = option(  # msgs/s per client
        (0.05, 0.1, 0.2, 0.5, 0.7, 1.0, 1.4, 2.0), "--rate", csv(float),
        "sweep: msgs/s per client (group chats)",
    )  # fmt: skip
    # The IM server lets a user keep sending 2 msg/s (IM_RATE_PER_S): the default
    # sweeps stay within it, so they measure the server, not its rate limiter.
    direct_rates: tuple[float, ...] = option(  # direct chats
        (0.2, 0.5, 1.0, 2.0), "--direct-rate", csv(float),
        "sweep for direct chats (default: --rate if given, else its own list)",
    )  # fmt: skip
    duration_s: float = option(30.0, "--duration", float, "seconds measured/step")
    warmup_s: float = option(5.0, "--warmup", float, "seconds sent, not measured")
    grace_s: float = option(5.0, "--grace", float, "seconds to wait for stragglers")
    group_size: int = option(50, "--group-size", int)
    workers: int = option(2, "--workers", int, "load client processes")
    text_size: int = option(100, "--text-size", int, "chars of message text")
    p99_bound_ms: float = option(100.0, "--p99-bound", float, "ms, delivery p99")
    keep_going: bool = option(False, "--keep-going", action="store_true",
                              help="run every rate even past the p99 bound")  # fmt: skip
    ack_interval_s: float = option(1.0, "--ack-interval", float, "s between batched acks")
    setup_concurrency: int = option(8, "--setup-concurrency", int)
    artillery: bool = option(True, "--no-artillery", action="store_false",
                             help="skip the artillery cross-check")  # fmt: skip
    artillery_vusers: int = option(50, "--artillery-vusers", int)
    artillery_loops: int = option(20, "--artillery-loops", int)
    out_dir: Path = OUT_DIR
    results: Path = option(RESULTS, "--results", Path, "Markdown file to write")
    ports: Ports = PORTS

    def rates_for(self, kind: str) -> tuple[float, ...]:
        return self.rates if kind == "group" else self.direct_rates

    @property
    def full_run(self) -> bool:
        """True for a run that counts as the benchmark (else it is labelled a smoke run)."""
        return (
            min(self.clients) >= 1000
            and max(self.clients) >= 5000
            and self.duration_s >= 30
            and set(FULL_RUN_SERVERS) <= set(self.servers)
        )


DEFAULTS = BenchConfig()


def _settle(c: BenchConfig, given: frozenset[str]) -> BenchConfig:
    bad = (set(c.kinds) - set(KINDS)) | (set(c.servers) - set(SERVERS))
    if bad:
        raise OptionError(f"unknown kinds/servers: {sorted(bad)}")
    rate = c.rates if "rates" in given else ()
    rates = rate or DEFAULTS.rates
    direct = (c.direct_rates if "direct_rates" in given else ()) or rate or DEFAULTS.direct_rates
    if not c.clients or min(c.clients) < 2 or min(rates) <= 0 or min(direct) <= 0:
        raise OptionError("--clients must be >= 2 and --rate > 0")
    if c.group_size < 2 or c.workers < 1 or c.duration_s <= 0:
        raise OptionError("--group-size >= 2, --workers >= 1, --duration > 0")
    return dataclasses.replace(
        c,
        rates=tuple(sorted(rates)),
        direct_rates=tuple(sorted(direct)),
        text_size=max(24, c.text_size),
        setup_concurrency=max(1, c.setup_concurrency),
        artillery=c.artillery and "im" in c.servers,
    )


def parse_args(argv: list[str]) -> BenchConfig:
    return parse(
        BenchConfig,
        argv,
        prog="python -m bench",
        description="Open-loop WebSocket benchmark: the IM server vs a bare broadcast "
        "server vs Centrifugo, same client, same machine.",
        settle=_settle,
    )
