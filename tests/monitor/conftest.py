"""A Kafka topic of the test's own (2 partitions), deleted afterwards."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from stack.manager import Stack


@pytest.fixture
async def topic(stack: Stack) -> AsyncIterator[str]:
    name = f"test.monitor.{secrets.token_hex(4)}"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.settings.kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
    try:
        yield name
    finally:
        await admin.delete_topics([name])
        await admin.close()
