"""Event types the server writes (docs/events.md "Topics the server writes").

Every event is a JSON object: the envelope (`v`, `id`, `type`, `ts`, `node`)
and its type's fields. `record()` builds one in the canonical order and
refuses what the contract does not allow; `problems()` checks a decoded one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contract import topics
from contract.fields import Field, Kind, check, merged

VERSION = 1

ENVELOPE = (
    Field("v", Kind.INT, "contract version (1)"),
    Field("id", Kind.STRING, "unique per event: a consumer drops a repeated id"),
    Field("type", Kind.STRING, "the event type"),
    Field("ts", Kind.MS, "event time (ms); from Redis' clock for what Redis stores"),
    Field("node", Kind.STRING, "the server node that wrote it"),
)


@dataclass(frozen=True)
class EventType:
    name: str
    topics: tuple[str, ...]  # where it is written
    key: str | None  # the field whose value is the Kafka key; None: no key
    fields: tuple[Field, ...]
    doc: str
    id_form: str  # how `id` is made (documentation; see the id functions below)

    @property
    def all_fields(self) -> tuple[Field, ...]:
        return ENVELOPE + self.fields

    def key_of(self, event: dict[str, Any]) -> str:
        """The Kafka key of an event of this type ('-' when its key field is empty)."""
        if self.key is None:
            return "-"
        return str(event.get(self.key) or "-")


def _s(name: str, doc: str, optional: bool = False) -> Field:
    return Field(name, Kind.STRING, doc, optional)


CHAT_MESSAGE = EventType(
    "chat.message",
    (topics.CHAT,),
    "conv",
    (
        _s("conv", "conversation id"),
        _s("conv_kind", "direct, group or cs"),
        Field("seq", Kind.LONG, "position in the conversation, from 1, no gaps"),
        _s("sender", "user id of the sender (`system` for notices)"),
        _s("sender_role", "the sender's role when it was sent: user, agent, bot, admin, ..."),
        _s("kind", "chat, event or system"),
        _s("cmid", "the client's message id (retries are de-duplicated by it)"),
        Field("text_len", Kind.INT, "length of the stored text in characters"),
        _s("content_hash", "content_hash() of the text: repeats without the text"),
        Field("flags", Kind.STRINGS, "what the content filter found: sensitive, abusive, masked"),
        _s("session", "cs conversations: the customer-service session", optional=True),
        _s("agent", "cs conversations: the agent assigned at that moment", optional=True),
    ),
    "a stored message (chat, a session notice, a system message)",
    "m:<conv>:<seq>",
)

_CONN = (_s("user", "user id"), _s("device", "the device id the client gave"))
CONN_OPEN = EventType(
    "conn.open", (topics.CONNECTION,), "user", _CONN, "a device signed in", "n:<random>"
)
CONN_CLOSE = EventType(
    "conn.close",
    (topics.CONNECTION,),
    "user",
    (
        *_CONN,
        _s("reason", "client, heartbeat_timeout, replaced, shutdown or error"),
        Field("duration_ms", Kind.LONG, "time since sign-in"),
    ),
    "a signed-in device left",
    "n:<random>",
)
CONN_AUTH_FAILED = EventType(
    "conn.auth_failed",
    (topics.CONNECTION,),
    "device",
    (
        Field("user", Kind.NULL, "always null: a bad token names nobody"),
        _s("device", "the device id the client gave"),
        _s("reason", "invalid_token"),
    ),
    "an `auth` frame with a bad token (keyed by device, '-' if none)",
    "n:<random>",
)

_SESSION = (
    _s("session", "customer-service session id"),
    _s("conv", "its conversation"),
    _s("customer", "the customer's user id"),
)
CS_CREATED = EventType(
    "cs.created", (topics.SESSION,), "session", _SESSION, "a customer opened a session (queued)",
    "s:<session>:<type>:<n>",
)  # fmt: skip
CS_ACCEPTED = EventType(
    "cs.accepted", (topics.SESSION,), "session", (*_SESSION, _s("agent", "the accepting agent")),
    "an agent took the session", "s:<session>:<type>:<n>",
)  # fmt: skip
CS_TRANSFERRED = EventType(
    "cs.transferred",
    (topics.SESSION,),
    "session",
    (
        *_SESSION,
        _s("agent", "the new agent"),
        _s("from_agent", "the agent before"),
        _s("to_agent", "the new agent"),
    ),
    "the session moved to another agent",
    "s:<session>:<type>:<n>",
)
CS_CLOSED = EventType(
    "cs.closed",
    (topics.SESSION,),
    "session",
    (
        *_SESSION,
        _s("agent", "the agent, if one had accepted", optional=True),
        _s("reason", "customer, agent or inactivity (or who closed it)"),
    ),
    "the session ended",
    "s:<session>:<type>:<n>",
)
CS_REQUEUED = EventType(
    "cs.requeued",
    (topics.SESSION,),
    "session",
    (
        *_SESSION,
        _s("from_agent", "the agent it was taken from"),
        _s("reason", "role_changed or disabled: why that agent lost it"),
    ),
    "an active session went back to the queue: its agent was demoted or disabled",
    "s:<session>:<type>:<n>",
)
TICK = EventType(
    "tick",
    topics.TICKED,
    None,
    (),
    "written into every partition of im.chat and im.session every few seconds so event time "
    "moves on quiet partitions; every consumer but the event-time machinery skips it",
    "t:<random>",
)

OPS_SAMPLE = EventType(
    "ops.sample",
    (topics.OPS,),
    "source",
    (
        _s("source", "what was sampled: redis, kafka, gateway, pipeline, host"),
        _s("metric", "the metric's name, with its unit as a suffix (_bytes, _seconds, _total)"),
        Field("value", Kind.DOUBLE, "its value at `ts`"),
        Field("labels", Kind.LABELS, "what the value is of: node, topic, group, key family..."),
    ),
    "one sample of one metric (written by the collector, python -m monitor)",
    "o:<random>",
)

SERVER_EVENTS = (
    CHAT_MESSAGE,
    CONN_OPEN,
    CONN_CLOSE,
    CONN_AUTH_FAILED,
    CS_CREATED,
    CS_ACCEPTED,
    CS_TRANSFERRED,
    CS_CLOSED,
    CS_REQUEUED,
    TICK,
)
# Written by the collector (python -m monitor), not the chat server.
COLLECTOR_EVENTS = (OPS_SAMPLE,)
BY_TYPE = {e.name: e for e in (*SERVER_EVENTS, *COLLECTOR_EVENTS)}


def topic_fields(topic: str) -> tuple[Field, ...]:
    """The envelope and the fields of every event type written to `topic`, as one
    row (fields.merged): what a table of that topic's raw events holds."""
    types = [e for e in BY_TYPE.values() if topic in e.topics and e is not TICK]
    assert types, f"no event type is written to {topic}"
    return merged(*(ENVELOPE + e.fields for e in types))


