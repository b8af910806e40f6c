#!/usr/bin/env bash
# Short container chaos run for CI (issue #5): the 9-node compose cluster of
# deploy/docker-compose.yml under docker kill, docker pause, docker network
# disconnect of a leader, and the loss (kill) or isolation (network
# disconnect) of a whole AZ; fixed seed, printed first, so a failure replays
# with the same fault schedule:
#   go run ./cmd/raftcache chaos --runtime docker --seed $SEED --duration $DURATION --faults $FAULTS
# Needs docker, compose (v2 or v1) and the raftcache:dev image: built here
# unless CHAOS_SKIP_IMAGE=1 (CI builds it once for the compose smoke test).
set -euo pipefail
cd "$(dirname "$0")/.."
SEED=${CHAOS_SEED:-20261202}
DURATION=${CHAOS_DURATION:-60s}
FAULTS=${CHAOS_FAULTS:-kill-leader,pause,kill-majority,disconnect,lose-az,isolate-az}
if [[ "${CHAOS_SKIP_IMAGE:-}" != 1 ]] || ! docker image inspect raftcache:dev >/dev/null 2>&1; then
  make -s image >/dev/null
fi
OUT=$(mktemp -d /tmp/raftcache-ci-chaos-docker-XXXXXX)
bin="$OUT/raftcache"
CGO_ENABLED=0 go build -trimpath -o "$bin" ./cmd/raftcache
echo "== chaos (docker): seed $SEED, $DURATION, faults $FAULTS, output $OUT"
status=0
"$bin" chaos --runtime docker --seed "$SEED" --duration "$DURATION" --faults "$FAULTS" --out "$OUT/run" || status=$?
if [[ "$status" -ne 0 ]]; then
  echo "== chaos (docker) FAILED (exit $status); history, container logs and visualisations are in $OUT/run"
  exit "$status"
fi
rm -rf "$OUT"
