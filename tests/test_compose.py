"""docker-compose.yml, Dockerfile and deploy/ agree with the code and with the images' docs.

No Docker engine here, so the deployment must be right by construction. The
settings classes declare every environment variable the programs read
(im.envconfig); these tests hold the compose file to exactly those names, so
a typo or a rename on either side fails here instead of in a container that
silently falls back to a default such as 127.0.0.1. Then, point by point of
the production deployment (README, "Production deployment"): the job's
checkpoints survive a JobManager restart and are pruned, state in RocksDB,
three Kafka brokers with every topic replicated, Grafana's plugin pinned and
a read-only ClickHouse user, a runtime-only image, one TLS proxy published,
the first admin required, limits and logs for every service, pinned images.
The scripts of deploy/ are run (bash), the SQL they write is parsed by
ClickHouse's own parser (chDB), and the Caddyfile is adapted by Caddy (the
compose image's version, built by the set-up: tests/caddy.py).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import ipaddress
import json
import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from alerts.settings import AlertSettings
from analytics.settings import AnalyticsSettings
from console.settings import ConsoleSettings
from contract import topics
from im.envconfig import env_names, load
from im.settings import ServerSettings
from monitor.settings import MonitorSettings
from stack import flink as stack_flink
from stack.settings import StackSettings
from streaming import checkpoints
from streaming.settings import StreamSettings
from tests.caddy import caddy_binary

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
CADDYFILE = ROOT / "deploy" / "caddy" / "Caddyfile"
PRUNE = ROOT / "deploy" / "flink" / "prune-checkpoints.sh"
CH_INIT = ROOT / "deploy" / "clickhouse" / "initdb"
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
DEV_LOCK = ROOT / "requirements.lock"
CONSTRAINTS = ROOT / "constraints.txt"

# Services that run our image: settings class and the module they run.
PROGRAMS: dict[str, tuple[type, str]] = {
    "server": (ServerSettings, "im"),
    "analytics": (AnalyticsSettings, "analytics"),
    "stream-submit": (StreamSettings, "streaming"),
    "monitor": (MonitorSettings, "monitor"),
    "alerts": (AlertSettings, "alerts"),
    "console": (ConsoleSettings, "console"),
}
KAFKAS = ("kafka-1", "kafka-2", "kafka-3")
INFRA = (
    "caddy",
    "redis",
    *KAFKAS,
    "kafka-init",
    "clickhouse",
    "grafana",
    "flink-init",
    "jobmanager",
    "taskmanager",
)
PROXY = "caddy"

# Settings that must be set in a container (their defaults are for one machine:
# loopback addresses, embedded chDB, /tmp checkpoints, no connector jar).
MUST_SET = {
    ServerSettings: {
        "IM_HTTP_HOST",
        "IM_HTTP_PORT",
        "IM_OPS_HOST",
        "IM_OPS_PORT",
        "IM_REDIS_URL",
        "IM_KAFKA_BOOTSTRAP",
        "IM_TRUSTED_PROXIES",  # behind the proxy, or every client is the proxy
        "IM_ADMIN_USERNAME",  # the first admin: customer service is set up by one
        "IM_ADMIN_PASSWORD",
    },
    AnalyticsSettings: {
        "IM_KAFKA_BOOTSTRAP",
        "IM_REDIS_URL",
        "IM_CLICKHOUSE_URL",
        "IM_ANALYTICS_HOST",
        "IM_ANALYTICS_PORT",
    },
    StreamSettings: {
        "IM_KAFKA_BOOTSTRAP",
        "IM_FLINK_JARS",
        "IM_STREAM_CHECKPOINT_DIR",
        "IM_STREAM_READY_FILE",
    },
    MonitorSettings: {
        "IM_NODE_ID",
        "IM_REDIS_URL",
        "IM_KAFKA_BOOTSTRAP",
        "IM_MONITOR_HOST",
        "IM_MONITOR_PORT",
        "IM_FLINK_REST_URL",
    },
    AlertSettings: {
        "IM_ALERT_ID",
        "IM_REDIS_URL",
        "IM_KAFKA_BOOTSTRAP",
        "IM_ANALYTICS_URL",
        "IM_ANALYTICS_SERVICE_TOKEN",
        "IM_MONITOR_URL",
        "IM_ALERT_HOST",
        "IM_ALERT_PORT",
    },
    ConsoleSettings: {
        "IM_CONSOLE_HOST",
        "IM_CONSOLE_PORT",
        "IM_REDIS_URL",
        "IM_CONSOLE_SERVER_URL",
        "IM_CONSOLE_ANALYTICS_URL",
        "IM_CONSOLE_BASE_PATH",  # served by the proxy under /console/
        "IM_CONSOLE_SECURE_COOKIE",  # over HTTPS only
    },
}
# Every ${VAR} of the compose file: each required (${VAR:?message}), none with a
# default, so `docker compose` refuses to start without it. README lists them.
SECRETS = {
    "REDIS_PASSWORD",
    "CLICKHOUSE_ADMIN_PASSWORD",
    "CLICKHOUSE_PASSWORD",
    "CLICKHOUSE_READONLY_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
    "ANALYTICS_SERVICE_TOKEN",
    "IM_ADMIN_PASSWORD",
}
REQUIRED = SECRETS | {"PUBLIC_HOST", "IM_ADMIN_USERNAME"}
# Bases of links people open (runbooks, dashboards), not addresses a container
# calls: loopback there means the docker host's published port.
BROWSER_LINKS = {"IM_ALERT_EXTERNAL_URL", "IM_GRAFANA_URL"}
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (inside a container, behind published ports)
DEV_TOOLS = {"pytest", "pytest-asyncio", "pytest-timeout", "hypothesis", "ruff", "mypy", "py-spy",
             "grafana-foundation-sdk",  # builds dashboards/build, committed
             "playwright"}  # the console's browser tests drive Debian's chromium  # fmt: skip

_INTERP = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)((?::?[?-])[^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    svcs = compose["services"]
    assert isinstance(svcs, dict)
    return svcs


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict of strings (map or KEY=VALUE list form)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def interpolate(value: str, fill: str = "s3cret" * 6) -> str:  # a token needs >= 32
    """What compose passes to the container: ${VAR...} filled in, $$ -> $."""
    return _INTERP.sub(fill, value).replace("$$", "$")


def command_text(service: dict[str, Any], key: str = "command") -> str:
    cmd = service.get(key) or ""
    return cmd if isinstance(cmd, str) else " ".join(str(c) for c in cmd)


def healthcheck_text(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(str(t) for t in test)


def names_read(cls: type) -> set[str]:
    return {name for name, _ in env_names(cls)}


def pins(path: Path) -> dict[str, str]:
    """name -> version of the `name==version` lines of a requirements file."""
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "-")):
            name, version = line.split("==")
            out[canonicalize_name(name)] = version
    return out


def pin(package: str) -> str:
    version = pins(RUNTIME_LOCK).get(canonicalize_name(package))
    assert version, f"{package} is not pinned in {RUNTIME_LOCK.name}"
    return version


def pom_version(pom: str, pattern: str) -> str:
    text = (ROOT / "stack" / "maven" / pom).read_text()
    m = re.search(pattern, text, re.S)
    assert m, f"no version in {pom}"
    return m.group(1)


def one_shot(service: dict[str, Any]) -> bool:
    return str(service.get("restart", "no")) == "no"


def flink_properties(service: dict[str, Any]) -> dict[str, str]:
    """FLINK_PROPERTIES (appended to the image's config.yaml) as a dict."""
    props = environment(service)["FLINK_PROPERTIES"]
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in props.splitlines())}


