"""EventConsumer start/stop against brokers that are there and brokers that are not."""

from __future__ import annotations

import socket

import pytest
from aiokafka.errors import KafkaConnectionError

from contract import topics
from im.consumer import EventConsumer
from stack.manager import Stack


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_failed_start_closes_the_kafka_consumer_and_stop_is_safe() -> None:
    consumer = EventConsumer([topics.CONTROL], f"127.0.0.1:{closed_port()}", "g")
    with pytest.raises(KafkaConnectionError):
        await consumer.start()
    assert consumer._consumer._closed is True  # nothing left open to leak or warn about
    await consumer.stop()
    await consumer.stop()


async def test_start_and_stop_are_safe_twice_on_a_real_broker(stack: Stack) -> None:
    consumer = EventConsumer([topics.CONTROL], stack.settings.kafka_bootstrap, None)
    async with consumer:
        await consumer.start()
    await consumer.stop()
    assert consumer._consumer._closed is True
