"""The keys of a Redis command, from its arguments as redis-py packs them (pure)."""

from __future__ import annotations

import pytest

from im import keys as key_layout
from im import lua
from im.command_keys import command_keys


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        # Scripts: the numkeys keys, not the arguments after them.
        (("EVALSHA", "ab12", 2, "tok:x", "utok:u", "arg", "tok:not-a-key"), ["tok:x", "utok:u"]),
        (("EVAL", "return 1", 0, "arg"), []),
        (("FCALL", "f", "1", b"c:1", "arg"), ["c:1"]),
        (("EVALSHA", "ab12", "many", "k"), []),  # not a number: nothing
        # Streams: the keys after STREAMS (first half: then come the ids).
        (("XREAD", "COUNT", 10, "STREAMS", "outbox", "s2", "0-0", "$"), ["outbox", "s2"]),
        (("XREADGROUP", "GROUP", "g", "c", "STREAMS", "outbox", ">"), ["outbox"]),
        (("XREAD", "COUNT", 1), []),
        # Commands without keys.
        *[((name,), []) for name in ("PING", "INFO", "DBSIZE", "TIME", "MULTI", "EXEC")],
        (("SCAN", 0, "MATCH", "u:*", "COUNT", 100), []),
        (("CLIENT SETINFO", "LIB-NAME", "redis-py"), []),
        (("CONFIG GET", "maxmemory"), []),
        (("SCRIPT LOAD", "return 1"), []),
        (("SLOWLOG GET", 128), []),
        (("HELLO", 3), []),
        (("AUTH", "user", "secret"), []),
        (("SELECT", 0), []),
        (("PUBLISH", "im:node:n1", "{}"), []),  # a channel, not a key
        (("SUBSCRIBE", "im:node:n1"), []),
        # Several keys.
        (("MGET", "u:1", "u:2"), ["u:1", "u:2"]),
        (("DEL", "a", "b", "c"), ["a", "b", "c"]),
        (("MSET", "a", "1", "b", "2"), ["a", "b"]),
        (("BLPOP", "q1", "q2", 5), ["q1", "q2"]),
        # A subcommand, then the key.
        (("MEMORY USAGE", "msg:c1"), ["msg:c1"]),
        (("OBJECT", "FREQ", "u:1"), ["u:1"]),
        (("XGROUP CREATE", "outbox", "g", "$"), ["outbox"]),
        (("XINFO", "HELP"), []),
        (("MEMORY STATS",), []),
        # Everything else: the first argument.
        (("HGET", "c:1", "max_seq"), ["c:1"]),
        ((b"SISMEMBER", b"cm:1", b"u1"), ["cm:1"]),
        (("hget", "c:1", "f"), ["c:1"]),  # lower case
        (("ZINCRBY", "ops:hotkeys:10", 1.0, "u:1"), ["ops:hotkeys:10"]),
        (("GET",), []),
        ((b"",), []),
        ((), []),
    ],
)
def test_the_keys_of_a_command(args: tuple[object, ...], keys: list[str]) -> None:
    assert command_keys(args) == keys


def test_binary_key_names_are_decoded_without_failing() -> None:
    assert command_keys((b"GET", b"u:\xff")) == ["u:\ufffd"]
    assert command_keys(("GET", memoryview(b"u:1"))) == ["u:1"]


def test_a_script_of_ours_counts_the_keys_its_header_builds_from_argv() -> None:
    """send.lua passes no KEYS; its `-- COUNTS:` header names conv, members, messages."""
    sha = lua.sha(lua.SOURCES["send"])
    args = ("EVALSHA", sha, 0, "c_1", "u_2", "cmid", "tpl", "ev")
    assert command_keys(args) == ["c:c_1", "cm:c_1", "msg:c_1"]
    assert command_keys(("EVALSHA", sha, 0)) == []  # no ARGV: nothing to build from
    # Every header names prefixes that exist and ARGV positions the script reads.
    for source in lua.SOURCES.values():
        for prefix, i in lua.ARGV_KEYS.get(lua.sha(source), ()):
            assert prefix in key_layout.PREFIXES.values() and f"ARGV[{i}]" in source
