"""The garbage-collector policy and its pause counters (pure, no services)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from im.gcpolicy import THRESHOLDS, GcPauses, apply


@pytest.fixture
def restore_gc() -> Iterator[None]:
    old = gc.get_threshold()
    yield
    gc.set_threshold(*old)
    gc.unfreeze()


def test_apply_sets_the_thresholds_and_freezes(restore_gc: None) -> None:
    apply()
    assert gc.get_threshold() == THRESHOLDS
    assert gc.get_freeze_count() > 0


def test_pauses_are_counted_per_generation() -> None:
    pauses = GcPauses()
    pauses.install()
    pauses.install()  # twice is once
    try:
        gc.collect(2)
        gc.collect(0)
    finally:
        pauses.uninstall()
        pauses.uninstall()
    gc.collect(2)  # uninstalled: not counted
    snap = pauses.snapshot()
    assert snap["gc_collections"] == [1, 0, 1]
    # One collection per generation here: the longest pause is the largest sum.
    assert snap["gc_pause_max_ms"] == round(max(pauses.seconds) * 1000, 3)
    assert pauses.seconds[1] == 0.0 and pauses.seconds[0] > 0 and pauses.seconds[2] > 0
