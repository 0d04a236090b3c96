"""Rows the streaming jobs write (docs/events.md "Topics the streaming jobs write").

Each result is one Flink sink table and one Kafka topic; `order_by` says how
ClickHouse stores it (None: not stored, e.g. the server's commands). Field
kinds decide the Flink and ClickHouse column types (contract.fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract import topics
from contract.fields import Field, Kind, check, merged


@dataclass(frozen=True)
class Result:
    table: str  # the Flink sink table, and the ClickHouse table
    topic: str
    key: str | None  # the field written as the Kafka key; None: no key
    fields: tuple[Field, ...]
    doc: str
    order_by: tuple[str, ...] | None  # ClickHouse ORDER BY (what identifies a row)
    # The event time a row is "as of" (window end, last message): the
    # collector's freshness of the result is now minus the newest one.
    time_field: str | None = None

    def problems(self, row: dict[str, Any]) -> list[str]:
        return check(self.fields, row, self.table)


def _ms(name: str, doc: str) -> Field:
    return Field(name, Kind.MS, doc)


def _n(name: str, doc: str) -> Field:
    return Field(name, Kind.LONG, doc)


def _s(name: str, doc: str, optional: bool = False) -> Field:
    return Field(name, Kind.STRING, doc, optional)


_WINDOW = (_ms("window_start", "window start (inclusive)"), _ms("window_end", "window end"))

MESSAGE_COUNTS = Result(
    "message_counts",
    topics.MESSAGE_COUNT,
    "conv",
    (*_WINDOW, _s("conv", "conversation"), _n("messages", "distinct messages in the window")),
    "messages per conversation per tumbling window",
    ("conv", "window_start"),
    "window_end",
)
REPLY_RATES = Result(
    "reply_rates",
    topics.REPLY_RATE,
    "agent",
    (
        *_WINDOW,
        _s("agent", "agent assigned when the wait started; `unassigned`; `*` for all"),
        _n("waits", "waits that started in the window"),
        _n("replied_5m", "of those, answered within the reply bound (300 s)"),
        Field("reply_rate", Kind.DOUBLE, "replied_5m / waits"),
        Field("avg_reply_s", Kind.DOUBLE, "mean reply time of the answered waits", True),
        Field("p90_reply_s", Kind.DOUBLE, "90th percentile reply time of the answered", True),
    ),
    "5-minute reply rate per window and agent",
    ("agent", "window_start"),
    "window_end",
)
CONVERSATION_SESSIONS = Result(
    "conversation_sessions",
    topics.SESSIONS,
    "conv",
    (
        _s("conv", "the cs conversation"),
        _s("session", "its customer-service session", optional=True),
        _ms("start", "first message"),
        _ms("end", "last message"),
        _n("messages", "messages in the activity session"),
        _n("customer_messages", "of those, from the customer"),
        _n("agent_messages", "of those, from human agents"),
        _s("ended_by", "role of whoever spoke last", optional=True),
    ),
    "one ended activity session of a cs conversation (session window)",
    ("conv", "start"),
    "end",
)
MODERATION = Result(
    "moderation",
    topics.MODERATION,
    "user",
    (
        _s("user", "the sender detected"),
        Field("rule", Kind.STRING, "flood, repeat or abusive", clickhouse="LowCardinality(String)"),
        _ms("first_ts", "first message of the detection"),
        _ms("last_ts", "last message of the detection"),
        _n("count", "messages in the detection"),
        _s("conv", "conversation of the last message", optional=True),
    ),
    "one detection of a CEP rule",
    ("user", "rule", "first_ts"),
    "last_ts",
)

# Commands on im.control: two shapes, one sink table with the union of their fields.
CLOSE_INACTIVE = (
    _s("session", "the cs session to close for inactivity"),
    Field("ts", Kind.MS, "the command's event time: a later message keeps it open"),
)
USER_MUTE = (
    Field("ts", Kind.MS, "the command's event time: the detection's last message"),
    _s("user", "the user to mute"),
    Field("until", Kind.MS, "muted until"),
    _s("rule", "the rule that detected them"),
)
COMMANDS = {"cs.close_inactive": CLOSE_INACTIVE, "user.mute": USER_MUTE}


CONTROL = Result(
    "control",
    topics.CONTROL,
    None,
    (_s("type", "cs.close_inactive or user.mute"), *merged(*COMMANDS.values())),
    "commands the server obeys",
    None,
    "ts",
)

RESULTS = (MESSAGE_COUNTS, REPLY_RATES, CONVERSATION_SESSIONS, MODERATION, CONTROL)
BY_TABLE = {r.table: r for r in RESULTS}
STORED = tuple(r for r in RESULTS if r.order_by is not None)  # the ClickHouse tables


def command_problems(command: dict[str, Any]) -> list[str]:
    """Every way an im.control command differs from its shape."""
    shape = COMMANDS.get(str(command.get("type")))
    if shape is None:
        return [f"unknown command {command.get('type')!r}"]
    return check((_s("type", "command"), *shape), command, str(command["type"]))
