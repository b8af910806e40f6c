#!/usr/bin/env bash
# Slot moves under the chaos nemesis: 9 server processes (3 shards), slot
# ranges moving between shards for the whole run while nodes are killed,
# paused and partitioned; .ci/chaos.sh with these defaults. In CI again
# since docs/CHAOS.md's "Finding" was explained and fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
export CHAOS_SEED=${CHAOS_SEED:-20261204} CHAOS_DURATION=${CHAOS_DURATION:-60s} CHAOS_NODES=${CHAOS_NODES:-9}
export CHAOS_FAULTS=${CHAOS_FAULTS:-migrate,kill,kill-leader,pause,kill-majority,partition,partition-oneway}
exec bash .ci/chaos.sh
