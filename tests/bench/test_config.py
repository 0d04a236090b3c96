"""The chat benchmark's options (bench.config): what they settle to, what they refuse."""

from __future__ import annotations

import pytest

from bench.config import BenchConfig, parse_args
from tests.bench.options import refusal


def test_defaults_are_the_full_benchmark() -> None:
    cfg = parse_args([])
    assert cfg == BenchConfig()
    assert cfg.full_run and cfg.artillery


def test_direct_chats_sweep_the_group_rates_unless_given_their_own() -> None:
    cfg = parse_args(["--rate", "0.5,2,1"])
    assert cfg.rates == cfg.direct_rates == (0.5, 1.0, 2.0)
    cfg = parse_args(["--rate", "2,1", "--direct-rate", "3,0.5"])
    assert (cfg.rates, cfg.direct_rates) == ((1.0, 2.0), (0.5, 3.0))
    assert parse_args(["--rate", ""]).rates == BenchConfig().rates
    assert parse_args(["--direct-rate", "4"]).rates_for("direct") == (4.0,)


def test_small_values_are_raised_and_artillery_needs_the_im_server() -> None:
    cfg = parse_args(["--clients", "200", "--text-size", "5", "--setup-concurrency", "0"])
    assert (cfg.clients, cfg.text_size, cfg.setup_concurrency) == ((200,), 24, 1)
    assert not cfg.full_run
    assert not parse_args(["--no-artillery"]).artillery
    assert not parse_args(["--servers", "bare,centrifugo"]).artillery


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--kinds", "group,x"], "unknown kinds/servers: ['x']"),
        (["--clients", "1"], "--clients must be >= 2 and --rate > 0"),
        (["--rate", "-1"], "--clients must be >= 2 and --rate > 0"),
        (["--group-size", "1"], "--group-size >= 2, --workers >= 1, --duration > 0"),
        (["--rate", "a"], "argument --rate: not a comma-separated list: 'a'"),
    ],
)
def test_bad_options_are_refused(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert f"python -m bench: error: {message}" in refusal(parse_args, argv, capsys)


def test_the_collector_run_is_asked_for_and_does_not_make_a_full_run_less_full() -> None:
    assert "im-monitor" not in parse_args([]).servers
    cfg = parse_args(["--servers", "im,im-monitor,bare,centrifugo"])
    assert cfg.servers == ("im", "im-monitor", "bare", "centrifugo") and cfg.full_run
    assert not parse_args(["--servers", "im,im-monitor"]).full_run
