"""The services of the local stack: how each starts and how it is probed."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stack import flink, install, probes
from stack.secrets import SERVICE_TOKEN_ENV, first_admin, service_token
from stack.settings import StackSettings

ROOT = Path(__file__).resolve().parent.parent
Say = Callable[[str], None]


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str]


@dataclass(frozen=True)
class Service:
    name: str
    launch: Callable[[StackSettings, Say], Launch]
    probe: Callable[[StackSettings], str | None]
    timeout_s: float = 90.0
    after_ready: Callable[[StackSettings, Say], None] | None = None
    # Ports the service listens on: checked free before it starts, so a
    # stranger on the port is reported instead of being probed as "ready".
    ports: Callable[[StackSettings], list[int]] = lambda s: []


def base_env(s: StackSettings) -> dict[str, str]:
    """Environment shared by the stack's Python processes.

    The caller's IM_* settings pass through (e.g. IM_RATE_BURST for the
    servers); those the stack decides (addresses, ports, folders) override.
    """
    env = dict(os.environ)
    env.update(
        IM_REDIS_URL=s.redis_url,
        IM_KAFKA_BOOTSTRAP=s.kafka_bootstrap,
        IM_KAFKA_PARTITIONS=str(s.kafka_partitions),
        IM_CLICKHOUSE_URL=s.effective_clickhouse_url,
        IM_ANALYTICS_PORT=str(s.analytics_port),
        IM_TICK_INTERVAL_S=str(s.tick_interval_s),
        IM_STREAM_COUNT_WINDOW_S=str(s.count_window_s),
        IM_STREAM_LATENESS_S=str(s.lateness_s),
        PYTHONUNBUFFERED="1",
    )
    env["PYTHONPATH"] = str(ROOT)
    env[SERVICE_TOKEN_ENV] = service_token(s.root)  # analytics <- the alert evaluator
    env.update(s.extra_env)
    return env


def _redis(s: StackSettings, say: Say) -> Launch:
    d = s.data / "redis"
    d.mkdir(parents=True, exist_ok=True)
    argv = [
        shutil.which("redis-server") or "redis-server",
        "--bind",
        "127.0.0.1",
        "--port",
        str(s.redis_port),
        "--dir",
        str(d),
        "--appendonly",
        "yes",
        "--appendfsync",
        s.redis_appendfsync,
        "--maxmemory",
        s.redis_maxmemory,
        "--maxmemory-policy",
        "noeviction",
        "--save",
        "",
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
    ]
    return Launch(argv, dict(os.environ))


def _kafka(s: StackSettings, say: Say) -> Launch:
    jars = install.kafka_jars(Path(s.cache_dir), say)
    d = s.data / "kafka"
    logs = d / "logs"
    d.mkdir(parents=True, exist_ok=True)
    props = d / "server.properties"
    props.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{s.kafka_controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{s.kafka_port},"
                f"CONTROLLER://127.0.0.1:{s.kafka_controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{s.kafka_port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                f"log.dirs={logs}",
                f"num.partitions={s.kafka_partitions}",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "transaction.state.log.num.partitions=4",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                "",
            ]
        )
    )
    log4j = d / "log4j2.properties"
    log4j.write_text(
        "rootLogger.level=INFO\nrootLogger.appenderRef.out.ref=out\n"
        "appender.out.type=Console\nappender.out.name=out\n"
        "appender.out.layout.type=PatternLayout\n"
        "appender.out.layout.pattern=[%d] %p %m (%c)%n\n"
        "logger.kafka.name=kafka\nlogger.kafka.level=WARN\n"
        "logger.apache.name=org.apache.kafka\nlogger.apache.level=WARN\n"
    )
    java = shutil.which("java") or "java"
    cp = f"{jars}/*"
    jvm = [
        java,
        f"-Xmx{s.kafka_heap}",
        f"-Xms{s.kafka_heap}",
        "-XX:+UseG1GC",
        f"-Dlog4j2.configurationFile={log4j}",
        "-cp",
        cp,
    ]
    if not (logs / "meta.properties").exists():
        cluster = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        say("formatting Kafka storage (first start)")
        fmt = subprocess.run(
            [
                *jvm,
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={cluster}",
                "-c",
                str(props),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if fmt.returncode != 0:
            raise install.InstallError(f"kafka-storage format failed:\n{fmt.stdout}{fmt.stderr}")
    return Launch([*jvm, "kafka.Kafka", str(props)], dict(os.environ))


def _create_topics(s: StackSettings, say: Say) -> None:
    from contract import topics

    made = probes.create_topics(s.kafka_bootstrap, topics.ALL, s.kafka_partitions)
    if made:
        say(f"created topics: {', '.join(made)}")


def _analytics(s: StackSettings, say: Say) -> Launch:
    return Launch([sys.executable, "-m", "analytics"], base_env(s))


def stream_ready_file(s: StackSettings) -> Path:
    return s.run / "stream.ready"


def _flink_daemon(script: str) -> Callable[[StackSettings, Say], Launch]:
    def launch(s: StackSettings, say: Say) -> Launch:
        flink.write_conf(s)
        return Launch(flink.daemon_argv(script), flink.env(s, dict(os.environ)))

    return launch


def _stream(s: StackSettings, say: Say) -> Launch:
    """The submitter (stack/submit.py): the job itself runs on the Flink cluster."""
    jars = install.flink_connector_jars(Path(s.cache_dir), say)
    stream_ready_file(s).unlink(missing_ok=True)
    env = flink.env(s, base_env(s))
    env.update(
        IM_FLINK_JARS=";".join(j.as_uri() for j in jars),
        IM_STREAM_CHECKPOINT_DIR=flink.checkpoint_dir(s).as_uri(),
        IM_STREAM_READY_FILE=str(stream_ready_file(s)),
    )
    argv = [sys.executable, "-m", "stack.submit", "--rest", flink.rest_url(s),
            "--checkpoints", flink.checkpoint_dir(s).as_uri(),
            "--ready", str(stream_ready_file(s))]  # fmt: skip
    return Launch(argv, env)


def _monitor(s: StackSettings, say: Say) -> Launch:
    env = base_env(s)
    data = [s.data / d for d in ("redis", "kafka", "clickhouse", "checkpoints")]
    env.update(
        IM_NODE_ID="monitor",
        IM_MONITOR_PORT=str(s.monitor_port),
        IM_OPS_RUN_DIR=str(s.run),
        IM_OPS_DATA_DIRS=",".join(str(d) for d in data),
        IM_FLINK_REST_URL=flink.rest_url(s),  # the job's state and checkpoints
    )
    return Launch([sys.executable, "-m", "monitor"], env)


def _alerts(s: StackSettings, say: Say) -> Launch:
    env = base_env(s)
    env.update(
        IM_ALERT_PORT=str(s.alert_port),
        IM_ANALYTICS_URL=f"http://127.0.0.1:{s.analytics_port}",
        IM_MONITOR_URL=f"http://127.0.0.1:{s.monitor_port}",
        IM_ALERT_EXTERNAL_URL=f"http://127.0.0.1:{s.alert_port}",
    )
    env.setdefault("IM_ALERT_INTERVAL_S", "15")
    return Launch([sys.executable, "-m", "alerts"], env)


def _console(s: StackSettings, say: Say) -> Launch:
    env = base_env(s)
    env.update(
        IM_CONSOLE_PORT=str(s.console_port),
        IM_CONSOLE_SERVER_URL=f"http://127.0.0.1:{node_port(s, 0)}",
        IM_CONSOLE_ANALYTICS_URL=f"http://127.0.0.1:{s.analytics_port}",
    )
    return Launch([sys.executable, "-m", "console"], env)


def node_port(s: StackSettings, index: int) -> int:
    return s.http_port + index


def node_ops_port(s: StackSettings, index: int) -> int:
    """The node's ops port (/metrics, /readyz; loopback)."""
    return s.ops_port + index


