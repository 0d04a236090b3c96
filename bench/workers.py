"""The coordinator's side of the load-client worker processes."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import signal
import time
from collections import Counter
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from bench.loadclient import (
    ConnectCmd,
    ConnectResult,
    DisconnectCmd,
    StepCmd,
    StopCmd,
    worker_main,
)
from bench.plan import ClientSpec
from bench.stats import WorkerStep


class WorkerFailed(RuntimeError):
    """A worker process died or did not answer in time."""


def _child(pipe: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the coordinator's to handle
    worker_main(pipe)


class Pool:
    def __init__(self, n: int) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[BaseProcess] = []
        for i in range(n):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_child, args=(child,), name=f"bench-worker-{i}", daemon=True)
            proc.start()
            child.close()
            self.pipes.append(parent)
            self.procs.append(proc)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    def _send(self, cmds: list[Any]) -> None:
        for pipe, cmd in zip(self.pipes, cmds, strict=True):
            pipe.send(cmd)

    def _collect(self, timeout_s: float) -> list[Any]:
        out = []
        deadline = time.monotonic() + timeout_s
        for i, pipe in enumerate(self.pipes):
            if not pipe.poll(max(0.0, deadline - time.monotonic())):
                raise WorkerFailed(f"worker {i} did not answer within {timeout_s:.0f}s")
            try:
                out.append(pipe.recv())
            except EOFError:
                raise WorkerFailed(f"worker {i} exited") from None
        return out

    def _call(self, cmds: list[Any], timeout_s: float) -> list[Any]:
        self._send(cmds)
        return self._collect(timeout_s)

    def connect(
        self, url: str, dialect: str, specs: list[ClientSpec], ack_interval_s: float
    ) -> ConnectResult:
        n = len(self.pipes)
        cmds = [ConnectCmd(url, dialect, specs[i::n], ack_interval_s) for i in range(n)]
        parts: list[ConnectResult] = self._call(cmds, 600)
        errors: Counter[str] = Counter()
        for p in parts:
            errors.update(p.errors)
        return ConnectResult(
            sum(p.ok for p in parts),
            sum(p.failed for p in parts),
            errors,
            max(p.seconds for p in parts),
        )

    def start_step(self, cmd: StepCmd) -> None:
        """Every worker runs the same schedule (each for its own clients)."""
        self._send([cmd] * len(self.pipes))

    def collect(self, timeout_s: float) -> list[WorkerStep]:
        out: list[WorkerStep] = self._collect(timeout_s)
        return out

    def disconnect(self) -> None:
        self._call([DisconnectCmd()] * len(self.pipes), 120)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the workers: politely within `timeout_s`, else SIGTERM (0: at once)."""
        for pipe in self.pipes:
            with contextlib.suppress(OSError, ValueError):
                pipe.send(StopCmd())
        deadline = time.monotonic() + timeout_s
        for proc in self.procs:
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
