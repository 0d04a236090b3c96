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

SQL_DIR = Path(__file__).with_name("sql")

# query name -> the sink table it feeds in the real job (in registration order)
SINKS = {
    "message_count": "message_counts",
    "reply_rate": "reply_rates",
    "sessions": "conversation_sessions",
    "close_inactive": "control",
    "moderation": "moderation",
    "mute": "control",
}
QUERY_ORDER = list(SINKS)
# The queries the job runs (all of QUERY_ORDER once each is written and tested).
ENABLED = QUERY_ORDER


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
