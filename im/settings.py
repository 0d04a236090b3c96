"""Settings of the IM server process (see envconfig for how they are read)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from im.envconfig import ConfigError, setting
from im.proxies import TrustedProxies


@dataclass(frozen=True)
class ServerSettings:
    node_id: str = setting("IM_NODE_ID", socket.gethostname(), "name of this server node")
    http_host: str = setting("IM_HTTP_HOST", "127.0.0.1", "address to listen on")
    http_port: int = setting("IM_HTTP_PORT", 8080, "HTTP/WebSocket port")
    redis_url: str = setting("IM_REDIS_URL", "redis://127.0.0.1:16379/0", "Redis URL")
    redis_max_connections: int = setting(
        "IM_REDIS_MAX_CONNECTIONS", 100, "Redis connections per node (then commands wait)"
    )
    kafka_bootstrap: str = setting("IM_KAFKA_BOOTSTRAP", "127.0.0.1:19092", "Kafka brokers")
    tls_cert: str | None = setting("IM_TLS_CERT", None, "PEM certificate: serve HTTPS/WSS")
    tls_key: str | None = setting("IM_TLS_KEY", None, "PEM private key for IM_TLS_CERT")
    max_frame_bytes: int = setting("IM_MAX_FRAME_BYTES", 65536, "largest WebSocket frame")
    auth_timeout_s: float = setting("IM_AUTH_TIMEOUT_S", 10.0, "deadline for the auth frame")
    heartbeat_s: float = setting("IM_HEARTBEAT_S", 30.0, "idle close after 2x this")
    argon2_time_cost: int = setting("IM_ARGON2_TIME_COST", 3, "argon2id passes per hash")
    argon2_memory_kib: int = setting("IM_ARGON2_MEMORY_KIB", 65536, "argon2id memory per hash")
    token_ttl_s: int = setting("IM_TOKEN_TTL_S", 7 * 24 * 3600, "login token lifetime")
    # Why 2 s: a window closes when the watermark (max event time - lateness)
    # passes its end; with ticks every 2 s a quiet partition holds results
    # back at most ~2 s more than the lateness bound, at 2 x partitions tiny
    # records per tick, which costs nothing next to chat traffic.
    tick_interval_s: float = setting("IM_TICK_INTERVAL_S", 2.0, "tick events period")
    ack_timeout_s: float = setting("IM_ACK_TIMEOUT_S", 5.0, "resend an unacked push after")
    ack_retries: int = setting("IM_ACK_RETRIES", 3, "resends before a device must sync")
    rate_per_s: float = setting("IM_RATE_PER_S", 2.0, "messages/s a user may keep sending")
    rate_burst: int = setting("IM_RATE_BURST", 20, "messages a user may send at once")
    admin_username: str | None = setting("IM_ADMIN_USERNAME", None, "first admin (created once)")
    admin_password: str | None = setting(
        "IM_ADMIN_PASSWORD", None, "first admin's password", secret=True
    )
    content_mode: str = setting("IM_CONTENT_MODE", "mask", "sensitive words: mask or block")
    login_max_per_user: int = setting(
        "IM_LOGIN_MAX_PER_USER", 10, "failed logins per username per 5 min (unknown addresses)"
    )
    login_max_per_address: int = setting(
        "IM_LOGIN_MAX_PER_ADDRESS", 200, "failed logins per client address per 5 min"
    )
    # A team behind one NAT registering together passes; a script does not.
    register_max_per_address: int = setting(
        "IM_REGISTER_MAX_PER_ADDRESS", 30, "registrations per client address per 10 min"
    )
    register_max_per_minute: int = setting(
        "IM_REGISTER_MAX_PER_MINUTE", 60, "registrations per minute, whole cluster"
    )
    cs_opens_per_hour: int = setting(
        "IM_CS_OPENS_PER_HOUR", 10, "support sessions a customer may open per hour"
    )
    sensitive_words: str | None = setting("IM_SENSITIVE_WORDS", None, "word list file")
    abusive_words: str | None = setting("IM_ABUSIVE_WORDS", None, "word list file")
    cs_assign: str = setting("IM_CS_ASSIGN", "manual", "manual, round_robin or least_busy")
    cs_capacity: int = setting("IM_CS_AGENT_CAPACITY", 5, "open sessions per agent (auto)")
    relay_hold_ms: int = setting("IM_RELAY_HOLD_MS", 0, "publish outbox entries this old (tests)")
    relay_batch: int = setting("IM_RELAY_BATCH", 500, "outbox entries per Kafka batch")
    max_connections_per_user: int = setting(
        "IM_MAX_CONNECTIONS_PER_USER", 10, "signed-in WebSockets per user on each node"
    )
    auth_failed_events_per_min: int = setting(
        "IM_AUTH_FAILED_EVENTS_PER_MIN", 10, "conn.auth_failed events per client address a minute"
    )
    sync_read_per_s: float = setting("IM_SYNC_READ_PER_S", 10.0, "sync+read frames/s per socket")
    sync_read_burst: int = setting("IM_SYNC_READ_BURST", 100, "sync+read frames at once")
    # The edge (im/edge.py): what a connection may hold before the app sees it.
    trusted_proxies: tuple[str, ...] = setting(
        "IM_TRUSTED_PROXIES", (), "addresses/CIDRs whose X-Forwarded-For is believed"
    )
    header_timeout_s: float = setting(
        "IM_HEADER_TIMEOUT_S", 10.0, "a request's head and body must arrive within this"
    )
    max_connections: int = setting("IM_MAX_CONNECTIONS", 10000, "open connections per node")
    max_connections_per_address: int = setting(
        "IM_MAX_CONNECTIONS_PER_ADDRESS", 1000, "open connections per client address"
    )
    max_unauthenticated: int = setting(
        "IM_MAX_UNAUTHENTICATED", 1000, "WebSockets not signed in yet, per node"
    )
    ops_host: str = setting("IM_OPS_HOST", "127.0.0.1", "address of the ops port")
    ops_port: int = setting("IM_OPS_PORT", 9080, "/metrics and /readyz port (0: off)")
    # Hot keys (im/hotkeys.py): at 1 % a command costs one random() more and
    # every hundredth a key count (bench/hotkeys.py: packing ×1.02-1.04), and
    # a key read 100 times a second is still counted ~10 times in a 10 s
    # window. 0: off.
    hotkey_sample_rate: float = setting(
        "IM_HOTKEY_SAMPLE_RATE", 0.01, "share of Redis commands whose keys are counted"
    )
    hotkey_window_s: int = setting("IM_HOTKEY_WINDOW_S", 10, "hot-key window (s, Redis clock)")
    hotkey_max_keys: int = setting(
        "IM_HOTKEY_MAX_KEYS", 10000, "distinct keys counted per window (further ones dropped)"
    )

    def __post_init__(self) -> None:
        if self.content_mode not in ("mask", "block"):
            raise ConfigError(f"IM_CONTENT_MODE={self.content_mode!r} must be mask or block")
        if self.cs_assign not in ("manual", "round_robin", "least_busy"):
            raise ConfigError(f"IM_CS_ASSIGN={self.cs_assign!r}: manual, round_robin, least_busy")
        if self.argon2_time_cost < 1 or self.argon2_memory_kib < 1024:
            raise ConfigError("IM_ARGON2_TIME_COST >= 1 and IM_ARGON2_MEMORY_KIB >= 1024")
        limits = (self.login_max_per_user, self.login_max_per_address,
                  self.register_max_per_address, self.register_max_per_minute,
                  self.cs_opens_per_hour)  # fmt: skip
        if min(limits) < 1:
            raise ConfigError("login, registration and support-session limits must be >= 1")
        if self.max_connections_per_user < 1:
            raise ConfigError("IM_MAX_CONNECTIONS_PER_USER must be at least 1")
        if self.auth_failed_events_per_min < 0:
            raise ConfigError("IM_AUTH_FAILED_EVENTS_PER_MIN must not be negative")
        if self.sync_read_per_s <= 0 or self.sync_read_burst < 1:
            raise ConfigError("IM_SYNC_READ_PER_S > 0 and IM_SYNC_READ_BURST >= 1")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("IM_TLS_CERT and IM_TLS_KEY go together")
        if self.ops_port and self.ops_port == self.http_port:
            raise ConfigError("IM_OPS_PORT must differ from IM_HTTP_PORT (or be 0: off)")
        if min(self.max_connections, self.max_connections_per_address,
               self.max_unauthenticated) < 1 or self.header_timeout_s <= 0:  # fmt: skip
            raise ConfigError("connection limits must be >= 1 and IM_HEADER_TIMEOUT_S > 0")
        if not 0 <= self.hotkey_sample_rate <= 1 or self.hotkey_window_s < 1:
            raise ConfigError("0 <= IM_HOTKEY_SAMPLE_RATE <= 1 and IM_HOTKEY_WINDOW_S >= 1")
        if self.hotkey_max_keys < 1:
            raise ConfigError("IM_HOTKEY_MAX_KEYS must be at least 1")
        try:
            TrustedProxies(self.trusted_proxies)
        except ValueError as e:
            raise ConfigError(f"IM_TRUSTED_PROXIES: {e}") from None
