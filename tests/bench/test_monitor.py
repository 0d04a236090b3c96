"""The collector benchmark writes its section inside the checks block and keeps the rest."""

from __future__ import annotations

from pathlib import Path

from bench.base.report import CHECKS, STREAMING
from bench.monitor.cli import MonitorBench
from bench.monitor.config import parse_args


def test_the_section_goes_inside_the_checks_block_and_replaces_its_old_self(
    tmp_path: Path,
) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text(
        "# chat report\n\n"
        + CHECKS.replace("", "## an earlier check\nkept 1")
        + "\n"
        + STREAMING.replace("", "## streaming\nkept 2")
    )
    bench = MonitorBench(parse_args(["--results", str(results)]), lambda _m: None)
    bench.publish("## Collector cost\nfirst run\n")
    bench.publish("## Collector cost\nsecond run\n")
    text = results.read_text()
    assert text.startswith("# chat report\n")
    block = CHECKS.extract(text)
    assert block is not None
    assert block.index("## an earlier check\nkept 1") < block.index("<!-- monitor:begin -->")
    assert "<!-- monitor:begin -->\n## Collector cost\nsecond run\n<!-- monitor:end -->" in block
    assert "first run" not in text
    assert STREAMING.extract(text) == (
        "<!-- streaming:begin -->\n## streaming\nkept 2\n<!-- streaming:end -->"
    )


def test_the_baseline_comes_first() -> None:
    assert parse_args([]).keys == (0, 100_000, 1_000_000)
    assert parse_args([]).full_run
    assert not parse_args(["--keys", "0,1000", "--rounds", "2"]).full_run