# Event ids start with the kind of event they name (docs/events.md "IDs").
MESSAGE_ID = "m:"  # m:<conv>:<seq>
SESSION_EVENT_ID = "s:"  # s:<session>:<type>:<n>, made in the cs Lua steps
CONNECTION_EVENT_ID = "n:"  # n:<random>
TICK_ID = "t:"  # t:<random>
OPS_SAMPLE_ID = "o:"  # o:<random>


def message_id(conv: str, seq: int | str) -> str:
    """A message's event id: stable, so a re-sent event is dropped downstream."""
    return f"{MESSAGE_ID}{conv}:{seq}"


def record(
    etype: EventType, *, id: str, ts: int, node: str, checked: bool = True, **fields: Any
) -> dict[str, Any]:
    """An event of `etype`, envelope first; ValueError if it breaks the contract.

    `checked=False` skips the check, for generators whose output a test checks."""
    event = {"v": VERSION, "id": id, "type": etype.name, "ts": ts, "node": node, **fields}
    if checked and (found := problems(event)):
        raise ValueError("; ".join(found))
    return event


def problems(event: dict[str, Any]) -> list[str]:
    """Every way a decoded event differs from the contract (empty: it fits)."""
    etype = BY_TYPE.get(str(event.get("type")))
    if etype is None:
        return [f"unknown event type {event.get('type')!r}"]
    found = check(etype.all_fields, event, etype.name)
    if event.get("v") != VERSION:
        found.append(f"{etype.name}: v is {event.get('v')!r}, not {VERSION}")
    return found
