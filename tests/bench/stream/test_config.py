"""The streaming benchmark's options (bench.stream.config)."""

from __future__ import annotations

import pytest

from bench.stream.config import StreamBenchConfig, parse_args
from tests.bench.options import refusal


def test_defaults_are_the_full_benchmark() -> None:
    cfg = parse_args([])
    assert cfg == StreamBenchConfig()
    assert cfg.runs == ("throughput", "freshness") and cfg.full_run


def test_only_runs_one_part_which_is_a_smoke_run() -> None:
    cfg = parse_args(["--only", "freshness", "--rates", "3000,1000"])
    assert cfg.runs == ("freshness",) and cfg.rates == (3000.0, 1000.0)
    assert not cfg.full_run
    assert not parse_args(["--events", "100000", "--rates", "1000", "--duration", "20"]).full_run


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--only", "x"], "argument --only: invalid choice: 'x'"),
        (["--rates", "0"], "argument --rates: rates must be > 0"),
        (["--rates", "1,b"], "argument --rates: not a comma-separated list: '1,b'"),
        (["--events", "10"], "--events >= 1000, --span >= 60, --duration >= 5, --warmup >= 0"),
        (["--checkpoint", "0"], "--checkpoint > 0, --lateness >= 1, --fresh-count-window >= 1"),
        (["--timeout", "0"], "--batch-count-window >= 1, --parallelism >= 1, --timeout and"),
    ],
)
def test_bad_options_are_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert f"python -m bench.stream: error: {message}" in refusal(parse_args, argv, capsys)
