"""The Redis Lua scripts: one file each in this folder, loaded only through here.

Every file starts with a header: what it does and why, KEYS, ARGV, returns.

Scripts never spell a key prefix or a topic name. They use string locals that
the loader puts in front of them, made from im/keys.py (K_<FAMILY> = the
family's prefix, e.g. K_CONV = 'c:'; K_<NAME> = a fixed key, e.g. K_OUTBOX)
contract/topics.py (T_SESSION = 'im.session') and contract/events.py (I_SESSION_EVENT
= 's:', the id prefix of session events). A script gets only the locals
it names, all on the first line (so a line number in Redis' error is the
file's plus one, plus the common file's lines below), as plain constants:
send.lua runs per message, so nothing is built per call.

A script `<group>_<step>.lua` also gets `<group>_common.lua`, when there is
one (helpers shared by the group: cs_common.lua), between the locals and its
own text.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from contract import events, topics
from im import keys

DIR = Path(__file__).parent
COMMON = "_common"  # a file named <group>_common.lua is no script of its own

# The topics scripts write events to themselves (send.lua gets im.chat in ARGV).
_TOPICS = {"T_SESSION": topics.SESSION}
# The event id prefixes scripts write (contract.events).
_IDS = {"I_SESSION_EVENT": events.SESSION_EVENT_ID}


def _constants() -> dict[str, str]:
    """Every local a script may use: its name -> its string."""
    prefixes = {f"K_{family.upper()}": prefix for family, prefix in keys.PREFIXES.items()}
    fixed = {f"K_{name.upper()}": key for name, key in keys.FIXED.items()}
    if prefixes.keys() & fixed.keys() or (prefixes.keys() | fixed.keys()) & _TOPICS.keys():
        raise ValueError("a key family, a fixed key and a topic share a Lua name")
    constants = {**prefixes, **fixed, **_TOPICS, **_IDS}
    for name, value in constants.items():
        if not re.fullmatch(r"[a-z0-9_.:]+", value):  # safe inside '...' as it is
            raise ValueError(f"{name} = {value!r}: not a plain key or topic name")
    return constants


CONSTANTS: Mapping[str, str] = _constants()
_LOCAL_NAME = re.compile(r"\b[KTI]_[A-Z0-9_]+\b")


def _prelude(text: str) -> str:
    used = sorted(set(_LOCAL_NAME.findall(text)))
    unknown = [name for name in used if name not in CONSTANTS]
    if unknown:
        raise ValueError(f"not in im/keys.py or contract/: {', '.join(unknown)}")
    return " ".join(f"local {name} = '{CONSTANTS[name]}'" for name in used) + "\n"


def _sources() -> dict[str, str]:
    """Script name -> the text Redis runs; each file is read once, here."""
    texts = {path.stem: path.read_text() for path in sorted(DIR.glob("*.lua"))}
    sources = {}
    for name, text in texts.items():
        if name.endswith(COMMON):
            continue
        common = texts.get(name.split("_", 1)[0] + COMMON, "") if "_" in name else ""
        sources[name] = _prelude(common + text) + common + text
    return sources


SOURCES: Mapping[str, str] = _sources()

# "-- COUNTS: K_CONV 1, K_MEMBERS 1": the keys a script builds from its ARGV
# (prefix local, ARGV index), which the hot-key counter attributes to a call
# of it (im/command_keys.py): a script that passes no KEYS would be invisible.
_COUNTS = re.compile(r"^-- COUNTS: ([A-Z_0-9 ,]+)", re.M)


def sha(source: str) -> str:
    """What EVALSHA names a script by (redis-py's Script.sha)."""
    return hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


def _argv_keys() -> dict[str, tuple[tuple[str, int], ...]]:
    """SHA-1 of a script's text (what EVALSHA names) -> (key prefix, ARGV index)s."""
    out = {}
    for source in SOURCES.values():
        found = _COUNTS.search(source)
        if found is None:
            continue
        pairs = [item.split() for item in found.group(1).split(",")]
        out[sha(source)] = tuple((CONSTANTS[name], int(index)) for name, index in pairs)
    return out


ARGV_KEYS: Mapping[str, tuple[tuple[str, int], ...]] = _argv_keys()


def register(redis: aioredis.Redis, name: str) -> AsyncScript:
    """Script im/lua/<name>.lua on `redis` (sent by SHA, loaded when Redis lacks it)."""
    return redis.register_script(SOURCES[name])
