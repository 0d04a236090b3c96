"""Build and run the streaming job graph on a Flink (mini-)cluster."""

from __future__ import annotations

import logging
from pathlib import Path

from pyflink.table import EnvironmentSettings, TableEnvironment

from streaming import ddl, queries
from streaming.settings import StreamSettings

log = logging.getLogger("streaming.job")


def create_env(s: StreamSettings) -> TableEnvironment:
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = t_env.get_config()
    conf.set("table.local-time-zone", "UTC")  # window bounds in UTC, everywhere
    conf.set("parallelism.default", str(s.parallelism))
    conf.set("pipeline.name", "im-streaming")
    if s.flink_jars:
        conf.set("pipeline.jars", s.flink_jars)
    conf.set("execution.checkpointing.interval", f"{int(s.checkpoint_interval_s * 1000)}ms")
    conf.set("execution.checkpointing.dir", s.checkpoint_dir)
    conf.set("execution.checkpointing.mode", "EXACTLY_ONCE")
    return t_env


def params(s: StreamSettings) -> dict[str, object]:
    """Every ${name} the query files use, from the settings."""
    return {
        "count_window_s": s.count_window_s,
        "reply_window_s": s.reply_window_s,
        "reply_within_s": s.reply_within_s,
        "session_gap_s": s.session_gap_s,
        "flood_count": s.flood_count,
        "flood_within_s": s.flood_within_s,
        "repeat_count": s.repeat_count,
        "repeat_within_s": s.repeat_within_s,
        "abusive_count": s.abusive_count,
        "abusive_within_s": s.abusive_within_s,
        "mute_s": s.mute_s,
    }


def run(s: StreamSettings) -> None:
    t_env = create_env(s)
    for statement in ddl.all_tables(s):
        t_env.execute_sql(statement)
    stmts = t_env.create_statement_set()
    for name, sink in queries.SINKS.items():
        stmts.add_insert_sql(f"INSERT INTO {sink}\n{queries.query(name, **params(s))}")
    result = stmts.execute()
    client = result.get_job_client()
    job_id = str(client.get_job_id()) if client is not None else "?"
    log.info("job %s submitted", job_id)
    if s.ready_file:
        Path(s.ready_file).write_text(job_id)
    result.wait()
