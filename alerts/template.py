"""Annotation templates, the part of Prometheus' alert templating our rules use.

`{{ $value }}`, `{{ $labels.name }}`, `{{ $value | humanize }}` (also
`humanize1024`, `humanizePercentage`, `humanizeDuration`) and
`{{ printf "%.2f" $value }}`, printed as Prometheus prints them (Go's `%v`
and `%.4g`, the prefixes of prometheus/template/template.go). Anything else
between `{{ }}` is refused when the rules are loaded (`problems`), so a typo
never reaches a message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from decimal import Decimal

_ACTION = re.compile(r"{{(.*?)}}", re.S)
_VALUE = re.compile(r"^\$value(?:\s*\|\s*(\w+))?$")
_LABEL = re.compile(r"^\$labels\.([A-Za-z_][A-Za-z0-9_]*)$")
_PRINTF = re.compile(r'^printf\s+"([^"%]*%(?:\.\d+)?[efg][^"%]*)"\s+\$value$')
_SMALL = ("m", "u", "n", "p", "f", "a", "z", "y")


def go_float(v: float) -> str:
    """A float as Go's `%v` prints it: shortest digits, an exponent below 1e-4 and from 1e6
    (strconv's 'g' with the shortest precision: 1e+06, 123456, 0.0001, 1e-05)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(float(v))).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits))
    exp10 = len(text) + exponent - 1
    if exp10 < -4 or exp10 >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        out = f"{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    else:
        out = format(Decimal(repr(float(abs(v)))), "f")
        out = out.rstrip("0").rstrip(".") if "." in out else out
    return ("-" if sign else "") + out


def _g4(v: float) -> str:
    return f"{v:.4g}"


def humanize(v: float) -> str:
    if v == 0 or not math.isfinite(v):
        return _g4(v)
    prefix = ""
    if abs(v) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return _g4(v) + prefix
    for p in _SMALL:
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return _g4(v) + prefix


def humanize1024(v: float) -> str:
    if abs(v) <= 1 or not math.isfinite(v):
        return _g4(v)
    prefix = ""
    for p in ("ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"):
        if abs(v) < 1024:
            break
        prefix, v = p, v / 1024
    return _g4(v) + prefix


def humanize_duration(v: float) -> str:
    if not math.isfinite(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign, v = ("-", -v) if v < 0 else ("", v)
        whole = int(v)
        s, m, h, d = whole % 60, whole // 60 % 60, whole // 3600 % 24, whole // 86400
        if d:
            return f"{sign}{d}d {h}h {m}m {s}s"
        if h:
            return f"{sign}{h}h {m}m {s}s"
        if m:
            return f"{sign}{m}m {s}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in _SMALL:
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return f"{_g4(v)}{prefix}s"


def humanize_percentage(v: float) -> str:
    return _g4(v * 100) + "%"


FUNCTIONS: dict[str, Callable[[float], str]] = {
    "humanize": humanize,
    "humanize1024": humanize1024,
    "humanizeDuration": humanize_duration,
    "humanizePercentage": humanize_percentage,
}


def _action(expr: str, labels: Mapping[str, str], value: float) -> str | None:
    """The text of one `{{ expr }}`, or None when it is not one we know."""
    expr = expr.strip()
    if m := _VALUE.match(expr):
        fn = m.group(1)
        if fn is None:
            return go_float(value)
        return FUNCTIONS[fn](value) if fn in FUNCTIONS else None
    if m := _LABEL.match(expr):
        return labels.get(m.group(1), "")
    if m := _PRINTF.match(expr):
        return m.group(1) % value
    return None


def problems(text: str) -> list[str]:
    """What is wrong with the template (empty: nothing)."""
    out = [
        f"unknown template action {{{{{m.group(1)}}}}}"
        for m in _ACTION.finditer(text)
        if _action(m.group(1), {}, 0.0) is None
    ]
    rest = _ACTION.sub("", text)
    if "{{" in rest or "}}" in rest:
        out.append("unbalanced {{ }}")
    return out


def render(text: str, labels: Mapping[str, str], value: float) -> str:
    """The template with its actions filled in (an unknown action stays as written)."""

    def one(m: re.Match[str]) -> str:
        got = _action(m.group(1), labels, value)
        return m.group(0) if got is None else got

    return _ACTION.sub(one, text)
