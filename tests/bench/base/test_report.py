"""The shared parts of the reports (bench.base.report)."""

from __future__ import annotations

import math
from pathlib import Path

from bench.base import report
from bench.base.machine import CpuDelta

NAN = math.nan


def _info(
    versions: dict[str, str] | None = None,
    notes: list[str] | None = None,
    interrupted: bool = False,
) -> report.RunInfo:
    return report.RunInfo(
        command=".venv/bin/python -m x",
        started="2026-11-27 03:47",
        minutes=38.25,
        commit="abc123",
        machine="CPU, 2 cores",
        load_end=(3.2, 2.21, 1.0),
        versions=versions or {},
        notes=notes or [],
        interrupted=interrupted,
    )


def test_numbers_and_tables() -> None:
    assert report.num(24500.0) == "24,500"
    assert report.num(0.4567, 2) == "0.46"
    assert report.num(NAN, 1) == "–"
    assert report.table(["a", "b"], [["1", "2"]]) == ["| a | b |", "|---|---|", "| 1 | 2 |"]
    assert report.cores(CpuDelta(30.0, 15.0, 0, 0, 0), 15.0) == "0.50"
    assert report.cores(CpuDelta(0.0, 1.0, 0, 0, 0), 1.0) == "–"


def test_ratio_against_a_baseline_is_nan_when_either_is_unknown() -> None:
    assert report.ratio(24500, 49000) == 0.5
    assert math.isnan(report.ratio(NAN, 49000))
    assert math.isnan(report.ratio(100, NAN))
    assert math.isnan(report.ratio(100, 0))


def test_standing_against_a_peer_allows_two_percent_either_way() -> None:
    assert report.standing(1.03) == "ahead"
    assert report.standing(1.02) == report.standing(0.98) == "even"
    assert report.standing(0.97) == "**behind**"
    assert report.standing(NAN) == "–"


def test_preamble_gives_the_run_the_machine_and_its_load_then_what_ran() -> None:
    info = _info(versions={"im": "this server"}, notes=["n1"])
    assert report.preamble("# T", info, smoke=None, about=["- About"], disturbed=["- D"]) == [
        "# T",
        "",
        "- Command: `.venv/bin/python -m x`",
        "- Run: 2026-11-27 03:47 UTC, 38.2 min, commit abc123",
        "- Machine: CPU, 2 cores; loadavg 3.20 2.21 1.00 (at end)",
        "- About",
        "- `im`: this server",
        "- Note: n1",
        "- D",
    ]


def test_preamble_warns_of_a_smoke_run_and_an_interruption() -> None:
    out = report.preamble("# T", _info(interrupted=True), smoke="Short.", about=[], disturbed=[])
    assert out[:6] == [
        "# T",
        "",
        "> **SMOKE RUN — not the benchmark.** Short.",
        "",
        "> **Interrupted** before the end: partial results.",
        "",
    ]


def test_disturbed_only_when_others_took_more_than_a_quarter_core() -> None:
    assert report.disturbed([("a", 0.25), ("b", 0.0)], "steps", "so.", by_name=False) == []
    worst = report.disturbed([("", 0.3), ("", 0.47), ("", 0.1)], "steps", "so.", by_name=False)
    assert worst == [
        "- **Disturbed**: other processes used more than 0.25 cores during 2 of 3 steps "
        "(up to 0.47 of the machine's cores; column `others' cores`): so."
    ]
    others = [("x", 0.72), ("1,000/s", 0.1), ("y", 0.85)]
    named = report.disturbed(others, "runs", "so.", by_name=True)
    assert "during 2 of 3 runs (x 0.72, y 0.85 of the machine's cores;" in named[0]


def test_a_block_is_replaced_in_place_or_appended() -> None:
    b = report.Block("streaming")
    text = "# head\n\n<!-- streaming:begin -->\nold\n<!-- streaming:end -->\ntail\n"
    assert b.extract(text) == "<!-- streaming:begin -->\nold\n<!-- streaming:end -->"
    assert b.replace(text, "new\n") == (
        "# head\n\n<!-- streaming:begin -->\nnew\n<!-- streaming:end -->\ntail\n"
    )
    assert b.replace("# head\n\n", "new") == (
        "# head\n\n<!-- streaming:begin -->\nnew\n<!-- streaming:end -->\n"
    )
    assert b.replace("", "new") == "<!-- streaming:begin -->\nnew\n<!-- streaming:end -->\n"
    assert b.extract("<!-- streaming:begin -->\nno end") is None
    assert report.Block("other").extract(text) is None


def test_a_block_is_written_into_its_file(tmp_path: Path) -> None:
    b, path = report.Block("s"), tmp_path / "RESULTS.md"
    assert b.extract_from(path) is None
    b.write(path, "one")
    path.write_text("# chat\n\n" + path.read_text())
    b.write(path, "two")
    assert path.read_text() == "# chat\n\n<!-- s:begin -->\ntwo\n<!-- s:end -->\n"
    assert b.extract_from(path) == "<!-- s:begin -->\ntwo\n<!-- s:end -->"
