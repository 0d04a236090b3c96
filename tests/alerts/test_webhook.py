"""Webhook delivery against a real HTTP receiver: the exact payload (Alertmanager's
version 4), retries, and receivers that are dead, slow or refuse."""

from __future__ import annotations

import time

from alerts.model import Kind, State
from alerts.payload import rfc3339
from alerts.webhook import WebhookSender
from tests.alerts.helpers import T0, alert, notification
from tests.alerts.receiver import receiver
from tests.ports import free_port

EXTERNAL = "http://im.example:8080"


def test_times_are_written_as_go_writes_them() -> None:
    assert rfc3339(T0) == "2023-11-14T22:13:20Z"
    assert rfc3339(T0 + 120) == "2023-11-14T22:13:20.12Z"
    assert rfc3339(T0 + 5) == "2023-11-14T22:13:20.005Z"


async def test_the_payload_is_alertmanagers_version_4_one_per_team() -> None:
    down = alert("RedisDown", instance="redis-1")
    resolved = alert("RedisMemoryHigh", severity="warning", state=State.RESOLVED,
                     resolved_ms=T0 + 300_000, value=0.93, instance="redis-1")  # fmt: skip
    reply = alert("ReplyRateLow", team="cs", severity="warning", value=0.61, fired_ms=None)
    async with receiver() as rec:
        sender = WebhookSender([rec.url + "/ok/a"], 2.0, 0, EXTERNAL)
        report = await sender.send([notification(down), notification(resolved),
                                    notification(reply, Kind.REPEAT, T0 + 900_000)])  # fmt: skip
    assert (report.delivered, report.failures) == (2, ())
    assert rec.bodies("/ok/a") == [
        {
            "version": "4",
            "groupKey": '{}:{team="cs"}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "im-cs",
            "groupLabels": {"team": "cs"},
            "commonLabels": {"alertname": reply.name, "severity": "warning", "team": "cs"},
            "commonAnnotations": reply.annotations,
            "externalURL": EXTERNAL,
            "alerts": [{
                "status": "firing",
                "labels": reply.labels,
                "annotations": reply.annotations,
                "startsAt": "2023-11-14T22:13:20Z",  # not fired: since it became active
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://im.example:8080/d/replyratelow",
                "fingerprint": reply.fingerprint,
            }],
        },
        {
            "version": "4",
            "groupKey": '{}:{team="sre"}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "im-sre",
            "groupLabels": {"team": "sre"},
            "commonLabels": {"instance": "redis-1", "team": "sre"},
            "commonAnnotations": {"description": "what it means"},
            "externalURL": EXTERNAL,
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "RedisDown", "severity": "critical", "team": "sre",
                               "instance": "redis-1"},
                    "annotations": down.annotations,
                    "startsAt": "2023-11-14T22:14:20Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://im.example:8080/d/redisdown",
                    "fingerprint": down.fingerprint,
                },
                {
                    "status": "resolved",
                    "labels": resolved.labels,
                    "annotations": resolved.annotations,
                    "startsAt": "2023-11-14T22:14:20Z",
                    "endsAt": "2023-11-14T22:18:20Z",
                    "generatorURL": "http://im.example:8080/d/redismemoryhigh",
                    "fingerprint": resolved.fingerprint,
                },
            ],
        },
    ]  # fmt: skip
    assert sender.totals == {"delivered": 2, "attempts": 2, "failed_retriable": 0,
                             "failed_permanent": 0}  # fmt: skip


async def test_a_resolved_group_says_resolved_and_nothing_is_sent_for_nothing() -> None:
    gone = alert(state=State.RESOLVED, resolved_ms=T0 + 90_000)
    async with receiver() as rec:
        sender = WebhookSender([rec.url + "/ok/r"], 2.0, 0, EXTERNAL)
        assert (await sender.send([])).delivered == 0
        await sender.send([notification(gone)])
    [payload] = rec.bodies("/ok/r")
    assert (payload["status"], payload["alerts"][0]["endsAt"]) == (
        "resolved",
        "2023-11-14T22:14:50Z",
    )


async def test_a_failed_request_is_retried_with_backoff_and_a_client_error_is_not() -> None:
    async with receiver() as rec:
        sender = WebhookSender(
            [rec.url + "/flaky/2/x", rec.url + "/status/400/x", rec.url + "/status/503/x"],
            timeout_s=2.0, retries=2, external_url=EXTERNAL, backoff_s=0.2,
        )  # fmt: skip
        report = await sender.send([notification(alert())])
    assert report.delivered == 1  # the flaky one, at its third attempt
    assert sorted((f.url.removeprefix(rec.url), f.attempts, f.error, f.retriable)
                  for f in report.failures) == [
        ("/status/400/x", 1, "http 400", False),
        ("/status/503/x", 3, "http 503", True),
    ]  # fmt: skip
    flaky = [r.at for r in rec.requests if r.path == "/flaky/2/x"]
    assert len(flaky) == 3
    # Backoff 0.2 s, then 0.4 s (a little more for the requests, on a busy machine).
    assert 0.2 <= flaky[1] - flaky[0] < 0.5 and 0.4 <= flaky[2] - flaky[1] < 0.8
    assert (report.retriable, report.permanent) == (1, 1)
    assert sender.totals == {"delivered": 1, "attempts": 7, "failed_retriable": 1,
                             "failed_permanent": 1}  # fmt: skip


async def test_dead_and_slow_receivers_do_not_hold_up_the_call_or_the_others() -> None:
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nobody listens there
    async with receiver(slow_s=1.5) as rec:
        sender = WebhookSender([dead, rec.url + "/slow/x", rec.url + "/ok/x"],
                               timeout_s=0.5, retries=1, external_url=EXTERNAL,
                               backoff_s=0.1)  # fmt: skip
        assert sender.bound_s == 1.1
        started = time.monotonic()
        report = await sender.send([notification(alert())])
        took = time.monotonic() - started
        assert took < sender.bound_s + 0.5, took  # well before the slow one answers
        assert len(rec.bodies("/ok/x")) == 1
        assert {f.url: (f.attempts, f.error.split(":")[0], f.retriable)
                for f in report.failures} == {
            dead: (2, "ConnectError", True),
            rec.url + "/slow/x": (2, "timeout", True),
        }  # fmt: skip
