"""`python -m bench.hotkeys`: what the hot-key hook adds to packing a Redis command.

The server counts hot keys in its Redis connections' `pack_command`
(im/hotkey_conn.py), which every command passes through. This packs one mix
of commands as the server sends them (the sync path's token check,
membership and history reads, and the send step's EVALSHA) with a plain
redis-py connection (the baseline) and with the counting one at the default
`IM_HOTKEY_SAMPLE_RATE` and at rate 1 (every command counted, as the tests
run it), in one process, in short blocks that take turns (the order
rotating), so a change in the machine's load hits all three alike. No
Redis is needed: packing only builds bytes. Reported: µs per command (the
median block), the ratio to the baseline block measured next to it (median
and quartiles over the blocks), and the keys the hook counted.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection

from bench.base import machine
from bench.base.cli import Benchmark, Say, run
from bench.base.config import OUT_DIR, RESULTS, OptionError, option, parse
from bench.base.report import Block, RunInfo, disturbed, num, preamble, table, write_check
from contract import topics
from im import keys
from im.hotkey_conn import count_commands
from im.hotkeys import HotKeys
from im.settings import ServerSettings

SECTION = Block("hotkeys")  # inside the checks block
DEFAULT_RATE = ServerSettings().hotkey_sample_rate
CONV, USER, DIGEST, SHA = "c_" + "1" * 16, "u_" + "2" * 16, "3" * 64, "4" * 40
# The send step's EVALSHA (im/lua/send.lua: KEYS none, 11 ARGV with two templates).
SEND_STEP = ("EVALSHA", SHA, 0, CONV, USER, "cmid-1", "m" * 300, "e" * 400, 86400, topics.CHAT)
MIX: list[tuple[object, ...]] = [
    ("EVALSHA", SHA, 1, keys.token(DIGEST)),  # token check
    ("SISMEMBER", keys.members(CONV), USER),
    ("HGET", keys.former_members(CONV), USER),
    ("HGET", keys.conv(CONV), "max_seq"),
    ("HMGET", keys.messages(CONV), *[str(i) for i in range(1, 51)]),  # a history page
    (*SEND_STEP, DIGEST, 2.0, 20, 1),
]


@dataclass(frozen=True)
class HotKeysBenchConfig:
    blocks: int = option(300, "--blocks", int, "blocks per variant (they take turns)")
    block: int = option(100, "--block", int, "repetitions of the mix per block")
    rate: float = option(DEFAULT_RATE, "--rate", float, "the hook's sample rate (default's)")
    out_dir: Path = OUT_DIR / "hotkeys"
    results: Path = option(RESULTS, "--results", Path, "file whose checks block gets the section")


@dataclass
class Variant:
    name: str
    rate: float | None  # None: the plain connection
    block_s: list[float] = field(default_factory=list)
    counted: int = 0


def connection(rate: float | None) -> tuple[AbstractConnection, HotKeys | None]:
    pool = aioredis.BlockingConnectionPool.from_url("redis://127.0.0.1:1/0")  # never connects
    hot = None if rate is None else HotKeys(rate, 10, 10_000)
    if hot is not None:
        count_commands(pool, hot)
    return pool.connection_class(**pool.connection_kwargs), hot


def time_block(conn: AbstractConnection, commands: list[tuple[object, ...]]) -> float:
    pack = conn.pack_command
    started = time.perf_counter()
    for args in commands:
        pack(*args)  # type: ignore[arg-type]
    return time.perf_counter() - started


def quartiles(values: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return q[0], statistics.median(values), q[-1]


class HotKeysBench(Benchmark[HotKeysBenchConfig]):
    module = "bench.hotkeys"
    partial_name = "RESULTS.partial.md"
    stopped = "nothing to stop"

    def __init__(self, cfg: HotKeysBenchConfig, say: Say) -> None:
        super().__init__(cfg, say)
        self.variants = [Variant("plain", None), Variant("hook", cfg.rate), Variant("hook", 1.0)]
        self.others_cores = 0.0

    @staticmethod
    def parse(argv: list[str]) -> HotKeysBenchConfig:
        def settle(c: HotKeysBenchConfig, given: frozenset[str]) -> HotKeysBenchConfig:
            if c.blocks < 1 or c.block < 1 or not 0 < c.rate <= 1:
                raise OptionError("--blocks >= 1, --block >= 1, 0 < --rate <= 1")
            return c

        return parse(HotKeysBenchConfig, argv, prog="python -m bench.hotkeys",
                     description="The hot-key hook's cost per packed Redis command.",
                     settle=settle)  # fmt: skip

    def measure(self, notes: list[str]) -> None:
        commands = MIX * self.cfg.block
        conns = [connection(v.rate) for v in self.variants]
        roles = machine.Roles([], [], [os.getpid()])
        before = machine.sample(roles, time.monotonic())
        n = len(self.variants)
        for i in range(self.cfg.blocks):
            for j in range(n):  # the order rotates: none always runs first
                k = (i + j) % n
                self.variants[k].block_s.append(time_block(conns[k][0], commands))
        after = machine.sample(roles, time.monotonic())
        self.others_cores = machine.delta(before, after).others_cores
        for v, (_, hot) in zip(self.variants, conns, strict=True):
            v.counted = hot.counted if hot is not None else 0
        self.say(", ".join(f"{v.name} {self.us(v):.3f} µs" for v in self.variants))

    def us(self, v: Variant) -> float:
        return statistics.median(v.block_s) * 1e6 / (len(MIX) * self.cfg.block)

    def render(self, info: RunInfo) -> str:
        cfg, base = self.cfg, self.variants[0]
        about = [
            "- What runs: " + " ".join(__doc__.split("\n\n")[1].split()),
            f"- {num(cfg.blocks)} blocks of {num(len(MIX) * cfg.block)} commands per variant "
            f"(the mix, {cfg.block} times: {', '.join(str(c[0]) for c in MIX)})",
        ]
        side = "the ratios compare blocks measured side by side"
        warn = disturbed([("the run", self.others_cores)], "runs", side, by_name=False)
        out = preamble("## Hot-key hook: cost per Redis command (`python -m bench.hotkeys`)",
                       info, smoke=None, about=about, disturbed=warn)  # fmt: skip
        rows = []
        for v in self.variants:
            if not v.block_s or len(v.block_s) != len(base.block_s):
                continue
            paired = [a / b for a, b in zip(v.block_s, base.block_s, strict=True)]
            lo, mid, hi = quartiles(paired)
            rows.append([
                v.name, "–" if v.rate is None else f"{v.rate:g}", f"{self.us(v):.3f}",
                f"{mid:.3f} ({lo:.3f}–{hi:.3f})",
                f"{(self.us(v) - self.us(base)) * 1000:+.0f}",
                num(v.counted), f"{self.others_cores:.2f}",
            ])  # fmt: skip
        head = ["connection", "sample rate", "µs/command (median block)",
                "× plain: median (quartiles)", "ns added", "keys counted",
                "others' cores"]  # fmt: skip
        return "\n".join([*out, "", *table(head, rows)])

    def raw(self) -> dict[str, object]:
        return {"variants": [asdict(v) for v in self.variants], "others_cores": self.others_cores}

    def publish(self, text: str) -> str:
        write_check(self.cfg.results, SECTION, text)
        return f"hotkeys section of the checks block written to {self.cfg.results}"


def main(argv: list[str]) -> int:
    return run(HotKeysBench, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
