"""Which keys a Redis command touches, from its arguments as the client packs them.

`command_keys(args)` takes the arguments of `Connection.pack_command` (the
command name first, possibly with its subcommand in the same string, e.g.
"MEMORY USAGE") and returns the key names: the `numkeys` keys of EVAL,
EVALSHA and FCALL (and for EVALSHA of one of our scripts, the keys its
`-- COUNTS:` header says it builds from ARGV: im/lua), the keys after
STREAMS of XREAD and XREADGROUP, every
key of the multi-key commands (MGET, DEL, ...), the key after the
subcommand of MEMORY USAGE, OBJECT, XINFO and XGROUP, nothing for commands
without keys (PING, INFO, SCAN, MULTI, pub/sub channels, ...), and the first
argument of every other command. Pure: it only reads the arguments.
"""

from __future__ import annotations

from collections.abc import Sequence

from im.lua import ARGV_KEYS

# Commands that name no key (a pub/sub channel is not a key of the keyspace).
NO_KEYS = frozenset(
    """ACL AUTH BGREWRITEAOF BGSAVE CLIENT CLUSTER COMMAND CONFIG DBSIZE DEBUG DISCARD ECHO
    EXEC FAILOVER FLUSHALL FLUSHDB FUNCTION HELLO INFO KEYS LASTSAVE LATENCY LOLWUT MODULE
    MONITOR MULTI PING PSUBSCRIBE PSYNC PUBLISH PUBSUB PUNSUBSCRIBE QUIT RANDOMKEY READONLY
    READWRITE REPLICAOF RESET ROLE SAVE SCAN SCRIPT SELECT SHUTDOWN SLAVEOF SLOWLOG SPUBLISH
    SSUBSCRIBE SUBSCRIBE SUNSUBSCRIBE SWAPDB SYNC TIME UNSUBSCRIBE UNWATCH WAIT WAITAOF""".split()
)
# Script calls: script or function, numkeys, then that many keys.
NUMKEYS = frozenset({"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"})
STREAMS = frozenset({"XREAD", "XREADGROUP"})
EVERY_ARG = frozenset(
    {"MGET", "DEL", "UNLINK", "EXISTS", "TOUCH", "WATCH", "SINTER", "SUNION", "SDIFF", "PFCOUNT"}
)
PAIRS = frozenset({"MSET", "MSETNX"})  # key value key value ...
BLOCKING = frozenset({"BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX"})  # keys..., timeout
# Container commands: the key follows these subcommands.
SUBCOMMAND_KEY = {
    "MEMORY": frozenset({"USAGE"}),
    "OBJECT": frozenset({"ENCODING", "FREQ", "IDLETIME", "REFCOUNT"}),
    "XINFO": frozenset({"STREAM", "GROUPS", "CONSUMERS"}),
    "XGROUP": frozenset({"CREATE", "SETID", "DESTROY", "CREATECONSUMER", "DELCONSUMER"}),
}


def text(arg: object) -> str:
    """An argument as str (bytes decoded; numbers as Redis gets them)."""
    if isinstance(arg, str):
        return arg
    if isinstance(arg, bytes | bytearray | memoryview):
        return bytes(arg).decode("utf-8", "replace")
    return str(arg)


def command_keys(args: Sequence[object]) -> list[str]:
    """The keys the command `args` touches (a key given twice counts twice)."""
    head = text(args[0]).split() if args else []
    if not head:
        return []
    name = head[0].upper()
    rest: list[object] = [*head[1:], *args[1:]]
    if name in NO_KEYS:
        return []
    if name in NUMKEYS:
        try:
            n = int(text(rest[1]))
        except (IndexError, ValueError):
            return []
        found = [text(k) for k in rest[2 : 2 + max(n, 0)]]
        if name.startswith("EVALSHA"):  # our scripts name keys they build from ARGV
            argv = rest[2 + max(n, 0) :]
            for prefix, i in ARGV_KEYS.get(text(rest[0]), ()):
                if i <= len(argv):
                    found.append(prefix + text(argv[i - 1]))
        return found
    if name in STREAMS:
        words = [text(a) for a in rest]
        upper = [w.upper() for w in words]
        if "STREAMS" not in upper:
            return []
        streams = words[upper.index("STREAMS") + 1 :]
        return streams[: len(streams) // 2]  # STREAMS k1 k2 id1 id2
    if name in SUBCOMMAND_KEY:
        sub = text(rest[0]).upper() if rest else ""
        return [text(rest[1])] if len(rest) > 1 and sub in SUBCOMMAND_KEY[name] else []
    if name in EVERY_ARG:
        return [text(k) for k in rest]
    if name in PAIRS:
        return [text(k) for k in rest[0::2]]
    if name in BLOCKING:
        return [text(k) for k in rest[:-1]]
    return [text(rest[0])] if rest else []
