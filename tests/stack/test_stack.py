"""The local stack manager: idempotent, probes readiness, leaves nothing behind."""

from __future__ import annotations

import socket

import pytest

from im.envconfig import load
from stack.manager import PortConflict, Stack, port_conflicts, run_cli
from stack.procs import Proc, ProcessFailed, _alive
from stack.services import Service, all_services
from stack.settings import StackSettings
from tests.ports import free_port


def test_up_twice_is_harmless(stack: Stack) -> None:
    before = {n: stack.proc(n).pid() for n in ("redis", "kafka")}
    stack.up(["redis", "kafka"])
    after = {n: stack.proc(n).pid() for n in ("redis", "kafka")}
    assert before == after and all(before.values())


def test_status_reports_ready(stack: Stack) -> None:
    rows = {name: (pid, why) for name, pid, why in stack.status()}
    assert rows["redis"][0] is not None and rows["redis"][1] is None
    assert rows["kafka"][0] is not None and rows["kafka"][1] is None


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_down_leaves_no_process_and_frees_the_port(tmp_path: object) -> None:
    port = free_port()
    settings = load(StackSettings, {"IM_STACK_DIR": str(tmp_path), "IM_REDIS_PORT": str(port)})
    st = Stack(settings, say=lambda _m: None)
    st.up(["redis"])
    pid = st.proc("redis").pid()
    assert pid is not None and _port_open(port)
    st.down(["redis"])
    assert not _alive(pid)
    assert not _port_open(port)
    assert not st.proc("redis").pid_file.exists()
    st.down(["redis"])  # twice: still fine


def test_a_service_that_dies_is_named_with_its_log(tmp_path: object) -> None:
    settings = load(StackSettings, {"IM_STACK_DIR": str(tmp_path)})
    st = Stack(settings, say=lambda _m: None)
    from stack.services import Launch

    broken = Service(
        "broken",
        lambda s, say: Launch(["sh", "-c", "echo boom >&2; exit 3"], {}),
        probe=lambda s: "never ready",
        timeout_s=10,
    )
    proc = Proc("broken", settings.run, settings.logs)
    with pytest.raises(ProcessFailed) as err:
        st.start(broken)
    assert "broken: exited before ready" in str(err.value)
    assert "boom" in str(err.value)
    assert str(proc.log) in str(err.value)


def test_cli_rejects_unknown_commands_and_services() -> None:
    out: list[str] = []
    assert run_cli(["explode"], load(StackSettings, {}), out.append) == 2
    assert "usage" in out[0]
    out.clear()
    assert run_cli(["logs", "nosuch"], load(StackSettings, {}), out.append) == 1
    assert "unknown services: nosuch" in out[0]


def test_a_stranger_on_the_port_is_reported_not_probed(tmp_path: object) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        settings = load(StackSettings, {"IM_STACK_DIR": str(tmp_path), "IM_REDIS_PORT": str(port)})
        st = Stack(settings, say=lambda _m: None)
        with pytest.raises(ProcessFailed, match=f"port {port} is already in use"):
            st.up(["redis"])
        assert st.proc("redis").pid() is None


def test_each_node_has_its_own_ops_port_and_no_two_services_share_a_port() -> None:
    settings = load(StackSettings, {"IM_NODES": "3"})
    ports = [p for svc in all_services(settings) for p in svc.ports(settings)]
    # Redis, Kafka (2), each node (client and ops), analytics, the collector, the
    # alert evaluator, the console, Flink (REST, RPC): all different.
    assert len(ports) == len(set(ports)) == 1 + 2 + 2 * 3 + 1 + 1 + 1 + 1 + 2
    clash = load(StackSettings, {"IM_NODES": "3", "IM_OPS_PORT": "8082"})  # node 3's client port
    assert port_conflicts(all_services(clash), clash) == ["port 8082: server-1, server-3"]


def test_colliding_ports_are_refused_before_anything_starts(tmp_path: object) -> None:
    # Server nodes take IM_HTTP_PORT + i: node 2 lands on the Flink UI's port.
    env = {"IM_STACK_DIR": str(tmp_path), "IM_NODES": "2", "IM_HTTP_PORT": "18080",
           "IM_FLINK_REST_PORT": "18081", "IM_ANALYTICS_PORT": "16379"}  # fmt: skip
    settings = load(StackSettings, env)
    st = Stack(settings, say=lambda _m: None)
    with pytest.raises(PortConflict) as err:
        st.up(["redis"])
    assert "port 16379: redis, analytics" in str(err.value)
    assert "port 18081: flink-jobmanager, server-2" in str(err.value)
    assert not list(settings.run.glob("*.pid"))  # nothing started
    out: list[str] = []
    assert run_cli(["up"], settings, out.append) == 1
    assert out[0].startswith("error: ports collide") and "server-2" in out[0]


def test_default_ports_leave_room_for_ten_server_nodes() -> None:
    ten = load(StackSettings, {"IM_NODES": "10"})
    assert port_conflicts(all_services(ten), ten) == []
    eleven = load(StackSettings, {"IM_NODES": "11"})
    assert port_conflicts(all_services(eleven), eleven) == ["port 8090: analytics, server-11"]


def _two_free_ports_in_a_row() -> int:
    for _ in range(50):
        port = free_port()
        if not _port_open(port + 1):
            return port
    raise AssertionError("no two free ports in a row")


def test_down_stops_services_the_configuration_no_longer_has(
    stack: Stack, tmp_path: object
) -> None:
    """Up with 2 server nodes, down with 1 configured: server-2 is stopped too."""
    http = _two_free_ports_in_a_row()
    env = {"IM_STACK_DIR": str(tmp_path), "IM_HTTP_PORT": str(http),
           "IM_REDIS_PORT": str(stack.settings.redis_port),  # the session's Redis and Kafka
           "IM_KAFKA_PORT": str(stack.settings.kafka_port),
           "IM_OPS_PORT": str(_two_free_ports_in_a_row())}  # fmt: skip
    two = Stack(load(StackSettings, {**env, "IM_NODES": "2"}), say=lambda _m: None)
    try:
        two.up(["server-1", "server-2"])
        pids = [two.proc(n).pid() for n in ("server-1", "server-2")]
        assert all(pids) and _port_open(http) and _port_open(http + 1)
        one = Stack(load(StackSettings, {**env, "IM_NODES": "1"}), say=lambda _m: None)
        assert one.orphans() == ["server-2"]
        rows = {name: (pid, why) for name, pid, why in one.status()}
        assert rows["server-2"][0] == pids[1] and "not in the current" in str(rows["server-2"][1])
        one.down()
        assert not any(_alive(p) for p in pids if p is not None)
        assert not _port_open(http) and not _port_open(http + 1)
        assert not list(one.settings.run.glob("*.pid"))
    finally:
        two.down()
