"""Kill the streaming job mid-stream with kill -9 and restart it: read with
read_committed, the result topic has every row exactly once.

Runs on a stack of its own (own Kafka), with the real `python -m streaming`
process, synthetic chat events written straight into im.chat."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack import install
from stack.manager import Stack
from stack.procs import Proc
from stack.services import base_env
from tests import servers
from tests.streaming.restart import ChatFeed, all_counted, counts
from tests.waiting import wait_until

WINDOW_S = 2


@pytest.fixture(scope="module")
def own_stack(stack: Stack) -> Iterator[Stack]:
    with servers.own_stack(
        "restart",
        ["kafka"],
        {"IM_STREAM_COUNT_WINDOW_S": str(WINDOW_S), "IM_STREAM_LATENESS_S": "1"},
        (("IM_STREAM_CHECKPOINT_S", "1"),),
    ) as st:
        yield st


def job(st: Stack) -> Proc:
    s = st.settings
    jars = install.flink_connector_jars(Path(s.cache_dir), lambda _m: None)
    env = base_env(s)
    env.update(IM_FLINK_JARS=";".join(j.as_uri() for j in jars),
               IM_STREAM_CHECKPOINT_DIR=(s.data / "checkpoints").as_uri(),
               IM_STREAM_READY_FILE=str(s.run / "job.ready"))  # fmt: skip
    proc = Proc("restart-job", s.run, s.logs)
    (s.run / "job.ready").unlink(missing_ok=True)
    proc.start([sys.executable, "-m", "streaming"], env)
    return proc


async def wait_ready(st: Stack, proc: Proc) -> None:
    def ready() -> bool:
        assert proc.running(), proc.tail()
        return (st.settings.run / "job.ready").exists()

    await wait_until(ready, 120, what="the job running", interval=0.2)


async def test_killed_job_restarts_from_its_checkpoint_without_dup_or_loss(
    own_stack: Stack,
) -> None:
    bootstrap = own_stack.settings.kafka_bootstrap
    feed = ChatFeed(bootstrap, WINDOW_S)
    await feed.start()
    first = second = None
    try:
        first = job(own_stack)
        await wait_ready(own_stack, first)
        await feed.produce(8)
        assert any((own_stack.settings.data / "checkpoints").glob("*/chk-*/_metadata"))
        first.kill()  # kill -9 in the middle of the stream
        await feed.produce(3)  # keeps flowing while the job is down
        second = job(own_stack)
        await wait_ready(own_stack, second)
        assert "resuming from" in second.tail(200)
        await feed.produce(5)
        await feed.close_windows()
        rows = await wait_until(lambda: all_counted(bootstrap, feed), 60,
                                what=f"all {sum(feed.sent.values())} messages in committed rows",
                                interval=1)  # fmt: skip
    finally:
        await feed.stop()
        for proc in (first, second):
            if proc is not None:
                proc.stop()
    assert counts(rows) == feed.expected()
