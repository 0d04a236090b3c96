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
