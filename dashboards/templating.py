"""Template variables of a panel's SQL, bound as Grafana and the ClickHouse plugin bind them.

Two steps, in Grafana's order (the plugin's `applyTemplateVariables`,
src/data/CHDatasource.ts of grafana/clickhouse-datasource):

1. `$__conditionalAll(condition, $var)` (`applyConditionalAll`, in the
   browser): from the last one to the first, the macro becomes `1=1` when
   `$var` is All (`$__all`) or empty, else its condition. Arguments are split
   at the commas of the outer brackets (`getMacroArgs`).
2. Variables (Grafana's template service): `$var`, `${var}` and
   `${var:format}`. Without a format the plugin's own formatter applies: a
   list becomes `'a','b'` (quoted, joined, nothing escaped), one value is
   written as it is. Formats: `sqlstring` (each value in quotes, `'` doubled,
   `"` as `\\"`, joined by `,`), `singlequote` (`'` as `\\'`), `csv` and
   `raw` (joined by `,`). Names starting `__` are Grafana's or the plugin's
   and are left for macros.expand.

Values are checked before anything is bound, so no value can change the
statement: a text value is 1-128 characters of letters, digits and `_ . : @ *`
(user and agent ids, `unassigned`, `*`, numbers written as text): no quote,
backslash, space, `-`, `/` or `$`, hence no way out of a string literal or
into a comment, and every format above gives exactly what Grafana gives.
Numbers are finite ints or floats. A multi-value variable is a list (one
value selected is a list of one, as Grafana has it). `ALL` is the All
option: it may only appear inside `$__conditionalAll` (expanding it elsewhere
would need the variable's options). Anything else, and a variable the SQL
names but `variables` lacks, is a `TemplateError`. Grafana itself has no
such check: there the datasource's read-only user is the bound.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Final

ALL: Final = "$__all"  # Grafana's value of the All option
Value = str | int | float | Sequence[str]

SAFE_TEXT = re.compile(r"^[A-Za-z0-9_.:@*]{1,128}$")
_VARIABLE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}"
)  # Grafana's variableRegex
_CONDITIONAL = "$__conditionalAll("
_VAR_ARG = re.compile(r"(?<=\$\{)\w+(?=\})|(?<=\$)\w+")
FORMATS = ("sqlstring", "singlequote", "csv", "raw")


class TemplateError(ValueError):
    """A variable's value is not allowed, or the SQL names a variable that has none."""


def check(variables: Mapping[str, Value]) -> None:
    """Every value allowed (module docstring), else TemplateError naming it."""
    for name, value in variables.items():
        if not re.fullmatch(r"\w+", name) or name.startswith("__"):
            raise TemplateError(f"not a variable name: {name!r}")
        if value == ALL:
            continue
        if isinstance(value, bool):
            raise TemplateError(f"${name}: a boolean is not a value")
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise TemplateError(f"${name}: {value!r} is not a finite number")
        elif isinstance(value, str):
            _text(name, value)
        else:
            for v in value:
                _text(name, v)


def _text(name: str, value: object) -> None:
    if not isinstance(value, str) or not SAFE_TEXT.fullmatch(value):
        raise TemplateError(f"${name}: {value!r} is not 1-128 of letters, digits and _ . : @ *")


def _scalar(value: int | float | str) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _format(name: str, value: Value, fmt: str | None) -> str:
    if value == ALL:
        raise TemplateError(f"${name} is All: use it inside $__conditionalAll only")
    many = [] if isinstance(value, int | float | str) else list(value)
    one = None if many or not isinstance(value, int | float | str) else _scalar(value)
    if fmt is None:  # the plugin's formatter (CHDatasource.format)
        return one if one is not None else "'" + "','".join(many) + "'"
    items = [one] if one is not None else many
    if fmt == "sqlstring":
        return ",".join("'" + v.replace("'", "''").replace('"', '\\"') + "'" for v in items)
    if fmt == "singlequote":
        return ",".join("'" + v.replace("'", "\\'") + "'" for v in items)
    if fmt in ("csv", "raw"):
        return ",".join(items)
    raise TemplateError(f"${{{name}:{fmt}}}: format not supported ({', '.join(FORMATS)})")


def _macro_args(sql: str, open_at: int) -> list[str]:
    """The plugin's getMacroArgs: the arguments of the bracket at `open_at`."""
    args: list[str] = []
    depth, last = 0, open_at + 1
    for m in re.finditer(r"[(),]", sql[open_at:]):
        at = open_at + m.start()
        depth += {"(": 1, ")": -1}.get(m.group(), 0)
        if m.group() == "," and depth == 1:
            args.append(sql[last:at])
            last = at + 1
        if depth == 0:
            args.append(sql[last:at])
            return args
    return []


def conditional_all(sql: str, variables: Mapping[str, Value]) -> str:
    """Step 1: every `$__conditionalAll(condition, $var)`, the last first."""
    at = sql.rfind(_CONDITIONAL)
    while at != -1:
        args = _macro_args(sql, at + len(_CONDITIONAL) - 1)
        if len(args) != 2:
            raise TemplateError(f"$__conditionalAll needs 2 arguments: {sql[at : at + 80]!r}")
        phrase = args[0]
        named = _VAR_ARG.search(args[1].strip())
        if named is None or named.group() not in variables:
            raise TemplateError(f"$__conditionalAll: no variable in {args[1].strip()!r}")
        value = variables[named.group()]
        if value == ALL or (not isinstance(value, int | float) and len(value) == 0):
            phrase = "1=1"
        sql = sql.replace(f"{_CONDITIONAL}{args[0]},{args[1]})", phrase, 1)
        at = sql.rfind(_CONDITIONAL)
    return sql


def bind(sql: str, variables: Mapping[str, Value]) -> str:
    """Both steps; `variables` must pass `check`."""
    check(variables)
    sql = conditional_all(sql, variables)

    def one(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(4)
        if name.startswith("__"):
            return m.group(0)  # a macro or Grafana's own ($__interval): not a variable
        if name not in variables:
            raise TemplateError(f"${name} has no value")
        if m.group(5):
            raise TemplateError(f"${{{name}.{m.group(5)}}}: field paths are not supported")
        return _format(name, variables[name], m.group(3) or m.group(6))

    return _VARIABLE.sub(one, sql)
