"""python -m alerts: the evaluator's loop, GET /healthz and GET /metrics.

/healthz: 200 once a round ran (as holder or standby), with what it knows;
503 before. /metrics: the evaluator's own health in Prometheus' format —
rounds, whether it holds the lease, rule errors by rule, notifications by
channel and outcome, probes, alerts by state and severity — read when
scraped (a registry of its own, as the nodes do).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alerts.alertmanager import AlertmanagerPusher
from alerts.chat import AlertChat
from alerts.engine import Engine
from alerts.evaluator import Evaluator
from alerts.lease import Lease
from alerts.metrics import EvaluatorMetrics
from alerts.probes import Probes
from alerts.query_client import AnalyticsQueries
from alerts.rules import Rule, load_rules
from alerts.settings import AlertSettings
from alerts.webhook import WebhookSender

log = logging.getLogger("alerts.app")


def linked(rules: list[Rule], s: AlertSettings) -> list[Rule]:
    """The rules with absolute links: the runbook as this evaluator serves it
    (GET /runbooks/NAME.md), the dashboard path under IM_GRAFANA_URL."""
    out = []
    for r in rules:
        notes = dict(r.annotations)
        notes["runbook_url"] = f"{s.external_url.rstrip('/')}/runbooks/{r.name}.md"
        if notes.get("dashboard", "").startswith("/"):
            notes["dashboard"] = s.grafana_url.rstrip("/") + notes["dashboard"]
        out.append(dataclasses.replace(r, annotations=notes))
    return out


def build(s: AlertSettings) -> tuple[Evaluator, aioredis.Redis, AnalyticsQueries]:
    redis = aioredis.Redis.from_url(
        s.redis_url, decode_responses=True, socket_timeout=3.0, socket_connect_timeout=2.0
    )
    rules = linked(load_rules(Path(s.rules_dir)), s)
    queries = AnalyticsQueries(s.analytics_url, s.analytics_token, pause_s=s.interval_s / 2)
    probes = Probes(redis, s.kafka_bootstrap, s.analytics_group, queries, s.analytics_url,
                    s.collector_url, s.probe_timeout_s)  # fmt: skip
    engine = Engine(rules, int(s.repeat_s * 1000), int(s.keep_resolved_s * 1000))
    hook = (
        WebhookSender(
            s.webhooks, s.webhook_timeout_s, s.webhook_retries, s.external_url, s.webhook_backoff_s
        )
        if s.webhooks
        else None
    )
    am = (
        AlertmanagerPusher(
            s.alertmanager_url, s.alertmanager_timeout_s, external_url=s.external_url
        )
        if s.alertmanager_url
        else None
    )
    chat = AlertChat(redis, s.evaluator_id, s.external_url)
    lease = Lease(redis, s.evaluator_id, int(s.lease_s * 1000))
    ev = Evaluator(redis, rules, engine, lease, queries, probes, chat, hook, am)
    return ev, redis, queries


async def run(ev: Evaluator, interval_s: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        started = time.monotonic()
        try:
            await ev.round(int(time.time() * 1000))
        except Exception:
            log.exception("evaluation round failed")
        ev.counts.last_seconds = time.monotonic() - started
        ev.ticked += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, interval_s - ev.counts.last_seconds))


def create_app(settings: AlertSettings) -> Starlette:
    ev, redis, queries = build(settings)
    registry = CollectorRegistry(auto_describe=True)
    registry.register(EvaluatorMetrics(ev))

    async def healthz(request: Request) -> Response:
        body = {
            "status": "ok" if ev.ticked else "starting",
            "holder": ev.lease.held,
            "rounds": ev.counts.rounds,
            "firing": sum(a.state.value == "firing" for a in ev.engine.active()),
            "pending_notifications": len(ev.pending),
            "rule_errors": sum(ev.counts.rule_errors.values()),
        }
        return Response(orjson.dumps(body), 200 if ev.ticked else 503,
                        media_type="application/json")  # fmt: skip

    runbooks = {r.name: Path(settings.rules_dir).parent / "runbooks" / f"{r.name}.md"
                for r in ev.rules}  # fmt: skip

    async def runbook(request: Request) -> Response:
        path = runbooks.get(str(request.path_params["name"]))
        if path is None:
            return Response(b"no such runbook\n", 404, media_type="text/plain")
        return Response(path.read_bytes(), media_type="text/markdown; charset=utf-8")

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(run(ev, settings.interval_s, stop), name="evaluator")
        try:
            yield
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
            await ev.lease.release()
            await ev.probes.close()
            await queries.close()
            await redis.aclose()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/metrics", metrics),
            Route("/runbooks/{name}.md", runbook),
        ],
        lifespan=lifespan,
    )
