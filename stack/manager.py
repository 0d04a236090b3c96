"""Bring services up in order, wait for each by probing, and tear them down."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from stack import flink, install, probes
from stack.procs import Proc, ProcessFailed
from stack.secrets import ADMIN_PASSWORD_ENV, ADMIN_PASSWORD_FILE, first_admin
from stack.services import Say, Service, all_services, base_env, node_ops_port, node_port
from stack.settings import StackSettings


class PortConflict(ValueError):
    """Two services of the configuration would listen on one port."""


def port_conflicts(services: Iterable[Service], settings: StackSettings) -> list[str]:
    """'port P: a, b' for every port that more than one service declares."""
    owners: dict[int, list[str]] = {}
    for svc in services:
        for port in svc.ports(settings):
            owners.setdefault(port, []).append(svc.name)
    return [
        f"port {port}: {', '.join(names)}"
        for port, names in sorted(owners.items())
        if len(names) > 1
    ]


def _say(msg: str) -> None:
    print(f"[stack] {msg}", file=sys.stderr, flush=True)


class Stack:
    """The local stack described by `settings`; every method is safe to repeat."""

    def __init__(self, settings: StackSettings, say: Say = _say) -> None:
        self.settings = settings
        self.say = say

    def proc(self, name: str) -> Proc:
        return Proc(name, self.settings.run, self.settings.logs)

    def services(self, names: Iterable[str] | None = None) -> list[Service]:
        every = all_services(self.settings)
        if names is None:
            return every
        wanted = set(names)
        unknown = wanted - {s.name for s in every}
        if unknown:
            raise ValueError(f"unknown services: {', '.join(sorted(unknown))}")
        return [s for s in every if s.name in wanted]

    def check_ports(self) -> None:
        """Refuse a configuration whose services' ports collide (all of them,
        not only those asked for: they may already run or start later)."""
        clashes = port_conflicts(all_services(self.settings), self.settings)
        if clashes:
            raise PortConflict("ports collide, change a port setting: " + "; ".join(clashes))

    def orphans(self) -> list[str]:
        """Services with a pid file that the current configuration does not have
        (e.g. server-2 after IM_NODES went from 2 to 1), sorted by name."""
        known = {svc.name for svc in all_services(self.settings)}
        return sorted(f.stem for f in self.settings.run.glob("*.pid") if f.stem not in known)

    def up(self, names: Iterable[str] | None = None) -> None:
        self.check_ports()
        install.ensure_system(self.say)
        for d in (self.settings.logs, self.settings.run, self.settings.data):
            d.mkdir(parents=True, exist_ok=True)
        for svc in self.services(names):
            self.start(svc)

    def start(self, svc: Service) -> None:
        proc = self.proc(svc.name)
        if proc.running() and svc.probe(self.settings) is None:
            self.say(f"{svc.name}: already running (pid {proc.pid()})")
            return
        if not proc.running():
            busy = [p for p in svc.ports(self.settings) if probes.port_in_use(p)]
            if busy:
                raise ProcessFailed(
                    svc.name, f"port {busy[0]} is already in use by another process", proc.log
                )
        started = time.monotonic()
        launch = svc.launch(self.settings, self.say)
        pid = proc.start(launch.argv, launch.env)
        self.say(f"{svc.name}: starting (pid {pid}, log {proc.log})")
        self.wait_ready(svc, proc, svc.timeout_s)
        if svc.after_ready is not None:
            svc.after_ready(self.settings, self.say)
        self.say(f"{svc.name}: ready in {time.monotonic() - started:.1f}s")

    def wait_ready(self, svc: Service, proc: Proc, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        why: str | None = "not probed"
        delay = 0.05
        while time.monotonic() < deadline:
            why = svc.probe(self.settings)
            if why is None:
                return
            if not proc.running():
                tail = proc.tail(15)
                raise ProcessFailed(svc.name, f"exited before ready\n{tail}\n", proc.log)
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        raise ProcessFailed(svc.name, f"not ready after {timeout_s:.0f}s ({why})", proc.log)

    def down(self, names: Iterable[str] | None = None) -> None:
        # Whatever has a pid file but is not configured now goes first (extra
        # server nodes of an earlier IM_NODES, a test's own processes): apps.
        for name in self.orphans() if names is None else []:
            if self.proc(name).stop():
                self.say(f"{name}: stopped (not in the current configuration)")
        # Reverse order: apps first, so they flush before Kafka and Redis go.
        for svc in reversed(self.services(names)):
            if self.proc(svc.name).stop():
                self.say(f"{svc.name}: stopped")

    def status(self) -> list[tuple[str, int | None, str | None]]:
        rows = []
        for svc in self.services():
            pid = self.proc(svc.name).pid()
            rows.append((svc.name, pid, svc.probe(self.settings) if pid else "stopped"))
        for name in self.orphans():
            pid = self.proc(name).pid()
            if pid is not None:
                rows.append((name, pid, "not in the current configuration (make down stops it)"))
        return rows


def run_cli(argv: list[str], settings: StackSettings, out: Callable[[str], None] = print) -> int:
    if not argv or argv[0] not in ("up", "down", "status", "logs", "fetch"):
        out("usage: python -m stack up|down|status|logs [service...]|fetch")
        return 2
    stack = Stack(settings)
    cmd, names = argv[0], argv[1:] or None
    try:
        if cmd == "fetch":  # everything downloadable, nothing started
            install.ensure_system(stack.say)
            install.kafka_jars(Path(settings.cache_dir), stack.say)
            install.flink_connector_jars(Path(settings.cache_dir), stack.say)
        elif cmd == "up":
            stack.up(names)
            print_where(settings, out)
        elif cmd == "down":
            stack.down(names)
        elif cmd == "status":
            total = 0
            rows = stack.status()
            width = max(len(name) for name, _, _ in rows)
            for name, pid, why in rows:
                state = "ready" if why is None else why
                rss = stack.proc(name).rss_bytes()
                total += rss
                mem = f"{rss / 2**20:7.0f} MiB" if pid else ""
                pid_text = f"pid {pid}" if pid else "-"
                out(f"{name:<{width}} {pid_text:<12} {mem:>11}  {state}")
            out(f"{'total':<{width}} {'':<12} {total / 2**20:7.0f} MiB")
        elif cmd == "logs":
            for svc in stack.services(names):
                proc = stack.proc(svc.name)
                out(f"==> {proc.log} <==\n{proc.tail(40)}")
    except (ProcessFailed, install.InstallError, ValueError) as e:
        out(f"error: {e}")
        return 1
    return 0


def console_line(s: StackSettings) -> str:
    """Where to sign in, and how to read the first admin's password (never the password)."""
    username, _, generated = first_admin(s.root, base_env(s))
    how = (
        f"password: cat {Path(s.stack_dir) / 'secrets' / ADMIN_PASSWORD_FILE}"
        if generated
        else f"password: {ADMIN_PASSWORD_ENV} of your environment"
    )
    return f"  console: http://127.0.0.1:{s.console_port}  (sign in as {username}; {how})"