def mounts(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(source, target, mode) of every short-form volume of a service."""
    out = []
    for v in service.get("volumes", []):
        parts = str(v).split(":")
        out.append((parts[0], parts[1], parts[2] if len(parts) > 2 else "rw"))
    return out


def memory_bytes(value: str) -> int:
    m = re.fullmatch(r"(\d+)([KMG])", value)
    assert m, value
    return int(m.group(1)) * {"K": 2**10, "M": 2**20, "G": 2**30}[m.group(2)]


def limits(service: dict[str, Any]) -> dict[str, Any]:
    return dict(service.get("deploy", {}).get("resources", {}).get("limits", {}))


def published(service: dict[str, Any]) -> list[str]:
    return [str(p) for p in service.get("ports", [])]


# --- shape ------------------------------------------------------------------


def test_compose_parses(compose: dict[str, Any]) -> None:
    assert isinstance(compose.get("services"), dict)
    assert isinstance(compose.get("volumes"), dict)


def test_service_names(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == set(INFRA) | set(PROGRAMS)


def test_program_services_are_exactly_those_built_from_our_image(
    services: dict[str, dict[str, Any]],
) -> None:
    built = {name for name, s in services.items() if "build" in s}
    assert built == set(PROGRAMS)
    assert len({s["image"] for name, s in services.items() if name in PROGRAMS}) == 1


# --- the programs' environment ----------------------------------------------


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_required_settings_are_set(services: dict[str, dict[str, Any]], name: str) -> None:
    cls, _ = PROGRAMS[name]
    env = environment(services[name])
    required = {n for n, req in env_names(cls) if req}
    assert required <= set(env), f"{name} misses required {sorted(required - set(env))}"
    missing = MUST_SET[cls] - set(env)
    assert not missing, f"{name} must set {sorted(missing)} in a container"


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_every_variable_is_one_the_code_reads(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    cls, _ = PROGRAMS[name]
    env = environment(services[name])
    unknown = set(env) - names_read(cls)
    assert not unknown, f"{name} sets {sorted(unknown)}, which {cls.__name__} does not read"


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_loopback_defaults_are_overridden(services: dict[str, dict[str, Any]], name: str) -> None:
    """Derived from the code: a new setting defaulting to loopback must be set too."""
    cls, _ = PROGRAMS[name]
    env = environment(services[name])
    for f in dataclasses.fields(cls):
        default = f.default
        if isinstance(default, str) and (
            "127.0.0.1" in default
            or "localhost" in default
            or default.startswith(("chdb://", "file:///tmp"))
        ):
            var = f.metadata["env"]
            assert var in env, f"{name}: {var} defaults to {default!r}, useless in a container"
            if var in BROWSER_LINKS:
                continue  # opened by people, on the docker host's published ports
            assert "127.0.0.1" not in env[var] and "localhost" not in env[var]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_values_load(services: dict[str, dict[str, Any]], name: str) -> None:
    cls, _ = PROGRAMS[name]
    env = {k: interpolate(v) for k, v in environment(services[name]).items()}
    settings: object = load(cls, env)  # raises ConfigError on a malformed value
    assert settings is not None


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_program_commands(services: dict[str, dict[str, Any]], name: str) -> None:
    _, module = PROGRAMS[name]
    cmd = services[name]["command"]
    if name == "stream-submit":
        text = interpolate(command_text(services[name]))
        assert f"-pym {module}" in text
        assert 'flink run -m "$rest"' in text and "rest=jobmanager:8081" in text
    else:
        assert cmd == ["python", "-m", module]


def test_programs_listen_on_all_interfaces(services: dict[str, dict[str, Any]]) -> None:
    env = environment(services["server"])
    assert env["IM_HTTP_HOST"] == ALL_INTERFACES
    assert env["IM_OPS_HOST"] == ALL_INTERFACES  # for the compose network
    assert environment(services["analytics"])["IM_ANALYTICS_HOST"] == ALL_INTERFACES
    assert environment(services["monitor"])["IM_MONITOR_HOST"] == ALL_INTERFACES


def test_server_nodes_scale_out_with_distinct_node_ids(
    services: dict[str, dict[str, Any]],
) -> None:
    """One `server` service, as many nodes as `--scale server=N` asks: no fixed name,
    host name or port that a second replica would share. IM_NODE_ID stays unset, so
    each node is named by its container's host name (the setting's default), also
    what its ops:nodes entry names for the collector."""
    server = services["server"]
    assert server["deploy"]["replicas"] >= 2
    assert "IM_NODE_ID" not in environment(server)
    default = next(f for f in dataclasses.fields(ServerSettings) if f.name == "node_id")
    assert default.metadata["env"] == "IM_NODE_ID"
    for key in ("container_name", "hostname", "ports"):
        assert key not in server, f"server sets {key}: replicas would collide"


def test_addresses_point_at_the_compose_services(services: dict[str, dict[str, Any]]) -> None:
    internal = []
    for name in KAFKAS:
        advertised = environment(services[name])["KAFKA_ADVERTISED_LISTENERS"].split(",")
        plain = next(a for a in advertised if a.startswith("PLAINTEXT://"))
        internal.append(plain.removeprefix("PLAINTEXT://"))
    assert internal == [f"{name}:9092" for name in KAFKAS]
    for name, (cls, _) in PROGRAMS.items():
        if "IM_KAFKA_BOOTSTRAP" in names_read(cls):
            assert environment(services[name])["IM_KAFKA_BOOTSTRAP"] == ",".join(internal), name
    assert environment(services["kafka-init"])["BOOTSTRAP"] == ",".join(internal)
    for name in ("server", "monitor", "analytics", "alerts", "console"):
        url = environment(services[name])["IM_REDIS_URL"]
        assert re.fullmatch(r"redis://:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379/0", url), url


def test_the_collector_watches_the_flink_cluster_and_the_data_volumes(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    monitor = services["monitor"]
    env = environment(monitor)
    assert env["IM_FLINK_REST_URL"] == "http://jobmanager:8081"
    targets = {target: vol for vol, target, _ in mounts(monitor)}
    assert set(env["IM_OPS_DATA_DIRS"].split(",")) == set(targets)
    not_data = {"grafana-data", "caddy-data", "caddy-config"}
    assert set(targets.values()) == set(compose["volumes"]) - not_data
    assert all(mode == "ro" for _, _, mode in mounts(monitor))


# --- 1. the job keeps its state across JobManager restarts ----------------------


def test_flink_cluster_matches_pyflink_and_keeps_checkpoints_on_a_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    stream = environment(services["stream-submit"])
    ckpt = stream["IM_STREAM_CHECKPOINT_DIR"]
    assert ckpt.startswith("file:///")
    path = ckpt.removeprefix("file://")
    for name in ("jobmanager", "taskmanager", "flink-init"):
        s = services[name]
        assert s["image"] == f"flink:{pin('apache-flink')}-java17", s["image"]
        assert any(
            vol in compose["volumes"] and path.startswith(target) for vol, target, _ in mounts(s)
        ), (name, mounts(s))
    for name in ("jobmanager", "taskmanager"):
        props = flink_properties(services[name])
        assert props["execution.checkpointing.dir"] == ckpt
        assert props["jobmanager.rpc.address"] == "jobmanager"
        assert props["execution.checkpointing.externalized-checkpoint-retention"] == (
            "RETAIN_ON_CANCELLATION"
        )
    assert services["taskmanager"]["command"] == ["taskmanager"]


def test_the_submitter_sees_the_checkpoints_read_only(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    """streaming/job.py resumes from the newest checkpoint under IM_STREAM_CHECKPOINT_DIR:
    the submitter, where that code runs, must see the folder the cluster writes, at the
    same path (the JobManager reads the checkpoint the job names)."""
    submit = services["stream-submit"]
    ckpt = environment(submit)["IM_STREAM_CHECKPOINT_DIR"].removeprefix("file://")
    cluster_volumes = {vol for vol, target, _ in mounts(services["jobmanager"])
                       if ckpt.startswith(target)}  # fmt: skip
    seen = [(vol, target, mode) for vol, target, mode in mounts(submit) if ckpt.startswith(target)]
    assert seen, "stream-submit has no mount holding the checkpoint folder"
    for vol, _, mode in seen:
        assert vol in cluster_volumes and vol in compose["volumes"]
        assert mode == "ro"
    assert submit["restart"] == "on-failure"  # a failed or lost job is submitted again


def test_the_jobmanager_prunes_earlier_runs_before_it_starts(
    services: dict[str, dict[str, Any]],
) -> None:
    jm = services["jobmanager"]
    script = "/opt/im/prune-checkpoints.sh"
    assert (f"./{PRUNE.relative_to(ROOT)}", script, "ro") in mounts(jm)
    ckpt = environment(services["stream-submit"])["IM_STREAM_CHECKPOINT_DIR"]
    cmd = command_text(jm)
    assert jm["entrypoint"][0] in ("/bin/bash", "/bin/sh")
    # then exactly what the image's entrypoint would have run (apache/flink-docker)
    assert cmd == (
        f"{script} {ckpt.removeprefix('file://')} && exec /docker-entrypoint.sh jobmanager"
    )
    props = flink_properties(jm)
    # Pruning relies on restored runs never building on the files they came from.
    assert props["execution.state-recovery.claim-mode"] == "NO_CLAIM"
    assert "high-availability.type" not in props  # see the comment: stream-submit resubmits


def _chk(root: Path, job: str, n: int, at_s: float, complete: bool = True) -> None:
    d = root / job / f"chk-{n}"
    d.mkdir(parents=True)
    (root / job / "shared").mkdir(exist_ok=True)
    if complete:
        (d / "_metadata").write_bytes(b"m")
    ns = 1_795_000_000 * 10**9 + int(at_s * 1e9)
    os.utime(d, ns=(ns, ns))


SCENARIOS: dict[str, list[tuple[str, int, float, bool]]] = {
    "empty": [],
    "one run": [("a1", 1, 1, True), ("a1", 2, 2, True)],
    "three runs": [
        ("r1", 4, 1, True),
        ("r2", 9, 5, True),
        ("r3", 1, 9, True),
        ("r3", 2, 9.5, True),
    ],
    "newest run unfinished": [("old", 7, 1, True), ("new", 1, 5, False)],
    "no complete checkpoint": [("x", 1, 1, False), ("y", 1, 2, False)],
    "same second": [("b", 1, 3.000000001, True), ("a", 1, 3.000000002, True)],
    "tie": [("b", 1, 3, True), ("a", 1, 3, True)],
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_shell_prune_keeps_what_the_job_resumes_from(tmp_path: Path, scenario: str) -> None:
    """deploy/flink/prune-checkpoints.sh (the JobManager's) and streaming/checkpoints.py
    (the local stack's) remove the same folders, and both keep the checkpoint the job
    resumes from (streaming.job.latest_checkpoint)."""
    shell, python = tmp_path / "shell", tmp_path / "python"
    for root in (shell, python):
        root.mkdir()
        for job, n, at_s, complete in SCENARIOS[scenario]:
            _chk(root, job, n, at_s, complete)
    resume = checkpoints.newest(python.as_uri())
    subprocess.run(["bash", str(PRUNE), str(shell)], check=True, capture_output=True)
    checkpoints.prune(python.as_uri())
    assert sorted(p.name for p in shell.iterdir()) == sorted(p.name for p in python.iterdir())
    after = checkpoints.newest(shell.as_uri())
    assert (after and after.replace(str(shell), "")) == (resume and resume.replace(str(python), ""))


def test_the_shell_prune_leaves_a_missing_folder_alone(tmp_path: Path) -> None:
    done = subprocess.run(["bash", str(PRUNE), str(tmp_path / "none")], capture_output=True)
    assert done.returncode == 0


# --- 2. state in RocksDB, memory sized for it ------------------------------------


def test_the_state_is_in_rocksdb_as_in_the_local_stack(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    local = stack_flink.config(load(StackSettings, {"IM_STACK_DIR": str(tmp_path)}))
    for name in ("jobmanager", "taskmanager"):
        props = flink_properties(services[name])
        assert props["state.backend.type"] == "rocksdb" == local["state.backend.type"]
        assert props["execution.checkpointing.incremental"] == "true"
        assert local["execution.checkpointing.incremental"] is True
        claim = "execution.state-recovery.claim-mode"
        assert props[claim] == local[claim] == "NO_CLAIM"


def test_flink_processes_fit_their_containers(services: dict[str, dict[str, Any]]) -> None:
    props = flink_properties(services["taskmanager"])
    for name, key in (("jobmanager", "jobmanager.memory.process.size"),
                      ("taskmanager", "taskmanager.memory.process.size")):  # fmt: skip
        process = memory_bytes(props[key].upper().removesuffix("B"))
        container = memory_bytes(limits(services[name])["memory"])
        assert process < container <= process * 1.5, (name, process, container)
    # RocksDB's cache and write buffers are managed memory.
    assert 0.2 <= float(props["taskmanager.memory.managed.fraction"]) <= 0.6
    # The job's parallelism fits the slots of the TaskManagers started by default.
    slots = int(props["taskmanager.numberOfTaskSlots"]) * int(
        services["taskmanager"]["deploy"]["replicas"]
    )
    assert int(environment(services["stream-submit"])["IM_STREAM_PARALLELISM"]) <= slots


# --- 3. three Kafka brokers, every topic replicated ---------------------------------


def test_kafka_is_a_kraft_quorum_of_three(services: dict[str, dict[str, Any]]) -> None:
    version = pom_version("kafka.pom.xml", r"<kafka.version>([^<]+)</kafka.version>")
    envs = [environment(services[name]) for name in KAFKAS]
    voters = {f"{e['KAFKA_NODE_ID']}@{name}:9093" for e, name in zip(envs, KAFKAS, strict=True)}
    assert len(voters) == 3
    for name, env in zip(KAFKAS, envs, strict=True):
        assert services[name]["image"] == f"apache/kafka:{version}"
        assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
        assert set(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == voters
        assert env["CLUSTER_ID"] == envs[0]["CLUSTER_ID"]
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert not any("ZOOKEEPER" in k for k in env)
        own = [vol for vol, target, _ in mounts(services[name]) if target == env["KAFKA_LOG_DIRS"]]
        assert own == [f"{name}-data"], (name, own)  # a volume each
    assert not any("zookeeper" in name for name in services)


def test_every_topic_and_internal_topic_has_three_replicas_and_min_isr_two(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in KAFKAS:
        env = environment(services[name])
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"  # also the offsets topic's
        assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
        assert env["KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR"] == "2"
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
    init = environment(services["kafka-init"])
    assert init["REPLICATION_FACTOR"] == "3" and init["MIN_ISR"] == "2"
    assert int(init["MIN_ISR"]) < int(init["REPLICATION_FACTOR"]) <= len(KAFKAS)


def test_kafka_init_creates_every_topic_replicated_and_checks_it(
    services: dict[str, dict[str, Any]],
) -> None:
    init = services["kafka-init"]
    assert one_shot(init)
    script = command_text(init)
    m = re.search(r"for topic in ([^;]+);", script)
    assert m, script
    assert m.group(1).split() == list(topics.ALL)
    assert '--topic "$$topic"' in script and "--create --if-not-exists" in script
    assert '--replication-factor "$$REPLICATION_FACTOR"' in script
    assert '--config min.insync.replicas="$$MIN_ISR"' in script
    # a topic that already exists gets the minimum too, and one with fewer replicas fails
    assert '--entity-name "$$topic" --add-config min.insync.replicas="$$MIN_ISR"' in script
    assert 'grep -q "ReplicationFactor: $$REPLICATION_FACTOR"' in script and "exit 1" in script
    partitions = environment(init)["PARTITIONS"]
    assert '--partitions "$$PARTITIONS"' in script
    assert int(partitions) > 1
    for name in KAFKAS:
        assert environment(services[name])["KAFKA_NUM_PARTITIONS"] == partitions
        assert init["depends_on"][name]["condition"] == "service_healthy"


# --- 4. Grafana: pinned plugin, read-only ClickHouse user -----------------------------


def test_grafana_preinstalls_the_pinned_clickhouse_plugin(
    services: dict[str, dict[str, Any]],
) -> None:
    env = environment(services["grafana"])
    assert "GF_INSTALL_PLUGINS" not in env  # deprecated, ignored without ..._FORCE
    plugins = dict(p.split("@", 1) for p in env["GF_PLUGINS_PREINSTALL_SYNC"].split(","))
    assert re.fullmatch(r"\d+\.\d+\.\d+", plugins["grafana-clickhouse-datasource"])
    major, minor, _ = map(int, services["grafana"]["image"].split(":")[1].split("."))
    assert (major, minor) >= (12, 1)  # preinstall_sync exists from 12.1 on


def test_clickhouse_access_management_is_the_admins_only(
    services: dict[str, dict[str, Any]],
) -> None:
    ch = environment(services["clickhouse"])
    assert ch["CLICKHOUSE_USER"] not in (ch["CLICKHOUSE_APP_USER"], ch["CLICKHOUSE_READONLY_USER"])
    assert ch["CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT"] == "1"  # for CLICKHOUSE_USER alone
    assert "${CLICKHOUSE_ADMIN_PASSWORD:?" in ch["CLICKHOUSE_PASSWORD"]
    assert (f"./{CH_INIT.relative_to(ROOT)}", "/docker-entrypoint-initdb.d", "ro") in mounts(
        services["clickhouse"]
    )


def test_analytics_and_grafana_use_their_own_clickhouse_users(
    services: dict[str, dict[str, Any]],
) -> None:
    ch = environment(services["clickhouse"])
    url = environment(services["analytics"])["IM_CLICKHOUSE_URL"]
    m = re.fullmatch(r"http://([^:]+):\$\{([A-Z_]+):\?[^}]+\}@clickhouse:8123/(\w+)", url)
    assert m, url
    user, secret, db = m.groups()
    assert user == ch["CLICKHOUSE_APP_USER"]
    assert db == ch["CLICKHOUSE_DB"]
    assert secret == "CLICKHOUSE_PASSWORD" and f"${{{secret}:?" in ch["CLICKHOUSE_APP_PASSWORD"]
    grafana = environment(services["grafana"])
    assert grafana["CLICKHOUSE_READONLY_USER"] == ch["CLICKHOUSE_READONLY_USER"]
    assert grafana["CLICKHOUSE_READONLY_PASSWORD"] == ch["CLICKHOUSE_READONLY_PASSWORD"]
    assert "${CLICKHOUSE_READONLY_PASSWORD:?" in grafana["CLICKHOUSE_READONLY_PASSWORD"]


def _init_sql(tmp_path: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Run the init scripts as the image would, with a `clickhouse` that prints its stdin."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    (fake / "clickhouse").write_text('#!/bin/sh\necho "ARGS: $*" >&2\ncat\n')
    (fake / "clickhouse").chmod(0o755)
    out, err, rc = [], [], 0
    for script in sorted(CH_INIT.glob("*.sh")):
        done = subprocess.run(["bash", str(script)], capture_output=True, text=True,
                              env={**env, "PATH": f"{fake}:{os.environ['PATH']}"})  # fmt: skip
        out.append(done.stdout)
        err.append(done.stderr)
        rc = rc or done.returncode
    return rc, "".join(out), "".join(err)


def _statements(sql: str) -> list[str]:
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("10-users.sh:"))
    return [" ".join(s.split()) for s in body.split(";") if s.strip()]


def test_the_init_scripts_make_an_app_user_and_a_read_only_user(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    chdb = pytest.importorskip("chdb")
    env = {k: interpolate(v, fill="pw" * 12) for k, v in
           environment(services["clickhouse"]).items()}  # fmt: skip
    assert all(os.access(s, os.X_OK) for s in CH_INIT.glob("*.sh"))  # the image runs them
    rc, sql, err = _init_sql(tmp_path, env)
    assert rc == 0, err
    assert f"--user {env['CLICKHOUSE_USER']} --password {env['CLICKHOUSE_PASSWORD']}" in err
    stmts = _statements(sql)
    for s in stmts:  # ClickHouse's own parser takes every statement
        quoted = s.replace("\\", "\\\\").replace("'", "\\'")
        chdb.query(f"SELECT formatQuery('{quoted}')", "CSV")
    db, app, ro = env["CLICKHOUSE_DB"], env["CLICKHOUSE_APP_USER"], env["CLICKHOUSE_READONLY_USER"]
    grants = {s.rsplit(" TO ", 1)[1]: s for s in stmts if s.startswith("GRANT ")}
    assert set(grants) == {app, ro}
    assert grants[ro] == f"GRANT SELECT ON {db}.* TO {ro}"
    assert f" ON {db}.* TO {app}" in grants[app]
    for power in ("ACCESS MANAGEMENT", "CREATE USER", "ALL", "GRANT OPTION", " ON *.*"):
        assert power not in grants[app]
    profile = next(s for s in stmts if s.startswith("CREATE SETTINGS PROFILE"))
    assert "readonly = 1" in profile and "CHANGEABLE_IN_READONLY" in profile
    ro_user = next(s for s in stmts if s.startswith(f"CREATE USER IF NOT EXISTS {ro} "))
    assert env["CLICKHOUSE_READONLY_PASSWORD"] in ro_user and "SETTINGS PROFILE" in ro_user


def test_the_init_scripts_refuse_a_password_that_would_need_quoting(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    env = {k: interpolate(v) for k, v in environment(services["clickhouse"]).items()}
    env["CLICKHOUSE_READONLY_PASSWORD"] = "it's'; DROP USER admin; --"
    rc, sql, err = _init_sql(tmp_path, env)
    assert rc != 0 and "quote" in err and not sql.strip()


# --- 5. the image: the pinned runtime set only ---------------------------------------


def test_the_image_installs_the_runtime_lock_with_the_constraints() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(
        r"pip install --requirement /tmp/requirements-runtime\.lock "
        r"--constraint /tmp/constraints\.txt",
        text,
    )
    assert "COPY requirements-runtime.lock constraints.txt /tmp/" in text
    assert "requirements.lock" not in text.replace("requirements-runtime.lock", "")


def test_the_runtime_lock_is_the_projects_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {}
    for dep in project["dependencies"]:
        req = Requirement(dep)
        (spec,) = req.specifier
        assert spec.operator == "=="
        declared[canonicalize_name(req.name)] = spec.version
    assert pins(RUNTIME_LOCK) == declared
    assert not set(pins(RUNTIME_LOCK)) & DEV_TOOLS


def test_the_dev_lock_is_the_runtime_lock_plus_tools() -> None:
    lines = [ln.strip() for ln in DEV_LOCK.read_text().splitlines()]
    assert f"-r {RUNTIME_LOCK.name}" in lines
    assert set(pins(DEV_LOCK)) == DEV_TOOLS | {"types-psutil", "types-pyyaml"}
    assert RUNTIME_LOCK.name in (ROOT / "Makefile").read_text()


def test_every_pin_agrees_with_the_constraints() -> None:
    constraints = pins(CONSTRAINTS)
    for lock in (RUNTIME_LOCK, DEV_LOCK):
        for name, version in pins(lock).items():
            assert constraints.get(name) == version, (lock.name, name, version)


def test_everything_the_runtime_set_pulls_in_is_constrained() -> None:
    """The runtime set's dependency closure (from the installed packages' metadata, as
    pip resolves it on Linux, Python 3.11): every package pinned by constraints.txt at
    the installed version, so a build resolves nothing fresh; no dev tool among them."""
    marker_env = {"python_version": "3.11", "python_full_version": "3.11.14",
                  "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
                  "platform_machine": "x86_64", "implementation_name": "cpython",
                  "platform_python_implementation": "CPython", "extra": ""}  # fmt: skip
    constraints = pins(CONSTRAINTS)
    seen: dict[str, str] = {}
    todo = list(pins(RUNTIME_LOCK))
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        dist = importlib.metadata.distribution(name)
        seen[name] = dist.version
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker is None or req.marker.evaluate(marker_env):
                todo.append(req.name)
    unpinned = {n: v for n, v in seen.items() if constraints.get(n) != v}
    assert not unpinned, f"not pinned by constraints.txt at the installed version: {unpinned}"
    assert not set(seen) & DEV_TOOLS


def test_dockerfile() -> None:
    text = DOCKERFILE.read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert froms[0].startswith("maven:3.") and froms[0].endswith("-eclipse-temurin-17")
    assert froms[-1].startswith("python:3.11.") and froms[-1].endswith("-slim-bookworm")
    assert "mvn" in text and "-f stack/maven/flink.pom.xml" in text
    assert "dependency:copy-dependencies -DoutputDirectory=/jars" in text
    assert "openjdk-17-jre-headless" in text
    # The console's page packages from its lock, into the folder console/pages.py serves.
    assert any(f.startswith("node:20.") and f.endswith("-bookworm-slim") for f in froms)
    assert "COPY console/web/package.json console/web/package-lock.json ./" in text
    assert "npm ci --omit=dev" in text
    assert "COPY --from=web /web/node_modules/ console/web/node_modules/" in text
    for pkg in ("contract", "im", "streaming", "analytics", "stack", "dashboards", "alerts",
                "monitor", "console"):  # fmt: skip
        assert re.search(rf"^COPY {pkg}/ {pkg}/$", text, re.M), pkg
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")


def test_stream_job_ships_the_connector_of_the_pom(services: dict[str, dict[str, Any]]) -> None:
    version = pom_version(
        "flink.pom.xml",
        r"<artifactId>flink-sql-connector-kafka</artifactId>\s*"
        r"<version>([^<]+)</version>",
    )
    jars = environment(services["stream-submit"])["IM_FLINK_JARS"]
    assert jars == f"file:///opt/im/jars/flink-sql-connector-kafka-{version}.jar"
    assert "COPY --from=jars /jars/ /opt/im/jars/" in DOCKERFILE.read_text()


def test_submit_script_adopts_the_job_by_its_pipeline_name(
    services: dict[str, dict[str, Any]],
) -> None:
    job = (ROOT / "streaming" / "job.py").read_text()
    m = re.search(r'"pipeline\.name",\s*"([^"]+)"', job)
    assert m, "streaming/job.py no longer names the pipeline"
    assert f'j["name"] == "{m.group(1)}"' in command_text(services["stream-submit"])


# --- 6. exposure: one TLS proxy in front -----------------------------------------------


def test_only_the_proxy_is_published_beyond_loopback(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        for port in published(s):
            if name == PROXY:
                continue
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    assert sorted(published(services[PROXY])) == ["443:443", "443:443/udp", "80:80"]
    for name in ("server", "grafana", "console"):
        assert "ports" not in services[name], name


def test_the_nodes_trust_the_proxy_alone(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    proxy_nets = services[PROXY]["networks"]
    assert set(proxy_nets) == {"edge"}  # it reaches only what it serves
    address = ipaddress.ip_address(proxy_nets["edge"]["ipv4_address"])
    (subnet,) = (ipaddress.ip_network(c["subnet"]) for c in
                 compose["networks"]["edge"]["ipam"]["config"])  # fmt: skip
    assert address in subnet
    assert environment(services["server"])["IM_TRUSTED_PROXIES"] == str(address)
    for name in ("server", "grafana", "console"):
        assert set(services[name]["networks"]) == {"default", "edge"}, name
    assert "${PUBLIC_HOST:?" in environment(services[PROXY])["PUBLIC_HOST"]


def _caddy_site() -> tuple[str, str]:
    """(site address, site block) of the Caddyfile (comments dropped)."""
    text = "\n".join(line.split("#", 1)[0].rstrip() for line in CADDYFILE.read_text().splitlines())
    m = re.search(r"^(\S+) \{\n(.*)^\}", text, re.M | re.S)
    assert m, text
    return m.group(1), m.group(2)


def test_the_proxy_serves_the_nodes_http_port_with_sticky_balancing(
    services: dict[str, dict[str, Any]],
) -> None:
    address, site = _caddy_site()
    assert address == "{$PUBLIC_HOST}"  # automatic HTTPS for that name
    assert "tls internal" not in site and "http://" not in address
    env = environment(services["server"])
    proxy = re.search(r"dynamic a \{\s*name (\S+)\s*port (\d+)\s*refresh (\S+)", site)
    assert proxy, site
    assert proxy.group(1) == "server"  # every replica of the service, by Docker's DNS
    assert proxy.group(2) == env["IM_HTTP_PORT"] != env["IM_OPS_PORT"]  # /metrics stays inside
    assert re.search(r"^\s*lb_policy ip_hash$", site, re.M)  # a reconnect finds its node
    assert re.search(r"^\s*lb_try_duration \d+s$", site, re.M)  # a gone node is skipped
    assert re.search(r"^\s*stream_close_delay \d+m$", site, re.M)  # reloads keep WebSockets
    assert (f"./{CADDYFILE.relative_to(ROOT)}", "/etc/caddy/Caddyfile", "ro") in mounts(
        services[PROXY]
    )


def test_the_console_is_served_by_the_proxy_under_its_base_path(
    services: dict[str, dict[str, Any]],
) -> None:
    _, site = _caddy_site()
    env = environment(services["console"])
    base, port = env["IM_CONSOLE_BASE_PATH"], env["IM_CONSOLE_PORT"]
    assert base == "/console" and env["IM_CONSOLE_SECURE_COOKIE"] == "true"
    assert re.search(rf"handle {base}/\* \{{\s*reverse_proxy console:{port}\s*\}}", site), site
    assert f"redir {base} {base}/" in site
    # Before the catch-all `handle` of the nodes (Caddy picks the first matching handle).
    assert site.index(f"handle {base}/*") < site.index("dynamic a")
    assert services["console"]["command"] == ["python", "-m", "console"]
    assert services[PROXY]["depends_on"]["console"] == {"condition": "service_healthy"}


def test_grafana_is_served_by_the_proxy_under_its_sub_path(
    services: dict[str, dict[str, Any]],
) -> None:
    _, site = _caddy_site()
    assert re.search(r"handle /grafana/\* \{\s*reverse_proxy grafana:3000\s*\}", site)
    env = environment(services["grafana"])
    assert env["GF_SERVER_SERVE_FROM_SUB_PATH"] == "true"
    assert env["GF_SERVER_ROOT_URL"] == "https://%(domain)s/grafana/"
    assert "${PUBLIC_HOST:?" in env["GF_SERVER_DOMAIN"]
    link = environment(services["alerts"])["IM_GRAFANA_URL"]
    assert re.fullmatch(r"https://\$\{PUBLIC_HOST:\?[^}]+\}/grafana", link)


def test_caddy_adapts_the_caddyfile() -> None:
    """Caddy's own reading of the Caddyfile (`caddy adapt`), where a binary is at hand."""
    done = subprocess.run(
        [str(caddy_binary()), "adapt", "--config", str(CADDYFILE)],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PUBLIC_HOST": "chat.example.com"},
    )  # fmt: skip
    server = json.loads(done.stdout)["apps"]["http"]["servers"]["srv0"]
    assert server["listen"] == [":443"]
    text = json.dumps(server)
    assert '"host": ["chat.example.com"]' in text
    assert '"dynamic_upstreams": {"name": "server", "port": "8080"' in text
    assert '"selection_policy": {"policy": "ip_hash"}' in text
    assert '"dial": "grafana:3000"' in text


# --- 7. the first admin ----------------------------------------------------------------


def test_the_first_admin_is_required_from_the_environment(
    services: dict[str, dict[str, Any]],
) -> None:
    env = environment(services["server"])
    for var in ("IM_ADMIN_USERNAME", "IM_ADMIN_PASSWORD"):
        assert re.fullmatch(r"\$\{" + var + r":\?[^}]+\}", env[var]), env[var]


# --- 8. operations: limits, logs, shutdown, pinned images --------------------------------


def test_every_service_has_memory_and_cpu_limits(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        lim = limits(s)
        assert memory_bytes(str(lim.get("memory", "?"))) > 0, name
        assert 0 < float(lim.get("cpus", 0)) <= 4, name


def test_what_sizes_itself_fits_its_limit(services: dict[str, dict[str, Any]]) -> None:
    m = re.search(r"--maxmemory (\d+)gb", command_text(services["redis"]))
    assert m and int(m.group(1)) * 2**30 < memory_bytes(limits(services["redis"])["memory"])
    for name in KAFKAS:
        heap = re.search(r"-Xmx(\d+)g", environment(services[name])["KAFKA_HEAP_OPTS"])
        assert heap and int(heap.group(1)) * 2**30 < memory_bytes(limits(services[name])["memory"])


def test_every_service_rotates_its_logs(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        logging = s.get("logging", {})
        assert logging.get("driver") == "json-file", name
        assert re.fullmatch(r"\d+m", logging["options"]["max-size"]), name
        assert int(logging["options"]["max-file"]) >= 2, name


def test_kafka_and_clickhouse_get_time_to_shut_down(services: dict[str, dict[str, Any]]) -> None:
    def seconds(value: str) -> int:
        m = re.fullmatch(r"(\d+)(s|m)", value)
        assert m, value
        return int(m.group(1)) * (60 if m.group(2) == "m" else 1)

    for name in (*KAFKAS, "clickhouse"):
        assert seconds(services[name]["stop_grace_period"]) >= 60, name


_PINNED_TAG = re.compile(r"\d+\.\d+\.\d+(\.\d+)?(-[a-z0-9_.]+)*")


def test_every_image_is_pinned_to_a_version(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        if "build" in s:
            continue  # ours, built from the Dockerfile
        image, _, tag = s["image"].rpartition(":")
        assert image and _PINNED_TAG.fullmatch(tag), f"{name}: {s['image']} floats"
    for base in re.findall(r"^FROM\s+(\S+)", DOCKERFILE.read_text(), re.M):
        tag = base.rpartition(":")[2]
        assert _PINNED_TAG.fullmatch(tag), f"Dockerfile: {base} floats"


def test_redis_keeps_an_append_only_file_and_never_evicts(
    services: dict[str, dict[str, Any]],
) -> None:
    redis = services["redis"]
    assert redis["image"].startswith("redis:7.")
    assert "--appendonly yes" in command_text(redis)
    # A memory limit, and never an eviction (README, Decisions), as in the local stack.
    assert "--maxmemory 1gb --maxmemory-policy noeviction" in command_text(redis)
    assert any(target == "/data" for _, target, _ in mounts(redis))


def _grafana_mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> host path of the grafana service's bind mounts (read-only ones)."""
    out = {}
    for v in service["volumes"]:
        parts = str(v).split(":")
        if parts[0].startswith("./"):
            assert parts[-1] == "ro", f"{v} is not read-only"
            out[parts[1]] = parts[0]
    return out


def test_grafana_provisions_the_datasource_and_the_dashboards_from_files(
    services: dict[str, dict[str, Any]],
) -> None:
    grafana = services["grafana"]
    mounts = _grafana_mounts(grafana)
    assert mounts == {
        "/etc/grafana/provisioning/datasources": "./dashboards/provisioning/datasources",
        "/etc/grafana/provisioning/dashboards": "./dashboards/provisioning/dashboards",
        "/etc/grafana/dashboards/im": "./dashboards/build",
    }
    for host in mounts.values():
        assert (ROOT / host).is_dir(), host
    (provider_file,) = (ROOT / mounts["/etc/grafana/provisioning/dashboards"]).glob("*.yaml")
    (provider,) = yaml.safe_load(provider_file.read_text())["providers"]
    assert provider["type"] == "file" and provider["folder"] == "IM"
    assert provider["options"]["path"] == "/etc/grafana/dashboards/im"
    built = sorted(p.name for p in (ROOT / "dashboards" / "build").glob("*.json"))
    assert len(built) == 7  # tests/dashboards/test_build.py holds them to a fresh build


def test_the_datasource_reads_the_clickhouse_service_with_credentials_from_the_environment(
    services: dict[str, dict[str, Any]],
) -> None:
    grafana, ch = services["grafana"], services["clickhouse"]
    folder = ROOT / _grafana_mounts(grafana)["/etc/grafana/provisioning/datasources"]
    (path,) = folder.glob("*.yaml")
    text = path.read_text()
    (ds,) = yaml.safe_load(text)["datasources"]
    assert ds["type"] == "grafana-clickhouse-datasource"
    assert environment(grafana)["GF_PLUGINS_PREINSTALL_SYNC"].startswith(
        "grafana-clickhouse-datasource@"
    )
    assert (ds["jsonData"]["host"], ds["jsonData"]["port"], ds["jsonData"]["protocol"]) == (
        "clickhouse", 9000, "native")  # fmt: skip
    assert ds["jsonData"]["defaultDatabase"] == environment(ch)["CLICKHOUSE_DB"]
    # Grafana fills ${VAR} in provisioning files from its environment: no secret in the file
    assert ds["jsonData"]["username"] == "${CLICKHOUSE_READONLY_USER}"
    assert ds["secureJsonData"] == {"password": "${CLICKHOUSE_READONLY_PASSWORD}"}
    env = environment(grafana)  # the read-only user the ClickHouse init scripts make
    assert env["CLICKHOUSE_READONLY_USER"] == environment(ch)["CLICKHOUSE_READONLY_USER"]
    assert env["CLICKHOUSE_READONLY_PASSWORD"] == environment(ch)["CLICKHOUSE_READONLY_PASSWORD"]
    assert {"clickhouse"} <= set(grafana["depends_on"])


# --- health and start order ------------------------------------------------------


def test_long_running_services_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        if one_shot(s):
            continue
        assert "test" in (s.get("healthcheck") or {}), f"{name} has no healthcheck"


def test_probes_use_the_right_endpoints(services: dict[str, dict[str, Any]]) -> None:
    env = environment(services["server"])
    assert f"http://127.0.0.1:{env['IM_OPS_PORT']}/readyz" in healthcheck_text(services["server"])
    port = environment(services["analytics"])["IM_ANALYTICS_PORT"]
    assert f"http://127.0.0.1:{port}/healthz" in healthcheck_text(services["analytics"])
    assert "IM_STREAM_READY_FILE" in healthcheck_text(services["stream-submit"])
    port = environment(services["monitor"])["IM_MONITOR_PORT"]
    assert f"http://127.0.0.1:{port}/healthz" in healthcheck_text(services["monitor"])
    port = environment(services["alerts"])["IM_ALERT_PORT"]
    assert f"http://127.0.0.1:{port}/healthz" in healthcheck_text(services["alerts"])


def test_depends_on_waits_for_health_or_completion(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        deps = s.get("depends_on") or {}
        assert isinstance(deps, dict), f"{name}: depends_on needs conditions"
        for dep, spec in deps.items():
            cond = spec["condition"]
            if one_shot(services[dep]):
                assert cond == "service_completed_successfully", (name, dep)
            else:
                assert cond == "service_healthy", (name, dep)
                assert "healthcheck" in services[dep], (name, dep)
    for name, (cls, _) in PROGRAMS.items():
        if "IM_KAFKA_BOOTSTRAP" in names_read(cls):  # the console reads no Kafka
            assert "kafka-init" in services[name]["depends_on"], name
    assert {"server", "analytics"} <= set(services["console"]["depends_on"])
    for name in ("server", "monitor"):
        assert "redis" in services[name]["depends_on"]
    assert {"clickhouse"} <= set(services["analytics"]["depends_on"])
    assert {"jobmanager", "taskmanager"} <= set(services["stream-submit"]["depends_on"])
    assert {"server", "grafana"} <= set(services[PROXY]["depends_on"])


# --- secrets ---------------------------------------------------------------------------


def test_no_plaintext_secrets(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        for key, value in environment(s).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value), f"{name}.{key}"
            m = re.search(r"://[^/@\s]*:([^@/\s]*)@", value)
            if m:  # a URL with a password in it
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", m.group(1)), f"{name}.{key}"


def test_every_variable_is_required_from_the_environment() -> None:
    text = COMPOSE.read_text()
    used = {m.group(1) for m in _INTERP.finditer(text)}
    assert used == REQUIRED
    for var in REQUIRED:
        # every use is ${VAR:?message}: compose refuses to start without it
        uses = re.findall(r"\$\{" + var + r"([^}]*)\}", text)
        assert uses and all(u.startswith(":?") for u in uses), var


# --- README, "Production deployment": every claim it makes about the file ------------


@pytest.fixture(scope="module")
def readme() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index("## Production deployment") :]


def test_readme_lists_every_required_variable(readme: str) -> None:
    table = [line for line in readme.splitlines() if line.startswith("| `")]
    named = {v for line in table for v in re.findall(r"`([A-Z_]+)`", line.split("|")[1])}
    assert named == REQUIRED
    assert ".env" in readme and ".env" in (ROOT / ".gitignore").read_text().split()


def test_readme_commands_match_the_services(
    readme: str, services: dict[str, dict[str, Any]]
) -> None:
    assert "`docker compose up -d --build`" in readme
    for name in re.findall(r"docker compose up -d --scale (\w[\w-]*)=\d+", readme):
        s = services[name]  # a service that scales: nothing a second replica would share
        assert "container_name" not in s and "ports" not in s and "hostname" not in s, name
    assert set(re.findall(r"--scale (\w[\w-]*)=", readme)) == {"server", "taskmanager"}
    for name in re.findall(r"docker compose (?:stop|up -d) ([a-z][\w-]+)`", readme):
        assert name in services, name


def test_readme_names_the_operator_ports(
    readme: str, compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    loopback = {p.split(":")[1] for s in services.values() for p in published(s)
                if p.startswith("127.0.0.1:")}  # fmt: skip
    for port in loopback:
        assert re.search(rf"(127\.0\.0\.1:|localhost:|`){port}`", readme), port
    (subnet,) = (c["subnet"] for c in compose["networks"]["edge"]["ipam"]["config"])
    assert f"`{subnet}`" in readme


def test_readme_numbers_match_the_file(readme: str, services: dict[str, dict[str, Any]]) -> None:
    flat = " ".join(readme.split())  # phrases, whatever the line breaks
    props = flink_properties(services["taskmanager"])
    assert f"each adds {props['taskmanager.numberOfTaskSlots']} task slots" in flat
    refresh = re.search(r"refresh (\d+)s", CADDYFILE.read_text())
    assert refresh and f"every {refresh.group(1)} s" in flat

    def gib(name: str) -> float:
        return memory_bytes(limits(services[name])["memory"]) / 2**30

    replicas = {"server": 2, "taskmanager": 1}
    total = sum(gib(n) * replicas.get(n, 1) for n in services)
    m = re.search(r"about (\d+) GiB in all with two nodes and one TaskManager: ([\d.]+) GiB "
                  r"more per node, ([\d.]+) GiB per TaskManager", flat)  # fmt: skip
    assert m, "the limits' total"
    assert abs(total - float(m.group(1))) < 1
    assert float(m.group(2)) == gib("server") and float(m.group(3)) == gib("taskmanager")
    assert services["server"]["deploy"]["replicas"] == replicas["server"]
    heap = re.search(r"-Xmx(\d+)g", environment(services["kafka-1"])["KAFKA_HEAP_OPTS"])
    assert heap and f"Kafka a {heap.group(1)} GiB heap" in flat
    logging = services["redis"]["logging"]["options"]
    size = logging["max-size"].removesuffix("m")
    assert f"logs rotate ({size} MB × {logging['max-file']} per container)" in flat
    grace = {services[n]["stop_grace_period"] for n in (*KAFKAS, "clickhouse")}
    assert grace == {"120s"} and "get 120 s to shut down" in flat


def test_the_caddy_the_tests_build_is_the_images_version(
    services: dict[str, dict[str, Any]],
) -> None:
    """stack.install builds the binary the proxy tests run from the compose file's tag."""
    from stack.install import caddy_version

    tag = services[PROXY]["image"].split(":", 1)[1]
    assert tag.startswith(caddy_version() + "-") or tag == caddy_version()
    assert caddy_binary().parent.name == f"caddy-{caddy_version()}"
