"""alerts/template.py: annotations printed as Prometheus prints them."""

from __future__ import annotations

import pytest

from alerts.template import go_float, problems, render


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.95, "0.95"), (12.0, "12"), (-3.5, "-3.5"), (123456.0, "123456"), (1e6, "1e+06"),
     (1234567.0, "1.234567e+06"), (0.0001, "0.0001"), (0.00001, "1e-05"), (0.0, "0"),
     (float("inf"), "+Inf"), (float("nan"), "NaN")],
)  # fmt: skip
def test_value_as_go_prints_a_float(value: float, text: str) -> None:
    assert go_float(value) == text


@pytest.mark.parametrize(
    ("template", "value", "text"),
    [("{{ $value | humanize }}", 1234.5, "1.234k"), ("{{ $value | humanize }}", 0.0123, "12.3m"),
     ("{{ $value | humanize }}", 0.0, "0"), ("{{ $value | humanize1024 }}", 10485761.0, "10Mi"),
     ("{{ $value | humanize1024 }}", 1.0, "1"),
     ("{{ $value | humanizePercentage }}", 0.8123456, "81.23%"),
     ("{{ $value | humanizeDuration }}", 90.0, "1m 30s"),
     ("{{ $value | humanizeDuration }}", 3700.0, "1h 1m 40s"),
     ("{{ $value | humanizeDuration }}", 90061.0, "1d 1h 1m 1s"),
     ("{{ $value | humanizeDuration }}", 12.5, "12.5s"),
     ("{{ $value | humanizeDuration }}", 0.25, "250ms"),
     ('{{ printf "%.2f" $value }} s', 0.256, "0.26 s"),
     ("{{$value}} on {{ $labels.node }}", 3.0, "3 on n1")],
)  # fmt: skip
def test_functions(template: str, value: float, text: str) -> None:
    assert problems(template) == []
    assert render(template, {"node": "n1"}, value) == text


def test_unknown_actions_are_problems_and_stay_as_written() -> None:
    text = "{{ $labels }} {{ $value | title }} {{ .Value }} x }}"
    assert problems(text) == [
        "unknown template action {{ $labels }}",
        "unknown template action {{ $value | title }}",
        "unknown template action {{ .Value }}",
        "unbalanced {{ }}",
    ]
    assert render("{{ $labels }} {{ $labels.gone }}|", {}, 1.0) == "{{ $labels }} |"
