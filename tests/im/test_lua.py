"""The Lua scripts of im/lua/: documented, loadable, and named only through the loader."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from contract import topics
from im import lua
from stack.manager import Stack
from tests.im.test_keys import lua_literals

FILES = sorted(Path(lua.DIR).glob("*.lua"))


@pytest.fixture
async def redis(stack: Stack) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(stack.settings.redis_url)
    yield client
    await client.aclose()


def header(path: Path) -> list[str]:
    """The comment lines a file starts with."""
    lines = path.read_text().splitlines()
    end = next((i for i, line in enumerate(lines) if not line.startswith("--")), len(lines))
    return lines[:end]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_starts_with_its_header(path: Path) -> None:
    lines = header(path)
    assert len(lines) >= 5 and lines[0].strip("- "), f"{path.name}: no description first"
    for section in ("-- KEYS:", "-- ARGV:", "-- Returns"):
        assert any(line.startswith(section) for line in lines), f"{path.name}: no {section}"


def test_every_file_but_the_common_ones_is_a_script() -> None:
    names = {p.stem for p in FILES}
    assert set(lua.SOURCES) == {n for n in names if not n.endswith(lua.COMMON)}
    assert {"send", "read", "cs_create", "cs_close", "lease_renew"} <= set(lua.SOURCES)
    assert "cs_common" in names
    common = (lua.DIR / "cs_common.lua").read_text()
    for name, source in lua.SOURCES.items():
        assert (common in source) == name.startswith("cs_"), name


def test_the_prelude_is_one_line_of_the_names_used() -> None:
    send = lua.SOURCES["send"]
    prelude, body = send.split("\n", 1)
    assert body == (lua.DIR / "send.lua").read_text()
    assert "local K_CONV = 'c:'" in prelude and "local K_OUTBOX = 'outbox'" in prelude
    assert "K_SESSION" not in prelude  # send.lua does not use it
    assert "local T_SESSION = 'im.session'" in lua.SOURCES["cs_close"].split("\n", 1)[0]


def test_a_name_keys_py_does_not_declare_is_refused() -> None:
    with pytest.raises(ValueError, match="K_NOPE"):
        lua._prelude("redis.call('GET', K_NOPE .. id)")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_topic_name_written_in_lua(path: Path) -> None:
    written = {text for _, _, text in lua_literals(path.read_text())}
    assert not written & set(topics.ALL)


async def test_every_script_loads(redis: aioredis.Redis) -> None:
    for name in lua.SOURCES:
        script = lua.register(redis, name)
        assert await redis.script_load(lua.SOURCES[name]) == script.sha, name
