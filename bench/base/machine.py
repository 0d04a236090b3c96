"""The machine the numbers ran on, and who else used its CPU meanwhile.

The machines are shared, so every result carries the load average and the
CPU time that processes other than ours (server under test, its Redis and
Kafka, the load client workers, this coordinator) used during the measured
window: busy time from /proc/stat minus the CPU time of our processes.
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import sys
from collections.abc import Iterable
from dataclasses import dataclass

import psutil

_HZ = os.sysconf("SC_CLK_TCK")


def raise_nofile() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def loadavg() -> tuple[float, float, float]:
    return os.getloadavg()


def describe() -> str:
    """One line: CPU model, cores, memory, kernel, Python."""
    mem = psutil.virtual_memory().total / 2**30
    la = " ".join(f"{x:.2f}" for x in loadavg())
    return (
        f"{_cpu_model()}, {os.cpu_count()} cores, {mem:.1f} GiB RAM, "
        f"Linux {platform.release()}, Python {sys.version.split()[0]}, "
        f"loadavg {la} (at start)"
    )


def system_busy_s() -> float:
    """CPU seconds the whole machine spent busy since boot (all cores)."""
    with open("/proc/stat") as f:
        parts = f.readline().split()
    # user nice system idle iowait irq softirq steal guest guest_nice
    vals = [int(x) for x in parts[1:]]
    busy = vals[0] + vals[1] + vals[2] + vals[5] + vals[6] + (vals[7] if len(vals) > 7 else 0)
    return busy / _HZ


def cpu_s(pids: Iterable[int]) -> float:
    """user+system CPU seconds of the given processes (gone ones count 0)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
    return total


def rss_bytes(pid: int) -> int:
    with contextlib.suppress(psutil.Error):
        return int(psutil.Process(pid).memory_info().rss)
    return 0


@dataclass(frozen=True)
class CpuSample:
    """CPU counters at one moment: ours by role, and the machine's."""

    at: float
    server: float
    aux: float
    client: float
    machine: float


@dataclass(frozen=True)
class CpuDelta:
    wall_s: float
    server_s: float
    aux_s: float
    client_s: float
    others_s: float  # CPU seconds of everybody else on the machine

    @property
    def others_cores(self) -> float:
        return self.others_s / self.wall_s if self.wall_s > 0 else 0.0


@dataclass(frozen=True)
class Roles:
    server: list[int]
    aux: list[int]  # Redis, Kafka: work the server delegates
    client: list[int]  # load workers and this coordinator


def sample(roles: Roles, at: float) -> CpuSample:
    return CpuSample(
        at, cpu_s(roles.server), cpu_s(roles.aux), cpu_s(roles.client), system_busy_s()
    )


def delta(a: CpuSample, b: CpuSample) -> CpuDelta:
    server, aux, client = b.server - a.server, b.aux - a.aux, b.client - a.client
    others = max(0.0, (b.machine - a.machine) - server - aux - client)
    return CpuDelta(b.at - a.at, server, aux, client, others)


def chdb_version() -> str:
    """The embedded ClickHouse the chDB benchmarks measure, as their reports name it."""
    import chdb  # only the chDB benchmarks load it

    return f"chdb {chdb.__version__} (embedded ClickHouse {chdb.engine_version})"
