"""A panel's SQL made runnable without Grafana: variables bound, the plugin's macros expanded.

`expand(sql, time_from, time_to, interval_s, variables)` gives the statement
the Grafana ClickHouse datasource (grafana/clickhouse-datasource) sends to
ClickHouse for that time range, interval and variable values: first the
template variables and `$__conditionalAll` as the browser binds them
(dashboards/templating.py), then the backend's macros, exactly as
pkg/macros/macros.go writes them (v4.11.0, the release of Grafana 12.2's
time, through grafana-plugin-sdk-go's data/sqlutil `Interpolate`; the same
text at v4.20.0, where github.com/grafana/macropro parses them):

| macro | becomes |
|---|---|
| `$__timeFilter(c)` | `c >= toDateTime(<from s>) AND c <= toDateTime(<to s>)` |
| `$__timeFilter_ms(c)` | the same with `fromUnixTimestamp64Milli(<ms>)` |
| `$__fromTime`, `$__toTime` | `toDateTime(<s>)` |
| `$__fromTime_ms`, `$__toTime_ms` | `fromUnixTimestamp64Milli(<ms>)` |
| `$__dateFilter(c)` | `c >= toDate('YYYY-MM-DD') AND c <= toDate('YYYY-MM-DD')` (UTC) |
| `$__timeInterval(c)` | `toStartOfInterval(toDateTime(c), INTERVAL <n> second)` |
| `$__timeInterval_ms(c)` | `toStartOfInterval(toDateTime64(c, 3), INTERVAL <n> millisecond)` |
| `$__interval_s` | `<n>` |

Seconds are Go's `time.Unix()` (whole seconds, rounded down), `<n>` is the
interval in whole seconds (at least 1). A macro is `$__name` followed by a
word boundary, longer names first; its arguments are a bracket right after
the name, split at the commas of that bracket and trimmed (sqlutil's
`parseArgs`); every occurrence of the same text is replaced at once.

Where this is stricter than the plugin (which passes such SQL on, for
ClickHouse to refuse): a wrong argument count, an unclosed bracket and an
unknown `$__` name (`$__timeFrom`/`$__timeTo`, whose text changed between
plugin versions, included) are a `MacroError`; a bad variable value is a
templating.TemplateError. Both are ValueErrors.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping

from dashboards.templating import Value, bind

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class MacroError(ValueError):
    """A macro the plugin would not expand into valid SQL."""


class _Range:
    def __init__(self, time_from: dt.datetime, time_to: dt.datetime, interval_s: float) -> None:
        self.from_ms = (time_from - EPOCH) // dt.timedelta(milliseconds=1)
        self.to_ms = (time_to - EPOCH) // dt.timedelta(milliseconds=1)
        self.from_s, self.to_s = self.from_ms // 1000, self.to_ms // 1000
        self.dates = (time_from.astimezone(dt.UTC).date(), time_to.astimezone(dt.UTC).date())
        self.interval_s = int(max(interval_s, 1))
        self.interval_ms = int(max(interval_s * 1000, 1))


def _filter(col: str, low: str, high: str) -> str:
    return f"{col} >= {low} AND {col} <= {high}"


def _s(t: int) -> str:
    return f"toDateTime({t})"


def _ms(t: int) -> str:
    return f"fromUnixTimestamp64Milli({t})"


_ONE_ARG: dict[str, Callable[[_Range, str], str]] = {
    "timeFilter": lambda r, c: _filter(c, _s(r.from_s), _s(r.to_s)),
    "timeFilter_ms": lambda r, c: _filter(c, _ms(r.from_ms), _ms(r.to_ms)),
    "dateFilter": lambda r, c: _filter(c, *(f"toDate('{d.isoformat()}')" for d in r.dates)),
    "timeInterval": lambda r, c: (
        f"toStartOfInterval(toDateTime({c}), INTERVAL {r.interval_s} second)"
    ),
    "timeInterval_ms": lambda r, c: (
        f"toStartOfInterval(toDateTime64({c}, 3), INTERVAL {r.interval_ms} millisecond)"
    ),
}
_NO_ARG: dict[str, Callable[[_Range], str]] = {
    "fromTime": lambda r: _s(r.from_s),
    "toTime": lambda r: _s(r.to_s),
    "fromTime_ms": lambda r: _ms(r.from_ms),
    "toTime_ms": lambda r: _ms(r.to_ms),
    "interval_s": lambda r: str(r.interval_s),
}
NAMES = sorted([*_ONE_ARG, *_NO_ARG], key=len, reverse=True)  # longer names first (sqlutil)


def _args(text: str) -> tuple[list[str], int]:
    """sqlutil parseArgs: the trimmed arguments of a bracket at the start of `text` and
    the bracket's length; ([], 0) when no bracket follows."""
    if not text.startswith("("):
        return [], 0
    args: list[str] = []
    depth, arg = 0, ""
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
            if depth == 1:
                continue
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return [*args, arg.strip()], i + 1
        elif ch == "," and depth == 1:
            args.append(arg.strip())
            arg = ""
            continue
        arg += ch
    raise MacroError(f"a macro's bracket is not closed: {text[:80]!r}")


def _expand_one(name: str, r: _Range, args: list[str], full: str) -> str:
    if name in _ONE_ARG:
        if len(args) != 1:
            raise MacroError(f"{full}: $__{name} takes 1 argument, got {len(args)}")
        return _ONE_ARG[name](r, args[0])
    return _NO_ARG[name](r)  # arguments ignored, as the plugin does


def macros(sql: str, r: _Range) -> str:
    for name in NAMES:
        found = []
        for m in re.finditer(rf"\$__{name}\b", sql):
            args, length = _args(sql[m.end() :])
            full = sql[m.start() : m.end() + length]
            found.append((full, _expand_one(name, r, args, full)))
        for full, text in found:
            sql = sql.replace(full, text)
    left = re.search(r"\$\w+|\$\{|\[\[", sql)
    if left:
        raise MacroError(f"not expanded: {sql[left.start() : left.start() + 40]!r}")
    return sql


def expand(
    sql: str,
    time_from: dt.datetime,
    time_to: dt.datetime,
    interval_s: float,
    variables: Mapping[str, Value],
) -> str:
    """The SQL Grafana's ClickHouse datasource would run (module docstring): times are
    timezone-aware, `interval_s` the panel's interval (Grafana's `$__interval`)."""
    if time_from.tzinfo is None or time_to.tzinfo is None:
        raise MacroError("time_from and time_to need a time zone")
    if time_to < time_from or not interval_s > 0:
        raise MacroError("need time_from <= time_to and interval_s > 0")
    return macros(bind(sql, variables), _Range(time_from, time_to, interval_s))
