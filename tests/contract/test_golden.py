"""What the contract refactor must not change: recorded before it, compared after.

The Flink connector DDL, the ClickHouse tables and the bytes of `chat.message`
events as the send step writes them to the outbox were recorded from the code
before the event contract existed (`IM_GOLDEN_RECORD=1` rewrites the files;
only do that for a deliberate contract change, and say so in the commit).
DDL is compared with runs of white space folded: the engines see the same
statements; the events byte for byte, with the Redis-clock `ts` masked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import redis.asyncio as aioredis

from analytics.schema import RESULT_TABLES
from im import keys
from im.messages import Messages
from stack.manager import Stack
from streaming import ddl
from streaming.settings import StreamSettings

GOLDEN = Path(__file__).with_name("golden")
RECORD = os.environ.get("IM_GOLDEN_RECORD") == "1"


def _folded(text: str) -> str:
    """White space folded to one blank, and none around `,` `(` `)`."""
    return re.sub(r"\s*([,()])\s*", r"\1", re.sub(r"\s+", " ", text)).strip()


def _compare(name: str, actual: str, fold: bool) -> None:
    path = GOLDEN / name
    if RECORD:
        path.write_text(actual)
    expected = path.read_text()
    if fold:
        assert _folded(actual) == _folded(expected), f"{name} changed"
    else:
        assert actual == expected, f"{name} changed"


def test_flink_ddl_is_what_it_was() -> None:
    settings = StreamSettings()
    _compare("flink_ddl.sql", ";\n\n".join(ddl.all_tables(settings)) + ";\n", fold=True)


def test_clickhouse_tables_are_what_they_were() -> None:
    text = "".join(
        f"-- {t.name} <- {t.topic}: {', '.join(t.columns)}\n{t.ddl.strip()};\n\n"
        for t in RESULT_TABLES
    )
    _compare("clickhouse_ddl.sql", text, fold=True)


async def test_chat_message_events_are_byte_for_byte_what_they_were(stack: Stack) -> None:
    # A database of its own: no relay of another test publishes (and deletes) these.
    url = stack.settings.redis_url.rsplit("/", 1)[0] + "/7"
    r = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        tag = "golden"
        await r.flushdb()
        await r.hset(keys.user(f"{tag}-agent"), mapping={"role": "agent"})
        await r.hset(keys.conv(f"{tag}-g"), mapping={"kind": "group", "max_seq": 0})
        await r.sadd(keys.members(f"{tag}-g"), f"{tag}-alice", f"{tag}-bob")
        cs = {"kind": "cs", "max_seq": 0, "session": f"s_{tag}", "agent": f"{tag}-agent"}
        await r.hset(keys.conv(f"{tag}-cs"), mapping=cs)
        await r.sadd(keys.members(f"{tag}-cs"), f"{tag}-alice", f"{tag}-agent")
        msgs = Messages(r, "node-golden")
        await msgs.store(f"{tag}-g", f"{tag}-alice", "cm-1", "Hello  WORLD \u00e9\u4f60\u597d")
        await msgs.store(f"{tag}-g", f"{tag}-bob", "cm-2", "f*** off", flags=("abusive", "masked"))
        await msgs.store(f"{tag}-cs", f"{tag}-alice", "cm-3", 'help "quoted" \\ text')
        await msgs.store(f"{tag}-cs", f"{tag}-agent", "cm-4", "on it", kind="chat")
        await msgs.store(
            f"{tag}-cs", "system", "cm-5", "session accepted", kind="event",
            enforce_limits=False, body={"text": "session accepted", "event": "accepted"},
        )  # fmt: skip
        entries = await r.xrange(keys.OUTBOX)
        lines = [f"{f['t']} {f['k']} " + re.sub(r'"ts":\d+', '"ts":TS', f["v"]) for _, f in entries]
        _compare("chat_message_events.txt", "\n".join(lines) + "\n", fold=False)
    finally:
        await r.flushdb()
        await r.aclose()
