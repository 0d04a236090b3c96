"""The jobs' queries: pure SQL over table names, parameterised by settings.

Each file in streaming/sql/ holds zero or more `CREATE TEMPORARY VIEW ...;`
statements followed by one final SELECT. Connector DDL lives apart
(streaming.ddl), so tests run these same texts over tables of fixed rows and
assert exact answers. Files are registered in QUERY_ORDER, so a later file may
use an earlier file's views.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from contract import results

SQL_DIR = Path(__file__).with_name("sql")

# query name -> the sink table (contract.results) it feeds, in registration order;
# the job runs every one of them.
SINKS = {
    "message_count": results.MESSAGE_COUNTS.table,
    "reply_rate": results.REPLY_RATES.table,
    "sessions": results.CONVERSATION_SESSIONS.table,
    "close_inactive": results.CONTROL.table,
    "moderation": results.MODERATION.table,
    "mute": results.CONTROL.table,
}
QUERY_ORDER = list(SINKS)


def statements(name: str, **params: object) -> tuple[list[str], str]:
    """(view statements, final SELECT) of query `name`, ${params} substituted."""
    text = Template((SQL_DIR / f"{name}.sql").read_text()).substitute(
        {k: str(v) for k, v in params.items()}
    )
    parts = [p.strip() for p in _strip_comments(text).split(";") if p.strip()]
    return parts[:-1], parts[-1]


def _strip_comments(text: str) -> str:
    """Drop `--` comments (outside string literals), so a ';' in one is harmless."""
    out = []
    for line in text.splitlines():
        quoted = False
        for i, ch in enumerate(line):
            if ch == "'":
                quoted = not quoted
            elif ch == "-" and not quoted and line[i : i + 2] == "--":
                line = line[:i]
                break
        out.append(line.rstrip())
    return "\n".join(out)


def query(name: str, **params: object) -> str:
    """The final SELECT of a query that has no views of its own."""
    views, select = statements(name, **params)
    assert not views, f"{name} has views: use statements()"
    return select
