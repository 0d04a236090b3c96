"""The streaming job on the stack's Flink session cluster (JobManager and
TaskManager run by the stack manager, the job submitted by `stack.submit`
with `flink run -d`): cancelled mid-stream through the REST API while events
keep coming, resubmitted from its newest retained checkpoint, and read with
read_committed the result topic has every row exactly once. A submitter
killed with kill -9 leaves the job running and the next one adopts it;
`down stream` cancels the job on the cluster. The job's state is in RocksDB
(stack/flink.py); a third submission, with twice the parallelism, restores
the second run's newest checkpoint (rescaled) and prunes the first run's
checkpoint folder, and the rows stay exactly once through all three runs.

Runs on a stack of its own (own Kafka, own cluster, free ports)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from stack import flink
from stack.manager import Stack
from stack.services import stream_ready_file
from streaming.job import latest_checkpoint
from tests import servers
from tests.streaming.restart import ChatFeed, all_counted, counts
from tests.waiting import wait_until

WINDOW_S = 2


@pytest.fixture(scope="module")
def cluster(stack: Stack) -> Iterator[Stack]:
    with servers.own_stack(
        "cluster",
        ["kafka", "flink-jobmanager", "flink-taskmanager"],
        {"IM_STREAM_COUNT_WINDOW_S": str(WINDOW_S), "IM_STREAM_LATENESS_S": "1"},
        (("IM_STREAM_CHECKPOINT_S", "1"),),
    ) as st:
        yield st


async def submitted(st: Stack) -> str:
    """`up stream` (submit, wait until every task runs); the job's id."""
    await asyncio.to_thread(st.up, ["stream"])
    return stream_ready_file(st.settings).read_text().strip()


def local(url: str) -> Path:
    return Path(urlparse(url).path)  # file:/x and file:///x alike


@pytest.mark.timeout(900)
async def test_cancelled_job_resumes_from_its_newest_checkpoint_without_dup_or_loss(
    cluster: Stack,
) -> None:
    s = cluster.settings
    rest = flink.rest_url(s)
    checkpoints = flink.checkpoint_dir(s)
    feed = ChatFeed(s.kafka_bootstrap, WINDOW_S)
    await feed.start()
    try:
        first = await submitted(cluster)
        # The stack's cluster keeps the job's state in RocksDB (stack/flink.py).
        ckpt_config = flink.rest(f"{rest}/jobs/{first}/checkpoints/config")
        assert ckpt_config["state_backend"] == "EmbeddedRocksDBStateBackend", ckpt_config
        await feed.produce(8)
        assert any((checkpoints / first).glob("chk-*/_metadata"))
        flink.cancel(rest, first)  # PATCH /jobs/<id>?mode=cancel, as an operator would
        await wait_until(lambda: flink.job_state(rest, first) == "CANCELED", 30,
                         what="the job cancelled")  # fmt: skip
        await wait_until(lambda: not cluster.proc("stream").running(), 30,
                         what="the submitter gone with its job")  # fmt: skip
        await feed.produce(3)  # keeps flowing while no job runs
        newest = latest_checkpoint(checkpoints.as_uri())
        assert newest is not None and first in newest  # retained on cancel
        second = await submitted(cluster)
        assert second != first
        restored = flink.rest(f"{rest}/jobs/{second}/checkpoints")["latest"]["restored"]
        assert local(restored["external_path"]) == local(newest)
        await feed.produce(2)
        cluster.proc("stream").kill()  # the submitter dies, the job goes on
        assert await submitted(cluster) == second  # a new submitter adopts it
        assert "adopting it" in cluster.proc("stream").tail(5)
        await feed.produce(3)
        await asyncio.to_thread(cluster.down, ["stream"])  # the submitter cancels its job
        assert flink.job_state(rest, second) == "CANCELED"
        assert flink.live_job(rest) is None
        await feed.produce(2)  # keeps flowing while no job runs
        # Resubmitted with twice the parallelism (the cluster's two slots), as after
        # scaling TaskManagers out (README, "Production deployment"): it restores the
        # second run's newest checkpoint, keyed state spread over two subtasks, and
        # prunes the first run's folder (restored without claiming its files, the
        # second run completed checkpoints of its own).
        newest = latest_checkpoint(checkpoints.as_uri())
        assert newest is not None and second in newest
        assert (checkpoints / first).is_dir()
        rescaled = Stack(
            dataclasses.replace(s, extra_env=(*s.extra_env, ("IM_STREAM_PARALLELISM", "2"))),
            say=lambda _m: None,
        )
        third = await submitted(rescaled)
        assert not (checkpoints / first).exists() and (checkpoints / second).is_dir()
        assert f"pruned the checkpoints of an earlier run: {checkpoints / first}" in (
            cluster.proc("stream").log.read_text()
        )
        restored = flink.rest(f"{rest}/jobs/{third}/checkpoints")["latest"]["restored"]
        assert local(restored["external_path"]) == local(newest)
        vertices = flink.rest(f"{rest}/jobs/{third}")["vertices"]
        assert max(v["parallelism"] for v in vertices) == 2
        await feed.produce(3)
        await feed.close_windows()
        rows = await wait_until(lambda: all_counted(s.kafka_bootstrap, feed), 90,
                                what=f"all {sum(feed.sent.values())} messages in committed rows",
                                interval=1)  # fmt: skip
        await asyncio.to_thread(rescaled.down, ["stream"])
        assert flink.job_state(rest, third) == "CANCELED"
    finally:
        await feed.stop()
    assert counts(rows) == feed.expected()
