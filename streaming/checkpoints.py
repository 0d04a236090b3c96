"""Retained checkpoints in a local checkpoint folder: the newest one, and pruning the rest.

The folder (`execution.checkpointing.dir`) holds one subfolder per job run,
`<job id>/chk-<n>/_metadata` for each retained checkpoint plus `shared/` and
`taskowned/` (the files incremental RocksDB checkpoints build on). Checkpoints
are retained on cancel and a new run of the job resumes from the newest
complete one (`streaming.job.run`, `stack.submit`, docker-compose's
stream-submit); Flink deletes a run's older checkpoints while that run goes
on (`execution.checkpointing.num-retained`), but never the folders of earlier
runs, so every restart would leave one behind.

`prune` removes the folders of earlier runs, keeping the one that holds the
newest complete checkpoint. That is safe because the job is restored in
NO_CLAIM mode (`execution.state-recovery.claim-mode`, Flink's default, set
explicitly by stack/flink.py and docker-compose.yml): the restored run never
references files of the checkpoint it came from (its first checkpoint is a
full one), so once it has completed a checkpoint of its own the earlier
folder is needed by nobody, and until then it is the newest and kept. Only
prune when no run of the job is live: a live run's folder may not hold a
complete checkpoint yet (stack.submit prunes before it submits; compose's
JobManager prunes as it starts, when no job can be running on it).

The rule is "newest by the modification time of its `chk-<n>` folder (then by
path)", the same in `newest` and `prune`, and in the shell version of
docker-compose.yml (tests/test_compose.py runs both on the same folders).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlparse


def local_folder(checkpoint_url: str) -> Path | None:
    """The folder of a `file://` checkpoint URL; None for remote storage (s3://, hdfs://)."""
    if not checkpoint_url.startswith("file:"):
        return None
    return Path(urlparse(checkpoint_url).path)


def _complete(root: Path) -> list[Path]:
    """Every complete checkpoint (`<job>/chk-<n>` with its `_metadata`), oldest first."""
    done = [m.parent for m in root.glob("*/chk-*/_metadata")]
    return sorted(done, key=lambda p: (p.stat().st_mtime_ns, str(p)))


def newest(checkpoint_url: str) -> str | None:
    """URL of the newest complete checkpoint under the folder (any earlier run), or None."""
    root = local_folder(checkpoint_url)
    if root is None:
        return None  # remote storage: restore explicitly (flink run -s)
    done = _complete(root)
    return done[-1].as_uri() if done else None


def prune(checkpoint_url: str) -> list[Path]:
    """Remove the folders of earlier runs: every subfolder but the one holding the newest
    complete checkpoint (nothing when there is none). Returns what was removed."""
    root = local_folder(checkpoint_url)
    if root is None:
        return []
    done = _complete(root)
    if not done:
        return []
    keep = done[-1].parent
    gone = []
    for d in sorted(root.iterdir()):
        if d.is_dir() and d != keep and not d.name.startswith("."):
            shutil.rmtree(d, ignore_errors=True)
            gone.append(d)
    return gone