def _server(index: int) -> Callable[[StackSettings, Say], Launch]:
    def launch(s: StackSettings, say: Say) -> Launch:
        env = base_env(s)
        env.update(IM_NODE_ID=f"node-{index + 1}", IM_HTTP_PORT=str(node_port(s, index)),
                   IM_OPS_PORT=str(node_ops_port(s, index)))  # fmt: skip
        username, password, _ = first_admin(s.root, env)
        env.update(IM_ADMIN_USERNAME=username, IM_ADMIN_PASSWORD=password)
        return Launch([sys.executable, "-m", "im"], env)

    return launch


def infra() -> list[Service]:
    return [
        Service(
            "redis",
            _redis,
            lambda s: probes.redis_ready(s.redis_port),
            30,
            ports=lambda s: [s.redis_port],
        ),
        Service(
            "kafka",
            _kafka,
            lambda s: probes.kafka_ready(s.kafka_bootstrap),
            90,
            after_ready=_create_topics,
            ports=lambda s: [s.kafka_port, s.kafka_controller_port],
        ),
        Service(
            "flink-jobmanager",
            _flink_daemon("jobmanager.sh"),
            flink.jobmanager_ready,
            90,
            ports=lambda s: [s.flink_rest_port, s.flink_rpc_port],
        ),
        Service("flink-taskmanager", _flink_daemon("taskmanager.sh"), flink.taskmanager_ready, 90),
    ]


def _server_probe(index: int) -> Callable[[StackSettings], str | None]:
    def probe(s: StackSettings) -> str | None:
        return probes.http_ready(f"http://127.0.0.1:{node_ops_port(s, index)}/readyz")

    return probe


def apps(s: StackSettings) -> list[Service]:
    servers = [
        Service(
            f"server-{i + 1}",
            _server(i),
            _server_probe(i),
            60,
            ports=lambda st, i=i: [node_port(st, i), node_ops_port(st, i)],  # type: ignore[misc]
        )
        for i in range(s.nodes)
    ]
    return [
        Service(
            "analytics",
            _analytics,
            lambda st: probes.http_ready(f"http://127.0.0.1:{st.analytics_port}/healthz"),
            60,
            ports=lambda st: [st.analytics_port],
        ),
        Service(
            "stream",
            _stream,
            lambda st: flink.job_running(st, stream_ready_file(st)),
            180,
        ),
        *servers,
        Service(
            "monitor",
            _monitor,
            lambda st: probes.http_ready(f"http://127.0.0.1:{st.monitor_port}/healthz"),
            60,
            ports=lambda st: [st.monitor_port],
        ),
        Service(
            "alerts",
            _alerts,
            lambda st: probes.http_ready(f"http://127.0.0.1:{st.alert_port}/healthz"),
            60,
            ports=lambda st: [st.alert_port],
        ),
        Service(
            "console",
            _console,
            lambda st: probes.http_ready(f"http://127.0.0.1:{st.console_port}/healthz"),
            60,
            ports=lambda st: [st.console_port],
        ),
    ]


def all_services(s: StackSettings) -> list[Service]:
    return [*infra(), *apps(s)]
