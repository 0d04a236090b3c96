"""The host sampler on this machine: real folders, real process groups with pid files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from monitor.host import HostSampler
from tests.monitor.helpers import find, value
from tests.waiting import wait_until_sync

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
# Burns some CPU, holds 30 MiB, says so, then sleeps: its counters stay put.
WORKER = (
    "import sys, time; b = bytearray(30 * 2**20); sum(range(3_000_000)); "
    "open(sys.argv[1], 'w').close(); time.sleep(600)"
)


def proc_usage(pid: int) -> tuple[int, float]:
    """(RSS bytes, CPU s) of a process read from /proc directly."""
    rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return rss_pages * PAGE, (int(fields[11]) + int(fields[12])) / TICKS


def group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A process group of three (sh and two Python workers), its pid file in a run folder."""
    run = tmp_path / "run"
    run.mkdir()
    ready = [tmp_path / "a.ready", tmp_path / "b.ready"]
    script = " & ".join(f'{sys.executable} -c "{WORKER}" {r}' for r in ready) + " & wait"
    leader = subprocess.Popen(["sh", "-c", script], start_new_session=True)
    (run / "worker.pid").write_text(str(leader.pid))
    (run / "gone.pid").write_text("999999999")  # a service that is not running
    try:
        wait_until_sync(lambda: all(r.exists() for r in ready), 60, what="workers ready")
        yield run, leader.pid
    finally:
        os.killpg(leader.pid, signal.SIGKILL)
        leader.wait()


async def test_each_service_process_group_memory_and_cpu(service: tuple[Path, int]) -> None:
    run, pgid = service
    sampler = HostSampler(str(run), ())
    out = await sampler.sample()
    members = [pid for pid in psutil.pids() if group_of(pid) == pgid]
    assert len(members) == 3
    rss, cpu = map(sum, zip(*(proc_usage(pid) for pid in members), strict=True))
    assert value(out, "process_up", service="worker") == 1
    assert value(out, "process_count", service="worker") == 3
    assert value(out, "process_rss_bytes", service="worker") == rss
    assert rss > 2 * 30 * 2**20
    assert value(out, "process_cpu_seconds_total", service="worker") == pytest.approx(cpu)
    assert value(out, "process_up", service="gone") == 0
    assert find(out, "process_rss_bytes", service="gone") == []
    assert find(out, "process_cpu_cores") == []  # no interval yet
    again = await sampler.sample()
    assert value(again, "process_cpu_cores", service="worker") == 0  # asleep since


async def test_data_folders_and_the_machine(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.log").write_bytes(b"x" * 1000)
    (data / "sub" / "b.log").write_bytes(b"y" * 2345)
    sampler = HostSampler(None, (str(data), str(tmp_path / "missing")))
    out = await sampler.sample()
    assert value(out, "host_dir_size_bytes", dir=str(data)) == 3345
    disk = psutil.disk_usage(str(data))
    assert value(out, "host_disk_total_bytes", dir=str(data)) == disk.total
    assert value(out, "host_disk_used_ratio", dir=str(data)) == pytest.approx(
        disk.used / disk.total, abs=0.01
    )
    assert find(out, "host_dir_size_bytes", dir=str(tmp_path / "missing")) == []
    assert value(out, "host_cpu_count") == os.cpu_count()
    assert value(out, "host_memory_total_bytes") == psutil.virtual_memory().total
    assert 0 < value(out, "host_memory_used_ratio") < 1
    assert value(out, "host_load_1m") >= 0
    assert find(out, "host_cpu_ratio") == []  # the first call has no interval
    again = await sampler.sample()
    assert 0 <= value(again, "host_cpu_ratio") <= 1
