"""The jobs' queries: pure SQL over table names, parameterised by settings.

Connector DDL lives apart (streaming.ddl), so tests run these same texts over
tables of fixed rows and assert exact answers.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

SQL_DIR = Path(__file__).with_name("sql")

# query name -> the sink table it feeds in the real job
SINKS = {"message_count": "message_counts"}


def query(name: str, **params: object) -> str:
    """The SELECT text of query `name` with ${params} substituted (all required)."""
    text = (SQL_DIR / f"{name}.sql").read_text()
    return Template(text).substitute({k: str(v) for k, v in params.items()})
