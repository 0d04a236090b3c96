"""The tables of docs/*.md, parsed, so tests can hold the code to what they say.

A table belongs to the headings above it (its heading path, outermost
first, `#` marks and backticks removed). Cells are stripped of
surrounding spaces; `plain()` also drops backticks, `codes()` lists the
backticked parts of a cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from contract.fields import Field, Kind

DOCS = Path(__file__).resolve().parent.parent / "docs"
PROTOCOL = DOCS / "protocol.md"
EVENTS = DOCS / "events.md"

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+$")


@dataclass(frozen=True)
class Table:
    headings: tuple[str, ...]
    header: tuple[str, ...]
    rows: tuple[dict[str, str], ...]

    def column(self, name: str) -> list[str]:
        return [row[name] for row in self.rows]

    def under(self, *path: str) -> bool:
        """Whether the heading path ends with `path`."""
        return self.headings[-len(path) :] == path if path else True


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _lines(path: Path) -> list[tuple[tuple[str, ...], str, bool]]:
    """(heading path, stripped line, whether it is a heading) of each line outside fences."""
    out: list[tuple[tuple[str, ...], str, bool]] = []
    stack: list[tuple[int, str]] = []
    fenced = False
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        heading = _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            stack = [(lv, text) for lv, text in stack if lv < level]
            stack.append((level, plain(heading.group(2))))
        out.append((tuple(t for _, t in stack), line, heading is not None))
    return out


@cache
def tables(path: Path) -> tuple[Table, ...]:
    out: list[Table] = []
    lines = _lines(path)
    i = 0
    while i < len(lines):
        path_here, line, _ = lines[i]
        if line.startswith("|") and i + 1 < len(lines):
            sep = lines[i + 1][1].replace(" ", "")
            if _SEPARATOR.match(sep):
                header = tuple(_cells(line))
                rows = []
                i += 2
                while i < len(lines) and lines[i][1].startswith("|"):
                    cells = _cells(lines[i][1])
                    assert len(cells) == len(header), f"{path.name}: bad row {lines[i][1]!r}"
                    rows.append(dict(zip(header, cells, strict=True)))
                    i += 1
                out.append(Table(path_here, header, tuple(rows)))
                continue
        i += 1
    return tuple(out)


def find(path: Path, *headings: str, header: tuple[str, ...] | None = None) -> list[Table]:
    """Tables whose heading path ends with `headings` (and with this header)."""
    return [
        t for t in tables(path) if t.under(*headings) and (header is None or t.header == header)
    ]


def one(path: Path, *headings: str, header: tuple[str, ...] | None = None) -> Table:
    found = find(path, *headings, header=header)
    assert len(found) == 1, f"{path.name}: {len(found)} tables under {headings} {header or ''}"
    return found[0]


def headings(path: Path) -> list[tuple[str, ...]]:
    """Every heading path of the file (also of sections without a table)."""
    return [path_here for path_here, _, is_heading in _lines(path) if is_heading]


def plain(cell: str) -> str:
    return cell.replace("`", "").strip()


def codes(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


FIELD_HEADER = ("field", "type", "meaning")


def fields(table: Table) -> dict[str, tuple[str, bool]]:
    """{field: (type, optional)} of a `field | type | meaning` table."""
    assert table.header == FIELD_HEADER, table.header
    out: dict[str, tuple[str, bool]] = {}
    for row in table.rows:
        name, typ = plain(row["field"]), plain(row["type"])
        assert name not in out, f"{name} twice under {table.headings}"
        out[name] = (typ.removesuffix("?"), typ.endswith("?"))
    return out


# How docs/*.md spell the contract's field kinds ("?" after one: may be absent).
DOC_KINDS = {
    Kind.STRING: "string",
    Kind.INT: "integer",
    Kind.LONG: "integer",
    Kind.MS: "integer",
    Kind.DOUBLE: "number",
    Kind.STRINGS: "string[]",
    Kind.NULL: "null",
    Kind.LABELS: "object",
}


def doc_fields(contract_fields: tuple[Field, ...]) -> dict[str, tuple[str, bool]]:
    """What `fields()` reads from a table that documents these contract fields."""
    return {f.name: (DOC_KINDS[f.kind], f.optional) for f in contract_fields}
