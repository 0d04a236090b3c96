"""Plain-Python answers of sessions, close_inactive, moderation and mute.

The same definitions as the query files, written the obvious way (sort, scan),
so a differential test can compare Flink's rows with these on any traffic:

- an event is a dict as in EVENTS.md; duplicates (same `id`) count once;
- sessions: per cs conversation, messages sorted by time; a message more than
  `gap` ms after the previous one starts a new session (exactly `gap` ms keeps
  the session, like Flink's session windows); "last" = the greatest (ts, seq);
- moderation: per sender (and content hash for repeat), messages sorted by
  (ts, id); a detection is N consecutive messages whose last - first <= T ms,
  found at the earliest such N-th message; the next detection starts after it.

Inputs are assumed in event-time order up to less than the watermark lateness
(Flink drops rows later than that, this reference does not model it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

Event = dict[str, Any]
Row = tuple[Any, ...]


def ordered(rows: Iterable[Row]) -> list[Row]:
    """Rows sorted, None before any value (rows from Flink or from here alike)."""
    return sorted(rows, key=lambda r: tuple((0, 0) if v is None else (1, v) for v in r))


def unique(events: Iterable[Event]) -> list[Event]:
    """Each event id once (the first one seen)."""
    seen: set[str] = set()
    out = []
    for e in events:
        if e["id"] not in seen:
            seen.add(e["id"])
            out.append(e)
    return out


# -- conversation sessions --------------------------------------------------------


def _last(rows: list[Event], field: str) -> Any:
    """`field` of the last row (greatest ts, seq) having it, else None."""
    having = [(r["ts"], r.get("seq") or 0, r[field]) for r in rows if r.get(field) is not None]
    return max(having)[2] if having else None


def _split(rows: list[Event], gap_ms: int) -> list[list[Event]]:
    """Rows of one conversation cut where two consecutive ones are > gap_ms apart."""
    rows = sorted(rows, key=lambda r: r["ts"])
    out: list[list[Event]] = []
    for r in rows:
        if out and r["ts"] - out[-1][-1]["ts"] <= gap_ms:
            out[-1].append(r)
        else:
            out.append([r])
    return out


def _session_rows(events: Iterable[Event], gap_s: int) -> list[tuple[Row, int]]:
    gap_ms = gap_s * 1000
    per_conv: dict[str, list[Event]] = defaultdict(list)
    for e in unique(events):
        if e.get("type") == "chat.message" and e.get("conv_kind") == "cs":
            per_conv[e["conv"]].append(e)
    out = []
    for conv, rows in per_conv.items():
        for s in _split(rows, gap_ms):
            end = max(r["ts"] for r in s)

            def n(role: str, s: list[Event] = s) -> int:
                return sum(1 for r in s if r.get("sender_role") == role and r.get("kind") == "chat")

            row = (
                conv,
                _last(s, "session"),
                min(r["ts"] for r in s),
                end,
                len(s),
                n("user"),
                n("agent"),
                _last(s, "sender_role"),
            )
            out.append((row, end + gap_ms))
    return out


def sessions(events: Iterable[Event], gap_s: int) -> list[Row]:
    """(conv, session, start, end, messages, customer_messages, agent_messages, ended_by)."""
    return ordered(row for row, _ in _session_rows(events, gap_s))


def close_inactive(events: Iterable[Event], gap_s: int) -> list[Row]:
    """(type, session, ts, user, until, rule) per ended session that has a cs session id."""
    return ordered(
        ("cs.close_inactive", row[1], closed_at, None, None, None)
        for row, closed_at in _session_rows(events, gap_s)
        if row[1] is not None
    )


# -- moderation -------------------------------------------------------------------


def _detect(rows: list[Event], count: int, within_ms: int) -> list[tuple[Event, Event]]:
    """(first, last) of each run of `count` consecutive rows with last - first <=
    within_ms, scanning in (ts, id) order, the next run starting after the last."""
    rows = sorted(rows, key=lambda r: (r["ts"], r["id"]))
    out = []
    start = 0
    for j in range(len(rows)):
        i = j - count + 1
        if i >= start and rows[j]["ts"] - rows[i]["ts"] <= within_ms:
            out.append((rows[i], rows[j]))
            start = j + 1
    return out


def _rule(
    messages: list[Event],
    rule: str,
    key: Callable[[Event], Any],
    count: int,
    within_s: int,
) -> list[Row]:
    groups: dict[Any, list[Event]] = defaultdict(list)
    for m in messages:
        groups[key(m)].append(m)
    return [
        (first["sender"], rule, first["ts"], last["ts"], count, last.get("conv"))
        for rows in groups.values()
        for first, last in _detect(rows, count, within_s * 1000)
    ]


def moderation(
    events: Iterable[Event],
    flood_count: int = 10,
    flood_within_s: int = 10,
    repeat_count: int = 3,
    repeat_within_s: int = 60,
    abusive_count: int = 3,
    abusive_within_s: int = 300,
) -> list[Row]:
    """(user, rule, first_ts, last_ts, count, conv), one per detection."""
    msgs = [
        e
        for e in unique(events)
        if e.get("type") == "chat.message"
        and e.get("kind") == "chat"
        and e.get("sender")
        and e.get("sender_role") == "user"  # staff repeat canned replies by design
    ]
    hashed = [m for m in msgs if m.get("content_hash") is not None]
    abusive = [m for m in msgs if "abusive" in (m.get("flags") or [])]
    return ordered(
        _rule(msgs, "flood", lambda m: m["sender"], flood_count, flood_within_s)
        + _rule(
            hashed,
            "repeat",
            lambda m: (m["sender"], m["content_hash"]),
            repeat_count,
            repeat_within_s,
        )
        + _rule(abusive, "abusive", lambda m: m["sender"], abusive_count, abusive_within_s)
    )


def mute(events: Iterable[Event], mute_s: int = 600, **thresholds: int) -> list[Row]:
    """(type, session, ts, user, until, rule) per moderation detection."""
    return ordered(
        ("user.mute", None, last_ts, user, last_ts + mute_s * 1000, rule)
        for user, rule, _, last_ts, _, _ in moderation(events, **thresholds)
    )
