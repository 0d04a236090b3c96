"""The pipeline acting back on the chat, end to end on the real stack: real
clients chat through the server; the PyFlink job sees it through Kafka; the
server obeys what the job decides; results land in ClickHouse."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from contract import topics
from im import keys
from stack import flink
from stack.manager import Stack
from tests.alerts.helpers import staff
from tests.alerts.running import evaluating, hooked, quick_rules
from tests.analytics.api import admin, query, rows
from tests.client import Frame, User
from tests.im.cs_helpers import ADMIN, ADMIN_PW, agent, events_of
from tests.waiting import wait_until


async def test_a_spammer_is_muted_within_seconds(apps: Stack) -> None:
    base = f"http://127.0.0.1:{apps.settings.http_port}"
    spammer, witness = await User.create(base, "spam"), await User.create(base, "wit")
    conv = await spammer.group("spam", [witness])
    d = await spammer.connect()
    for i in range(10):  # the flood rule: 10 messages within 10 s
        await d.send_text(conv, f"buy cheap stuff #{i}")
    crossed = time.monotonic()

    async def muted() -> Frame | None:
        frame = await d.send_message(conv, "still here", timeout=5)
        return frame if frame["type"] == "error" and frame["code"] == "muted" else None

    frame = await wait_until(muted, 60, what="the spammer muted", interval=0.3)
    took = time.monotonic() - crossed
    assert int(frame["until"]) > time.time() * 1000
    assert took < 30, f"muted only after {took:.1f}s"
    hits = await events_of(apps.settings.kafka_bootstrap, topics.MODERATION,
                           {"user": spammer.user_id}, 1)  # fmt: skip
    assert hits[0]["rule"] == "flood" and hits[0]["count"] == 10


async def test_an_idle_session_is_closed_with_its_event_message(apps: Stack) -> None:
    base = f"http://127.0.0.1:{apps.settings.http_port}"
    customer = await User.create(base, "idle")
    r = await customer.post("/api/cs/sessions", {"topic": "slow day"})
    sid, conv = r.json()["session"], r.json()["conv"]
    d = await customer.connect()
    await d.send_text(conv, "hello? anyone?")

    async def closed() -> dict[str, object] | None:
        r = await customer.get(f"/api/conversations/{conv}/messages")
        for m in r.json()["messages"]:
            if m["kind"] == "event" and m["body"].get("event") == "closed":
                return m  # type: ignore[no-any-return]
        return None

    notice = await wait_until(closed, 60, what="the session closed", interval=0.3)  # gap 4 s
    assert notice["body"] == {"text": "session closed", "event": "closed", "session": sid,
                              "reason": "inactivity"}  # fmt: skip
    rows = await events_of(apps.settings.kafka_bootstrap, topics.SESSIONS, {"conv": conv}, 1)
    assert rows[0]["session"] == sid and rows[0]["customer_messages"] == 1


async def test_reply_rate_rows_reach_the_topic_and_clickhouse(apps: Stack) -> None:
    base = f"http://127.0.0.1:{apps.settings.http_port}"
    a = await agent(base)  # the test stack's node has the cs-admin account
    customer = await User.create(base, "rr")
    sid = (await customer.post("/api/cs/sessions")).json()["session"]
    await a.post(f"/api/cs/sessions/{sid}/accept")
    conv = (await customer.get("/api/conversations")).json()[0]["conv"]
    dc, da = await customer.connect(), await a.connect()
    await dc.send_text(conv, "I need help")
    await asyncio.sleep(1.0)  # the subject: the agent answers after a second (avg_reply_s)
    await da.send_text(conv, "here to help")  # answered within 5 s
    rows = await events_of(apps.settings.kafka_bootstrap, topics.REPLY_RATE,
                           {"agent": a.user_id}, 1, timeout=90)  # fmt: skip
    assert rows and rows[0]["waits"] == 1 and rows[0]["replied_5m"] == 1
    assert rows[0]["reply_rate"] == 1.0 and 0.9 < rows[0]["avg_reply_s"] < 3.0

    token = (await admin(base)).token  # the query API is for admins

    async def in_clickhouse() -> bool:
        sql = f"SELECT sum(waits) FROM reply_rates FINAL WHERE agent = '{a.user_id}'"
        r = await query(f"http://127.0.0.1:{apps.settings.analytics_port}", token, sql)
        return r.status_code == 200 and r.json()["rows"][0][0] == 1

    await wait_until(in_clickhouse, 30, what="the reply rate in ClickHouse", interval=0.3)


async def test_the_collector_sees_the_running_job_and_its_checkpoints_in_clickhouse(
    apps: Stack,
) -> None:
    """The stack's job on its Flink cluster, as an SRE finds it in ops_samples: the
    collector (IM_FLINK_REST_URL = the cluster's) samples the job's state and
    checkpoints, the outbox and Kafka carry them, analytics stores them."""
    s = apps.settings
    base, analytics_url = f"http://127.0.0.1:{s.http_port}", f"http://127.0.0.1:{s.analytics_port}"
    jid = flink.live_job(flink.rest_url(s))
    assert jid is not None and flink.job_state(flink.rest_url(s), jid) == "RUNNING"
    apps.up(["monitor"])
    try:
        token = (await admin(base)).token
        newest = (
            "SELECT value, ts FROM ops_samples FINAL WHERE source = 'pipeline' "
            "AND metric = 'pipeline_checkpoints_completed_total' ORDER BY ts DESC LIMIT 1"
        )

        async def checkpointed() -> list[Any] | None:
            found = await rows(analytics_url, token, newest)
            return found[0] if found and float(found[0][0]) >= 1 else None

        value, _ = await wait_until(checkpointed, 90, what="checkpoints in ops_samples")
        # Flink's own count now is at least what the collector saw then (no restart here).
        ckpt = flink.rest(f"{flink.rest_url(s)}/jobs/{jid}/checkpoints")
        assert 1 <= float(value) <= ckpt["counts"]["completed"]
        up = await rows(
            analytics_url, token,
            "SELECT value, labels['state'] FROM ops_samples FINAL WHERE source = 'pipeline' "
            "AND metric = 'pipeline_job_up' ORDER BY ts DESC LIMIT 1",
        )  # fmt: skip
        assert up == [[1.0, "RUNNING"]]
    finally:
        apps.down(["monitor"])


async def test_a_reply_rate_drop_fires_the_cs_alert_for_the_managers(
    apps: Stack, tmp_path: Path
) -> None:
    """Generated cs traffic: an agent answers late (after IM_REPLY_WITHIN_S = 5 s) in
    two consecutive 10 s windows; the job's reply_rates rows say 0, and the evaluator
    (production rules, short `for`s) tells the managers' conversation and the webhook."""
    base = f"http://127.0.0.1:{apps.settings.http_port}"
    manager = await staff(base, "manager")
    admin_user = await User.login(base, ADMIN, ADMIN_PW)
    r = await admin_user.post("/api/alerts/conversations/cs/members", {"user_id": manager.user_id})
    assert r.status_code in (200, 201, 204), r.text
    redis = aioredis.Redis.from_url(apps.settings.redis_url, decode_responses=True)
    managers = str(await redis.hget(keys.ALERT_CONVS, "cs"))
    await redis.aclose()
    a = await agent(base)
    customer = await User.create(base, "late")
    async with evaluating(apps, quick_rules(tmp_path)) as rec:
        window = 10.0  # IM_REPLY_WINDOW_S of the test stack
        w0 = time.time() + window - time.time() % window  # the next window's start

        async def at(t: float) -> None:
            await asyncio.sleep(max(0.0, w0 + t - time.time()))

        # Opened just after a window starts (an idle session closes after
        # IM_SESSION_GAP_S = 4 s); in it and the next, one wait each, answered
        # 6.5 s late (IM_REPLY_WITHIN_S = 5 s); the customer writes every 3 s meanwhile.
        await at(0.2)
        sid = (await customer.post("/api/cs/sessions")).json()["session"]
        await a.post(f"/api/cs/sessions/{sid}/accept")
        conv = (await customer.get("/api/conversations")).json()[0]["conv"]
        dc, da = await customer.connect(), await a.connect()
        for start in (1.5, 11.0):
            for dt, text in ((0.0, "hello?"), (3.0, "is anyone there"), (6.0, f"waiting {start}")):
                await at(start + dt)
                await dc.send_text(conv, text)  # different texts: repeats look like spam
            await at(start + 6.5)
            await da.send_text(conv, f"sorry, I was away ({start})")

        def fired() -> list[dict[str, Any]]:
            return [x for x in hooked(rec, "CsReplyRateLow", "firing")
                    if x["labels"].get("agent") == a.user_id]  # fmt: skip

        alert = (await wait_until(fired, 120, what="CsReplyRateLow for the agent"))[0]
        assert alert["labels"]["team"] == "cs"

        async def posted() -> dict[str, Any] | None:
            msgs = (await manager.get(f"/api/conversations/{managers}/messages")).json()
            for m in msgs["messages"]:
                body = m["body"].get("alert", {})
                if body.get("name") == "CsReplyRateLow" and a.user_id in body.get("summary", ""):
                    return m  # type: ignore[no-any-return]
            return None

        message = await wait_until(posted, 30, what="the alert in the managers' conversation")
        assert message["from"] == "system" and message["kind"] == "system"
        assert message["body"]["alert"]["value"] == 0.0  # no wait answered within 5 s


async def test_a_stopped_job_fires_job_not_running(apps: Stack, tmp_path: Path) -> None:
    """Last of the session's pipeline tests: the job is cancelled on the cluster; the
    collector sees it, the evaluator says so; then the job is submitted again."""
    s = apps.settings
    apps.up(["monitor"])
    jid = flink.live_job(flink.rest_url(s))
    assert jid is not None
    try:
        async with evaluating(apps, quick_rules(tmp_path)) as rec:
            flink.cancel(flink.rest_url(s), jid)
            await wait_until(lambda: hooked(rec, "FlinkJobNotRunning", "firing"), 90,
                             what="FlinkJobNotRunning")  # fmt: skip
    finally:
        await asyncio.to_thread(apps.up, ["stream"])  # resubmitted, from its checkpoint
        apps.down(["monitor"])
    assert flink.live_job(flink.rest_url(s)) is not None
