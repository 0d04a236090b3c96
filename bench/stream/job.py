"""The real streaming job (`python -m streaming`, every query): its own process (a local
mini-cluster), or submitted to the stack's Flink session cluster (`--cluster`)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.base.cli import Say
from bench.stream.kafkaio import JOB
from im.envconfig import load
from stack import flink, install
from stack.manager import Stack
from stack.procs import Proc, ProcessFailed
from stack.services import base_env
from stack.settings import StackSettings
from streaming import queries
from streaming.settings import StreamSettings

READY_TIMEOUT_S = 240.0


@dataclass
class Job:
    """The job's process: `python -m streaming` (its mini-cluster JVM a child), or on
    `--cluster` the stack's TaskManager (state and operators live there)."""

    proc: Proc
    settings: StreamSettings
    spawned_at: float  # wall clock (time.time())
    flink_logs: Path
    ready_at: float = 0.0
    job_id: str = ""
    rest: str = ""  # --cluster: the cluster's REST URL (the job is cancelled there)
    others: tuple[Proc, ...] = ()  # --cluster: the JobManager (its CPU counts as the job's)
    where: str = "a local mini-cluster in its own process"

    @property
    def startup_s(self) -> float:
        return self.ready_at - self.spawned_at

    def pids(self) -> list[int]:
        """The job's processes and their children (the PyFlink gateway JVM runs the
        mini-cluster; on a cluster, the TaskManager and the JobManager)."""
        out: list[int] = []
        for proc in (self.proc, *self.others):
            pid = proc.pid()
            if pid is None:
                continue
            out.append(pid)
            with contextlib.suppress(psutil.Error):
                out += [c.pid for c in psutil.Process(pid).children(recursive=True)]
        return out

    def rss_bytes(self) -> int:
        """Resident memory of the job's process group (on a cluster: the TaskManager's)."""
        return self.proc.rss_bytes()

    def stop(self) -> None:
        if self.rest:  # the cluster stays (the stack stops it); its job is cancelled
            with contextlib.suppress(flink.RestError):
                flink.cancel(self.rest, self.job_id)
            return
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


def start(st: Stack, overrides: dict[str, str], say: Say, cluster: bool = False) -> Job:
    """Spawn the job; returns once it wrote its ready file (the job graph is submitted)."""
    if cluster:
        return start_on_cluster(st, overrides, say)
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


def cluster_description(s: StackSettings) -> str:
    """The cluster the job runs on with --cluster: stack/flink.py's settings that size it."""
    c = flink.config(s)
    # What Flink uses when stack/flink.py does not set a key.
    defaults = {"state.backend.type": "hashmap", "execution.checkpointing.incremental": False,
                "taskmanager.memory.process.size": "-",
                "taskmanager.memory.managed.fraction": 0.4}  # fmt: skip
    return (
        "the stack's Flink session cluster (stack/flink.py: "
        + ", ".join(
            f"`{k}: {c[k]}`" if k in c else f"`{k}` unset ({v})" for k, v in defaults.items()
        )
        + "; job RSS = the TaskManager's)"
    )


def state_size_note(job: Job) -> str | None:
    """On a cluster: the size of the job's state in its newest completed checkpoint (REST),
    full and what that checkpoint uploaded (less than full when incremental)."""
    if not job.rest:
        return None
    try:
        latest = flink.rest(f"{job.rest}/jobs/{job.job_id}/checkpoints")["latest"]["completed"]
    except (flink.RestError, KeyError, TypeError):
        return None
    if not latest:
        return None
    full, uploaded = latest.get("state_size", 0), latest.get("checkpointed_size", 0)
    return (
        f"state in the newest completed checkpoint ({latest.get('id')}): "
        f"{full / 2**20:,.1f} MiB in all, {uploaded / 2**20:,.1f} MiB uploaded by it"
    )


def start_on_cluster(st: Stack, overrides: dict[str, str], say: Say) -> Job:
    """`flink run -d -pym streaming` onto the stack's cluster (as stack.submit does, without
    resuming: every part starts from empty topics); returns once the job is submitted."""
    s = st.settings
    env = flink.env(s, job_env(st, overrides, say))
    env["FLINK_LOG_DIR"] = str(s.logs / "flink")  # the cluster's own: checkpoint lines
    settings = load(StreamSettings, env)
    ready = Path(env["IM_STREAM_READY_FILE"])
    ready.unlink(missing_ok=True)
    rest = flink.rest_url(s)
    argv = [str(flink.flink_home() / "bin" / "flink"), "run", "-d", "-m",
            rest.removeprefix("http://"), "-pyclientexec", sys.executable,
            "-pym", "streaming"]  # fmt: skip
    spawned = time.time()
    log = s.logs / "stream-submit.log"
    with log.open("ab") as out:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env,
                              timeout=READY_TIMEOUT_S, check=False)  # fmt: skip
    job_id = ready.read_text().strip() if ready.exists() else ""
    if done.returncode != 0 or not job_id:
        raise ProcessFailed(JOB, f"flink run failed (exit {done.returncode})", log)
    job = Job(st.proc("flink-taskmanager"), settings, spawned, s.logs / "flink",
              ready_at=time.time(), job_id=job_id, rest=rest,
              others=(st.proc("flink-jobmanager"),), where=cluster_description(s))  # fmt: skip
    say(f"job {job_id} submitted to {rest} in {job.startup_s:.1f} s (log {log})")
    return job


def describe(s: StreamSettings, where: str = "") -> str:
    return (
        (f"on {where}: " if where else "")
        + f"queries {', '.join(queries.QUERY_ORDER)} in one job graph, parallelism "
        f"{s.parallelism}, exactly-once Kafka sinks, checkpoint every "
        f"{s.checkpoint_interval_s:g} s, watermark lateness "
        f"{s.lateness_s} s, flood ≥ {s.flood_count} msgs in {s.flood_within_s} s, session gap "
        f"{s.session_gap_s} s"
    )


def env_line(overrides: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(overrides.items()))
