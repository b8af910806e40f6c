#!/usr/bin/env bash
# Redis's own TCL test suite (7.0.15, external mode) against one node of a
# one-shard dev cluster (the leader, which owns all 16384 slots).
#   REDIS_GIT=/path/to/redis/git-dir [UNITS=unit/type/hash,...] .ci/conformance.sh
# The runner script lives in the steering repo's shared/conformance.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${REDIS_GIT:?set REDIS_GIT to a git dir of redis/redis with tag 7.0.15}"
RUNNER=${RUNNER:-../shared/conformance/redis-conformance.sh}
UNITS=${UNITS:-unit/type/string,unit/type/incr,unit/type/list,unit/type/set,unit/type/zset,unit/type/hash,unit/keyspace,unit/expire,unit/scan,unit/dump,unit/protocol,unit/info-command}
BASE=${CONF_BASE_PORT:-7700}
[ -x bin/raftcache ] || make build >/dev/null
D=$(mktemp -d)
bin/raftcache dev --shards 1 --replicas 3 --base-port "$BASE" --data-dir "$D/rc" >"$D/dev.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$D"' EXIT
for i in $(seq 100); do grep -q '^ready' "$D/dev.log" && break; sleep 0.1; done
LEADER=$BASE
for p in $BASE $((BASE+1)) $((BASE+2)); do
  redis-cli -p $p INFO replication | grep -q 'role:master' && LEADER=$p
done
bash "$RUNNER" "$REDIS_GIT" 127.0.0.1 "$LEADER" "$UNITS"