def print_where(s: StackSettings, out: Callable[[str], None]) -> None:
    out("")
    out("The stack is up (all on 127.0.0.1):")
    for i in range(s.nodes):
        port, ops = node_port(s, i), node_ops_port(s, i)
        out(
            f"  IM server node-{i + 1}: http://127.0.0.1:{port}  (WebSocket ws://127.0.0.1:{port}/ws)"
        )
        out(f"    ops (metrics, readiness): http://127.0.0.1:{ops}/metrics  /readyz")
    out(
        f"  analytics query API: http://127.0.0.1:{s.analytics_port}/query?sql=SELECT+1"
        "  (admins: Authorization: Bearer <token from POST /api/login>)"
    )
    out(f"  ops collector:       http://127.0.0.1:{s.monitor_port}/healthz  (samples: im.ops)")
    out(
        f"  alert evaluator:     http://127.0.0.1:{s.alert_port}/metrics  (alerts: GET /api/alerts;"
        " in the chat: the ops and managers conversations)"
    )
    out(f"  Flink UI:            {flink.rest_url(s)}  (job {flink.JOB_NAME})")
    out(console_line(s))
    out(f"  ClickHouse:          {s.effective_clickhouse_url}")
    out(f"  Kafka:               {s.kafka_bootstrap}")
    out(f"  Redis:               {s.redis_url}")
    out(f"  logs:                {s.logs}/")
    out("Status: make status    Logs: make logs    Stop: make down")
