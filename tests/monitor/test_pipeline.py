"""The pipeline and flink samplers: result freshness from real Kafka, the job from a real
Flink's REST API (a local job with its REST port opened), and clean skips without one."""

from __future__ import annotations

import dataclasses
import os
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from contract import results
from monitor.flink import FlinkSampler
from monitor.pipeline import PipelineSampler
from monitor.sample import Sample, Skipped
from stack.manager import Stack
from stack.procs import Proc
from tests.monitor.helpers import find, value
from tests.ports import free_port
from tests.waiting import wait_until

JOB = Path(__file__).with_name("flinkjob.py")


def count_row(window_end: int) -> bytes:
    row = {"window_start": window_end - 5000, "window_end": window_end, "conv": "c", "messages": 1}
    return orjson.dumps(row)


async def test_freshness_is_now_minus_the_newest_committed_time_field(
    stack: Stack, topic: str
) -> None:
    # Written as the job writes: in transactions (each ends with a marker
    # per partition), and an aborted one that a read_committed reader never sees.
    table = dataclasses.replace(results.MESSAGE_COUNTS, topic=topic)
    now = int(time.time() * 1000)
    newest = now - 30_000
    producer = AIOKafkaProducer(
        bootstrap_servers=stack.settings.kafka_bootstrap,
        transactional_id=f"test-{secrets.token_hex(4)}",
        enable_idempotence=True,
    )
    await producer.start()
    try:
        for p, ends in ((0, [newest - 9000, newest]), (1, [newest - 5000, newest - 1000])):
            for end in ends:
                async with producer.transaction():
                    await producer.send(topic, count_row(end), partition=p)
        await producer.begin_transaction()
        await producer.send(topic, count_row(now), partition=1)
        await producer.abort_transaction()
    finally:
        await producer.stop()
    sampler = PipelineSampler(stack.settings.kafka_bootstrap, (table,))
    try:
        before = time.time() * 1000
        out = await sampler.sample()
        after = time.time() * 1000
    finally:
        await sampler.close()
    age = value(out, "pipeline_result_freshness_seconds", table="message_counts")
    assert (before - newest) / 1000 <= age <= (after - newest) / 1000


async def test_no_freshness_for_an_empty_topic(stack: Stack, topic: str) -> None:
    table = dataclasses.replace(results.MODERATION, topic=topic)
    sampler = PipelineSampler(stack.settings.kafka_bootstrap, (table,))
    try:
        assert await sampler.sample() == []
    finally:
        await sampler.close()


async def test_flink_is_skipped_when_unset_or_unreachable() -> None:
    for url, reason in ((None, "unset"), (f"http://127.0.0.1:{free_port()}", "unreachable")):
        sampler = FlinkSampler(url, "im-streaming")
        with pytest.raises(Skipped) as skipped:
            await sampler.sample()
        assert skipped.value.reason == reason
        await sampler.close()


@pytest.fixture
def flink_job(stack: Stack, tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A running job named `monitor-test` that has read 37 rows; its REST URL and the count."""
    rows = tmp_path / "rows"
    rows.mkdir()
    (rows / "part-1.json").write_text("".join(f'{{"x": {i}}}\n' for i in range(37)))
    port = free_port()
    proc = Proc(f"test-flink-{port}", stack.settings.run, stack.settings.logs)
    argv = [sys.executable, str(JOB), str(port), str(rows), "monitor-test",
            (tmp_path / "checkpoints").as_uri()]  # fmt: skip
    proc.start(argv, dict(os.environ))
    try:
        yield f"http://127.0.0.1:{port}", 37
    finally:
        proc.stop()


async def test_the_job_state_checkpoints_and_records_from_flink_rest(
    flink_job: tuple[str, int],
) -> None:
    url, rows = flink_job
    sampler = FlinkSampler(url, "monitor-test")

    async def done() -> list[Sample] | None:
        try:
            out = await sampler.sample()
        except Skipped:
            return None  # not listening yet
        records = find(out, "pipeline_records_out_total")
        ckpts = find(out, "pipeline_checkpoints_completed_total")
        ready = records and records[0].value == rows and ckpts and ckpts[0].value >= 1
        return out if ready else None

    try:
        out = await wait_until(done, 180, what="the job ran, read every row, checkpointed")
    finally:
        await sampler.close()
    samples = out
    assert value(samples, "pipeline_job_up", state="RUNNING") == 1
    assert value(samples, "pipeline_records_in_total") == rows
    assert value(samples, "pipeline_records_out_total") == rows
    assert value(samples, "pipeline_job_restarts_total") == 0
    assert value(samples, "pipeline_job_uptime_seconds") > 0
    assert 0 <= value(samples, "pipeline_checkpoint_age_seconds") < 30
    assert 0 <= value(samples, "pipeline_checkpoint_duration_seconds") < 30
    assert value(samples, "pipeline_checkpoints_failed_total") >= 0
    none = FlinkSampler(url, "no-such-job")
    try:
        assert [(s.metric, s.value, dict(s.labels)) for s in await none.sample()] == [
            ("pipeline_job_up", 0.0, {"state": "MISSING"})
        ]
    finally:
        await none.close()
