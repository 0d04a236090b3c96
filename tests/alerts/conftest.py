"""A real ClickHouse (embedded chDB) per test module, with the tables of analytics/schema.py.

chDB allows one data folder per process at a time: each module opens its own
and closes it at its end. Every test starts from empty tables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from analytics.clickhouse import ClickHouse
from analytics.schema import TABLES


@pytest.fixture(scope="module")
async def ch(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ClickHouse]:
    path: Path = tmp_path_factory.mktemp("chdb-alerts")
    client = ClickHouse(f"chdb://{path}")
    await client.start()
    for table in TABLES:
        await client.command(table.ddl)
    yield client
    await client.stop()


@pytest.fixture
async def db(ch: ClickHouse) -> ClickHouse:
    """The module's ClickHouse with every table emptied."""
    for table in TABLES:
        await ch.command(f"TRUNCATE TABLE {table.name}")
    return ch
