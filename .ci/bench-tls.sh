#!/usr/bin/env bash
# What TLS costs, next to what it costs Redis: a raftcache dev shard (3 Raft
# replicas, fsync on) with and without --tls, and redis-server (no
# persistence) with and without TLS, all measured with redis-benchmark in
# one run. Usage: .ci/bench-tls.sh [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
BASE=${BENCH_BASE_PORT:-7600}
TBASE=$((BASE + 10))
. .ci/bench-common.sh

bin/raftcache dev --shards 1 --replicas 3 --base-port "$BASE" --data-dir "$D/rc" >"$D/dev.log" 2>&1 & pids+=($!)
bin/raftcache dev --shards 1 --replicas 3 --base-port "$TBASE" --data-dir "$D/rctls" --tls >"$D/devtls.log" 2>&1 & pids+=($!)
for i in $(seq 200); do grep -q '^ready' "$D/devtls.log" && grep -q '^ready' "$D/dev.log" && break; sleep 0.1; done
grep -q '^ready' "$D/devtls.log" || { cat "$D/devtls.log"; echo "TLS dev cluster not ready" >&2; exit 1; }
T=$D/rctls/tls
TLS=(--tls --cacert "$T/ca.crt")
# redis-server with the dev cluster's certificate.
redis-server --bind 127.0.0.1 --port 16390 --save '' --appendonly no --dir "$D" >/dev/null 2>&1 & pids+=($!)
redis-server --bind 127.0.0.1 --port 0 --tls-port 16392 --tls-cert-file "$T/node.crt" --tls-key-file "$T/node.key" \
  --tls-ca-cert-file "$T/ca.crt" --tls-auth-clients no --save '' --appendonly no --dir "$D" >/dev/null 2>&1 & pids+=($!)
sleep 0.5
leader() { # base-port redis-cli-args...
  local base=$1; shift
  for p in $base $((base+1)) $((base+2)); do
    redis-cli "$@" -p $p INFO replication | grep -q 'role:master' && { echo $p; return; }
  done
}
L=$(leader "$BASE"); LT=$(leader "$TBASE" "${TLS[@]}")
echo "raftcache leaders: plain $L, TLS $LT; $N requests, -c 50, -r 100000"
rps() { # port pipeline test [tls args]
  local port=$1 p=$2 t=$3; shift 3
  redis-benchmark "$@" -p "$port" -t "$t" -n "$N" -c 50 -P "$p" -r 100000 -q 2>/dev/null \
    | tr '\r' '\n' | grep 'requests per second' | tail -1 | awk '{print $2}'
}
ratio() { awk -v a="${1:-0}" -v b="${2:-1}" 'BEGIN{printf "%.2f", a/b}'; }
printf '%-4s %-4s %11s %11s %11s %11s %9s %9s %9s\n' test P raftcache rc-tls redis redis-tls rc-tls/rc redis-tls/redis rc-tls/redis-tls
for p in 1 16; do
  for t in set get; do
    a=$(rps "$L" $p $t); b=$(rps "$LT" $p $t "${TLS[@]}"); c=$(rps 16390 $p $t); d=$(rps 16392 $p $t "${TLS[@]}")
    printf '%-4s %-4s %11s %11s %11s %11s %9s %9s %9s\n' "$t" "$p" "${a:-FAIL}" "${b:-FAIL}" "${c:-FAIL}" "${d:-FAIL}" \
      "$(ratio "$b" "$a")" "$(ratio "$d" "$c")" "$(ratio "$b" "$d")"
  done
done
