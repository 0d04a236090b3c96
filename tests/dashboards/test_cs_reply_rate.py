"""The reply-rate dashboard on generated cs traffic equals the reference computation
(tests/streaming/reference.py: docs/events.md's waits and reply rates) on the same events.

The raw events go into `chat_events` as the sink stores them (duplicates
included), the reference's reply-rate rows into `reply_rates` (the streaming
job's rows equal them: tests/streaming/test_reply_rate.py), and every panel
is run for a range inside the traffic: waits before it exist (the lookback
matters) and after it (the reply bound after the range's end matters).
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import pytest

from analytics.clickhouse import ClickHouse
from dashboards.templating import ALL
from tests.alerts.harness import put
from tests.dashboards.panels import ms, ms_time, query, run
from tests.streaming import reference
from traffic.scenario import generate

UID = "im-cs-reply-rate"
START = 1_795_000_200_000  # a window boundary
FROM, TO = START + 20 * 60_000, START + 100 * 60_000  # whole seconds
BOUND = 300_000
W = 300_000


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    evs = generate(seed=13, start_ms=START, duration_s=2 * 3600, cs_sessions=400, agents=6)
    return [e for e in evs if e["type"] == "chat.message"]


@pytest.fixture
async def filled(db: ClickHouse, events: list[dict[str, Any]]) -> ClickHouse:
    await put(db, "chat_events", events)
    rows = reference.reply_rates(events)
    cols = ("window_start", "window_end", "agent", "waits", "replied_5m", "reply_rate",
            "avg_reply_s", "p90_reply_s")  # fmt: skip
    await put(db, "reply_rates", [dict(zip(cols, r, strict=True)) for r in rows])
    await put(db, "reply_rates", [dict(zip(cols, rows[0], strict=True))])  # written twice
    return db


def in_range(events: list[dict[str, Any]], agents: set[str] | None = None) -> list[Any]:
    """The reference's waits that started in the range: (conv, start, agent, reply|None)."""
    return [w for w in reference.waits(events)
            if FROM <= w[1] <= TO and (agents is None or w[2] in agents)]  # fmt: skip


def answered(waits: list[Any]) -> list[float]:
    return [w[3] / 1000 for w in waits if w[3] is not None and w[3] <= BOUND]


