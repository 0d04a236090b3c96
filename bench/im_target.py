"""Target: the IM server, on its own stack (own folder, own ports, fresh Redis).

The stack manager starts Redis, Kafka and one server node from
bench/out/stack (wiped before every run, so Redis starts empty), on ports
away from the developer's stack and the test stack; no streaming job and no
analytics. The server node is restarted before each scenario (Redis and
Kafka keep running, users and chats are reused) so its memory per
connection is measured from a fresh process.
"""

from __future__ import annotations

import asyncio
import os
import shutil

from bench.base.cli import Say
from bench.config import BenchConfig
from bench.im_setup import ImSetup
from bench.plan import ClientSpec, Scenario
from bench.target import Target
from im.envconfig import ConfigError, load
from im.settings import ServerSettings
from stack.manager import Stack
from stack.settings import StackSettings

SERVICES = ["redis", "kafka", "server-1"]


def stack_env(cfg: BenchConfig) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IM_")}
    env.update(cfg.ports.stack_env(cfg.out_dir / "stack"), IM_NODES="1")
    return env


def per_user_rate_limit() -> float | None:
    """The server's default sustained send rate per user (IM_RATE_PER_S), if it has one."""
    try:
        settings = load(ServerSettings, {})
    except ConfigError:
        return None
    limit = getattr(settings, "rate_per_s", None)
    return float(limit) if isinstance(limit, int | float) else None


class ImTarget(Target):
    name = "im"
    dialect = "im"
    description = "this IM server (python -m im: Starlette/uvicorn, Redis, Kafka outbox)"

    def __init__(self, cfg: BenchConfig, say: Say, collector: bool = False) -> None:
        super().__init__()
        # collector: the ops collector (python -m monitor) runs beside the server
        # and samples Redis, Kafka, the host and the node's /metrics every
        # IM_OPS_INTERVAL_S, as in production: what that costs the chat path.
        self.services = [*SERVICES, "monitor"] if collector else SERVICES
        if collector:
            self.name = "im-monitor"
            self.description = f"{self.description}, with the ops collector (python -m monitor)"
        self.cfg, self.say = cfg, say
        # Registration is set-up, not measured: cheap argon2 parameters make
        # seeding 5,000 users take seconds instead of ~15 minutes (a token
        # check is a SHA-256 lookup either way, so nothing measured changes).
        # The registration limits would stop seeding from one address at 30.
        cheap_hash = (("IM_ARGON2_TIME_COST", "1"), ("IM_ARGON2_MEMORY_KIB", "8192"),
                      ("IM_REGISTER_MAX_PER_ADDRESS", "1000000"),
                      ("IM_REGISTER_MAX_PER_MINUTE", "1000000"))  # fmt: skip
        # Every load client connects from 127.0.0.1, and all at once: the caps
        # for one address and for sockets not signed in yet must not refuse them.
        one_address = (("IM_MAX_CONNECTIONS_PER_ADDRESS", "20000"),
                       ("IM_MAX_UNAUTHENTICATED", "20000"))  # fmt: skip
        self.settings = load(StackSettings, stack_env(cfg), extra_env=cheap_hash + one_address)
        self.stack = Stack(self.settings, say=lambda m: say(f"[stack] {m}"))
        base = f"http://127.0.0.1:{cfg.ports.http}"
        self.setup = ImSetup(base, cfg.setup_concurrency, say)
        limit = per_user_rate_limit()
        top = max(cfg.rates + cfg.direct_rates)
        if limit is not None and top > limit:
            self.notes.append(
                f"the IM server lets a user keep sending {limit:g} msg/s (IM_RATE_PER_S); "
                f"at higher per-client rates (up to {top:g} here) it refuses sends with "
                "`rate_limited`: those steps measure its rate limiter"
            )

    def start(self) -> None:
        self.stack.down()  # leftovers of an interrupted run, if any
        shutil.rmtree(self.settings.root, ignore_errors=True)
        self.stack.up(self.services)

    def prepare(self, sc: Scenario) -> list[ClientSpec]:
        server = self.stack.services(["server-1"])
        self.stack.down(["server-1"])
        self.stack.start(server[0])
        asyncio.run(self.setup.ensure_users(sc.clients))
        specs = asyncio.run(self.setup.ensure_convs(sc))
        note = self.setup.friends_note
        if self.setup.friends_api:
            note = "direct chats made through the friends API (POST /api/friends, then accept)"
        if note and note not in self.notes:
            self.notes.append(note)
        return specs

    def solo_users(self, n: int) -> list[tuple[str, str]]:
        """(token, conv) for `n` users alone in a chat of their own (the artillery check)."""
        return asyncio.run(self.setup.solo_convs(n))

    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.cfg.ports.http}/ws"

    def _pid(self, name: str) -> list[int]:
        pid = self.stack.proc(name).pid()
        return [pid] if pid else []

    def server_pids(self) -> list[int]:
        return self._pid("server-1")

    def aux_pids(self) -> list[int]:
        return [pid for s in self.services if s != "server-1" for pid in self._pid(s)]

    def stop(self) -> None:
        self.stack.down(self.services)
