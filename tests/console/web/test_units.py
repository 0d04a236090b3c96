"""The page's pure logic (console/web/static/units.js, time.js), run by Node as the browser
runs it (ES modules): Grafana's units and the URL's time ranges, exact strings."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

STATIC = Path(__file__).resolve().parents[3] / "console" / "web" / "static"
NODE = shutil.which("node")


def run(script: str) -> Any:
    """The JSON a module script prints (imports relative to console/web/static)."""
    assert NODE is not None, "node (Debian's npm brings it) runs the page's modules"
    out = subprocess.run([NODE, "--input-type=module", "-e", script], cwd=STATIC,
                         capture_output=True, text=True, check=True, timeout=30)  # fmt: skip
    return json.loads(out.stdout)


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (0.8333, "percentunit", "83.3%"),
        (1, "percentunit", "100%"),
        (42.5, "percent", "42.5%"),
        (0.25, "s", "250 ms"),
        (80, "s", "1.33 min"),
        (7200, "s", "2 hour"),
        (1500, "ms", "1.5 s"),
        (3 * 2**20, "bytes", "3 MiB"),
        (1536, "decbytes", "1.54 kB"),
        (1234567, "short", "1.23 Mil"),
        (12, "reqps", "12 req/s"),
        (2500, "ops", "2.5 K ops/s"),
        (0.123456, "none", "0.123"),
        (None, "s", "–"),
    ],
)
def test_units(value: float | None, unit: str, shown: str) -> None:
    call = f"formatValue({json.dumps(value)}, {json.dumps(unit)})"
    script = f"import {{ formatValue }} from './units.js'; console.log(JSON.stringify({call}));"
    assert run(script) == shown


def test_time_ranges_resolve_against_now_and_parse_clickhouse_times() -> None:
    now = 1_796_000_000_000
    script = (
        "import { resolve, toMs, durationMs } from './time.js';"
        f"const now = {now};"
        "console.log(JSON.stringify([resolve('now', now), resolve('now-24h', now),"
        " resolve('now-15m', now), resolve('now-7d', now), resolve('1796000000000', now),"
        " resolve('2026-12-01T21:00', now), resolve('nonsense', now),"
        " toMs('2026-12-01 21:00:00'), toMs('2026-12-01T21:00:00+00:00'), toMs(1796000000),"
        " durationMs('10s'), durationMs('1m'), durationMs('x')]));"
    )
    assert run(script) == [
        now, now - 86_400_000, now - 900_000, now - 7 * 86_400_000, 1_796_000_000_000,
        1_796_158_800_000, None, 1_796_158_800_000, 1_796_158_800_000, 1_796_000_000_000,
        10_000, 60_000, None,
    ]  # fmt: skip


BIG_KEYS = {  # dashboards/build/im-redis.json's Big keys, and a regexp override
    "fieldConfig": {
        "defaults": {"unit": "none"},
        "overrides": [
            {"matcher": {"id": "byName", "options": "bytes"},
             "properties": [{"id": "unit", "value": "bytes"}]},
            {"matcher": {"id": "byRegexp", "options": "/_s$/"},
             "properties": [{"id": "unit", "value": "s"}, {"id": "decimals", "value": 1},
                            {"id": "displayName", "value": "seconds"},
                            {"id": "custom.width", "value": 90}]},
            {"matcher": {"id": "byRegexp", "options": "wait"},
             "properties": [{"id": "unit", "value": "ms"}]},
        ],
    }
}  # fmt: skip


def test_each_column_gets_its_overrides_unit() -> None:
    script = (
        "import { fieldOf } from './frames.js'; import { formatValue } from './units.js';"
        f"const p = {json.dumps(BIG_KEYS)};"
        "const show = (name, v) => { const f = fieldOf(p, name);"
        " return [f.label, formatValue(v, f.unit, f.decimals), f.width]; };"
        "console.log(JSON.stringify([show('rank', 2), show('bytes', 3 * 1048576),"
        " show('reply_s', 80), show('wait', 1500), show('waits', 1500),"
        " fieldOf({}, 'x').unit]));"
    )
    assert run(script) == [
        ["rank", "2", None],
        ["bytes", "3 MiB", None],
        ["seconds", "1.3 min", 90],
        ["wait", "1.5 s", None],  # a plain regexp matches the whole name (Grafana's)
        ["waits", "1500", None],
        "short",
    ]


def test_table_rows_sort_by_a_column() -> None:
    rows = [["b", 10, "2026-12-01 10:00:00"], ["a", 9, None], ["C", None, "2026-11-30 10:00:00"]]
    script = (
        "import { sortRows } from './frames.js';"
        f"const rows = {json.dumps(rows)};"
        "const first = (i, k, d) => sortRows(rows, i, k, d).map((r) => r[0]).join('');"
        "console.log(JSON.stringify([first(1, 'number', 'asc'), first(1, 'number', 'desc'),"
        " first(0, 'text', 'asc'), first(0, 'text', 'desc'), first(2, 'time', 'asc'),"
        " first(1, 'number', null)]));"
    )
    assert run(script) == ["abC", "baC", "abC", "Cba", "Cba", "baC"]
