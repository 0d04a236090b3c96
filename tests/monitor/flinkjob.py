"""A small streaming job on a local Flink with its REST API on a given port (for the
flink sampler's test): JSON rows of a folder (watched, so the job never ends) into a
blackhole, chaining off so source and sink are vertices of their own, checkpoints
every 0.5 s. Usage: python flinkjob.py PORT FOLDER JOB_NAME CHECKPOINT_URL"""

from __future__ import annotations

import sys

from pyflink.table import EnvironmentSettings, TableEnvironment


def main(port: str, folder: str, name: str, checkpoints: str) -> None:
    t_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = t_env.get_config()
    conf.set("rest.bind-port", port)
    conf.set("pipeline.name", name)
    conf.set("pipeline.operator-chaining.enabled", "false")
    conf.set("parallelism.default", "1")
    conf.set("execution.checkpointing.interval", "500ms")
    conf.set("execution.checkpointing.dir", checkpoints)
    t_env.execute_sql(
        "CREATE TABLE src (x BIGINT) WITH ('connector' = 'filesystem', "
        f"'path' = '{folder}', 'format' = 'json', 'source.monitor-interval' = '1s')"
    )
    t_env.execute_sql("CREATE TABLE dst (x BIGINT) WITH ('connector' = 'blackhole')")
    t_env.execute_sql("INSERT INTO dst SELECT x FROM src").wait()


if __name__ == "__main__":
    main(*sys.argv[1:5])
