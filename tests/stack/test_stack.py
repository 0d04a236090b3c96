"""The local stack manager: idempotent, probes readiness, leaves nothing behind."""

from __future__ import annotations

import socket

import pytest

from im.envconfig import ConfigError, load
from stack.manager import Stack, run_cli
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
    # Redis, Kafka (2), each node (client and ops), analytics, the collector: all different.
    assert len(ports) == len(set(ports)) == 1 + 2 + 2 * 3 + 1 + 1
    with pytest.raises(ConfigError, match="IM_OPS_PORT"):
        load(StackSettings, {"IM_NODES": "3", "IM_OPS_PORT": "8082"})  # node 3's client port
