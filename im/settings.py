"""Settings of the IM server process (see envconfig for how they are read)."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from im.envconfig import setting


@dataclass(frozen=True)
class ServerSettings:
    node_id: str = setting("IM_NODE_ID", socket.gethostname(), "name of this server node")
    http_host: str = setting("IM_HTTP_HOST", "127.0.0.1", "address to listen on")
    http_port: int = setting("IM_HTTP_PORT", 8080, "HTTP/WebSocket port")
    redis_url: str = setting("IM_REDIS_URL", "redis://127.0.0.1:16379/0", "Redis URL")
    kafka_bootstrap: str = setting("IM_KAFKA_BOOTSTRAP", "127.0.0.1:19092", "Kafka brokers")
    tls_cert: str | None = setting("IM_TLS_CERT", None, "PEM certificate: serve HTTPS/WSS")
    tls_key: str | None = setting("IM_TLS_KEY", None, "PEM private key for IM_TLS_CERT")
    max_frame_bytes: int = setting("IM_MAX_FRAME_BYTES", 65536, "largest WebSocket frame")
    auth_timeout_s: float = setting("IM_AUTH_TIMEOUT_S", 10.0, "deadline for the auth frame")
    heartbeat_s: float = setting("IM_HEARTBEAT_S", 30.0, "idle close after 2x this")
    token_ttl_s: int = setting("IM_TOKEN_TTL_S", 7 * 24 * 3600, "login token lifetime")
    # Why 2 s: a window closes when the watermark (max event time - lateness)
    # passes its end; with ticks every 2 s a quiet partition holds results
    # back at most ~2 s more than the lateness bound, at 2 x partitions tiny
    # records per tick, which costs nothing next to chat traffic.
    tick_interval_s: float = setting("IM_TICK_INTERVAL_S", 2.0, "tick events period")
    relay_batch: int = setting("IM_RELAY_BATCH", 500, "outbox entries per Kafka batch")
