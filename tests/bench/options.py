"""What the benchmarks' option parsers say when they refuse a command line."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def refusal(
    parse: Callable[[list[str]], object], argv: list[str], capsys: pytest.CaptureFixture[str]
) -> str:
    """The usage and error `parse` prints for `argv` (it must exit 2)."""
    with pytest.raises(SystemExit) as e:
        parse(argv)
    assert e.value.code == 2
    return capsys.readouterr().err
