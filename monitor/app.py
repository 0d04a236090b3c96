"""The collector process: its samplers from the settings, and GET /healthz.

/healthz answers 200 with the collector's counters (rounds, samples written,
queued and dropped, each sampler's samples, errors and skips) once the first
round is done, 503 before: the stack manager waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import orjson
import redis.asyncio as aioredis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from monitor.collector import Collector
from monitor.flink import FlinkSampler
from monitor.gateway import GatewaySampler
from monitor.host import HostSampler
from monitor.kafka_sampler import KafkaSampler
from monitor.pipeline import PipelineSampler
from monitor.redis_sampler import RedisSampler, redis_client
from monitor.sample import Sampler
from monitor.settings import MonitorSettings
from monitor.writer import SampleWriter


def samplers(s: MonitorSettings, redis: aioredis.Redis) -> list[Sampler]:
    every: dict[str, Sampler] = {
        "redis": RedisSampler(
            redis, s.scan_keys, s.big_keys, s.slowlog_max, s.hot_keys, s.hot_window_s
        ),
        "kafka": KafkaSampler(s.kafka_bootstrap, s.groups),
        "host": HostSampler(s.run_dir, s.data_dirs),
        "pipeline": PipelineSampler(s.kafka_bootstrap),
        "flink": FlinkSampler(s.flink_rest_url, s.flink_job_name),
        "gateway": GatewaySampler(redis),
    }
    return [every[name] for name in s.samplers]


def collector(s: MonitorSettings, redis: aioredis.Redis) -> Collector:
    writer = SampleWriter(redis, s.node_id, s.max_age_s, s.queue_max)
    return Collector(samplers(s, redis), writer, s.interval_s)


def create_app(settings: MonitorSettings) -> Starlette:
    redis = redis_client(settings.redis_url)
    coll = collector(settings, redis)

    async def healthz(request: Request) -> Response:
        body = {"status": "ok" if coll.rounds else "starting", **coll.health()}
        return Response(orjson.dumps(body), 200 if coll.rounds else 503,
                        media_type="application/json")  # fmt: skip

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(coll.run(stop), name="collector")
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
            await coll.close()
            await redis.aclose()

    return Starlette(routes=[Route("/healthz", healthz)], lifespan=lifespan)
