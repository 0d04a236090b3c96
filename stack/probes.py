"""Readiness probes: each returns None when ready, else why not (never sleeps)."""

from __future__ import annotations

import asyncio
import logging
import socket
import urllib.error
import urllib.request

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

# aiokafka logs every refused connection at ERROR; while probing that is noise.
logging.getLogger("aiokafka").setLevel(logging.CRITICAL)


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def redis_ready(port: int) -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
            s.sendall(b"PING\r\n")
            reply = s.recv(64)
    except OSError as e:
        return f"redis: {e}"
    return None if reply.startswith(b"+PONG") else f"redis answered {reply!r}"


def http_ready(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2.0) as resp:  # noqa: S310 - loopback URL
            return None if resp.status == 200 else f"{url} -> {resp.status}"
    except urllib.error.HTTPError as e:
        return f"{url} -> {e.code}"
    except OSError as e:
        return f"{url}: {e}"


async def _kafka_topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


def kafka_ready(bootstrap: str) -> str | None:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1.0).close()
    except OSError as e:
        return f"kafka: {e}"
    try:
        asyncio.run(asyncio.wait_for(_kafka_topics(bootstrap), 5.0))
    except Exception as e:  # any failure means "not yet"
        return f"kafka: {type(e).__name__}: {e}"
    return None


async def _create_topics(bootstrap: str, names: tuple[str, ...], partitions: int) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        have = set(await admin.list_topics())
        want = [n for n in names if n not in have]
        if want:
            await admin.create_topics(
                [NewTopic(n, num_partitions=partitions, replication_factor=1) for n in want]
            )
        return want
    finally:
        await admin.close()


def create_topics(bootstrap: str, names: tuple[str, ...], partitions: int) -> list[str]:
    """Create the topics that are missing; returns those created."""
    return asyncio.run(_create_topics(bootstrap, names, partitions))
