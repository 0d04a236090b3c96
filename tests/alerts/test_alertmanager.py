"""Our alerts through a real Alertmanager (Debian's prometheus-alertmanager, on
loopback): it takes them, groups them by alertname, forwards each group to its
webhook receiver (the test's own HTTP server), and resolves them."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from alerts.alertmanager import AlertmanagerPusher
from alerts.model import State
from alerts.payload import rfc3339
from tests.alerts.helpers import alert, unique_name
from tests.alerts.receiver import Receiver, receiver
from tests.ports import free_port
from tests.waiting import wait_until, wait_until_sync

BINARY = "/usr/bin/prometheus-alertmanager"
EXTERNAL = "http://im.example:8080"
CONFIG = """\
route:
  receiver: test
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: {hook}
        send_resolved: true
"""

pytestmark = pytest.mark.skipif(
    shutil.which(BINARY) is None, reason="prometheus-alertmanager is installed by make setup"
)


@contextmanager
def alertmanager(folder: Path, hook: str) -> Iterator[str]:
    """Alertmanager on a free loopback port (no cluster), its webhook `hook`: its URL."""
    port = free_port()
    (folder / "alertmanager.yml").write_text(CONFIG.format(hook=hook))
    log = (folder / "alertmanager.log").open("w")
    proc = subprocess.Popen(
        [BINARY, f"--config.file={folder / 'alertmanager.yml'}",
         f"--storage.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address=", "--log.level=info"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError((folder / "alertmanager.log").read_text()[-2000:])
        try:
            return httpx.get(url + "/-/ready", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until_sync(ready, 20, what="alertmanager ready", interval=0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture
async def am(tmp_path: Path) -> AsyncIterator[tuple[str, Receiver]]:
    async with receiver() as rec:
        with alertmanager(tmp_path, rec.url + "/ok/am") as url:
            yield url, rec


def groups(rec: Receiver) -> list[dict[str, Any]]:
    return rec.bodies("/ok/am")


async def test_alertmanager_groups_forwards_and_resolves_our_alerts(
    am: tuple[str, Receiver],
) -> None:
    url, rec = am
    queue, disk = unique_name("QueueLong"), unique_name("DiskFull")
    now = int(time.time() * 1000)
    a = alert(queue, team="cs", severity="warning", value=31, fired_ms=now - 60_000, queue="vip")
    b = alert(queue, team="cs", severity="warning", value=12, fired_ms=now - 30_000, queue="web")
    d = alert(disk, value=0.91, fired_ms=now - 5_000, instance="data")
    pending = alert(unique_name("NotYet"), state=State.PENDING, fired_ms=None)
    pusher = AlertmanagerPusher(url, timeout_s=5, external_url=EXTERNAL)

    report = await pusher.push([a, b, d, pending], now)
    assert (report.pushed, report.error) == (3, None)  # the pending one is not sent
    await wait_until(lambda: len(groups(rec)) >= 2, 20, what="two groups forwarded")
    by_name = {g["groupLabels"]["alertname"]: g for g in groups(rec)}
    assert set(by_name) == {queue, disk}
    q = by_name[queue]
    assert (q["status"], q["receiver"], q["commonLabels"]) == (
        "firing", "test", {"alertname": queue, "severity": "warning", "team": "cs"})  # fmt: skip
    assert sorted((x["labels"]["queue"], x["status"], x["startsAt"], x["endsAt"],
                   x["generatorURL"], x["annotations"]["summary"])
                  for x in q["alerts"]) == [
        ("vip", "firing", rfc3339(now - 60_000), "0001-01-01T00:00:00Z",
         f"{EXTERNAL}/d/{queue.lower()}", a.annotations["summary"]),
        ("web", "firing", rfc3339(now - 30_000), "0001-01-01T00:00:00Z",
         f"{EXTERNAL}/d/{queue.lower()}", b.annotations["summary"]),
    ]  # fmt: skip
    assert [x["labels"] for x in by_name[disk]["alerts"]] == [d.labels]

    # Re-sent while active (every evaluation): held, not notified again.
    for _ in range(3):
        assert (await pusher.push([a, b, d], int(time.time() * 1000))).pushed == 3
    async with httpx.AsyncClient() as http:
        r = await http.get(url + "/api/v2/alerts", params={"filter": f'alertname="{queue}"'})
    held = r.json()
    assert sorted(x["status"]["state"] for x in held) == ["active", "active"]
    await asyncio.sleep(2.5)  # two group intervals in which nothing may be sent
    assert len(groups(rec)) == 2

    # Resolved: pushed with their endsAt, forwarded as resolved.
    ended = int(time.time() * 1000)
    for x in (a, b):
        x.state, x.resolved_at_ms = State.RESOLVED, ended
    assert (await pusher.push([a, b, d])).pushed == 3
    await wait_until(lambda: any(g["status"] == "resolved" for g in groups(rec)), 20,
                     what="the resolved group forwarded")  # fmt: skip
    [done] = [g for g in groups(rec) if g["status"] == "resolved"]
    assert done["groupLabels"] == {"alertname": queue}
    assert sorted((x["labels"]["queue"], x["status"], x["endsAt"]) for x in done["alerts"]) == [
        ("vip", "resolved", rfc3339(ended)), ("web", "resolved", rfc3339(ended))]  # fmt: skip
    assert pusher.totals == {"pushes": 5, "alerts": 15, "failed": 0}


async def test_an_unreachable_or_refusing_alertmanager_is_reported_not_raised(
    am: tuple[str, Receiver],
) -> None:
    url, _ = am
    dead = AlertmanagerPusher(f"http://127.0.0.1:{free_port()}", timeout_s=1)
    report = await dead.push([alert()])
    assert (report.pushed, report.error.split(":")[0] if report.error else None,
            report.retriable) == (0, "ConnectError", True)  # fmt: skip
    bad = alert(unique_name("Bad"))
    bad.labels["not a label name"] = "x"  # Alertmanager refuses the request
    report = await AlertmanagerPusher(url).push([bad])
    assert (report.pushed, report.retriable) == (0, False)
    assert report.error is not None and report.error.startswith("http 400")
    assert dead.totals == {"pushes": 1, "alerts": 0, "failed": 1}
