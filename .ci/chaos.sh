#!/usr/bin/env bash
# Short chaos run for CI (issue #5): real server processes, process kills,
# pauses, Raft partitions, a wiped data dir and broken disks (fail-stop),
# ~2 minutes in all; fixed seed, printed first, so a failure replays with
# the same fault schedule:
#   go run ./cmd/raftcache chaos --seed $SEED --duration $DURATION --nodes $NODES --faults $FAULTS
set -euo pipefail
cd "$(dirname "$0")/.."
SEED=${CHAOS_SEED:-20261202}
DURATION=${CHAOS_DURATION:-75s}
FAULTS=${CHAOS_FAULTS:-kill,kill-leader,pause,kill-majority,partition,partition-oneway,wipe,disk-stall,disk-error}
NODES=${CHAOS_NODES:-3}
OUT=$(mktemp -d /tmp/raftcache-ci-chaos-XXXXXX)
bin="$OUT/raftcache"
CGO_ENABLED=0 go build -trimpath -o "$bin" ./cmd/raftcache
echo "== chaos: seed $SEED, $DURATION, $NODES nodes, faults $FAULTS, output $OUT"
status=0
"$bin" chaos --seed "$SEED" --duration "$DURATION" --nodes "$NODES" --faults "$FAULTS" --out "$OUT/run" --bin "$bin" || status=$?
if [ "$status" -ne 0 ]; then
  echo "== chaos FAILED (exit $status); history, node logs and visualisations are in $OUT/run"
  # CI keeps only this output: the end of each node's own log lines
  # (membership, rejoin, operations; Raft's and the engine's left out) is
  # the evidence.
  for log in "$OUT"/run/nodes/*.log; do
    [ -f "$log" ] || continue
    echo "== $(basename "$log"): last node-level lines"
    grep -v -E 'component=|logger=' "$log" | tail -n 30 | cut -c1-400 || true
  done
  exit "$status"
fi
rm -rf "$OUT"
