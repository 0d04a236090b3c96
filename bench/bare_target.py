"""Target: the bare broadcast server (bench/bare_server.py), started per scenario."""

from __future__ import annotations

import os
import sys

import orjson

from bench.base.config import ROOT
from bench.config import BenchConfig
from bench.plan import ClientSpec, Scenario
from bench.target import Target, proc, start_proc
from stack import probes


class BareTarget(Target):
    name = "bare"
    dialect = "im"
    description = "bare `websockets` broadcast server, no storage (the ceiling)"

    def __init__(self, cfg: BenchConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.port = cfg.ports.bare
        self.proc = proc("bare", cfg.out_dir)

    def prepare(self, sc: Scenario) -> list[ClientSpec]:
        specs: list[ClientSpec] = []
        members: dict[str, list[str]] = {}
        for k, chunk in enumerate(sc.chunks()):
            conv = f"{sc.kind[0]}{k}"
            members[conv] = [f"b{i}" for i in chunk]
            specs += [ClientSpec(i, f"b{i}", f"b{i}", conv, len(chunk)) for i in chunk]
        path = self.cfg.out_dir / "bare-members.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(members))
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        argv = [sys.executable, "-m", "bench.bare_server", "--port", str(self.port)]
        start_proc(
            self.proc,
            [*argv, "--members", str(path)],
            env,
            lambda: None if probes.port_in_use(self.port) else "port not open yet",
            self.port,
        )
        return specs

    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def server_pids(self) -> list[int]:
        pid = self.proc.pid()
        return [pid] if pid else []

    def stop(self) -> None:
        self.proc.stop()
