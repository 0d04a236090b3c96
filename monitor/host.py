"""The host sampler: CPU, load, memory, the disk of each data folder, each service's process.

- `host_cpu_ratio`: busy share of all cores since the last round (none on the first).
- Disk per data folder (IM_OPS_DATA_DIRS): its file system's size and use,
  and the folder's own size (the apparent size of its files, walked).
- Per service of the stack (a pid file `<service>.pid` under IM_OPS_RUN_DIR,
  naming a process group as the stack manager starts them): the resident
  memory and CPU time of every process of the group, and the cores used
  since the last round (`process_cpu_cores`: 1.0 = one core busy).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import defaultdict
from pathlib import Path

import psutil

from monitor.sample import Maker, Sample

S = Maker("host")


def dir_size(path: Path) -> int:
    """Bytes of the files below `path` (apparent sizes; links not followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def service_groups(run_dir: Path) -> dict[str, int]:
    """service name -> the process group id its pid file names (running or not)."""
    out = {}
    for pid_file in sorted(run_dir.glob("*.pid")):
        with contextlib.suppress(OSError, ValueError):
            out[pid_file.stem] = int(pid_file.read_text().strip())
    return out


def group_usage(groups: dict[str, int]) -> dict[str, tuple[int, float, int]]:
    """service -> (RSS bytes, CPU seconds, processes) summed over its process group."""
    by_pgid = {pgid: name for name, pgid in groups.items()}
    usage: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0])
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            name = by_pgid.get(os.getpgid(proc.pid))
            if name is None:
                continue
            with proc.oneshot():
                cpu = proc.cpu_times()
                rss = proc.memory_info().rss
            row = usage[name]
            row[0] += rss
            row[1] += cpu.user + cpu.system
            row[2] += 1
    return {name: (int(r[0]), r[1], int(r[2])) for name, r in usage.items()}


class HostSampler:
    name = "host"

    def __init__(self, run_dir: str | None, data_dirs: tuple[str, ...]) -> None:
        self.run_dir = Path(run_dir) if run_dir else None
        self.data_dirs = [Path(d) for d in data_dirs]
        self._cpu_started = False
        self._last_cpu: dict[str, tuple[float, float]] = {}  # service -> (at, cpu s)

    async def sample(self) -> list[Sample]:
        return await asyncio.to_thread(self._sample)

    async def close(self) -> None:
        return None

    def _sample(self) -> list[Sample]:
        out = self._machine()
        for d in self.data_dirs:
            if d.is_dir():
                out += self._disk(d)
        if self.run_dir is not None and self.run_dir.is_dir():
            out += self._services(self.run_dir)
        return out

    def _machine(self) -> list[Sample]:
        cpu = psutil.cpu_percent(interval=None) / 100  # since the previous call
        mem = psutil.virtual_memory()
        load = os.getloadavg()
        out = [
            S("host_cpu_count", psutil.cpu_count() or 0),
            S("host_load_1m", load[0]),
            S("host_load_5m", load[1]),
            S("host_load_15m", load[2]),
            S("host_memory_total_bytes", mem.total),
            S("host_memory_available_bytes", mem.available),
            S("host_memory_used_ratio", 1 - mem.available / mem.total),
        ]
        if self._cpu_started:
            out.append(S("host_cpu_ratio", cpu))
        self._cpu_started = True
        return out

    def _disk(self, d: Path) -> list[Sample]:
        usage = psutil.disk_usage(str(d))
        path = str(d)
        return [
            S("host_disk_total_bytes", usage.total, dir=path),
            S("host_disk_used_bytes", usage.used, dir=path),
            S("host_disk_used_ratio", usage.used / usage.total if usage.total else 0.0, dir=path),
            S("host_dir_size_bytes", dir_size(d), dir=path),
        ]

    def _services(self, run_dir: Path) -> list[Sample]:
        groups = service_groups(run_dir)
        usage = group_usage(groups)
        now = time.monotonic()
        out = []
        for name in sorted(groups):
            rss, cpu_s, procs = usage.get(name, (0, 0.0, 0))
            out += [
                S("process_up", 1 if procs else 0, service=name),
                S("process_count", procs, service=name),
            ]
            if not procs:
                self._last_cpu.pop(name, None)
                continue
            out += [
                S("process_rss_bytes", rss, service=name),
                S("process_cpu_seconds_total", cpu_s, service=name),
            ]
            last = self._last_cpu.get(name)
            self._last_cpu[name] = (now, cpu_s)
            if last is not None and now > last[0] and cpu_s >= last[1]:
                out.append(
                    S("process_cpu_cores", (cpu_s - last[1]) / (now - last[0]), service=name)
                )
        return out
