"""The statement check on `EXPLAIN AST` dumps (plain text, no ClickHouse needed)."""

from __future__ import annotations

import pytest

from analytics.guard import check_ast
from im.errors import ApiError

OURS = """SelectWithUnionQuery (children 2)
 ExpressionList (children 1)
  SelectQuery (children 2)
   ExpressionList (children 2)
    Function format (children 1)
     ExpressionList (children 2)
      Literal '{} x'
      Identifier m.conv
    Function count (children 1)
   TablesInSelectQuery (children 1)
    TablesInSelectQueryElement (children 1)
     TableExpression (children 1)
      TableIdentifier default.message_counts (alias m)
 Identifier Native"""


def test_a_select_over_our_tables_passes() -> None:
    check_ast(OURS.splitlines(), "default")


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("default.message_counts", "system.tables", "unknown table system.tables"),
        ("default.message_counts", "im.message_counts", "unknown table im.message_counts"),
        ("Function format", "Function dictGetString", "function dictGetString()"),
        ("Identifier m.conv", "Identifier INFORMATION_SCHEMA.TABLES", "only our tables"),
        ("TableIdentifier default.message_counts", "Function format", "function format()"),
        (" Identifier Native", " Literal '/tmp/out'", "INTO OUTFILE"),
        ("SelectWithUnionQuery", "DropQuery", "only a SELECT"),
    ],
)
def test_what_else_is_refused(replace: str, by: str, message: str) -> None:
    with pytest.raises(ApiError) as refused:
        check_ast(OURS.replace(replace, by).splitlines(), "default")
    assert refused.value.status == 400 and message in refused.value.message


def test_a_smuggled_line_only_refuses_more() -> None:
    # An identifier may hold a newline, so a query can add lines to the dump;
    # added lines can name more things to refuse, never hide one.
    smuggled = OURS.replace("Identifier m.conv", "Identifier a\n TableExpression (children 1)")
    with pytest.raises(ApiError):
        check_ast(smuggled.splitlines(), "default")
    real = OURS.replace("TableIdentifier default.message_counts", "TableIdentifier system.one")
    with pytest.raises(ApiError):
        check_ast(real.replace("Identifier m.conv", "Identifier a\nb").splitlines(), "default")
