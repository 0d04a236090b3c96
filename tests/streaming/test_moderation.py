"""Moderation CEP (moderation.sql) and mute commands (mute.sql) on fixed rows.

'Within T s' is inclusive (last - first <= T): 10 messages in exactly 10 s
flood, in 10.001 s they don't. After a detection the next one needs fresh
messages. Duplicate events (same id) are dropped before the patterns.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

from streaming.queries import statements
from tests.streaming import reference_cep as ref
from tests.streaming.flinkrun import run_views_on_rows
from traffic.scenario import generate

T0 = 1_795_000_020_000
PARAMS = {
    "flood_count": 10,
    "flood_within_s": 10,
    "repeat_count": 3,
    "repeat_within_s": 60,
    "abusive_count": 3,
    "abusive_within_s": 300,
}
MUTE_S = 600


def msg(
    sender: str,
    ts: int,
    i: int,
    conv: str = "g1",
    content_hash: str | None = None,
    flags: tuple[str, ...] = (),
    kind: str = "chat",
) -> dict[str, Any]:
    """Message `i` of `sender`; its own content hash unless given (no repeats)."""
    return {
        "v": 1,
        "id": f"m:{sender}:{i}",
        "type": "chat.message",
        "ts": ts,
        "node": "n1",
        "conv": conv,
        "conv_kind": "group",
        "seq": i,
        "sender": sender,
        "sender_role": "user",
        "kind": kind,
        "cmid": f"c:{sender}:{i}",
        "text_len": 5,
        "content_hash": content_hash or f"h:{sender}:{i}",
        "flags": list(flags),
    }


def spread(sender: str, n: int, span_ms: int, start: int = T0, **kw: Any) -> list[dict[str, Any]]:
    """n messages from `start` to `start + span_ms`, evenly (first and last exact)."""
    return [msg(sender, start + round(k * span_ms / (n - 1)), k, **kw) for k in range(n)]


def moderation(rows: list[dict[str, Any]], tmp: Path, **over: int) -> list[tuple[Any, ...]]:
    views, select = statements("moderation", **{**PARAMS, **over})
    return ref.ordered(run_views_on_rows(views, select, _in_time_order(rows), tmp))


def mute(rows: list[dict[str, Any]], tmp: Path) -> list[tuple[Any, ...]]:
    views, _ = statements("moderation", **PARAMS)
    more, select = statements("mute", mute_s=MUTE_S)
    return ref.ordered(run_views_on_rows(views + more, select, _in_time_order(rows), tmp))


def _in_time_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The scenarios share one time line: a row more than the watermark's
    # lateness behind the newest one would be late (dropped), so write in order.
    return sorted(rows, key=lambda r: r["ts"])


def scenarios() -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    """Rows of many senders and the detections they must give."""
    rows: list[dict[str, Any]] = []
    want: list[tuple[Any, ...]] = []
    # Flood: 10 messages in exactly 10 s, alternating two conversations.
    rows += [{**m, "conv": "ga" if m["seq"] % 2 else "gb"} for m in spread("flood10", 10, 10_000)]
    want.append(("flood10", "flood", T0, T0 + 10_000, 10, "ga"))
    rows += spread("flood10_001", 10, 10_001)  # 10 in 10.001 s: no flood
    rows += spread("flood9", 9, 2_000)  # 9 quickly: no flood
    # 25 in 2.4 s: two floods (messages 0-9 and 10-19), the last 5 start over.
    f25 = [msg("flood25", T0 + k * 100, k) for k in range(25)]
    rows += f25
    want += [
        ("flood25", "flood", T0, T0 + 900, 10, "g1"),
        ("flood25", "flood", T0 + 1000, T0 + 1900, 10, "g1"),
    ]
    # System and event messages are not people writing: never a flood.
    rows += spread("bot", 12, 1_000, kind="event")
    # Repeat: the same hash 3 times in exactly 60 s (other hashes in between).
    r = [msg("rep", T0 + k * 15_000, k, content_hash="x" if k % 2 == 0 else None) for k in range(5)]
    rows += r
    want.append(("rep", "repeat", T0, T0 + 60_000, 3, "g1"))
    rows += [msg("rep61", T0 + k * 30_500, k, content_hash="x") for k in range(3)]  # 61 s: no
    rows += spread("nodup", 3, 1_000)  # three different hashes quickly: no
    # Abusive: 3 flagged in exactly 5 min (unflagged ones between), vs spread.
    ab = [
        msg("abu", T0 + k * 50_000, k, flags=("abusive",) if k % 3 == 0 else ()) for k in range(7)
    ]
    rows += ab
    want.append(("abu", "abusive", T0, T0 + 300_000, 3, "g1"))
    rows += spread("abu_late", 3, 300_001, flags=("abusive", "masked"))  # 300.001 s: no
    rows += [msg("abu_far", T0 + k * 200_000, k, flags=("abusive",)) for k in range(4)]  # no
    rows += spread("sens", 3, 1_000, flags=("sensitive",))  # other flags: no
    # Duplicates: 9 messages + a relayed copy of one is still 9, and 2 of a
    # hash + a copy is still 2. Copies keep their id and ts.
    d9 = spread("dup9", 9, 3_000)
    d2 = [msg("dup2", T0 + k * 1000, k, content_hash="y") for k in range(2)]
    rows += [*d9, dict(d9[4]), *d2, dict(d2[1])]
    # Ticks and other event types are no messages.
    rows += [{"v": 1, "id": f"t:{k}", "type": "tick", "ts": T0 + k * 1000} for k in range(20)]
    rows += [
        {"v": 1, "id": f"c:{k}", "type": "conn.open", "ts": T0 + k, "user": "conn"}
        for k in range(12)
    ]
    return rows, ref.ordered(want)


def test_detections(tmp_path: Path) -> None:
    rows, want = scenarios()
    assert ref.moderation(rows, **PARAMS) == want  # the reference agrees
    assert moderation(rows, tmp_path) == want


def test_staff_are_not_moderated(tmp_path: Path) -> None:
    rows = [{**m, "sender_role": role} for role in ("agent", "bot", "admin", "system")
            for m in spread(f"staff-{role}", 12, 5_000, content_hash="canned")]  # fmt: skip
    assert moderation(rows, tmp_path) == []
    assert moderation(spread("cust", 12, 5_000, content_hash="canned"), tmp_path) != []


def test_mute_commands(tmp_path: Path) -> None:
    rows, want = scenarios()
    commands = [("user.mute", None, last, user, last + MUTE_S * 1000, rule) for
                user, rule, _, last, _, _ in want]  # fmt: skip
    assert mute(rows, tmp_path) == ref.ordered(commands)


def test_within_is_strict_hence_the_extra_millisecond(tmp_path: Path) -> None:
    """Flink's WITHIN drops a match whose last - first == the interval, so the
    query's WITHIN is T + 1 ms. Without it, exactly 10 in 10 s is no flood."""
    rows = spread("flood10", 10, 10_000) + spread("flood9999", 10, 9_999)
    views, select = statements("moderation", **PARAMS)
    assert "WITHIN INTERVAL '10.001' SECOND(9, 3)" in views[1]
    strict = [v.replace("'10.001' SECOND(9, 3)", "'10' SECOND") for v in views]
    got = ref.ordered(run_views_on_rows(strict, select, _in_time_order(rows), tmp_path))
    assert got == [("flood9999", "flood", T0, T0 + 9_999, 10, "g1")]


