"""Kafka topic names of EVENTS.md, in one place."""

from __future__ import annotations

CHAT = "im.chat"
CONNECTION = "im.connection"
SESSION = "im.session"
OPS = "im.ops"
REPLY_RATE = "im.metrics.reply_rate"
SESSIONS = "im.metrics.sessions"
MODERATION = "im.moderation"
CONTROL = "im.control"
# Skeleton metric: messages per conversation per window (walking skeleton).
MESSAGE_COUNT = "im.metrics.message_count"

# Topics that carry tick events into every partition (event time keeps moving).
TICKED = (CHAT, SESSION)

ALL = (
    CHAT,
    CONNECTION,
    SESSION,
    OPS,
    REPLY_RATE,
    SESSIONS,
    MODERATION,
    CONTROL,
    MESSAGE_COUNT,
)
