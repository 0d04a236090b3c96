"""Start extra real server processes for a test (own ports, own env)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from im.envconfig import load
from stack import probes
from stack.manager import Stack
from stack.procs import Proc, ProcessFailed
from stack.services import base_env
from stack.settings import StackSettings
from tests.conftest import TEST_DIR
from tests.ports import free_port
from tests.waiting import WaitTimeout, wait_until_sync


@contextmanager
def server_node(
    stack: Stack,
    name: str,
    port: int,
    ready_path: str = "/readyz",
    probe: Callable[[], str | None] | None = None,
    ops_port: int | None = None,
    **env: str,
) -> Iterator[Proc]:
    """A `python -m im` node on `port`, stopped (SIGTERM) when the block ends.

    Its ops port (/metrics, /readyz) is `ops_port`, or a free one; readiness
    is `ready_path` there. `probe` (None when ready, else why not) replaces
    that plain-HTTP probe, e.g. for a node serving HTTPS."""
    s = stack.settings
    ops = ops_port or free_port()
    environ = base_env(s)
    environ.update(IM_NODE_ID=name, IM_HTTP_PORT=str(port), IM_OPS_PORT=str(ops), **env)
    proc = Proc(f"test-{name}", s.run, s.logs)
    proc.stop()
    proc.start([sys.executable, "-m", "im"], environ)
    url = f"http://127.0.0.1:{ops}{ready_path}"
    check = probe or (lambda: probes.http_ready(url))
    why: str | None = None

    def ready() -> bool:
        nonlocal why
        if not proc.running():
            raise ProcessFailed(name, f"exited\n{proc.tail()}", proc.log)
        why = check()
        return why is None

    try:
        wait_until_sync(ready, 30, what=f"{name} ready", interval=0.1)
    except WaitTimeout:
        raise ProcessFailed(name, f"not ready: {why}", proc.log) from None
    try:
        yield proc
    finally:
        proc.stop()


@contextmanager
def own_stack(
    name: str, services: list[str], env: dict[str, str], extra: tuple[tuple[str, str], ...] = ()
) -> Iterator[Stack]:
    """A stack of its own (fresh folder under the test stack's, free ports) for a
    test that kills or stops its services; `env` adds stack settings."""
    folder = TEST_DIR / name
    shutil.rmtree(folder, ignore_errors=True)
    ports = {key: str(free_port()) for key in
             ("IM_REDIS_PORT", "IM_KAFKA_PORT", "IM_KAFKA_CONTROLLER_PORT",
              "IM_FLINK_REST_PORT", "IM_FLINK_RPC_PORT", "IM_HTTP_PORT", "IM_OPS_PORT",
              "IM_ANALYTICS_PORT", "IM_MONITOR_PORT", "IM_ALERT_PORT",
              "IM_CONSOLE_PORT")}  # fmt: skip
    settings = load(
        StackSettings,
        {"IM_STACK_DIR": str(folder), "IM_KAFKA_PARTITIONS": "4", **ports, **env},
        extra_env=extra,
    )
    st = Stack(settings, say=lambda _m: None)
    st.up(services)
    try:
        yield st
    finally:
        st.down()
