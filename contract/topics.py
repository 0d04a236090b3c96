"""Kafka topic names (docs/events.md), in one place."""

from __future__ import annotations

# What the server writes.
CHAT = "im.chat"
CONNECTION = "im.connection"
SESSION = "im.session"
OPS = "im.ops"
# What the streaming jobs write.
REPLY_RATE = "im.metrics.reply_rate"
SESSIONS = "im.metrics.sessions"
MODERATION = "im.moderation"
CONTROL = "im.control"
MESSAGE_COUNT = "im.metrics.message_count"  # messages per conversation per window

# Topics that carry tick events into every partition (event time keeps moving).
TICKED = (CHAT, SESSION)

# Every topic, in the order the stacks create them.
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
