"""Kill the streaming job mid-stream with kill -9 and restart it: read with
read_committed, the result topic has every row exactly once.

Runs on a stack of its own (own Kafka), with the real `python -m streaming`
process, synthetic chat events written straight into im.chat."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from contract import topics
from stack import install
from stack.manager import Stack
from stack.procs import Proc
from stack.services import base_env
from tests import servers
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


async def committed_rows(bootstrap: str) -> list[dict[str, object]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                isolation_level="read_committed")  # fmt: skip
    await consumer.start()
    try:
        parts = [TopicPartition(topics.MESSAGE_COUNT, p) for p in range(4)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)  # the last stable offsets
        rows = []
        while any([await consumer.position(p) < end[p] for p in parts]):
            batch = await consumer.getmany(timeout_ms=500)
            rows += [orjson.loads(r.value) for recs in batch.values() for r in recs]
        return rows
    finally:
        await consumer.stop()


async def test_killed_job_restarts_from_its_checkpoint_without_dup_or_loss(
    own_stack: Stack,
) -> None:
    bootstrap = own_stack.settings.kafka_bootstrap
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    sent: Counter[tuple[int, str]] = Counter()
    n = 0

    async def produce(seconds: float) -> None:
        nonlocal n
        stop = time.monotonic() + seconds
        while time.monotonic() < stop:
            now = int(time.time() * 1000)
            for c in range(3):
                n += 1
                conv = f"c_{c}"
                event = {"v": 1, "id": f"m:{conv}:{n}", "type": "chat.message", "ts": now,
                         "node": "t", "conv": conv, "conv_kind": "group", "seq": n}  # fmt: skip
                await producer.send(topics.CHAT, orjson.dumps(event), key=conv.encode())
                sent[(now // (WINDOW_S * 1000) * WINDOW_S * 1000, conv)] += 1
            for p in range(4):
                await producer.send(topics.CHAT, orjson.dumps(
                    {"v": 1, "id": f"t:{n}:{p}", "type": "tick", "ts": now, "node": "t"}),
                    partition=p)  # fmt: skip
            await asyncio.sleep(0.1)  # the subject: a steady stream over `seconds`
        await producer.flush()

    first = second = None
    try:
        first = job(own_stack)
        await wait_ready(own_stack, first)
        await produce(8)
        assert any((own_stack.settings.data / "checkpoints").glob("*/chk-*/_metadata"))
        first.kill()  # kill -9 in the middle of the stream
        await produce(3)  # keeps flowing while the job is down
        second = job(own_stack)
        await wait_ready(own_stack, second)
        assert "resuming from" in second.tail(200)
        await produce(5)
        # Far-future ticks close every window.
        for p in range(4):
            await producer.send(topics.CHAT, orjson.dumps(
                {"v": 1, "id": f"t:end:{p}", "type": "tick", "ts": int(time.time() * 1000)
                 + 60_000, "node": "t"}), partition=p)  # fmt: skip
        await producer.flush()
        expected = sum(sent.values())

        async def all_counted() -> list[dict[str, object]] | None:
            rows = await committed_rows(bootstrap)
            total = sum(int(r["messages"]) for r in rows)  # type: ignore[call-overload]
            return rows if total >= expected else None

        rows = await wait_until(all_counted, 60, what=f"all {expected} messages in committed rows",
                                interval=1)  # fmt: skip
    finally:
        await producer.stop()
        for proc in (first, second):
            if proc is not None:
                proc.stop()
    keys = [(int(r["window_start"]), str(r["conv"])) for r in rows]  # type: ignore[call-overload]
    assert len(keys) == len(set(keys)), "a row was written twice"
    assert {k: int(r["messages"]) for k, r in zip(keys, rows, strict=True)} == dict(sent)  # type: ignore[call-overload]
