"""Silences in Redis (al:silences), an Alert's JSON, who may silence, and the settings."""

from __future__ import annotations

import orjson
import pytest
import redis.asyncio as aioredis

from alerts.access import may_silence, silencers, team_of, teams_of
from alerts.settings import AlertSettings
from alerts.silences import Silences
from im import keys
from im.envconfig import ConfigError, load
from tests.alerts.helpers import T0, unique_name


async def test_the_current_silences_and_those_that_are_over(redis: aioredis.Redis) -> None:
    s = Silences(redis)
    a, b, c = (unique_name("fp") for _ in range(3))
    await s.set(a, T0 + 1000, "u_1")
    await s.set(b, T0 + 5000, "u_2")
    await s.set(c, T0 + 9000, "u_3")
    await s.set(b, T0 + 500, "u_3")  # a later silence replaces one (here: shortens it)
    now = await s.current(T0)
    assert {k: now[k] for k in (a, b, c)} == {a: T0 + 1000, b: T0 + 500, c: T0 + 9000}
    later = await s.current(T0 + 1000)  # a and b are over, and dropped
    assert (a in later, b in later, later[c]) == (False, False, T0 + 9000)
    assert await redis.hget(keys.ALERT_SILENCES, a) is None
    assert orjson.loads(str(await redis.hget(keys.ALERT_SILENCES, c))) == {
        "until": T0 + 9000, "by": "u_3"}  # fmt: skip
    await s.lift(c)
    assert c not in await s.current(T0)


def test_who_sees_and_silences_which_team() -> None:
    assert [teams_of(r) for r in ("admin", "sre", "manager", "agent", "user", "system")] == [
        ("sre", "cs"), ("sre", "cs"), ("cs",), (), (), ()]  # fmt: skip
    assert (silencers("sre"), silencers("cs")) == (("admin", "sre"), ("admin", "sre", "manager"))
    assert may_silence("manager", "cs") and not may_silence("manager", "sre")
    assert (team_of("cs"), team_of("sre"), team_of("db")) == ("cs", "sre", "sre")


TOKEN = {"IM_ANALYTICS_SERVICE_TOKEN": "t" * 32}


def test_settings() -> None:
    s = load(AlertSettings, {**TOKEN, "IM_ALERT_WEBHOOKS": "http://a/x, https://b/y",
                             "IM_ALERTMANAGER_URL": "http://127.0.0.1:9093"})  # fmt: skip
    assert (s.webhooks, s.alertmanager_url) == (("http://a/x", "https://b/y"),
                                                "http://127.0.0.1:9093")  # fmt: skip
    assert load(AlertSettings, TOKEN).webhooks == ()
    for env in (
        {},  # no token for the query API
        {**TOKEN, "IM_ALERT_LEASE_S": "15"},  # a lease no longer than the interval
        {"IM_ALERT_WEBHOOKS": "ftp://a"},
        {"IM_ALERT_WEBHOOK_TIMEOUT_S": "0"},
        {"IM_ALERT_WEBHOOK_RETRIES": "11"},
        {"IM_ALERTMANAGER_URL": "localhost:9093"},
    ):
        with pytest.raises(ConfigError):
            load(AlertSettings, env if "IM_ALERT_LEASE_S" in env or not env else {**TOKEN, **env})
