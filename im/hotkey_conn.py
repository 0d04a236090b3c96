"""The Redis connections that count: `pack_command` hands a sample of the commands to HotKeys.

`count_commands(pool, hot)` makes every connection the pool opens from then
on a counting one, of the class the URL chose (redis://, rediss://,
unix://). Every command passes through `pack_command`: a single command
(`send_command`), and each command of a pipeline or MULTI/EXEC
(`pack_commands` calls it per command; redis-py 8, redis/asyncio/connection.py).
An unsampled command costs one `random()` and a comparison (bench/hotkeys.py).
"""

from __future__ import annotations

from random import random
from typing import Any

from redis.asyncio.connection import (
    AbstractConnection,
    Connection,
    ConnectionPool,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.typing import EncodableT

from im.hotkeys import HotKeys


class _Counting(AbstractConnection):
    """A connection whose `pack_command` counts a random share of the commands."""

    def __init__(self, *, hot_keys: HotKeys, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hot_keys, self._hot_rate = hot_keys, hot_keys.rate

    def pack_command(self, *args: EncodableT) -> list[bytes]:
        if random() < self._hot_rate:
            self._hot_keys.count(args)
        return _pack(self, *args)  # no super(): one lookup less on every command


# Defined once, in AbstractConnection: the same for every class below.
_pack = AbstractConnection.pack_command


class CountingConnection(_Counting, Connection):
    pass


class CountingSSLConnection(_Counting, SSLConnection):
    pass


class CountingUnixConnection(_Counting, UnixDomainSocketConnection):
    pass


COUNTING: dict[type[AbstractConnection], type[AbstractConnection]] = {
    Connection: CountingConnection,
    SSLConnection: CountingSSLConnection,  # rediss://
    UnixDomainSocketConnection: CountingUnixConnection,  # unix://
}


def count_commands(pool: ConnectionPool, hot: HotKeys) -> None:
    """Make the connections `pool` opens from now on count into `hot` (rate 0: off)."""
    if hot.rate <= 0:
        return
    pool.connection_class = COUNTING[pool.connection_class]
    pool.connection_kwargs["hot_keys"] = hot
