"""What the runner needs from a server under test, and the process helper they share."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bench.plan import ClientSpec, Scenario
from stack import probes
from stack.procs import Proc, ProcessFailed


class Target:
    """A server under test. `prepare` gives a fresh server process for each scenario."""

    name = ""
    dialect = "im"
    description = ""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def start(self) -> None:
        """Bring up what every scenario of this target shares (installs, infra)."""

    def prepare(self, sc: Scenario) -> list[ClientSpec]:
        """(Re)start the server process and create the scenario's users and chats."""
        raise NotImplementedError

    def ws_url(self) -> str:
        raise NotImplementedError

    def server_pids(self) -> list[int]:
        raise NotImplementedError

    def aux_pids(self) -> list[int]:
        return []

    def stop(self) -> None:
        """Stop everything this target started (safe to call twice)."""


def start_proc(
    proc: Proc,
    argv: Sequence[str],
    env: Mapping[str, str],
    ready: Callable[[], str | None],
    port: int,
    timeout_s: float = 60.0,
) -> int:
    """Start `proc` (stopping a leftover first) and wait until `ready()` says None."""
    proc.stop()
    if probes.port_in_use(port):
        raise ProcessFailed(proc.name, f"port {port} is in use by another process", proc.log)
    pid = proc.start(argv, env)
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while (why := ready()) is not None:
        if not proc.running():
            raise ProcessFailed(proc.name, f"exited before ready\n{proc.tail(15)}", proc.log)
        if time.monotonic() > deadline:
            raise ProcessFailed(proc.name, f"not ready after {timeout_s:.0f}s ({why})", proc.log)
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)
    return pid


def proc(name: str, out_dir: Path) -> Proc:
    return Proc(f"bench-{name}", out_dir / "run", out_dir / "logs")
