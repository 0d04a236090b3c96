"""Aggregation of py-spy's collapsed stacks (bench.profile), on stacks with a known answer."""

from __future__ import annotations

from bench.profile import aggregate, frame_name

_RUN = "run (asyncio/base_events.py:600)"
_ONCE = "_run_once (asyncio/base_events.py:1900)"
RAW = "\n".join([
    f"{_RUN};{_ONCE};write (asyncio/selector_events.py:1057) 30",
    f"{_RUN};{_ONCE};deliver_msg (im/hub.py:212) 10",
    f"{_RUN};deliver_msg (im/hub.py:212);deliver_msg (im/hub.py:213) 5",
    "garbage line",
])  # fmt: skip


def test_frame_name_keeps_the_function_and_file() -> None:
    assert frame_name("write (/usr/lib/python3.11/asyncio/selector_events.py:1057)") == (
        "write (selector_events.py)"
    )
    assert frame_name("<module>") == "<module>"


def test_aggregate_counts_own_and_inclusive_time_once_per_stack() -> None:
    total, own, incl = aggregate(RAW)
    assert total == 45
    assert own == {"write (selector_events.py)": 30, "deliver_msg (hub.py)": 15}
    assert incl["run (base_events.py)"] == 45
    assert incl["_run_once (base_events.py)"] == 40
    assert incl["deliver_msg (hub.py)"] == 15  # recursion counted once per stack
