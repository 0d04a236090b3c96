"""docker-compose.yml and Dockerfile agree with the code (no Docker engine needed).

The settings classes declare every environment variable the programs read
(im.envconfig); these tests hold the compose file to exactly those names, so a
typo or a rename on either side fails here instead of in a container that
silently falls back to a default such as 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.settings import AlertSettings
from analytics.settings import AnalyticsSettings
from contract import topics
from im.envconfig import env_names, load
from im.settings import ServerSettings
from monitor.settings import MonitorSettings
from streaming.settings import StreamSettings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

# Services that run our image: settings class and the module they run.
PROGRAMS: dict[str, tuple[type, str]] = {
    "server-1": (ServerSettings, "im"),
    "server-2": (ServerSettings, "im"),
    "analytics": (AnalyticsSettings, "analytics"),
    "stream-submit": (StreamSettings, "streaming"),
    "monitor": (MonitorSettings, "monitor"),
    "alerts": (AlertSettings, "alerts"),
}
SERVERS = ("server-1", "server-2")
INFRA = (
    "redis",
    "kafka",
    "kafka-init",
    "clickhouse",
    "grafana",
    "flink-init",
    "jobmanager",
    "taskmanager",
)

# Settings that must be set in a container (their defaults are for one machine:
# loopback addresses, embedded chDB, /tmp checkpoints, no connector jar).
MUST_SET = {
    ServerSettings: {
        "IM_NODE_ID",
        "IM_HTTP_HOST",
        "IM_HTTP_PORT",
        "IM_OPS_HOST",
        "IM_OPS_PORT",
        "IM_REDIS_URL",
        "IM_KAFKA_BOOTSTRAP",
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
}
SECRETS = {"REDIS_PASSWORD", "CLICKHOUSE_PASSWORD", "GRAFANA_ADMIN_PASSWORD",
           "ANALYTICS_SERVICE_TOKEN"}  # fmt: skip
# Bases of links people open (runbooks, dashboards), not addresses a container
# calls: loopback there means the docker host's published port.
BROWSER_LINKS = {"IM_ALERT_EXTERNAL_URL", "IM_GRAFANA_URL"}
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (inside a container, behind published ports)

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


def pin(package: str) -> str:
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"{package} is not pinned in requirements.lock")


def pom_version(pom: str, pattern: str) -> str:
    text = (ROOT / "stack" / "maven" / pom).read_text()
    m = re.search(pattern, text, re.S)
    assert m, f"no version in {pom}"
    return m.group(1)


def one_shot(service: dict[str, Any]) -> bool:
    return str(service.get("restart", "no")) == "no"


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
    settings = load(cls, env)  # raises ConfigError on a malformed value
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


def test_servers_listen_on_all_interfaces_with_distinct_node_ids(
    services: dict[str, dict[str, Any]],
) -> None:
    envs = [environment(services[s]) for s in SERVERS]
    assert all(e["IM_HTTP_HOST"] == ALL_INTERFACES for e in envs)
    assert all(e["IM_OPS_HOST"] == ALL_INTERFACES for e in envs)  # for the compose network
    assert len({e["IM_NODE_ID"] for e in envs}) == len(SERVERS)
    assert environment(services["analytics"])["IM_ANALYTICS_HOST"] == ALL_INTERFACES
    assert environment(services["monitor"])["IM_MONITOR_HOST"] == ALL_INTERFACES


def test_addresses_point_at_the_compose_services(services: dict[str, dict[str, Any]]) -> None:
    kafka_env = environment(services["kafka"])
    advertised = kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    internal = next(a for a in advertised if a.startswith("PLAINTEXT://"))
    bootstrap = internal.removeprefix("PLAINTEXT://")
    assert bootstrap == "kafka:9092"
    for name in PROGRAMS:
        assert environment(services[name])["IM_KAFKA_BOOTSTRAP"] == bootstrap, name
    for name in (*SERVERS, "monitor"):
        url = environment(services[name])["IM_REDIS_URL"]
        assert re.fullmatch(r"redis://:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379/0", url), url


def test_the_collector_watches_the_flink_cluster_and_the_data_volumes(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    monitor = services["monitor"]
    env = environment(monitor)
    assert env["IM_FLINK_REST_URL"] == "http://jobmanager:8081"
    mounts = {target: vol for vol, target, *_ in (str(v).split(":") for v in monitor["volumes"])}
    assert set(env["IM_OPS_DATA_DIRS"].split(",")) == set(mounts)
    assert set(mounts.values()) == set(compose["volumes"]) - {"grafana-data"}
    assert all(str(v).endswith(":ro") for v in monitor["volumes"])


def test_analytics_uses_the_clickhouse_server(services: dict[str, dict[str, Any]]) -> None:
    url = environment(services["analytics"])["IM_CLICKHOUSE_URL"]
    ch = environment(services["clickhouse"])
    m = re.fullmatch(r"http://([^:]+):\$\{([A-Z_]+):\?[^}]+\}@clickhouse:8123/(\w+)", url)
    assert m, url
    user, secret, db = m.groups()
    assert user == ch["CLICKHOUSE_USER"]
    assert db == ch["CLICKHOUSE_DB"]
    assert secret == "CLICKHOUSE_PASSWORD"
    assert "${CLICKHOUSE_PASSWORD:?" in ch["CLICKHOUSE_PASSWORD"]


# --- infrastructure ------------------------------------------------------------


def test_redis_is_7_with_append_only_file(services: dict[str, dict[str, Any]]) -> None:
    redis = services["redis"]
    assert redis["image"] == "redis:7"
    assert "--appendonly yes" in command_text(redis)
    # A memory limit, and never an eviction (README, Decisions), as in the local stack.
    assert "--maxmemory 1gb --maxmemory-policy noeviction" in command_text(redis)
    assert any(str(v).endswith(":/data") for v in redis["volumes"])


def test_kafka_is_kraft_single_node(services: dict[str, dict[str, Any]]) -> None:
    kafka = services["kafka"]
    version = pom_version("kafka.pom.xml", r"<kafka.version>([^<]+)</kafka.version>")
    assert kafka["image"] == f"apache/kafka:{version}"
    env = environment(kafka)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert not any("ZOOKEEPER" in k for k in env)
    assert not any("zookeeper" in name for name in services)


def test_kafka_init_creates_every_topic(services: dict[str, dict[str, Any]]) -> None:
    init = services["kafka-init"]
    assert one_shot(init)
    script = command_text(init)
    m = re.search(r"for topic in ([^;]+);", script)
    assert m, script
    assert m.group(1).split() == list(topics.ALL)
    assert '--topic "$$topic"' in script and "--create --if-not-exists" in script
    partitions = environment(init)["PARTITIONS"]
    assert '--partitions "$$PARTITIONS"' in script
    assert int(partitions) > 1
    assert environment(services["kafka"])["KAFKA_NUM_PARTITIONS"] == partitions


def test_flink_cluster_matches_pyflink_and_keeps_checkpoints_on_a_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    major_minor = ".".join(pin("apache-flink").split(".")[:2])
    stream = environment(services["stream-submit"])
    ckpt = stream["IM_STREAM_CHECKPOINT_DIR"]
    assert ckpt.startswith("file:///")
    path = ckpt.removeprefix("file://")
    for name in ("jobmanager", "taskmanager", "flink-init"):
        s = services[name]
        assert s["image"].startswith(f"flink:{major_minor}"), s["image"]
        mounts = [str(v).split(":") for v in s["volumes"]]
        assert any(
            vol in compose["volumes"] and path.startswith(target) for vol, target, *_ in mounts
        ), (name, mounts)
    for name in ("jobmanager", "taskmanager"):
        props = environment(services[name])["FLINK_PROPERTIES"]
        assert f"execution.checkpointing.dir: {ckpt}" in props
        assert "jobmanager.rpc.address: jobmanager" in props
    assert services["jobmanager"]["command"] == ["jobmanager"]
    assert services["taskmanager"]["command"] == ["taskmanager"]


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


def test_grafana_has_the_clickhouse_plugin(services: dict[str, dict[str, Any]]) -> None:
    env = environment(services["grafana"])
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    assert "grafana-clickhouse-datasource" in env["GF_INSTALL_PLUGINS"].split(",")
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")


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
    assert "grafana-clickhouse-datasource" in environment(grafana)["GF_INSTALL_PLUGINS"]
    assert (ds["jsonData"]["host"], ds["jsonData"]["port"], ds["jsonData"]["protocol"]) == (
        "clickhouse", 9000, "native")  # fmt: skip
    assert ds["jsonData"]["defaultDatabase"] == environment(ch)["CLICKHOUSE_DB"]
    # Grafana fills ${VAR} in provisioning files from its environment: no secret in the file
    assert ds["jsonData"]["username"] == "${CLICKHOUSE_USER}"
    assert ds["secureJsonData"] == {"password": "${CLICKHOUSE_PASSWORD}"}
    env = environment(grafana)
    assert env["CLICKHOUSE_USER"] == environment(ch)["CLICKHOUSE_USER"]
    assert re.fullmatch(r"\$\{CLICKHOUSE_PASSWORD:\?[^}]+\}", env["CLICKHOUSE_PASSWORD"])
    assert {"clickhouse"} <= set(grafana["depends_on"])


# --- health and start order ------------------------------------------------------


def test_long_running_services_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        if one_shot(s):
            continue
        assert "test" in (s.get("healthcheck") or {}), f"{name} has no healthcheck"


def test_probes_use_the_right_endpoints(services: dict[str, dict[str, Any]]) -> None:
    for name in SERVERS:
        env = environment(services[name])
        assert f"http://127.0.0.1:{env['IM_OPS_PORT']}/readyz" in healthcheck_text(services[name])
        # The ops port stays on the compose network: no published port maps to it.
        published = [str(p).rsplit(":", 1)[-1] for p in services[name].get("ports", [])]
        assert env["IM_OPS_PORT"] not in published and env["IM_HTTP_PORT"] in published
    port = environment(services["analytics"])["IM_ANALYTICS_PORT"]
    assert f"http://127.0.0.1:{port}/healthz" in healthcheck_text(services["analytics"])
    assert "IM_STREAM_READY_FILE" in healthcheck_text(services["stream-submit"])
    port = environment(services["monitor"])["IM_MONITOR_PORT"]
    assert f"http://127.0.0.1:{port}/healthz" in healthcheck_text(services["monitor"])


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
    for name in PROGRAMS:
        assert "kafka-init" in services[name]["depends_on"], name
    for name in (*SERVERS, "monitor"):
        assert "redis" in services[name]["depends_on"]
    assert {"clickhouse"} <= set(services["analytics"]["depends_on"])
    assert {"jobmanager", "taskmanager"} <= set(services["stream-submit"]["depends_on"])


# --- secrets ---------------------------------------------------------------------------


def test_no_plaintext_secrets(services: dict[str, dict[str, Any]]) -> None:
    for name, s in services.items():
        for key, value in environment(s).items():
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value), f"{name}.{key}"
            m = re.search(r"://[^/@\s]*:([^@/\s]*)@", value)
            if m:  # a URL with a password in it
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", m.group(1)), f"{name}.{key}"


def test_secrets_are_required_from_the_environment() -> None:
    text = COMPOSE.read_text()
    used = {m.group(1): m.group(2) or "" for m in _INTERP.finditer(text)}
    assert set(used) == SECRETS
    for var in SECRETS:
        # every use of a secret is ${VAR:?message}: compose refuses to start without it
        uses = re.findall(r"\$\{" + var + r"([^}]*)\}", text)
        assert uses and all(u.startswith(":?") for u in uses), var


# --- the image ----------------------------------------------------------------------


def test_dockerfile() -> None:
    text = DOCKERFILE.read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert froms[0].startswith("maven:3-eclipse-temurin-17")
    assert froms[-1].startswith("python:3.11-slim")
    assert "mvn" in text and "-f stack/maven/flink.pom.xml" in text
    assert "dependency:copy-dependencies -DoutputDirectory=/jars" in text
    assert "openjdk-17-jre-headless" in text
    assert "requirements.lock" in text
    for pkg in ("contract", "im", "streaming", "analytics", "stack", "dashboards", "alerts",
                "monitor"):  # fmt: skip
        assert re.search(rf"^COPY {pkg}/ {pkg}/$", text, re.M), pkg
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
