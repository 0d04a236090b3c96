"""Checkpoints of one job, from its Flink log (the job runs with FLINK_LOG_DIR set to a
folder of its own, so no other PyFlink process on the machine writes or truncates it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.base.stats import Dist

_DONE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*Completed checkpoint (\d+) for job (\w+) "
    r"\((\d+) bytes, checkpointDuration=(\d+) ms"
)
_FAILED = re.compile(r"Checkpoint \d+ of job (\w+) expired")


@dataclass(frozen=True)
class Checkpoint:
    at: float  # wall clock (s) when it completed
    id: int
    bytes: int
    duration_s: float


@dataclass(frozen=True)
class Checkpoints:
    count: int
    duration: Dist  # seconds
    state_mib: float  # size of the last one
    failed: int

    def fmt(self) -> str:
        if not self.count:
            return "–"
        return (f"{self.count} checkpoints, duration p50/p99/max {self.duration.fmt()} s, "
                f"last {self.state_mib:.1f} MiB")  # fmt: skip


def read(log_dir: Path, job_id: str) -> list[Checkpoint]:
    out: list[Checkpoint] = []
    for path in sorted(log_dir.glob("*.log")):
        with path.open(errors="replace") as f:
            for line in f:
                m = _DONE.match(line)
                if m and m.group(3) == job_id:
                    at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
                    out.append(Checkpoint(at, int(m.group(2)), int(m.group(4)),
                                          int(m.group(5)) / 1000))  # fmt: skip
    return out


def failed(log_dir: Path, job_id: str) -> int:
    n = 0
    for path in sorted(log_dir.glob("*.log")):
        with path.open(errors="replace") as f:
            n += sum(1 for line in f if (m := _FAILED.search(line)) and job_id in m.groups())
    return n


def summary(log_dir: Path, job_id: str, since: float = 0.0, until: float = 1e12) -> Checkpoints:
    cps = [c for c in read(log_dir, job_id) if since <= c.at <= until]
    return Checkpoints(
        count=len(cps),
        duration=Dist.of(c.duration_s for c in cps),
        state_mib=cps[-1].bytes / 2**20 if cps else 0.0,
        failed=failed(log_dir, job_id),
    )
