"""One load-client worker process: asyncio + `websockets`, driven over a pipe.

Open loop: client `i` of N sends at t0 + k/rate + (i/N)/rate, whatever the
server answers, so a slow server cannot slow the offered load down; every
latency is measured from the scheduled time (a late send counts against the
latency, and the scheduler's own lateness is reported as "send lag").
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.base.machine import raise_nofile
from bench.dialects import Conn, Dialect, make
from bench.plan import ClientSpec, encode_text
from bench.recorder import Recorder
from bench.stats import WorkerStep

CONNECT_CONCURRENCY = 100
CONNECT_TRIES = 3


@dataclass(frozen=True)
class ConnectCmd:
    url: str
    dialect: str
    specs: list[ClientSpec]
    ack_interval_s: float


@dataclass
class ConnectResult:
    ok: int = 0
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


@dataclass(frozen=True)
class StepCmd:
    t0_ns: int  # CLOCK_MONOTONIC: shared by every process of the machine
    rate: float  # msgs/s per client
    total_clients: int
    warmup_s: float
    duration_s: float
    grace_s: float
    text_size: int


@dataclass(frozen=True)
class DisconnectCmd:
    pass


@dataclass(frozen=True)
class StopCmd:
    pass


class Worker:
    def __init__(self, pipe: Connection) -> None:
        self.pipe = pipe
        self.conns: list[Conn] = []
        self.dialect: Dialect = make("im")
        self.rec = Recorder()
        self.readers: list[asyncio.Task[None]] = []
        self.ticker: asyncio.Task[None] | None = None
        self.closing = False

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            cmd = await loop.run_in_executor(None, self.pipe.recv)
            if isinstance(cmd, ConnectCmd):
                self.pipe.send(await self.connect(cmd))
            elif isinstance(cmd, StepCmd):
                self.pipe.send(await self.step(cmd))
            elif isinstance(cmd, DisconnectCmd):
                await self.disconnect()
                self.pipe.send(None)
            else:
                await self.disconnect()
                return

    async def connect(self, cmd: ConnectCmd) -> ConnectResult:
        self.dialect = make(cmd.dialect)
        self.closing = False
        result = ConnectResult()
        started = time.monotonic()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(spec: ClientSpec) -> None:
            async with gate:
                why = ""
                for _ in range(CONNECT_TRIES):
                    try:
                        ws = await connect(
                            cmd.url,
                            compression=None,  # same for every server: no permessage-deflate
                            max_size=2**20,
                            ping_interval=None,  # the protocols have their own heartbeats
                            open_timeout=30,
                            close_timeout=2,
                        )
                    except (OSError, TimeoutError, ConnectionClosed) as e:
                        why = f"connect: {type(e).__name__}"
                        await asyncio.sleep(0.5)
                        continue
                    conn = Conn(spec, ws, last_tx_ns=time.monotonic_ns())
                    try:
                        await self.dialect.handshake(conn)
                    except Exception as e:
                        why = f"handshake: {type(e).__name__}: {str(e)[:120]}"
                        await ws.close()
                        await asyncio.sleep(0.5)
                        continue
                    self.conns.append(conn)
                    self.readers.append(asyncio.create_task(self.read(conn)))
                    result.ok += 1
                    return
                result.failed += 1
                result.errors[why] += 1

        await asyncio.gather(*(one(s) for s in cmd.specs))
        self.conns.sort(key=lambda c: c.spec.index)
        self.ticker = asyncio.create_task(self.tick(cmd.ack_interval_s))
        result.seconds = time.monotonic() - started
        return result

    async def read(self, c: Conn) -> None:
        on_frame, rec = self.dialect.on_frame, self.rec
        try:
            async for raw in c.ws:
                answer = on_frame(c, raw, time.monotonic_ns(), rec)
                if answer is not None:
                    await c.ws.send(answer)
        except ConnectionClosed:
            pass
        finally:
            c.closed = True
            if not self.closing:
                rec.closed(c.ws.close_code)

    async def tick(self, interval_s: float) -> None:
        """Batched acks and heartbeats, every `interval_s`."""
        while True:
            await asyncio.sleep(interval_s)
            now = time.monotonic_ns()
            for c in self.conns:
                if c.closed:
                    continue
                for frame in self.dialect.idle_frames(c, now):
                    with contextlib.suppress(ConnectionClosed):
                        await c.ws.send(frame)
                        c.last_tx_ns = now

    async def step(self, cmd: StepCmd) -> WorkerStep:
        period = int(1e9 / cmd.rate)
        win_start = cmd.t0_ns + int(cmd.warmup_s * 1e9)
        end = win_start + int(cmd.duration_s * 1e9)
        self.rec.start(win_start, end)
        phases = [(c, c.spec.index * period // cmd.total_clients) for c in self.conns]
        send_frame, rec, size = self.dialect.send_frame, self.rec, cmd.text_size
        behind = 0
        base = cmd.t0_ns
        while base < end:
            for c, phase in phases:
                t = base + phase
                if t >= end:
                    break
                now = time.monotonic_ns()
                if t > now:
                    await asyncio.sleep((t - now) / 1e9)
                    behind = 0
                else:
                    behind += 1
                    if behind >= 64:  # far behind: still let the readers run
                        await asyncio.sleep(0)
                        behind = 0
                if c.closed:
                    continue
                frame = send_frame(c, t, encode_text(t, c.spec.index, size))
                try:
                    await c.ws.send(frame)
                except ConnectionClosed:
                    continue
                c.last_tx_ns = now = time.monotonic_ns()
                rec.sending(t, c.spec.members, now)
            base += period
        wait_ns = end + int(cmd.grace_s * 1e9) - time.monotonic_ns()
        await asyncio.sleep(max(0.0, wait_ns / 1e9))
        return rec.finish()

    async def disconnect(self) -> None:
        self.closing = True
        if self.ticker is not None:
            self.ticker.cancel()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def close(c: Conn) -> None:
            async with gate:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(c.ws.close(), 5)

        await asyncio.gather(*(close(c) for c in self.conns))
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)
        self.conns, self.readers = [], []


def worker_main(pipe: Connection) -> None:
    """Entry point of a worker process (multiprocessing, spawn)."""
    raise_nofile()
    with contextlib.suppress(KeyboardInterrupt):  # the coordinator handles Ctrl-C
        asyncio.run(Worker(pipe).serve())
