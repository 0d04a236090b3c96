"""Plain-Python reference implementations of the EVENTS.md metrics.

One function per metric (its building blocks next to it), each taking the
raw events (dicts shaped like the `chat_events` rows, in any order,
duplicates included) and returning the rows the streaming query should
produce, sorted. They are written to be obviously correct, not fast: the
differential tests run a Flink query and the matching function here on the
same traffic and compare every row. Lateness is not modelled: every event
counts (traffic/scenario.py delivers only duplicates late).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

Event = dict[str, Any]


def _unique(events: Iterable[Event]) -> list[Event]:
    """The events with duplicates (same id, as an at-least-once relay delivers) dropped."""
    seen: set[str] = set()
    out = []
    for e in events:
        if e.get("id") in seen:
            continue
        seen.add(e.get("id"))
        out.append(e)
    return out


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default), None if
    empty. Flink's PERCENTILE is the same function, rounded differently."""
    if not values:
        return None
    xs = sorted(values)
    pos = p * (len(xs) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


# -- 5-minute reply rate ----------------------------------------------------------


def waits(events: Iterable[Event]) -> list[tuple[str, int, str, int | None]]:
    """Every wait as (conv, start ms, agent, reply ms or None if never answered).

    A wait (EVENTS.md): in a cs conversation, a customer chat message that
    arrives while the customer is not already waiting starts a wait at its
    time; the next chat message of a human agent ends it. The wait belongs
    to the agent the starting message names (`unassigned` if none). Event
    times are in ms: messages of one conversation in the same ms are taken
    together, agent messages first (an agent message only ends a wait that
    started before its ms), and a wait started in that ms belongs to the
    smallest agent its customer messages name.
    """
    steps: dict[str, dict[int, list[Event]]] = defaultdict(lambda: defaultdict(list))
    for e in _unique(events):
        if (
            e.get("type") == "chat.message"
            and e.get("conv_kind") == "cs"
            and e.get("kind") == "chat"
            and e.get("sender_role") in ("user", "agent")
        ):
            steps[e["conv"]][e["ts"]].append(e)

    out: list[tuple[str, int, str, int | None]] = []
    for conv, by_ms in sorted(steps.items()):
        open_wait: tuple[int, str] | None = None  # (start ms, agent) while waiting
        for ms in sorted(by_ms):
            roles = {e["sender_role"] for e in by_ms[ms]}
            if "agent" in roles and open_wait is not None:
                start, agent = open_wait
                out.append((conv, start, agent, ms - start))
                open_wait = None
            if "user" in roles and open_wait is None:
                named = [e.get("agent") for e in by_ms[ms] if e["sender_role"] == "user"]
                assigned = [a for a in named if a is not None]
                open_wait = (ms, min(assigned) if assigned else "unassigned")
        if open_wait is not None:
            out.append((conv, *open_wait, None))
    return out


def reply_rates(
    events: Iterable[Event], window_s: int = 300, within_s: int = 300
) -> list[tuple[Any, ...]]:
    """Rows (window_start, window_end, agent, waits, replied_5m, reply_rate,
    avg_reply_s, p90_reply_s) of streaming/sql/reply_rate.sql, sorted: the
    waits (see `waits`) by the tumbling window of their start, per agent and
    for '*'; replied = answered within `within_s` (inclusive), and the reply
    times of those make the average and the p90."""
    window_ms, within_ms = window_s * 1000, within_s * 1000
    groups: dict[tuple[int, str], list[int | None]] = defaultdict(list)
    for _conv, start, agent, reply in waits(events):
        window = start - start % window_ms
        for key in (agent, "*"):
            groups[(window, key)].append(reply)

    rows = []
    for (window, agent), replies in groups.items():
        answered = [r / 1000 for r in replies if r is not None and r <= within_ms]
        rows.append(
            (
                window,
                window + window_ms,
                agent,
                len(replies),
                len(answered),
                len(answered) / len(replies),
                sum(answered) / len(answered) if answered else None,
                percentile(answered, 0.9),
            )
        )
    return sorted(rows)
