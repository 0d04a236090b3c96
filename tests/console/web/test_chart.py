"""The time series' pure parts (console/web/static/chart.js) run by Node as the browser
runs them: the time axis' labels at each tick step, in UTC, and stacking."""

from __future__ import annotations

import json

import pytest

from tests.console.web.test_units import run

T0 = 1_796_165_520  # 2026-12-01 22:52:00 UTC


@pytest.mark.parametrize(
    ("splits", "incr", "labels"),
    [
        ([T0, T0 + 1, T0 + 2], 1, ["22:52:00", "22:52:01", "22:52:02"]),
        ([T0 + 30, T0 + 60, T0 + 90], 30, ["22:52:30", "22:53:00", "22:53:30"]),
        ([T0, T0 + 60, T0 + 120], 60, ["22:52", "22:53", "22:54"]),
        ([T0 - 52 * 60, T0 + 8 * 60], 3600, ["22:00", "23:00"]),  # hours
        ([T0 + 68 * 60, T0 + 188 * 60], 7200, ["12-02", "02:00"]),  # midnight: its date
        ([T0 - 79920, T0 + 6480], 86400, ["12-01", "12-02"]),  # days
    ],
)
def test_time_labels_follow_the_tick_step(splits: list[int], incr: int, labels: list[str]) -> None:
    script = (
        "import { timeLabels } from './chart.js';"
        f"console.log(JSON.stringify(timeLabels({json.dumps(splits)}, {incr})));"
    )
    assert run(script) == labels


def test_time_ticks_never_go_below_a_second() -> None:
    incrs = run("import { TIME_INCRS } from './chart.js'; console.log(JSON.stringify(TIME_INCRS));")
    assert min(incrs) == 1 and 30 in incrs and 60 in incrs and incrs == sorted(incrs)


def test_stacking_adds_each_series_to_those_before_it() -> None:
    script = (
        "import { stack, isStacked } from './chart.js';"
        "const s = stack([[1, 2, null, 4], [10, null, 30, 40], [100, 200, 300, null]]);"
        "const p = (mode) => ({ fieldConfig: { defaults: { custom: { stacking: { mode } } } } });"
        "console.log(JSON.stringify([s, isStacked(p('normal')), isStacked(p('none')),"
        " isStacked({}), stack([])]));"
    )
    assert run(script) == [
        {
            "data": [[1, 2, None, 4], [11, None, 30, 44], [111, 202, 330, None]],
            "bands": [{"series": [2, 1]}, {"series": [3, 2]}],
        },
        True,
        False,
        False,
        {"data": [], "bands": []},
    ]
