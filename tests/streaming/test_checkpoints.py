"""streaming/checkpoints.py: the newest retained checkpoint, and pruning earlier runs.

No Flink here: folders shaped as Flink writes them (`<job>/chk-<n>/_metadata`,
`shared/`, `taskowned/`), with chosen modification times. The compose
JobManager's shell version of the same rule is checked against these in
tests/test_compose.py.
"""

from __future__ import annotations

import os
from pathlib import Path

from streaming import checkpoints
from streaming.job import latest_checkpoint

T0 = 1_795_000_000 * 10**9  # ns


def chk(root: Path, job: str, n: int, at_s: float, complete: bool = True) -> Path:
    """`root/job/chk-n` modified at T0 + at_s (with `_metadata` when complete)."""
    d = root / job / f"chk-{n}"
    d.mkdir(parents=True)
    (root / job / "shared").mkdir(exist_ok=True)
    (root / job / "shared" / f"sst-{n}").write_bytes(b"x")
    if complete:
        (d / "_metadata").write_bytes(b"meta")
    ns = T0 + int(at_s * 1e9)
    os.utime(d, ns=(ns, ns))
    return d


def runs(root: Path) -> set[str]:
    return {d.name for d in root.iterdir() if d.is_dir()}


def test_no_folder_or_no_complete_checkpoint_means_nothing_to_resume_or_prune(
    tmp_path: Path,
) -> None:
    url = (tmp_path / "missing").as_uri()
    assert checkpoints.newest(url) is None and checkpoints.prune(url) == []
    chk(tmp_path, "a" * 32, 1, 0, complete=False)
    assert checkpoints.newest(tmp_path.as_uri()) is None
    assert checkpoints.prune(tmp_path.as_uri()) == []
    assert runs(tmp_path) == {"a" * 32}


def test_remote_storage_is_left_alone() -> None:
    assert checkpoints.newest("s3://bucket/checkpoints") is None
    assert checkpoints.prune("s3://bucket/checkpoints") == []


def test_newest_is_the_latest_complete_checkpoint_of_any_run(tmp_path: Path) -> None:
    chk(tmp_path, "old", 7, 10)
    newest = chk(tmp_path, "old", 8, 20)
    chk(tmp_path, "new", 1, 30, complete=False)  # a run that never completed one
    assert checkpoints.newest(tmp_path.as_uri()) == newest.as_uri()
    assert latest_checkpoint(tmp_path.as_uri()) == newest.as_uri()  # the job's resume point


def test_prune_keeps_only_the_run_holding_the_newest_checkpoint(tmp_path: Path) -> None:
    chk(tmp_path, "run1", 3, 10)
    chk(tmp_path, "run1", 4, 11)
    chk(tmp_path, "run2", 5, 20)
    kept = chk(tmp_path, "run3", 1, 30)
    chk(tmp_path, "run3", 2, 31)  # incremental: builds on run3/shared, kept with it
    newest = checkpoints.newest(tmp_path.as_uri())
    gone = checkpoints.prune(tmp_path.as_uri())
    assert sorted(p.name for p in gone) == ["run1", "run2"]
    assert runs(tmp_path) == {"run3"}
    assert (kept.parent / "shared").is_dir()
    assert checkpoints.newest(tmp_path.as_uri()) == newest  # the resume point is untouched


def test_a_restored_run_without_a_checkpoint_yet_keeps_the_one_it_came_from(
    tmp_path: Path,
) -> None:
    """Resubmitted, then gone again before its first checkpoint: the earlier run still
    holds the newest checkpoint, so it stays (and the empty run goes)."""
    source = chk(tmp_path, "earlier", 9, 10)
    chk(tmp_path, "restored", 1, 20, complete=False)
    checkpoints.prune(tmp_path.as_uri())
    assert runs(tmp_path) == {"earlier"}
    assert checkpoints.newest(tmp_path.as_uri()) == source.as_uri()
