"""`POST /panels/query`: one panel's own query of dashboards/ (or a query variable's), for a
range and variable values; the caller never sends SQL.

Body: {uid, panel_id, ref_id?, from_ms, to_ms, interval_ms, variables: {name: value}}.
The SQL comes from dashboards.catalog (the built JSON), variables are checked here
(known names, values dashboards.templating allows, a custom variable's own options)
and bound, macros expanded (dashboards.macros), then it runs like any query of the
query API: read-only, with its row, memory and time bounds. Who may ask: the
roles of dashboards/access.py. Bad input is a 400 naming the problem; a failure
in ClickHouse is a 502 whose details stay in this log.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboards import access, catalog
from dashboards.macros import EPOCH, MacroError
from dashboards.templating import ALL, TemplateError, Value
from im import errors as E

log = logging.getLogger("analytics.panels")

MAX_RANGE_MS = 400 * 86_400_000
MAX_POINTS = 100_000  # range / interval
QUERY_FAILED = "query_failed"


def invalid(message: str) -> E.ApiError:
    return E.ApiError(E.INVALID, message, 400)


def failed() -> E.ApiError:
    return E.ApiError(QUERY_FAILED, "the panel's query failed", 502)


@dataclass(frozen=True)
class Ask:
    uid: str
    panel_id: int
    ref_id: str | None
    from_ms: int
    to_ms: int
    interval_ms: int
    variables: dict[str, Value]


def _int(data: Mapping[str, Any], name: str) -> int:
    v = data.get(name)
    if not isinstance(v, int) or isinstance(v, bool):
        raise invalid(f"'{name}' must be an integer")
    return v


def parse(data: Mapping[str, Any]) -> Ask:
    """The request's fields, each checked on its own (a 400 names the first bad one)."""
    uid, ref_id, variables = data.get("uid"), data.get("ref_id"), data.get("variables", {})
    if not isinstance(uid, str):
        raise invalid("'uid' must be a dashboard uid")
    if ref_id is not None and not isinstance(ref_id, str):
        raise invalid("'ref_id' must be a string")
    if not isinstance(variables, dict):
        raise invalid("'variables' must be an object {name: value}")
    ask = Ask(uid, _int(data, "panel_id"), ref_id, _int(data, "from_ms"), _int(data, "to_ms"),
              _int(data, "interval_ms"), variables)  # fmt: skip
    if ask.from_ms < 0 or ask.from_ms >= ask.to_ms:
        raise invalid("the range is empty: need 0 <= from_ms < to_ms")
    if ask.to_ms - ask.from_ms > MAX_RANGE_MS:
        raise invalid("the range is longer than 400 days")
    if ask.interval_ms < 1 or (ask.to_ms - ask.from_ms) / ask.interval_ms > MAX_POINTS:
        raise invalid(f"interval_ms out of range: 1 ms or more, at most {MAX_POINTS:,} per range")
    return ask


def _custom_options(variable: Mapping[str, Any]) -> set[str]:
    """Grafana's custom variable `text : value, ...` (or plain `a, b`): the values."""
    return {part.split(" : ")[-1].strip() for part in str(variable.get("query", "")).split(",")}


def variables(board: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Value]:
    """The dashboard's defaults overridden by `given`, every name and value checked."""
    declared = {v["name"]: v for v in board.get("templating", {}).get("list", [])
                if v.get("type") != "datasource"}  # fmt: skip
    out = catalog.defaults(board)
    for name, value in given.items():
        var = declared.get(name)
        if var is None:
            known = ", ".join(sorted(declared)) or "none"
            raise invalid(f"unknown variable ${name} (this dashboard's: {known})")
        if value == ALL and not var.get("includeAll"):
            raise invalid(f"${name} has no All option")
        if isinstance(value, list) and not var.get("multi"):
            raise invalid(f"${name} takes one value, not a list")
        if not (isinstance(value, str) or (isinstance(value, list) and value)):
            raise invalid(f"${name}: a value is a string or a non-empty list of strings")
        if var.get("type") == "custom" and value != ALL:
            options = _custom_options(var)
            for v in value if isinstance(value, list) else [value]:
                if v not in options:
                    raise invalid(f"${name}: {v!r} is not one of {', '.join(sorted(options))}")
        out[name] = value
    return out


class Panels:
    """The catalog, loaded once: boards by uid and every query by (uid, panel, ref)."""

    def __init__(self, boards: list[dict[str, Any]] | None = None) -> None:
        self.boards = {b["uid"]: b for b in (boards if boards is not None else catalog.load())}
        self.queries = {(q.dashboard, q.panel_id, q.ref_id): q
                        for q in catalog.queries(self.boards.values())}  # fmt: skip
        self.first_ref: dict[tuple[str, int], str] = {}
        for q in self.queries.values():
            self.first_ref.setdefault((q.dashboard, q.panel_id), q.ref_id)

    def sql(self, role: str, ask: Ask) -> str:
        """The statement to run for `ask`, by a caller of `role`; ApiError when refused."""
        board = self.boards.get(ask.uid)
        if board is None:
            raise E.ApiError(E.NOT_FOUND, f"no dashboard {ask.uid!r}", 404)
        if not access.may_see(role, board):
            raise E.ApiError(E.FORBIDDEN, "your role may not open this dashboard", 403)
        ref = ask.ref_id or self.first_ref.get((ask.uid, ask.panel_id), "")
        q = self.queries.get((ask.uid, ask.panel_id, ref))
        if q is None:
            what = f"variable {ref!r}" if ask.panel_id == 0 else f"panel {ask.panel_id}"
            raise E.ApiError(E.NOT_FOUND, f"{ask.uid} has no query for {what} ({ref!r})", 404)
        values = variables(board, ask.variables)
        t0 = EPOCH + dt.timedelta(milliseconds=ask.from_ms)
        t1 = EPOCH + dt.timedelta(milliseconds=ask.to_ms)
        try:
            return q.expand(t0, t1, ask.interval_ms / 1000, values)
        except TemplateError as e:
            raise invalid(str(e)) from None
        except MacroError as e:  # our panel's SQL, not the caller's input
            log.error("panel %s/%s/%s does not expand: %s", ask.uid, ask.panel_id, ref, e)
            raise failed() from None
