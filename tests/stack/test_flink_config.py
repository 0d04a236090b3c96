"""The local stack's Flink cluster config (stack/flink.py): RocksDB state, incremental
checkpoints, retained on cancel and restored without claiming them (so the submitter may
prune earlier runs). docker-compose.yml's cluster is checked to agree in test_compose.py."""

from __future__ import annotations

from pathlib import Path

import yaml

from im.envconfig import load
from stack import flink
from stack.settings import StackSettings


def settings(tmp_path: Path) -> StackSettings:
    return load(StackSettings, {"IM_STACK_DIR": str(tmp_path)})


def test_state_lives_in_rocksdb_with_incremental_checkpoints(tmp_path: Path) -> None:
    c = flink.config(settings(tmp_path))
    assert c["state.backend.type"] == "rocksdb"
    assert c["execution.checkpointing.incremental"] is True
    # RocksDB's block cache and write buffers are managed memory: some must be there.
    assert 0.1 < float(str(c["taskmanager.memory.managed.fraction"])) <= 0.4


def test_checkpoints_are_retained_and_restored_without_claiming_them(tmp_path: Path) -> None:
    s = settings(tmp_path)
    c = flink.config(s)
    assert c["execution.checkpointing.dir"] == flink.checkpoint_dir(s).as_uri()
    assert c["execution.checkpointing.externalized-checkpoint-retention"] == (
        "RETAIN_ON_CANCELLATION"
    )
    assert c["execution.state-recovery.claim-mode"] == "NO_CLAIM"  # streaming/checkpoints.py


def test_the_written_config_is_what_the_cluster_reads(tmp_path: Path) -> None:
    s = settings(tmp_path)
    written = yaml.safe_load((flink.write_conf(s) / "config.yaml").read_text())
    assert written == flink.config(s)
    assert written["state.backend.type"] == "rocksdb"
