"""Alerts pushed to an Alertmanager: `POST {url}/api/v2/alerts`, as Prometheus does.

Alertmanager expects a client to send its active alerts again and again
(it resolves one whose `endsAt` passes unrenewed), so `push` takes every
alert of the evaluation: a firing one goes with `endsAt` = now + `valid_for_s`
(Prometheus: 4 x the resend delay), renewed by the next push; a resolved one
with its `endsAt`, which resolves it there at once. Pending and inactive ones
are not sent. Our silences are not Alertmanager's: a silenced alert is still
pushed (Alertmanager has its own silences). One request per push, bounded by
`timeout_s`; a failure is reported and counted, never raised, and the next
evaluation sends the whole state again.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

import httpx
import orjson

from alerts.model import Alert, State
from alerts.payload import api_alert

API_PATH = "/api/v2/alerts"


@dataclass(frozen=True)
class PushReport:
    pushed: int  # alerts in the request Alertmanager took
    error: str | None = None  # "timeout", "ConnectError: ...", "http 400: <its answer>"
    retriable: bool = False  # the error may pass (no answer, 5xx); 4xx: our request is wrong


class AlertmanagerPusher:
    """`totals` counts since start: pushes, alerts, failed."""

    def __init__(
        self, url: str, timeout_s: float = 5.0, valid_for_s: float = 240.0,
        external_url: str = "",
    ) -> None:  # fmt: skip
        self.url = url.rstrip("/") + API_PATH
        self.timeout_s, self.valid_for_s = timeout_s, valid_for_s
        self.external_url = external_url
        self.totals: Counter[str] = Counter()

    def body(self, alerts: list[Alert], now_ms: int) -> list[dict[str, object]]:
        valid_until = now_ms + int(self.valid_for_s * 1000)
        out = []
        for a in alerts:
            if a.state is State.FIRING:
                out.append(api_alert(a, valid_until, self.external_url))
            elif a.state is State.RESOLVED:
                ends = a.resolved_at_ms if a.resolved_at_ms is not None else now_ms
                out.append(api_alert(a, ends, self.external_url))
        return out

    async def push(self, alerts: list[Alert], now_ms: int | None = None) -> PushReport:
        body = self.body(alerts, now_ms if now_ms is not None else int(time.time() * 1000))
        if not body:
            return PushReport(0)
        report = await self._post(orjson.dumps(body), len(body))
        self.totals.update(pushes=1, alerts=report.pushed, failed=report.error is not None)
        return report

    async def _post(self, body: bytes, n: int) -> PushReport:
        headers = {"content-type": "application/json"}
        try:
            async with (
                asyncio.timeout(self.timeout_s),
                httpx.AsyncClient(timeout=self.timeout_s) as client,
            ):  # the whole exchange within timeout_s, not each read
                r = await client.post(self.url, content=body, headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            return PushReport(0, "timeout", True)
        except httpx.TransportError as e:
            return PushReport(0, f"{type(e).__name__}: {e}", True)
        if 200 <= r.status_code < 300:
            return PushReport(n)
        return PushReport(0, f"http {r.status_code}: {r.text[:200]}", r.status_code >= 500)
