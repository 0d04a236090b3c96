"""Target: Centrifugo, a real chat/real-time server written in Go (the peer).

Installed with `go install github.com/centrifugal/centrifugo/v6@<version>`
through the Go module proxy into ~/.cache/im-bench/bin (reused by later
runs). Configured for the same job as the IM server: connection JWTs (HS256)
so every client is a user, one channel per conversation, clients may
subscribe and subscribers may publish (client-side publish), memory engine,
no history, no usage statistics (it would call home), no compression.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import orjson

from bench.base.cli import Say
from bench.config import BenchConfig
from bench.plan import ClientSpec, Scenario
from bench.target import Target, proc, start_proc
from stack import probes

MODULE = "github.com/centrifugal/centrifugo/v6"
VERSION = "v6.9.1"
CACHE_BIN = Path.home() / ".cache" / "im-bench" / "bin"
INSTALL_TIMEOUT_S = 900


class InstallFailed(RuntimeError):
    """`go install` failed; the message carries its output."""


def ensure_binary(say: Say) -> Path:
    binary = CACHE_BIN / f"centrifugo-{VERSION}"
    if binary.exists():
        return binary
    go = shutil.which("go")
    if go is None:
        raise InstallFailed("`go` is not on PATH: Centrifugo cannot be installed")
    CACHE_BIN.mkdir(parents=True, exist_ok=True)
    say(f"installing Centrifugo {VERSION}: go install {MODULE}@{VERSION} (a few minutes)")
    build = CACHE_BIN / "build"
    env = dict(os.environ, GOBIN=str(build), GOFLAGS="-buildvcs=false")
    try:
        r = subprocess.run(
            [go, "install", f"{MODULE}@{VERSION}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InstallFailed(f"go install did not finish in {INSTALL_TIMEOUT_S}s") from None
    if r.returncode != 0:
        raise InstallFailed(f"go install {MODULE}@{VERSION} failed:\n{r.stderr[-3000:]}")
    (build / "centrifugo").rename(binary)
    return binary


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hs256_jwt(secret: str, sub: str, ttl_s: int = 24 * 3600) -> str:
    head = _b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
    body = _b64(orjson.dumps({"sub": sub, "exp": int(time.time()) + ttl_s}))
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


def config(port: int, secret: str) -> dict[str, object]:
    return {
        "http_server": {"address": "127.0.0.1", "port": port},
        "log": {"level": "warn"},
        "client": {"token": {"hmac_secret_key": secret}},
        "channel": {
            "without_namespace": {
                "allow_subscribe_for_client": True,
                "allow_publish_for_subscriber": True,
            }
        },
        "http_api": {"disabled": True},
        "health": {"enabled": True},
        "usage_stats": {"disabled": True},
    }


class CentrifugoTarget(Target):
    name = "centrifugo"
    dialect = "centrifugo"
    description = f"Centrifugo {VERSION} (Go), memory engine, JSON protocol, client publish"

    def __init__(self, cfg: BenchConfig, say: Say) -> None:
        super().__init__()
        self.cfg, self.say = cfg, say
        self.port = cfg.ports.centrifugo
        self.proc = proc("centrifugo", cfg.out_dir)
        self.secret = secrets.token_hex(32)
        self.binary: Path | None = None
        self.conf = cfg.out_dir / "centrifugo.json"

    def start(self) -> None:
        self.binary = ensure_binary(self.say)
        self.conf.parent.mkdir(parents=True, exist_ok=True)
        self.conf.write_bytes(orjson.dumps(config(self.port, self.secret)))
        self.conf.chmod(0o600)

    def prepare(self, sc: Scenario) -> list[ClientSpec]:
        assert self.binary is not None, "start() first"
        url = f"http://127.0.0.1:{self.port}/health"
        start_proc(
            self.proc,
            [str(self.binary), "--config", str(self.conf)],
            dict(os.environ),
            lambda: probes.http_ready(url),
            self.port,
        )
        specs: list[ClientSpec] = []
        for k, chunk in enumerate(sc.chunks()):
            channel = f"{sc.kind[0]}{k}"
            for i in chunk:
                token = hs256_jwt(self.secret, f"c{i}")
                specs.append(ClientSpec(i, f"c{i}", token, channel, len(chunk)))
        return specs

    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/connection/websocket"

    def server_pids(self) -> list[int]:
        pid = self.proc.pid()
        return [pid] if pid else []

    def stop(self) -> None:
        self.proc.stop()
