#!/usr/bin/env bash
# Slot moves under the chaos nemesis for CI: 9 server processes (3 shards),
# slot ranges moving between shards for the whole run while nodes are
# killed, paused and partitioned; fixed seed, printed first, so a failure
# replays with the same schedule:
#   go run ./cmd/raftcache chaos --seed $SEED --duration $DURATION --nodes 9 --faults $FAULTS
set -euo pipefail
cd "$(dirname "$0")/.."
SEED=${CHAOS_SEED:-20261204}
DURATION=${CHAOS_DURATION:-60s}
FAULTS=${CHAOS_FAULTS:-migrate,kill,kill-leader,pause,kill-majority,partition,partition-oneway}
OUT=$(mktemp -d /tmp/raftcache-ci-chaos-migrate-XXXXXX)
bin="$OUT/raftcache"
CGO_ENABLED=0 go build -trimpath -o "$bin" ./cmd/raftcache
echo "== chaos with slot moves: seed $SEED, $DURATION, 9 nodes, faults $FAULTS, output $OUT"
status=0
"$bin" chaos --seed "$SEED" --duration "$DURATION" --nodes 9 --faults "$FAULTS" --out "$OUT/run" --bin "$bin" || status=$?
if [ "$status" -ne 0 ]; then
  echo "== chaos with slot moves FAILED (exit $status); history, node logs and visualisations are in $OUT/run"
  exit "$status"
fi
rm -rf "$OUT"
