"""Notifications to webhooks, in Alertmanager's webhook payload (version 4).

Every payload (one per team: alerts.payload.webhook_payloads) goes to every
URL at once. A request has `timeout_s` in all (connecting, sending and the
answer together); a timeout, a refused connection, a 5xx or a 429 is tried
again, up to `retries` times, after `backoff_s`, 2 x `backoff_s`, ...; any
other answer outside 2xx is final. So `send` returns within `bound_s`
whatever the receivers do, and a dead or slow one never holds up the others
or the evaluation; what failed comes back in the report, and is counted.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from alerts.model import Notification
from alerts.payload import webhook_payloads


@dataclass(frozen=True)
class Failure:
    url: str
    group_key: str
    attempts: int
    error: str  # "timeout", "connect: ...", "http 500"
    retriable: bool  # the receiver may take it later (a timeout, 5xx, 429, no connection)


@dataclass(frozen=True)
class WebhookReport:
    delivered: int  # (payload, URL) pairs a receiver took (2xx)
    failures: tuple[Failure, ...]

    @property
    def retriable(self) -> int:
        return sum(f.retriable for f in self.failures)

    @property
    def permanent(self) -> int:
        return sum(not f.retriable for f in self.failures)


class _Refused(Exception):
    def __init__(self, error: str, retriable: bool) -> None:
        super().__init__(error)
        self.error, self.retriable = error, retriable


class WebhookSender:
    """`totals` counts since start: delivered, failed_retriable, failed_permanent, attempts."""

    def __init__(
        self, urls: Sequence[str], timeout_s: float, retries: int, external_url: str,
        backoff_s: float = 0.5,
    ) -> None:  # fmt: skip
        self.urls = tuple(urls)
        self.timeout_s, self.retries, self.backoff_s = timeout_s, retries, backoff_s
        self.external_url = external_url
        self.totals: Counter[str] = Counter()

    @property
    def bound_s(self) -> float:
        """The longest `send` takes: every attempt timing out, every backoff waited."""
        waits = sum(self.backoff_s * float(2**i) for i in range(self.retries))
        return (self.retries + 1) * self.timeout_s + waits

    async def send(self, notifications: list[Notification]) -> WebhookReport:
        if not notifications or not self.urls:
            return WebhookReport(0, ())
        payloads = webhook_payloads(notifications, self.external_url)
        async with httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False) as client:
            results = await asyncio.gather(*(
                self._deliver(client, url, p) for url in self.urls for p in payloads
            ))  # fmt: skip
        failures = tuple(r for r in results if r is not None)
        report = WebhookReport(len(results) - len(failures), failures)
        self.totals.update(delivered=report.delivered, failed_retriable=report.retriable,
                           failed_permanent=report.permanent)  # fmt: skip
        return report

    async def _deliver(
        self, client: httpx.AsyncClient, url: str, payload: dict[str, Any]
    ) -> Failure | None:
        body = orjson.dumps(payload)
        attempt = 0
        while True:
            attempt += 1
            self.totals["attempts"] += 1
            try:
                await self._post(client, url, body)
                return None
            except _Refused as refused:
                if not refused.retriable or attempt > self.retries:
                    return Failure(url, payload["groupKey"], attempt, refused.error,
                                   refused.retriable)  # fmt: skip
            await asyncio.sleep(self.backoff_s * float(2 ** (attempt - 1)))

    async def _post(self, client: httpx.AsyncClient, url: str, body: bytes) -> None:
        headers = {"content-type": "application/json"}
        try:
            async with asyncio.timeout(self.timeout_s):  # the whole exchange, not per read
                r = await client.post(url, content=body, headers=headers)
        except TimeoutError:
            raise _Refused("timeout", True) from None
        except httpx.TransportError as e:
            raise _Refused(f"{type(e).__name__}: {e}", True) from None
        if r.status_code >= 500 or r.status_code == 429:
            raise _Refused(f"http {r.status_code}", True)
        if not 200 <= r.status_code < 300:
            raise _Refused(f"http {r.status_code}", False)
