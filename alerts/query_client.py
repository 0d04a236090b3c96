"""The evaluator's ClickHouse: the analytics query API, with the service token.

ClickHouse lives inside the analytics process in the local stack (embedded
chDB, one process per folder) and behind it in production, so the evaluator
reads through that API, the same guarded path as an admin (one SELECT over
our tables, bounded), with IM_ANALYTICS_SERVICE_TOKEN. The API takes SQL
only, so the rules' `{name:Type}` parameters are bound here as literals:
`CAST(<literal> AS Type)`. Their values are the rule files' params and the
evaluation time, never anything a client sent; a value that is not a
number, a plain string or a time is refused.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections.abc import Mapping
from typing import Any

import httpx

from alerts.evaluate import Rows

_PARAM = re.compile(r"\{(\w+):([^{}]+)\}")


class QueryFailed(Exception):
    """The API refused or failed (`retriable`: 5xx or no answer, else the SQL is wrong)."""

    def __init__(self, message: str, retriable: bool) -> None:
        super().__init__(message)
        self.retriable = retriable


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r}: not a finite number")
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("a time without a zone")
        ms = round(value.timestamp() * 1000)
        return f"fromUnixTimestamp64Milli(toInt64({ms}), 'UTC')"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    raise ValueError(f"{type(value).__name__}: not a parameter value")


def bind(sql: str, parameters: Mapping[str, Any]) -> str:
    """`sql` with each `{name:Type}` replaced by `CAST(<its value> AS Type)`."""

    def one(m: re.Match[str]) -> str:
        name, typ = m.group(1), m.group(2)
        if name not in parameters:
            raise ValueError(f"no value for the parameter {name}")
        return f"CAST({literal(parameters[name])} AS {typ})"

    return _PARAM.sub(one, sql)


class AnalyticsQueries:
    """`alerts.evaluate.QueryClient` over HTTP.

    Once a query finds the API unreachable (no answer, a timeout), the next
    ones fail at once for `pause_s` (the evaluator gives half its interval):
    a round in which analytics stops answering waits out one timeout, not one
    per rule, and the next round tries again."""

    def __init__(self, url: str, token: str, timeout_s: float = 10.0, pause_s: float = 5.0) -> None:
        self.url, self.pause_s = url.rstrip("/"), pause_s
        self.http = httpx.AsyncClient(
            timeout=timeout_s, headers={"authorization": f"Bearer {token}"}
        )
        self.unreachable: tuple[str, float] | None = None  # why, and until (monotonic)

    async def query(self, sql: str, parameters: Mapping[str, Any] | None = None) -> Rows:
        text = bind(sql, parameters or {})
        if self.unreachable is not None and time.monotonic() < self.unreachable[1]:
            raise QueryFailed(self.unreachable[0], True)
        try:
            r = await self.http.get(f"{self.url}/query", params={"sql": text})
        except httpx.TransportError as e:
            why = f"analytics unreachable ({type(e).__name__})"
            self.unreachable = (why, time.monotonic() + self.pause_s)
            raise QueryFailed(why, True) from None
        if r.status_code != 200:
            try:
                message = str(r.json()["error"]["message"])
            except Exception:
                message = r.text[:200]
            raise QueryFailed(f"http {r.status_code}: {message}", r.status_code >= 500)
        body = r.json()
        return list(body["columns"]), [tuple(row) for row in body["rows"]]

    async def close(self) -> None:
        await self.http.aclose()
