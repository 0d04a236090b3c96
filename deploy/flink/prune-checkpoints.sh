#!/bin/bash
# Prune the retained checkpoints of earlier runs of the streaming job:
#   prune-checkpoints.sh /flink-data/checkpoints
#
# docker-compose.yml's JobManager runs this as it starts, before Flink: the
# cluster has no HA services, so no job runs on a JobManager that is only
# starting, and stream-submit resubmits the job from the newest retained
# checkpoint once the JobManager is healthy. The checkpoint folder holds one
# subfolder per run (<job id>/chk-<n>/_metadata, shared/, taskowned/); Flink
# deletes a run's older checkpoints itself (num-retained) but never the
# folders of earlier runs, which would pile up, one per restart.
#
# Kept: the run holding the newest complete checkpoint (the one stream-submit
# resumes from: newest by its chk-<n> folder's modification time, then by
# path). The others go: the job is restored in NO_CLAIM mode
# (execution.state-recovery.claim-mode), so a restored run never builds on
# the files of the checkpoint it came from (its first checkpoint is full).
# No complete checkpoint anywhere: nothing is removed.
#
# The same rule as streaming/checkpoints.py (prune, newest); the tests run
# both on the same folders (tests/test_compose.py).
set -euo pipefail

root=${1:?usage: prune-checkpoints.sh CHECKPOINT_FOLDER}
[ -d "$root" ] || exit 0
root=${root%/}

newest=$(
  find "$root" -mindepth 2 -maxdepth 2 -type d -name 'chk-*' \
    -exec test -f '{}/_metadata' ';' -printf '%T@ %p\n' \
    | LC_ALL=C sort -k1,1n -k2,2 | tail -n 1 | cut -d' ' -f2-
)
[ -n "$newest" ] || exit 0
keep=$(dirname "$newest")

for run in "$root"/*/; do
  run=${run%/}
  [ -d "$run" ] || continue
  if [ "$run" != "$keep" ]; then
    echo "prune-checkpoints: removing $run (the newest checkpoint is $newest)"
    rm -rf -- "$run"
  fi
done
