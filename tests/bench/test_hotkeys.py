"""The hot-key hook benchmark: a tiny run counts what it should and writes its section
inside the checks block, keeping the rest."""

from __future__ import annotations

from pathlib import Path

from bench.base.report import CHECKS, RunInfo
from bench.hotkeys import MIX, HotKeysBench


def test_a_tiny_run_counts_every_key_at_rate_1_and_writes_its_section(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# report\n\n" + CHECKS.replace("", "## an earlier check\nkept"))
    bench = HotKeysBench(
        HotKeysBench.parse(["--blocks", "3", "--block", "2", "--results", str(results)]),
        lambda _m: None,
    )
    bench.measure([])
    plain, default, every = bench.variants
    assert (plain.counted, every.counted) == (0, 3 * 2 * 5)  # 5 of the mix's 6 name a key
    assert default.rate == 0.01 and len(MIX) == 6
    info = RunInfo("cmd", "2026-01-01 00:00", 0.1, "abc", "a machine", (0.0, 0.0, 0.0))
    text = bench.render(info)
    assert "| plain | – |" in text and "| hook | 1 |" in text
    bench.publish(text)
    block = CHECKS.extract(results.read_text())
    assert block is not None and "## an earlier check\nkept" in block
    assert "<!-- hotkeys:begin -->\n## Hot-key hook" in block
