"""alerts/rules/host.yaml, promtool-style: the collector machine's samples at chosen times."""

from __future__ import annotations

from analytics.clickhouse import ClickHouse
from tests.alerts.harness import Ops, put_ops, timeline


async def test_a_data_folder_disk_over_85_percent_for_2m(db: ClickHouse) -> None:
    await put_ops(db, Ops("host_disk_used_ratio", "0.85x5 0.86x20 0.5x5", {"dir": "/data/kafka"}),
                  Ops("host_disk_used_ratio", "0.5x30", {"dir": "/data/redis"}))  # fmt: skip
    tl = await timeline(db, "HostDiskFull", 330)
    assert tl.changes("dir=/data/kafka") == [(60, "pending"), (180, "firing"), (270, "resolved")]
    assert tl.series() == {"dir=/data/kafka"}


async def test_memory_over_90_percent_for_2m(db: ClickHouse) -> None:
    await put_ops(db, Ops("host_memory_used_ratio", "0.91x20 0.9x5"))
    tl = await timeline(db, "HostMemoryFull", 260)
    assert tl.changes() == [(0, "pending"), (120, "firing"), (210, "resolved")]


async def test_memory_over_90_percent_for_less_than_2m_does_not_fire(db: ClickHouse) -> None:
    await put_ops(db, Ops("host_memory_used_ratio", "0.9x5 0.91x11 0.9x5"))
    tl = await timeline(db, "HostMemoryFull", 260)
    assert tl.changes() == [(60, "pending"), (180, "inactive")]
