"""The streaming job is pure SQL: no Python user-defined function, anywhere.

docker-compose.yml runs the job on the official Flink image, which has no
Python; the submitter only builds the job graph (PyFlink in our image). A
Python UDF would run inside the TaskManagers and need a custom Flink image
with Python and PyFlink in it, so adding one must be a deliberate change of
the deployment, not an accident. Two checks: the source (where a UDF would be
declared or registered: streaming/*.py, the SQL of streaming/sql/), and the
built job graph itself (its catalog's functions and its plan, in a process of
its own: planning needs the Kafka connector jar on the class path).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from im.envconfig import load
from stack import install
from stack.settings import StackSettings

ROOT = Path(__file__).resolve().parents[2]
STREAMING = ROOT / "streaming"

# How PyFlink declares, registers or ships Python code for the cluster to run.
PY_UDF = re.compile(
    r"pyflink\.table\.udf|\budt?a?f\s*\(|@\s*udt?a?f\b|create_temporary_function|"
    r"create_temporary_system_function|create_function|register_function|"
    r"add_python_file|add_python_archive|set_python_requirements|python\.(files|archives|"
    r"requirements|executable|client\.executable)"
)
# Functions created in SQL: CREATE [TEMPORARY] [SYSTEM] FUNCTION ... [LANGUAGE PYTHON].
SQL_UDF = re.compile(
    r"\bCREATE\s+(TEMPORARY\s+)?(SYSTEM\s+)?FUNCTION\b|\bLANGUAGE\s+PYTHON\b", re.I
)


def test_the_job_source_declares_no_udf() -> None:
    sources = sorted(STREAMING.rglob("*.py"))
    assert sources
    for path in sources:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            assert not PY_UDF.search(code), f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
    queries = sorted((STREAMING / "sql").glob("*.sql"))
    assert queries
    for path in queries:
        assert not SQL_UDF.search(path.read_text()), path.relative_to(ROOT)


def test_the_checks_would_see_one() -> None:
    assert PY_UDF.search("from pyflink.table.udf import udf")
    assert PY_UDF.search("t_env.create_temporary_system_function('f', f)")
    assert PY_UDF.search("@udf(result_type=DataTypes.STRING())")
    assert PY_UDF.search('conf.set("python.files", "x.py")')
    assert SQL_UDF.search("CREATE TEMPORARY FUNCTION f AS 'm.f' LANGUAGE PYTHON")
    assert not PY_UDF.search("COUNT(DISTINCT id) AS messages")


_BUILD = """
import json
from im.envconfig import load
from streaming import job
from streaming.settings import StreamSettings
import os

s = load(StreamSettings, os.environ)
t_env = job.create_env(s)
stmts = job.build(t_env, s)
conf = t_env.get_config()
print(json.dumps({
    "udfs": list(t_env.list_user_defined_functions()),
    "plan": stmts.explain(),
    "python_conf": [k for k in ("python.files", "python.archives", "python.requirements")
                    if conf.get(k, "")],
}))
"""


def test_the_built_job_graph_has_no_python_function(tmp_path: Path) -> None:
    cache = Path(load(StackSettings, dict(os.environ)).cache_dir)
    jars = install.flink_connector_jars(cache, lambda _m: None)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IM_")}
    env.update(
        IM_FLINK_JARS=";".join(j.as_uri() for j in jars),
        IM_STREAM_CHECKPOINT_DIR=(tmp_path / "checkpoints").as_uri(),
        FLINK_LOG_DIR=str(tmp_path / "flink-log"),
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run([sys.executable, "-c", _BUILD], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=240, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["udfs"] == []
    assert out["python_conf"] == []
    plan: str = out["plan"]
    assert "Sink(table=" in plan  # the whole graph was planned
    assert not re.search(r"\bPython\w*", plan), re.findall(r"\bPython\w*", plan)
