"""Running the real alert evaluator in a test: the production rules with short `for`s,
a webhook receiver, and `python -m alerts` of the test's stack sending to it.

The rules are the production files with every `for` cut to 4 s and
`keep_firing_for` to 2 s (and the sink-lag threshold to 3 s), so a test waits
seconds instead of minutes: tests that use this are about the path from an
outage to a notification; the exact thresholds and `for` of each rule are
tested on fixed rows (tests/alerts/test_rules_*.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
import yaml

from im import keys
from stack.manager import Stack
from tests.alerts.receiver import Receiver, receiver

ALERTS = Path(__file__).resolve().parents[2] / "alerts"
INTERVAL_S, FOR_S = 2, 4
PATH = "/ok/e2e"  # the receiver answers 200 there


def quick_rules(folder: Path) -> Path:
    """The production rule files with short `for`s, and their runbooks beside them."""
    rules = folder / "rules"
    rules.mkdir(parents=True)
    shutil.copytree(ALERTS / "runbooks", folder / "runbooks")
    for path in (ALERTS / "rules").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        for group in doc["groups"]:
            for rule in group["rules"]:
                rule["for"] = f"{FOR_S}s"
                if "keep_firing_for" in rule:
                    rule["keep_firing_for"] = "2s"
                if rule["alert"] == "AnalyticsSinkLag":
                    rule["params"]["above"] = 3
        (rules / path.name).write_text(yaml.safe_dump(doc, sort_keys=False))
    return rules


@contextlib.asynccontextmanager
async def evaluating(st: Stack, rules: Path) -> AsyncIterator[Receiver]:
    """A webhook receiver, and a fresh evaluator (no state of an earlier test) sending
    to it; every (re)start of the evaluator in the block sends there too."""
    async with receiver() as rec:
        await asyncio.to_thread(st.down, ["alerts"])
        r = aioredis.Redis.from_url(st.settings.redis_url)
        await r.delete(keys.ALERT_STATE, keys.ALERT_PENDING, keys.ALERT_LEASE,
                       keys.ALERT_SILENCES)  # fmt: skip
        await r.aclose()
        env = {"IM_ALERT_WEBHOOKS": rec.url + PATH, "IM_ALERT_RULES": str(rules),
               "IM_ALERT_INTERVAL_S": str(INTERVAL_S), "IM_ALERT_LEASE_S": "6"}  # fmt: skip
        os.environ.update(env)  # the stack passes the caller's IM_* on
        try:
            await asyncio.to_thread(st.up, ["alerts"])
            yield rec
        finally:
            for name in env:
                del os.environ[name]
            await asyncio.to_thread(st.down, ["alerts"])


def hooked(rec: Receiver, name: str, status: str) -> list[dict[str, Any]]:
    """The alerts named `name` with `status` in every payload the receiver got."""
    return [a for body in rec.bodies(PATH) for a in body["alerts"]
            if a["labels"]["alertname"] == name and a["status"] == status]  # fmt: skip
