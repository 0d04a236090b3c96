"""Options declared on a frozen dataclass and parsed in one place (bench.base.config)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.base.config import OptionError, Settle, StackPorts, csv, option, parse
from tests.bench.options import refusal


@dataclass(frozen=True)
class Opts:
    sizes: tuple[int, ...] = option((1, 2), "--sizes", csv(int), "e.g. 1,2")
    duration_s: float = option(30.0, "--duration", float, "seconds")
    mode: str | None = option(None, "--mode", choices=("a", "b"))
    fast: bool = option(False, "--fast", action="store_true")
    extras: bool = option(True, "--no-extras", action="store_false")
    out: Path = option(Path("out.md"), "--out", Path)
    fixed: int = 7  # not an option


def _parse(argv: list[str], settle: Settle[Opts] | None = None) -> Opts:
    return parse(Opts, argv, prog="prog", description="d.", settle=settle)


def test_defaults_come_from_the_fields() -> None:
    assert _parse([]) == Opts()


def test_flags_set_their_fields_by_type() -> None:
    o = _parse(["--sizes", "3, 4,", "--duration", "5", "--mode", "b", "--fast", "--no-extras",
                "--out", "x.md"])  # fmt: skip
    assert o == Opts((3, 4), 5.0, "b", True, False, Path("x.md"), 7)


def test_settle_sees_which_options_were_given_and_derives_values() -> None:
    seen: list[frozenset[str]] = []

    def settle(o: Opts, given: frozenset[str]) -> Opts:
        seen.append(given)
        return dataclasses.replace(o, fixed=len(given))

    assert _parse(["--fast", "--duration", "1"], settle).fixed == 2
    assert seen == [frozenset({"fast", "duration_s"})]


def test_bad_values_and_settle_errors_exit_2_with_usage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def settle(o: Opts, given: frozenset[str]) -> Opts:
        raise OptionError("--duration > 0")

    def parse_settled(argv: list[str]) -> Opts:
        return _parse(argv, settle)

    for argv, message in (
        (["--sizes", "x"], "argument --sizes: not a comma-separated list: 'x'"),
        (["--mode", "c"], "argument --mode: invalid choice: 'c'"),
        (["--nope"], "unrecognized arguments: --nope"),
        ([], "prog: error: --duration > 0"),
    ):
        err = refusal(parse_settled, argv, capsys)
        assert err.startswith("usage: prog")
        assert message in err


def test_help_lists_the_options_in_field_order(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse(["--help"])
    out = capsys.readouterr().out
    flags = ["--sizes SIZES", "--duration DURATION", "--mode {a,b}", "--fast", "--no-extras"]
    assert [out.index(f) for f in flags] == sorted(out.index(f) for f in flags)
    assert "e.g. 1,2" in out and "fixed" not in out


def test_stack_env_names_every_port_and_passes_the_cache_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ports = StackPorts(redis=1, kafka=2, kafka_controller=3, http=4, analytics=5, ops=6, monitor=7)
    monkeypatch.delenv("IM_CACHE_DIR", raising=False)
    assert ports.stack_env(Path("/s")) == {
        "IM_STACK_DIR": "/s",
        "IM_REDIS_PORT": "1",
        "IM_KAFKA_PORT": "2",
        "IM_KAFKA_CONTROLLER_PORT": "3",
        "IM_HTTP_PORT": "4",
        "IM_ANALYTICS_PORT": "5",
        "IM_OPS_PORT": "6",
        "IM_MONITOR_PORT": "7",
    }
    monkeypatch.setenv("IM_CACHE_DIR", "/cache")
    assert ports.stack_env(Path("/s"))["IM_CACHE_DIR"] == "/cache"
