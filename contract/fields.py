"""Typed fields: one definition, rendered as a Flink column, a ClickHouse column,
and checked against a decoded JSON value."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Kind(Enum):
    STRING = "string"
    INT = "int"  # 32-bit
    LONG = "long"  # 64-bit
    MS = "ms"  # a point in time, milliseconds since the epoch (64-bit)
    DOUBLE = "double"
    STRINGS = "strings"  # a list of strings
    LABELS = "labels"  # an object of string values (metric labels)
    NULL = "null"  # always JSON null (a field that names nobody)


_FLINK = {
    Kind.STRING: "STRING",
    Kind.INT: "INT",
    Kind.LONG: "BIGINT",
    Kind.MS: "BIGINT",
    Kind.DOUBLE: "DOUBLE",
    Kind.STRINGS: "ARRAY<STRING>",
    Kind.LABELS: "MAP<STRING, STRING>",
}
_CLICKHOUSE = {
    Kind.STRING: "String",
    Kind.INT: "Int32",
    Kind.LONG: "UInt64",  # counts and sequence numbers: never negative
    Kind.MS: "DateTime64(3, 'UTC')",
    Kind.DOUBLE: "Float64",
    Kind.STRINGS: "Array(String)",
    Kind.LABELS: "Map(String, String)",
}
# Words Flink SQL reserves: such a column name is written in backticks.
FLINK_RESERVED = frozenset({"type", "id", "session", "start", "end", "user", "count"})


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    doc: str
    optional: bool = False  # may be left out of the JSON object
    clickhouse: str | None = None  # the ClickHouse type, where not the kind's own

    @property
    def flink_type(self) -> str:
        return _FLINK[self.kind]

    @property
    def flink_column(self) -> str:
        name = f"`{self.name}`" if self.name in FLINK_RESERVED else self.name
        return f"{name} {self.flink_type}"

    @property
    def clickhouse_type(self) -> str:
        if self.clickhouse is not None:
            return self.clickhouse
        base = _CLICKHOUSE[self.kind]
        # An absent string is stored as ''; an absent number stays NULL (it is
        # not 0: an average over no replies has no value).
        if self.optional and self.kind in (Kind.DOUBLE, Kind.LONG, Kind.INT, Kind.MS):
            return f"Nullable({base})"
        return base

    def problem(self, value: Any) -> str | None:
        """Why `value` (decoded JSON) does not fit this field, or None."""
        ok: bool
        if self.kind is Kind.NULL:
            ok = value is None
        elif self.kind is Kind.STRING:
            ok = isinstance(value, str)
        elif self.kind in (Kind.INT, Kind.LONG, Kind.MS):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif self.kind is Kind.DOUBLE:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif self.kind is Kind.LABELS:
            ok = isinstance(value, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            )
        else:
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else f"{self.name}: {value!r} is not {self.kind.value}"


def check(fields: tuple[Field, ...], obj: dict[str, Any], what: str) -> list[str]:
    """Every way `obj` differs from `fields`: unknown, missing or ill-typed."""
    known = {f.name: f for f in fields}
    out = [f"{what}: unknown field {name}" for name in obj if name not in known]
    for f in fields:
        if f.name not in obj:
            if not f.optional:
                out.append(f"{what}: missing {f.name}")
        elif (p := f.problem(obj[f.name])) is not None:
            out.append(f"{what}: {p}")
    return out


def merged(*groups: tuple[Field, ...]) -> tuple[Field, ...]:
    """The fields of several shapes as one row: each name once, in order, optional
    unless every shape has it; a NULL-only field merges into a field of the same
    name (it is that field, absent)."""
    out: dict[str, Field] = {}
    for group in groups:
        for f in group:
            everywhere = all(any(g.name == f.name for g in other) for other in groups)
            old = out.get(f.name)
            if old is None:
                out[f.name] = Field(
                    f.name, f.kind, f.doc, f.optional or not everywhere, f.clickhouse
                )
                continue
            if f.kind is Kind.NULL or old.kind is Kind.NULL or f.optional:
                kind = old.kind if f.kind is Kind.NULL else f.kind
                out[f.name] = Field(f.name, kind, old.doc, True, old.clickhouse or f.clickhouse)
            elif f.kind is not old.kind:
                raise ValueError(f"{f.name} is {old.kind.value} and {f.kind.value}")
    return tuple(out.values())
