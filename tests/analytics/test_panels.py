"""analytics/panels.py's checks of a panel request (pure logic on the built dashboards; the
requests themselves run in tests/console/test_panels.py against the real processes)."""

from __future__ import annotations

from typing import Any

import pytest

from analytics import panels
from dashboards import catalog
from im import errors as E

GOOD = {"uid": "im-cs-reply-rate", "panel_id": 2, "from_ms": 1_000, "to_ms": 3_601_000,
        "interval_ms": 60_000, "variables": {}}  # fmt: skip
P = panels.Panels()


def refusal(data: dict[str, Any], role: str = "manager") -> E.ApiError:
    with pytest.raises(E.ApiError) as err:
        P.sql(role, panels.parse(data))
    return err.value


def test_the_sql_is_the_catalogs_expanded_with_the_defaults() -> None:
    sql = P.sql("manager", panels.parse({**GOOD, "variables": {"agent": ["a1", "a2"]}}))
    assert "agent IN ('a1','a2')" in sql and "toDateTime(1)" in sql and "toDateTime(3601)" in sql
    assert P.sql("manager", panels.parse({**GOOD, "ref_id": "B"})).strip() == "SELECT 0.8 AS target"
    options = P.sql("manager", panels.parse({**GOOD, "panel_id": 0, "ref_id": "agent"}))
    assert options.startswith("SELECT DISTINCT agent FROM reply_rates")


def test_every_panel_expands_with_its_dashboards_defaults() -> None:
    for uid, panel, ref in P.queries:
        role = "admin"
        assert P.sql(role, panels.parse({**GOOD, "uid": uid, "panel_id": panel, "ref_id": ref}))


def test_refusals() -> None:
    assert refusal({**GOOD, "uid": "im-redis"}).status == 403
    assert refusal({**GOOD, "uid": "nope"}).status == 404
    assert refusal({**GOOD, "panel_id": 42}).status == 404
    assert refusal({**GOOD, "panel_id": 0, "ref_id": "target"}).status == 404  # custom: no query
    e = refusal({**GOOD, "variables": {"agent": "$__all", "target": "$__all"}})
    assert (e.status, e.message) == (400, "$target has no All option")
    e = refusal({**GOOD, "variables": {"agent": []}})
    assert e.status == 400 and "non-empty list" in e.message
    for bad in ({"from_ms": 5, "to_ms": 5}, {"from_ms": -1}, {"interval_ms": 10},
                {"panel_id": "2"}, {"uid": 7}, {"ref_id": 1}):  # fmt: skip
        with pytest.raises(E.ApiError) as err:
            panels.parse({**GOOD, **bad})
        assert err.value.status == 400, bad


def test_the_catalog_is_read_once() -> None:
    assert set(P.boards) == {b["uid"] for b in catalog.load()}
