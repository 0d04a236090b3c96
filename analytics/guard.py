"""Which SQL the query API runs: one SELECT over the analytics tables, nothing else.

Settings alone do not fence a query in: with `readonly = 1` chDB still runs
several `;`-separated statements, `INTO OUTFILE`, the scalar `file()`,
`system.*`, `information_schema.*` and table functions such as `merge()`
or `view()`. So, before anything of the query runs:

1. ClickHouse parses it, given as a bound parameter of
   `formatQuerySingleLine` (no text around it): more than one statement or
   a syntax error is refused, and what runs afterwards is this one
   statement as ClickHouse spelled it;
2. `EXPLAIN AST` of that statement (a parse, nothing is read or evaluated;
   `EXPLAIN QUERY TREE` would evaluate constants and scalar subqueries) is
   held to the rules of `check_ast`.

Every rule refuses on a line it sees, so a line smuggled into the dump (an
identifier may hold a newline) can only make the check refuse more.
"""

from __future__ import annotations

import re

from analytics.schema import TABLES
from im import errors as E

OUR_TABLES = frozenset(t.name for t in TABLES)

# Functions that read beyond the query's tables: files, dictionaries, Join
# tables, other tables' metadata, server settings and certificates, or that
# write (generateSerialID keeps a counter). Table functions are refused by
# their place in the tree, whatever their name.
READING_FUNCTIONS = frozenset(
    {
        "file",
        "fuzzquery",
        "joinget",
        "joingetornull",
        "hascolumnintable",
        "getsetting",
        "getsettingordefault",
        "getserversetting",
        "getmergetreesetting",
        "getmacro",
        "showcertificate",
        "generateserialid",
        "filesystemavailable",
        "filesystemcapacity",
        "filesystemunreserved",
        "catboostevaluate",
    }
)
OTHER_DATABASES = ("system.", "information_schema.")

_LINE = re.compile(r"( *)(\w+) ?(.*)")
_PARENS = re.compile(r" \((?:alias [^)]*|children \d+)\)")


def refuse(message: str) -> E.ApiError:
    return E.ApiError(E.INVALID, message, 400)


def _name(rest: str) -> str:
    """The name in a dump line's text: `file (alias a) (children 1)` -> `file`."""
    return _PARENS.sub("", rest).strip()


def check_ast(dump: list[str], database: str) -> None:
    """Raise ApiError 400 unless the `EXPLAIN AST` dump is one plain SELECT over our tables.

    `database` is the session's current one: `<database>.<table>` is ours too.
    """
    if not dump or not dump[0].startswith("SelectWithUnionQuery"):
        raise refuse("only a SELECT may run here")
    after_table_expression = False
    for line in dump[1:]:
        m = _LINE.fullmatch(line)
        if m is None:
            continue  # the tail of a name with a newline in it: not a node
        depth, node, name = len(m[1]), m[2], _name(m[3])
        if depth == 1 and node != "ExpressionList" and (node, name) != ("Identifier", "Native"):
            raise refuse("INTO OUTFILE, FORMAT and SETTINGS are not allowed here")
        if node == "Function" and (after_table_expression or _reads_beyond(name)):
            raise refuse(f"function {name}() is not allowed here: only our tables may be read")
        if node == "TableIdentifier" and name.removeprefix(f"{database}.") not in OUR_TABLES:
            raise refuse(f"unknown table {name}; tables: {', '.join(sorted(OUR_TABLES))}")
        if node == "Identifier" and name.lower().startswith(OTHER_DATABASES):
            raise refuse(f"{name}: only our tables may be read")
        after_table_expression = node == "TableExpression"


def _reads_beyond(name: str) -> bool:
    low = name.lower()
    return low in READING_FUNCTIONS or low.startswith("dict")