def test_thresholds_are_parameters(tmp_path: Path) -> None:
    rows = spread("a", 3, 2_000) + spread("b", 3, 2_001) + spread("c", 2, 100)
    got = moderation(rows, tmp_path, flood_count=3, flood_within_s=2)
    assert got == [("a", "flood", T0, T0 + 2_000, 3, "g1")]


# -- differential: Flink against the plain-Python reference on generated traffic --


def chat_traffic(seed: int, users: int = 240) -> list[dict[str, Any]]:
    """An hour of chat from normal users, spammers (bursts around 10 in 10 s,
    exact boundaries among them), repeaters (a few texts every ~20-31 s) and
    abusive users (flagged messages ~1-3 min apart, some exactly 150 s), in
    hundreds of conversations, with event messages, duplicates and ticks.
    Written in event-time order up to 2 s of disorder (the watermark allows 5 s)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    span = 3600 * 1000
    convs = [f"c{k}" for k in range(300)]

    def say(user: str, t: int, n: int, **kw: Any) -> None:
        kind = "chat" if rng.random() > 0.03 else rng.choice(["event", "system"])
        m = msg(user, t, n, conv=rng.choice(mine), kind=kind, **kw)
        if rng.random() < 0.05:
            m["content_hash"] = None  # e.g. an image
        rows.append(m)
        if rng.random() < 0.04:
            rows.append(dict(m))  # relayed twice

    for u in range(users):
        user, profile = f"u{u}", rng.choice(["normal", "normal", "spam", "repeat", "abuse"])
        mine = rng.sample(convs, 3)
        t, n = T0 + rng.randrange(span // 2), 0
        while t < T0 + span and n < 150:
            n += 1
            if profile == "spam" and rng.random() < 0.3:  # a burst
                step = rng.choice([1000, 1111, 1112, 10_000 // 9, rng.randrange(200, 1500)])
                for _ in range(rng.randint(5, 14)):
                    say(user, t, n)
                    n, t = n + 1, t + step
            elif profile == "repeat":
                say(user, t, n, content_hash=f"{user}:{rng.randrange(3)}")
            elif profile == "abuse":
                flagged = rng.random() < 0.6
                say(user, t, n, flags=("abusive",) if flagged else rng.choice([(), ("masked",)]))
                t += rng.choice([150_000, 150_001, rng.randrange(30_000, 200_000)])
            else:
                say(user, t, n, content_hash=rng.choice([None, "ok", *[f"{user}:{n}"] * 8]))
            t += rng.choice([0, 1000, 30_000, rng.randrange(1, 300_000)])
            if profile == "repeat":
                t += rng.choice([-30_000, -20_000, -9_500, 500, 30_000])  # ~20-60 s apart
    rows += [{"v": 1, "id": f"t:{k}", "type": "tick", "ts": T0 + k * 5000} for k in range(721)]
    return sorted(rows, key=lambda r: r["ts"] + rng.randrange(2_000))


def test_detections_equal_the_reference_on_generated_traffic(tmp_path: Path) -> None:
    rows = chat_traffic(seed=11)
    want = ref.moderation(rows, **PARAMS)
    per_rule = Counter(w[1] for w in want)
    assert min(per_rule[r] for r in ("flood", "repeat", "abusive")) >= 10, per_rule
    views, select = statements("moderation", **PARAMS)
    got = ref.ordered(run_views_on_rows(views, select, rows, tmp_path))
    assert got == want


def test_detections_equal_the_reference_on_realistic_traffic(tmp_path: Path) -> None:
    """traffic.py: customers who repeat themselves, a few abusive flags in
    groups, late duplicates (dropped by Flink as late, ignored by the reference)."""
    rows = generate(seed=3)
    want = ref.moderation(rows, **PARAMS)
    assert len(want) >= 5  # customers only: staff repeats are not moderated
    views, select = statements("moderation", **PARAMS)
    assert ref.ordered(run_views_on_rows(views, select, rows, tmp_path)) == want
