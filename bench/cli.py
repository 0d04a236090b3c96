"""`python -m bench`: every target, scenario and rate, one after another, then the report."""

from __future__ import annotations

import traceback
from dataclasses import asdict

from bench.artillery import ArtilleryResult
from bench.artillery import run as run_artillery
from bench.bare_target import BareTarget
from bench.base import machine
from bench.base.cli import Benchmark, Say, run
from bench.base.report import RunInfo
from bench.centrifugo import CentrifugoTarget
from bench.config import SERVERS, BenchConfig, parse_args
from bench.im_target import ImTarget
from bench.plan import Scenario
from bench.report import render
from bench.runner import ScenarioResult, run_scenario
from bench.target import Target
from bench.workers import Pool, WorkerFailed


def _targets(cfg: BenchConfig, say: Say) -> list[Target]:
    made: dict[str, Target] = {
        "im": ImTarget(cfg, say),
        "im-monitor": ImTarget(cfg, say, collector=True),
        "bare": BareTarget(cfg),
        "centrifugo": CentrifugoTarget(cfg, say),
    }
    return [made[name] for name in SERVERS if name in cfg.servers]


class ChatBench(Benchmark[BenchConfig]):
    """The IM server vs the bare ceiling vs Centrifugo, then the artillery cross-check."""

    module = "bench"
    partial_name = "RESULTS.interrupted.md"
    stopped = "every server and worker stopped"

    def __init__(self, cfg: BenchConfig, say: Say) -> None:
        super().__init__(cfg, say)
        self.targets = _targets(cfg, say)
        self.results: list[ScenarioResult] = []
        self.art: ArtilleryResult | None = None

    @staticmethod
    def parse(argv: list[str]) -> BenchConfig:
        return parse_args(argv)

    def prepare(self) -> None:
        nofile = machine.raise_nofile()
        need = max(self.cfg.clients) + 200
        if nofile < need:
            self.say(f"warning: RLIMIT_NOFILE is {nofile}, "
                     f"{max(self.cfg.clients)} clients need about {need}")  # fmt: skip

    def measure(self, notes: list[str]) -> None:
        pool = Pool(self.cfg.workers)
        wait_s = 0.0  # an interruption stops the workers at once
        try:
            for t in self.targets:
                self.art = self._run_target(pool, t, notes) or self.art
            wait_s = 10.0
        except WorkerFailed as e:
            wait_s = 10.0
            notes.append(f"load client failed: {e}")
            self.say(f"load client failed: {e}")
        finally:
            pool.close(wait_s)
            for t in self.targets:
                t.stop()

    def _run_target(self, pool: Pool, t: Target, notes: list[str]) -> ArtilleryResult | None:
        cfg, say = self.cfg, self.say
        art = None
        try:
            t.start()
            for n in cfg.clients:
                for kind in cfg.kinds:
                    sc = Scenario(kind, n, cfg.group_size)
                    self.results.append(run_scenario(cfg, pool, t, sc, say))
            if isinstance(t, ImTarget) and t.name == "im" and cfg.artillery:
                art = run_artillery(cfg, t.solo_users(cfg.artillery_vusers), say)
                say(f"artillery: {'done' if art.ok else art.detail}")
        except (WorkerFailed, KeyboardInterrupt):
            raise
        except Exception as e:
            detail = f"{type(e).__name__}: {e}".strip()
            notes.append(f"{t.name} failed: `{detail[:1500]}`")
            say(f"{t.name} failed:\n{traceback.format_exc()}")
        finally:
            notes.extend(f"{t.name}: {n}" for n in t.notes)
            t.stop()
        return art

    def versions(self) -> dict[str, str]:
        return {t.name: t.description for t in self.targets}

    def render(self, info: RunInfo) -> str:
        return render(self.cfg, info, self.results, self.art)

    def raw(self) -> dict[str, object]:
        return {"scenarios": [asdict(r) for r in self.results]}

    def publish(self, text: str) -> str:
        self.cfg.results.write_text(text)
        return f"results written to {self.cfg.results}"


def main(argv: list[str]) -> int:
    return run(ChatBench, argv)
