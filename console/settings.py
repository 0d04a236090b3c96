"""Settings of the web console, python -m console (see im/envconfig for how they are read)."""

from __future__ import annotations

from dataclasses import dataclass

from im.envconfig import ConfigError, setting


@dataclass(frozen=True)
class ConsoleSettings:
    http_host: str = setting("IM_CONSOLE_HOST", "127.0.0.1", "the console's address")
    http_port: int = setting("IM_CONSOLE_PORT", 8097, "the console's port")
    redis_url: str = setting(
        "IM_REDIS_URL", "redis://127.0.0.1:16379/0", "the IM server's Redis (tokens, live cs)"
    )
    server_url: str = setting(
        "IM_CONSOLE_SERVER_URL", "http://127.0.0.1:8080", "the IM server node it forwards to"
    )
    analytics_url: str = setting(
        "IM_CONSOLE_ANALYTICS_URL", "http://127.0.0.1:8090", "analytics (panel queries)"
    )
    base_path: str = setting(
        "IM_CONSOLE_BASE_PATH", "", "path the console is served under (behind a proxy: /console)"
    )
    secure_cookie: bool = setting(
        "IM_CONSOLE_SECURE_COOKIE", False, "mark the session cookie Secure (served over HTTPS)"
    )
    upstream_timeout_s: float = setting(
        "IM_CONSOLE_UPSTREAM_TIMEOUT_S", 15.0, "longest wait for the node or analytics"
    )

    def __post_init__(self) -> None:
        b = self.base_path
        if b and (not b.startswith("/") or b.endswith("/") or "//" in b):
            raise ConfigError("IM_CONSOLE_BASE_PATH: empty or /like/this (no trailing slash)")
