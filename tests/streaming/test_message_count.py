"""The message-count query on fixed rows with a known answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streaming.queries import query
from tests.streaming.flinkrun import run_on_rows

T0 = 1_795_000_020_000  # a minute boundary (ms)


def chat(i: int, conv: str, ts: int, event_id: str | None = None) -> dict[str, Any]:
    return {
        "v": 1,
        "id": event_id or f"m:{conv}:{i}",
        "type": "chat.message",
        "ts": ts,
        "conv": conv,
        "conv_kind": "group",
        "seq": i,
        "sender": "u1",
        "sender_role": "user",
        "kind": "chat",
        "text_len": 2,
        "content_hash": "h",
        "flags": [],
    }


def test_counts_per_window_and_conversation(tmp_path: Path) -> None:
    rows = [chat(i, "a", T0 + i * 1000) for i in range(1, 8)]  # a: 7 msgs, 1..7 s
    rows += [chat(i, "b", T0 + 59_000 + i * 1000) for i in range(3)]  # b: 59, 60, 61 s
    rows.append(chat(3, "a", T0 + 3000))  # a relayed duplicate (same id): counted once
    rows.append({"v": 1, "id": "t:1", "type": "tick", "ts": T0 + 30_000})  # not a message
    rows.append({"v": 1, "id": "c:1", "type": "conn.open", "ts": T0 + 1000})  # other type
    got = sorted(run_on_rows(query("message_count", count_window_s=60), rows, tmp_path))
    assert got == [
        (T0, T0 + 60_000, "a", 7),
        (T0, T0 + 60_000, "b", 1),
        (T0 + 60_000, T0 + 120_000, "b", 2),
    ]


def test_window_length_is_a_parameter(tmp_path: Path) -> None:
    rows = [chat(i, "a", T0 + i * 1000) for i in range(10)]  # 0..9 s
    got = sorted(run_on_rows(query("message_count", count_window_s=5), rows, tmp_path))
    assert got == [(T0, T0 + 5000, "a", 5), (T0 + 5000, T0 + 10_000, "a", 5)]
