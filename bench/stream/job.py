"""The real streaming job (`python -m streaming`, every query) as a process."""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.base.cli import Say
from bench.stream.kafkaio import JOB
from im.envconfig import load
from stack import install
from stack.manager import Stack
from stack.procs import Proc, ProcessFailed
from stack.services import base_env
from streaming import queries
from streaming.settings import StreamSettings

READY_TIMEOUT_S = 240.0


@dataclass
class Job:
    proc: Proc
    settings: StreamSettings
    spawned_at: float  # wall clock (time.time())
    flink_logs: Path
    ready_at: float = 0.0
    job_id: str = ""

    @property
    def startup_s(self) -> float:
        return self.ready_at - self.spawned_at

    def pids(self) -> list[int]:
        """The job's process and its children (the PyFlink gateway JVM runs the mini-cluster)."""
        pid = self.proc.pid()
        if pid is None:
            return []
        with contextlib.suppress(psutil.Error):
            root = psutil.Process(pid)
            return [pid, *(c.pid for c in root.children(recursive=True))]
        return []

    def rss_bytes(self) -> int:
        return self.proc.rss_bytes()

    def stop(self) -> None:
        self.proc.stop(timeout_s=15.0)


def job_env(st: Stack, overrides: dict[str, str], say: Say) -> dict[str, str]:
    """The job's environment: the stack's (PATH, PYTHONPATH, ...) with only the IM_* set here,
    so a setting exported in the caller's shell cannot change what is measured."""
    s = st.settings
    jars = install.flink_connector_jars(Path(s.cache_dir), say)
    env = {k: v for k, v in base_env(s).items() if not k.startswith("IM_")}
    env.update(
        IM_KAFKA_BOOTSTRAP=s.kafka_bootstrap,
        IM_FLINK_JARS=";".join(j.as_uri() for j in jars),
        IM_STREAM_CHECKPOINT_DIR=(s.data / "checkpoints").as_uri(),
        IM_STREAM_READY_FILE=str(s.run / "job.ready"),
        IM_STREAM_LATENESS_S=str(s.lateness_s),
        # PyFlink's JVM log (checkpoint lines) in a folder of its own, not the shared
        # one inside the virtualenv that every PyFlink process on the machine truncates
        FLINK_LOG_DIR=str(s.logs / "flink"),
    )
    env.update(overrides)
    return env


def start(st: Stack, overrides: dict[str, str], say: Say) -> Job:
    """Spawn the job; returns once it wrote its ready file (the job graph is submitted)."""
    env = job_env(st, overrides, say)
    settings = load(StreamSettings, env)
    ready = Path(env["IM_STREAM_READY_FILE"])
    ready.unlink(missing_ok=True)
    proc = Proc(JOB, st.settings.run, st.settings.logs)
    job = Job(proc, settings, time.time(), Path(env["FLINK_LOG_DIR"]))
    proc.start([sys.executable, "-m", "streaming"], env)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not ready.exists():
        if not proc.running():
            raise ProcessFailed(JOB, f"exited before ready\n{proc.tail(30)}\n", proc.log)
        if time.monotonic() > deadline:
            proc.stop()
            raise ProcessFailed(JOB, f"not ready after {READY_TIMEOUT_S:.0f}s", proc.log)
        time.sleep(0.05)
    job.ready_at = time.time()
    for _ in range(100):  # the file may be there a moment before its content
        job.job_id = ready.read_text().strip()
        if job.job_id:
            break
        time.sleep(0.01)
    say(f"job ready in {job.startup_s:.1f} s (pid {proc.pid()}, log {proc.log})")
    return job


def describe(s: StreamSettings) -> str:
    return (
        f"queries {', '.join(queries.QUERY_ORDER)} in one job graph, parallelism "
        f"{s.parallelism}, exactly-once Kafka sinks, checkpoint every "
        f"{s.checkpoint_interval_s:g} s, watermark lateness "
        f"{s.lateness_s} s, flood ≥ {s.flood_count} msgs in {s.flood_within_s} s, session gap "
        f"{s.session_gap_s} s"
    )


def env_line(overrides: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(overrides.items()))
