"""Every generator writes records that fit the contract."""

from __future__ import annotations

from contract import events
from traffic.chat import ChatLog
from traffic.rate import Conversations, tick
from traffic.scenario import generate


def test_the_scenario_traffic_fits_the_contract() -> None:
    traffic = generate(seed=3)
    assert [p for e in traffic for p in events.problems(e)] == []
    assert {e["type"] for e in traffic} == {"chat.message", "tick"}


def test_the_rate_traffic_fits_the_contract() -> None:
    gen = Conversations(rate=500, seed=2, partitions=4, jitter_ms=20)
    sample = [gen.message(1_800_000_000_000 + i) for i in range(5000)]
    assert [p for e in sample for p in events.problems(e)] == []
    assert {e["conv_kind"] for e in sample} == {"cs", "group", "direct"}
    assert events.problems(tick(5)) == []


def test_seq_counts_up_and_ts_never_goes_back_per_conversation() -> None:
    log = ChatLog()
    a = log.message("c1", "group", 100, "n", "u", "user", "chat", "m1", "hi")
    b = log.message("c1", "group", 90, "n", "u", "user", "chat", "m2", "hi")
    c = log.message("c2", "group", 50, "n", "u", "user", "chat", "m3", "hi")
    assert [(a["seq"], a["ts"]), (b["seq"], b["ts"]), (c["seq"], c["ts"])] == [
        (1, 100), (2, 100), (1, 50)
    ]  # fmt: skip
    assert a["id"] == "m:c1:1" and a["text_len"] == 2
