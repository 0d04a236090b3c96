"""One command per benchmark (bench.base.cli.run), with a benchmark that measures nothing."""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import orjson
import pytest

from bench.base import cli, machine
from bench.base.cli import Benchmark, command_line, run
from bench.base.config import option, parse
from bench.base.report import RunInfo


@dataclass(frozen=True)
class Cfg:
    out_dir: Path = option(Path("out"), "--out-dir", Path)
    results: Path = option(Path("RESULTS.md"), "--results", Path)
    fail: str = option("", "--fail", choices=("", "interrupt", "error"))


class Fake(Benchmark[Cfg]):
    module = "bench.fake"
    partial_name = "RESULTS.partial.md"
    stopped = "nothing to stop"
    seen: ClassVar[list[RunInfo]] = []

    @staticmethod
    def parse(argv: list[str]) -> Cfg:
        return parse(Cfg, argv, prog="python -m bench.fake", description="A fake.")

    def measure(self, notes: list[str]) -> None:
        self.done = ["first"]
        notes.append("measured")
        if self.cfg.fail == "interrupt":
            raise KeyboardInterrupt
        if self.cfg.fail == "error":
            raise RuntimeError("boom")
        self.done.append("second")

    def versions(self) -> dict[str, str]:
        return {"fake": "a fake server"}

    def render(self, info: RunInfo) -> str:
        self.seen.append(info)
        return f"# Fake\n\n{', '.join(self.done)}\n\n"

    def raw(self) -> dict[str, object]:
        return {"done": self.done}

    def publish(self, text: str) -> str:
        self.cfg.results.write_text(text)
        return f"written to {self.cfg.results}"


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, list[str]]:
    monkeypatch.setattr(machine, "describe", lambda: "a machine")
    monkeypatch.setattr(cli, "git_commit", lambda: "abc")
    Fake.seen.clear()
    results = tmp_path / "RESULTS.md"
    results.write_text("before\n")
    out = tmp_path / "out"
    return out, results, ["--out-dir", str(out), "--results", str(results)]


def _raw(out: Path) -> dict[str, object]:
    got = orjson.loads((out / "results.json").read_bytes())
    assert isinstance(got, dict)
    return got


def test_a_run_publishes_its_report_and_raw_numbers(
    paths: tuple[Path, Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    out, results, argv = paths
    assert run(Fake, argv) == 0
    assert results.read_text() == "# Fake\n\nfirst, second\n"  # one final newline
    assert not (out / "RESULTS.partial.md").exists()
    (info,) = Fake.seen
    assert info.command == command_line("bench.fake", argv)
    assert (info.machine, info.commit) == ("a machine", "abc")
    assert info.versions == {"fake": "a fake server"}
    assert info.notes == ["measured"] and not info.interrupted
    raw = _raw(out)
    assert raw["done"] == ["first", "second"]
    assert isinstance(raw["info"], dict) and raw["info"]["command"] == info.command
    assert "# Fake" in capsys.readouterr().out


def test_an_interrupted_run_leaves_the_results_alone(paths: tuple[Path, Path, list[str]]) -> None:
    out, results, argv = paths
    assert run(Fake, [*argv, "--fail", "interrupt"]) == 130
    assert results.read_text() == "before\n"
    assert (out / "RESULTS.partial.md").read_text() == "# Fake\n\nfirst\n"
    assert Fake.seen[0].interrupted
    assert _raw(out)["done"] == ["first"]


def test_a_failed_run_says_why_in_its_partial_report(paths: tuple[Path, Path, list[str]]) -> None:
    out, results, argv = paths
    assert run(Fake, [*argv, "--fail", "error"]) == 1
    assert results.read_text() == "before\n"
    assert (out / "RESULTS.partial.md").exists()
    assert Fake.seen[0].notes == ["measured", "failed: `RuntimeError: boom`"]
    assert not Fake.seen[0].interrupted


def test_bad_options_exit_2_before_anything_runs() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as e:
        run(Fake, ["--fail", "nope"])
    assert e.value.code == 2
    assert signal.getsignal(signal.SIGTERM) == before


def test_sigterm_is_ctrl_c_while_the_run_lasts(paths: tuple[Path, Path, list[str]]) -> None:
    handlers: list[object] = []

    class Peek(Fake):
        def measure(self, notes: list[str]) -> None:
            handlers.append(signal.getsignal(signal.SIGTERM))
            super().measure(notes)

    before = signal.getsignal(signal.SIGTERM)
    assert run(Peek, paths[2]) == 0
    assert handlers and handlers[0] is not before
    with pytest.raises(KeyboardInterrupt):
        handler = handlers[0]
        assert callable(handler)
        handler(signal.SIGTERM, None)
    assert signal.getsignal(signal.SIGTERM) == before


def test_progress_lines_name_the_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    cli.sayer("bench.fake")("hello")
    err = capsys.readouterr().err
    assert err.startswith("[bench.fake ") and err.endswith("] hello\n")
