#!/usr/bin/env bash
# Side-by-side throughput: a raftcache dev shard (3 Raft replicas, fsync on)
# and real redis-server baselines (no persistence; appendfsync always),
# measured with redis-benchmark in the same run so the ratios hold on a
# noisy machine. Usage: .ci/bench.sh [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200000}
BASE=${BENCH_BASE_PORT:-7600}
. .ci/bench-common.sh

bin/raftcache dev --shards 1 --replicas 3 --base-port "$BASE" --data-dir "$D/rc" >"$D/dev.log" 2>&1 & pids+=($!)
redis-server --bind 127.0.0.1 --port 16390 --save '' --appendonly no --dir "$D" >/dev/null 2>&1 & pids+=($!)
redis-server --bind 127.0.0.1 --port 16391 --save '' --appendonly yes --appendfsync always --dir "$D" >/dev/null 2>&1 & pids+=($!)
for i in $(seq 100); do grep -q '^ready' "$D/dev.log" && break; sleep 0.1; done
grep -q '^ready' "$D/dev.log" || { cat "$D/dev.log"; echo "dev cluster not ready" >&2; exit 1; }
LEADER=""
for p in $BASE $((BASE+1)) $((BASE+2)); do
  redis-cli -p $p INFO replication | grep -q 'role:master' && LEADER=$p
done
echo "raftcache leader on port $LEADER; $N requests, -c 50, -r 100000"
rps() { # port pipeline test
  redis-benchmark -p "$1" -t "$3" -n "$N" -c 50 -P "$2" -r 100000 -q 2>/dev/null \
    | tr '\r' '\n' | grep 'requests per second' | tail -1 | awk '{print $2}'
}
printf '%-4s %-4s %12s %12s %14s %10s %10s\n' test P raftcache redis redis-aof-always vs-redis vs-aof
for p in 1 16; do
  for t in set get; do
    ours=$(rps "$LEADER" $p $t); base=$(rps 16390 $p $t); aof=$(rps 16391 $p $t)
    printf '%-4s %-4s %12s %12s %14s %10s %10s\n' "$t" "$p" "${ours:-FAIL}" "${base:-FAIL}" "${aof:-FAIL}" \
      "$(awk -v a="${ours:-0}" -v b="${base:-1}" 'BEGIN{printf "%.2f", a/b}')" \
      "$(awk -v a="${ours:-0}" -v b="${aof:-1}" 'BEGIN{printf "%.2f", a/b}')"
  done
done

# Lua scripts: a rate limiter's EVALSHA (a write: one log entry, run on all
# three replicas) and a read-only EVAL_RO, P1, same servers.
LIMITER="local n = redis.call('incr', KEYS[1]) if n == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end return n"
echo
echo "scripts (P1, -c 50): $N requests"
printf '%-10s %12s %12s %14s %10s %10s\n' script raftcache redis redis-aof-always vs-redis vs-aof
custom() { # port cmd...
  local port=$1; shift
  redis-benchmark -p "$port" -n "$N" -c 50 -r 100000 -q "$@" 2>/dev/null \
    | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 | awk '{print $1}'
}
for port in "$LEADER" 16390 16391; do redis-cli -p "$port" SET rokey hello >/dev/null; done
for kind in evalsha eval_ro; do
  row=()
  for port in "$LEADER" 16390 16391; do
    if [ $kind = evalsha ]; then
      sha=$(redis-cli -p "$port" SCRIPT LOAD "$LIMITER")
      row+=("$(custom "$port" EVALSHA "$sha" 1 'rl:__rand_int__' 60000)")
    else
      row+=("$(custom "$port" EVAL_RO "return redis.call('get', KEYS[1])" 1 rokey)")
    fi
  done
  printf '%-10s %12s %12s %14s %10s %10s\n' "$kind" "${row[0]:-FAIL}" "${row[1]:-FAIL}" "${row[2]:-FAIL}" \
    "$(awk -v a="${row[0]:-0}" -v b="${row[1]:-1}" 'BEGIN{printf "%.2f", a/b}')" \
    "$(awk -v a="${row[0]:-0}" -v b="${row[2]:-1}" 'BEGIN{printf "%.2f", a/b}')"
done

# Data types: streams, HyperLogLog, geo (a write and a read each), and SET
# with keyspace notifications on (KEA) and a pattern subscriber reading
# them on each server, P1, same servers.
echo
echo "data types (P1, -c 50): $N requests"
printf '%-10s %12s %12s %14s %10s %10s\n' command raftcache redis redis-aof-always vs-redis vs-aof
row() { # name cmd...
  local name=$1 r=(); shift
  for port in "$LEADER" 16390 16391; do r+=("$(custom "$port" "$@")"); done
  printf '%-10s %12s %12s %14s %10s %10s\n' "$name" "${r[0]:-FAIL}" "${r[1]:-FAIL}" "${r[2]:-FAIL}" \
    "$(awk -v a="${r[0]:-0}" -v b="${r[1]:-1}" 'BEGIN{printf "%.2f", a/b}')" \
    "$(awk -v a="${r[0]:-0}" -v b="${r[2]:-1}" 'BEGIN{printf "%.2f", a/b}')"
}
row xadd XADD bench:stream MAXLEN '~' 10000 '*' field __rand_int__
row xrange XRANGE bench:stream - + COUNT 10
row pfadd PFADD bench:hll __rand_int__
row pfcount PFCOUNT bench:hll
row geoadd GEOADD bench:geo 13.__rand_int__ 38.__rand_int__ m:__rand_int__
row geosearch GEOSEARCH bench:geo FROMLONLAT 13.5 38.5 BYRADIUS 1 km ASC COUNT 10
for port in "$LEADER" 16390 16391; do
  redis-cli -p "$port" CONFIG SET notify-keyspace-events KEA >/dev/null
  redis-cli -p "$port" PSUBSCRIBE '__key*' >/dev/null 2>&1 & pids+=($!)
done
sleep 0.5
row set+notify SET 'key:__rand_int__' value
for port in "$LEADER" 16390 16391; do redis-cli -p "$port" CONFIG SET notify-keyspace-events '' >/dev/null; done

# Cluster mode: the default dev layout (3 shards x 3 replicas, 9 nodes in one
# process) driven by redis-benchmark --cluster, next to the same redis-server.
CBASE=$((BASE+20))
bin/raftcache dev --shards 3 --replicas 3 --base-port "$CBASE" --data-dir "$D/rc9" >"$D/dev9.log" 2>&1 & pids+=($!)
for i in $(seq 200); do grep -q '^ready' "$D/dev9.log" && break; sleep 0.1; done
grep -q '^ready' "$D/dev9.log" || { cat "$D/dev9.log"; echo "9-node dev cluster not ready" >&2; exit 1; }
echo
echo "9-node cluster (3 shards x 3 replicas) with redis-benchmark --cluster; $N requests, -c 50"
printf '%-4s %-4s %12s %12s %10s\n' test P raftcache9 redis vs-redis
for p in 1 16; do
  for t in set get; do
    ours=$(redis-benchmark --cluster -p "$CBASE" -t "$t" -n "$N" -c 50 -P "$p" -r 100000 -q 2>/dev/null \
      | tr '\r' '\n' | grep 'requests per second' | tail -1 | awk '{print $2}')
    base=$(rps 16390 $p $t)
    printf '%-4s %-4s %12s %12s %10s\n' "$t" "$p" "${ours:-FAIL}" "${base:-FAIL}" \
      "$(awk -v a="${ours:-0}" -v b="${base:-1}" 'BEGIN{printf "%.2f", a/b}')"
  done
done
