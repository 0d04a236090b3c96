"""Build and run the streaming job graph on a Flink (mini-)cluster."""

from __future__ import annotations

from pathlib import Path

from pyflink.table import EnvironmentSettings, StatementSet, TableEnvironment

from streaming import checkpoints, ddl, queries
from streaming.settings import StreamSettings


def say(message: str) -> None:
    # PyFlink reconfigures logging when its gateway starts; lifecycle lines
    # go to stdout (the job's log) directly.
    print(f"[streaming] {message}", flush=True)


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
    # Keyed state outside windows (dedup by event id, LAG per conversation)
    # would otherwise grow forever; a day covers any duplicate or reply.
    conf.set("table.exec.state.ttl", "1 d")
    # Keep checkpoints when the job stops, so a restarted process resumes.
    conf.set("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION")
    conf.set("execution.checkpointing.num-retained", "2")
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


def latest_checkpoint(checkpoint_url: str) -> str | None:
    """The newest complete checkpoint under the checkpoint folder (any earlier run)."""
    return checkpoints.newest(checkpoint_url)


def build(t_env: TableEnvironment, s: StreamSettings) -> StatementSet:
    """Tables, views and one INSERT per query, as one job graph."""
    for statement in ddl.all_tables(s):
        t_env.execute_sql(statement)
    stmts = t_env.create_statement_set()
    for name in queries.QUERY_ORDER:
        views, select = queries.statements(name, **params(s))
        for view in views:
            t_env.execute_sql(view)
        stmts.add_insert_sql(f"INSERT INTO {queries.SINKS[name]}\n{select}")
    return stmts


def run(s: StreamSettings) -> None:
    t_env = create_env(s)
    conf = t_env.get_config()
    # Under `flink run -s <checkpoint>` the CLI's choice stands; otherwise the
    # newest checkpoint of any earlier run (the local mini-cluster's restart).
    resume = conf.get("execution.state-recovery.path", "") or latest_checkpoint(s.checkpoint_dir)
    if resume:
        # Restarted: continue from the last checkpoint (offsets, windows, open
        # transactions), so no row is lost or written twice.
        conf.set("execution.state-recovery.path", resume)
        # A query added since that checkpoint starts empty; one removed is dropped.
        conf.set("execution.state-recovery.ignore-unclaimed-state", "true")
        say(f"resuming from {resume}")
    result = build(t_env, s).execute()
    client = result.get_job_client()
    job_id = str(client.get_job_id()) if client is not None else "?"
    say(f"job {job_id} submitted")
    if s.ready_file:
        Path(s.ready_file).write_text(job_id)
    if conf.get("execution.attached", "true") == "false":
        return  # `flink run -d`: the job lives on the cluster, the client is done
    result.wait()