def star_rows(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [r for r in reference.reply_rates(events) if r[2] == "*" and FROM <= r[0] <= TO]


def approx(x: float | None) -> Any:
    return None if x is None else pytest.approx(x, rel=1e-9)


async def test_the_traffic_has_the_cases_that_matter(events: list[dict[str, Any]]) -> None:
    waits = reference.waits(events)
    replies = [w[3] for w in in_range(events)]
    assert len(in_range(events)) > 150
    assert any(w[1] < FROM for w in waits) and any(w[1] > TO for w in waits)
    assert BOUND in replies and BOUND + 1 in replies and None in replies
    assert len({e["id"] for e in events}) < len(events)  # duplicates


async def test_reply_rate_now_and_over_the_range(
    filled: ClickHouse, events: list[dict[str, Any]]
) -> None:
    rows = [r for r in reference.reply_rates(events) if r[2] == "*"]
    newest = max((r for r in rows if r[1] <= TO), key=lambda r: r[0])
    _, got = await run(filled, query(UID, 1), FROM, TO)
    assert got == [{"reply_rate": approx(newest[4] / newest[3])}]
    over = [r for r in rows if FROM <= r[0] <= TO]
    _, got = await run(filled, query(UID, 2), FROM, TO)
    assert got == [{"reply_rate": approx(sum(r[4] for r in over) / sum(r[3] for r in over))}]
    # the waits of those windows are the range's, and the next window's (it starts at TO)
    waits = [w for w in reference.waits(events) if FROM <= w[1] < TO + W]
    assert sum(r[3] for r in over) == len(waits)
    _, target = await run(filled, query(UID, 1, "B"), FROM, TO, target="0.85")
    assert target == [{"target": 0.85}]


async def test_reply_rate_and_unanswered_per_window(
    filled: ClickHouse, events: list[dict[str, Any]]
) -> None:
    _, got = await run(filled, query(UID, 3), FROM, TO)
    assert [(ms(r["time"]), r["reply_rate"], r["target"]) for r in got] == [
        (r[0], approx(r[5]), 0.8) for r in star_rows(events)
    ]
    _, got = await run(filled, query(UID, 5), FROM, TO)
    assert [(ms(r["time"]), r["unanswered"]) for r in got] == [
        (r[0], r[3] - r[4]) for r in star_rows(events)
    ]


async def test_reply_times_per_window(filled: ClickHouse, events: list[dict[str, Any]]) -> None:
    _, got = await run(filled, query(UID, 4), FROM, TO)
    assert [(ms(r["time"]), r["agent"], r["avg_reply_s"], r["p90_reply_s"]) for r in got] == [
        (r[0], "*", approx(r[6]), approx(r[7])) for r in star_rows(events) if r[4] > 0
    ]
    # the windows of one agent are the reply times of its waits alone
    mine = [w for w in reference.waits(events) if w[2] == "agent03"]
    _, got = await run(filled, query(UID, 4), FROM, TO, agent=["agent03"])
    assert got and {r["agent"] for r in got} == {"agent03"}
    for r in got:
        start = ms(r["time"])
        ok = answered([w for w in mine if start <= w[1] < start + W])
        assert (r["avg_reply_s"], r["p90_reply_s"]) == (
            approx(sum(ok) / len(ok)),
            approx(reference.percentile(ok, 0.9)),
        )


def agent_rows(events: list[dict[str, Any]], agents: set[str] | None = None) -> list[Any]:
    return [r for r in reference.reply_rates(events) if r[2] != "*"
            and (agents is None or r[2] in agents) and FROM <= r[0] <= TO]  # fmt: skip


def agents_table(rows: list[Any]) -> list[dict[str, Any]]:
    by_agent: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_agent[r[2]].append(r)
    out = []
    for agent, rs in by_agent.items():
        waits, ok = sum(r[3] for r in rs), sum(r[4] for r in rs)
        mean = sum(r[6] * r[4] for r in rs if r[4]) / ok if ok else None
        out.append({"agent": agent, "waits": waits, "answered_5m": ok,
                    "reply_rate": approx(ok / waits), "avg_reply_s": approx(mean),
                    "worst_p90_s": approx(max((r[7] for r in rs if r[7] is not None),
                                              default=None))})  # fmt: skip
    return sorted(out, key=lambda r: (r["answered_5m"] / r["waits"], -r["waits"], r["agent"]))


async def test_agents_table(filled: ClickHouse, events: list[dict[str, Any]]) -> None:
    _, got = await run(filled, query(UID, 6), FROM, TO)
    assert got == agents_table(agent_rows(events))
    assert {"unassigned", "agent01"} <= {r["agent"] for r in got}
    # the waits of those windows: the range's, and those of the window starting at TO
    waits = [w for w in reference.waits(events) if FROM <= w[1] < TO + W]
    assert sum(r["waits"] for r in got) == len(waits)
    # the mean of the answered waits, from the windows' means
    ok = answered(waits)
    assert sum(r["avg_reply_s"] * r["answered_5m"] for r in got if r["answered_5m"]) == (
        pytest.approx(sum(ok))
    )


async def test_a_selection_of_agents(filled: ClickHouse, events: list[dict[str, Any]]) -> None:
    chosen = {"agent02", "unassigned"}
    _, got = await run(filled, query(UID, 6), FROM, TO, agent=sorted(chosen))
    assert got == agents_table(agent_rows(events, chosen))
    per_window: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for r in agent_rows(events, chosen):
        per_window[r[0]][0] += r[3]
        per_window[r[0]][1] += r[4]
    _, got = await run(filled, query(UID, 3), FROM, TO, agent=sorted(chosen))
    assert [(ms(r["time"]), r["reply_rate"]) for r in got] == [
        (w, approx(n[1] / n[0])) for w, n in sorted(per_window.items())
    ]
    _, got = await run(filled, query(UID, 0, "agent"), FROM, TO)
    assert [r["agent"] for r in got] == sorted({r[2] for r in agent_rows(events)})


async def test_first_response_time_buckets(
    filled: ClickHouse, events: list[dict[str, Any]]
) -> None:
    session = {e["conv"]: e["session"] for e in events if e["conv_kind"] == "cs"}
    first: dict[str, Any] = {}
    for w in sorted(in_range(events), key=lambda w: w[1]):
        first.setdefault(session[w[0]], w[3])
    edges = [("0-30 s", -1, 30_000), ("30-60 s", 30_000, 60_000), ("1-2 min", 60_000, 120_000),
             ("2-5 min", 120_000, BOUND)]  # fmt: skip
    want = [{"first_response": n, "sessions": sum(1 for r in first.values()
                                                  if r is not None and lo < r <= hi)}
            for n, lo, hi in edges]  # fmt: skip
    none = sum(1 for r in first.values() if r is None or r > BOUND)
    want.append({"first_response": "over 300 s or none", "sessions": none})
    _, got = await run(filled, query(UID, 7), FROM, TO)
    assert got == want and sum(r["sessions"] for r in got) == len(first)


async def test_busiest_weekday_and_hour(filled: ClickHouse, events: list[dict[str, Any]]) -> None:
    _, got = await run(filled, query(UID, 8), FROM, TO)
    rows = star_rows(events)
    weekday = ms_time(FROM).strftime("%A")
    assert len(got) == 1 and got[0]["weekday"] == weekday
    by_hour: dict[int, int] = defaultdict(int)
    for r in rows:
        by_hour[(r[0] // 3_600_000) % 24] += r[3]
    assert {k: v for k, v in got[0].items() if k != "weekday" and v} == {
        f"h{h:02d}": n for h, n in by_hour.items()
    }


async def test_longest_waits(filled: ClickHouse, events: list[dict[str, Any]]) -> None:
    session = {e["conv"]: e["session"] for e in events if e["conv_kind"] == "cs"}
    end = TO + BOUND  # replies are read up to the range's end + the bound
    want = []
    for conv, start, agent, reply in in_range(events):
        known = reply if reply is not None and start + reply <= end else None
        waited = known if known is not None else end - start
        want.append((waited / 1000, start, conv, session[conv], agent,
                     None if known is None else known / 1000))  # fmt: skip
    want.sort(key=lambda w: (-w[0], w[1], w[2]))
    _, got = await run(filled, query(UID, 9), FROM, TO)
    assert [(r["waited_s"], ms(r["start"]), r["conv"], r["session"], r["agent"], r["reply_s"])
            for r in got] == [tuple(approx(x) if isinstance(x, float) else x for x in w)
                              for w in want[:20]]  # fmt: skip


async def test_freshness_is_empty_without_recent_data(filled: ClickHouse) -> None:
    _, got = await run(filled, query(UID, 10), FROM, TO, agent=ALL)
    assert got == [{"reply_rates_s": None, "chat_events_s": None}]


async def test_the_raw_panels_read_the_ranges_last_day_only(
    filled: ClickHouse, events: list[dict[str, Any]]
) -> None:
    since = FROM + 30 * 60_000
    end = since + 86_400_000  # a range of 3 days whose last day starts at `since`
    session = {e["conv"]: e["session"] for e in events if e["conv_kind"] == "cs"}
    want = {session[w[0]] for w in reference.waits(events) if w[1] >= since}
    _, got = await run(filled, query(UID, 7), end - 3 * 86_400_000, end)
    assert sum(r["sessions"] for r in got) == len(want)
    _, got = await run(filled, query(UID, 9), end - 3 * 86_400_000, end)
    assert min(ms(r["start"]) for r in got) >= since


async def test_freshness_counts_from_the_newest_row_not_from_one_stamped_in_the_future(
    db: ClickHouse, events: list[dict[str, Any]]
) -> None:
    now = int(time.time() * 1000)
    cs = next(e for e in events if e["conv_kind"] == "cs")
    raw = [
        {**cs, "id": f"{cs['id']}-{i}", "ts": now + d} for i, d in enumerate((-30_000, 3_600_000))
    ]
    await put(db, "chat_events", raw)
    window = {"agent": "a", "waits": 1, "replied_5m": 1, "reply_rate": 1.0, "avg_reply_s": 1.0,
              "p90_reply_s": 1.0}  # fmt: skip
    await put(db, "reply_rates", [
        {**window, "window_start": end - W, "window_end": end}
        for end in (now - 60_000, now + 86_400_000)
    ])  # fmt: skip
    _, got = await run(db, query(UID, 10), FROM, TO, agent=ALL)
    took = (time.time() * 1000 - now) / 1000
    assert 60 <= got[0]["reply_rates_s"] <= 60 + took + 1
    assert 30 <= got[0]["chat_events_s"] <= 30 + took + 1
