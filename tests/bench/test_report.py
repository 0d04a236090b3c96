"""The chat benchmark's report keeps the blocks others wrote into the same file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bench.base.report import CHECKS, STREAMING, RunInfo
from bench.config import BenchConfig
from bench.report import render


def test_a_new_report_keeps_the_checks_and_streaming_blocks(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text(
        "# old report\n\n"
        + CHECKS.replace("", "## a check\nkept 1")
        + "\n"
        + STREAMING.replace("", "## streaming\nkept 2")
    )
    info = RunInfo("python -m bench", "2026-12-01 15:00", 1.0, "abc", "a machine", (0, 0, 0))
    text = render(replace(BenchConfig(), results=results), info, [], None)
    assert "# old report" not in text
    assert CHECKS.extract(text) == "<!-- checks:begin -->\n## a check\nkept 1\n<!-- checks:end -->"
    assert STREAMING.extract(text) == (
        "<!-- streaming:begin -->\n## streaming\nkept 2\n<!-- streaming:end -->"
    )
    assert text.index("checks:begin") < text.index("streaming:begin")
