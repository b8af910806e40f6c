#!/usr/bin/env bash
# Compose smoke test: build the image, start deploy/docker-compose.yml (9
# nodes, 3 shards x 3 replicas), wait until it is healthy, check it with
# redis-cli, write to every slot, docker-kill one shard leader, show that
# every slot takes writes again within a bound and that nothing acknowledged
# was lost, then tear everything down (always, also on failure).
#
# Needs: docker with a running daemon, docker compose (v2) or docker-compose
# (v1), Go (for `make image`), redis-cli, /usr/bin/python3 with redis-py.
# Environment: RC_PORT_PREFIX / RC_NET_PREFIX (see deploy/docker-compose.yml)
# are picked at random when unset, so parallel runs do not collide;
# SMOKE_SKIP_IMAGE=1 reuses an existing raftcache:dev image; SMOKE_TLS=1
# runs the same test with deploy/docker-compose.tls.yml on top (every port
# TLS, gossip keyed; certificates from `raftcache certs`), clients over TLS.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
PY=/usr/bin/python3

if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null; then
  COMPOSE=(docker-compose)
else
  echo "compose-smoke: neither 'docker compose' nor docker-compose is installed" >&2
  exit 1
fi
docker info >/dev/null 2>&1 || { echo "compose-smoke: the docker daemon is not reachable" >&2; exit 1; }
command -v redis-cli >/dev/null || { echo "compose-smoke: redis-cli is not installed" >&2; exit 1; }
$PY -c 'import redis' 2>/dev/null || { echo "compose-smoke: $PY lacks redis-py (apt-get install python3-redis)" >&2; exit 1; }

# A free host port range: 9 consecutive ports ${prefix}0..${prefix}8, away
# from the test suite's ranges (11000-15008 and its +10000/+20000 offsets),
# the dev default 7000-7008 and 6379.
port_free() { $PY -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null; }
if [[ -z "${RC_PORT_PREFIX:-}" ]]; then
  for _ in $(seq 100); do
    p=$((410 + RANDOM % 280))
    [[ $p == 637 || $p == 700 ]] && continue
    ok=1
    for i in $(seq 0 8); do port_free "${p}${i}" || { ok=0; break; }; done
    if [[ $ok == 1 ]]; then RC_PORT_PREFIX=$p; break; fi
  done
fi
[[ -n "${RC_PORT_PREFIX:-}" ]] || { echo "compose-smoke: no free host port range" >&2; exit 1; }
# A /24 for the cluster network that no docker network uses yet.
if [[ -z "${RC_NET_PREFIX:-}" ]]; then
  used=$(docker network ls -q | xargs -r docker network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}')
  for _ in $(seq 100); do
    n="10.207.$((1 + RANDOM % 254))"
    if ! grep -q "${n}\." <<<"$used"; then RC_NET_PREFIX=$n; break; fi
  done
fi
[[ -n "${RC_NET_PREFIX:-}" ]] || { echo "compose-smoke: no free subnet" >&2; exit 1; }
export RC_PORT_PREFIX RC_NET_PREFIX
base="${RC_PORT_PREFIX}0"
project="rcsmoke$$${RANDOM}"
files=(-f deploy/docker-compose.yml)
CLI=(redis-cli)
if [[ "${SMOKE_TLS:-}" == 1 ]]; then
  tlsdir=$(mktemp -d)
  export RC_TLS_DIR=$tlsdir SMOKE_CA=$tlsdir/ca.crt
  files+=(-f deploy/docker-compose.tls.yml)
  CLI=(redis-cli --tls --cacert "$SMOKE_CA")
  project="rcsmoketls$$${RANDOM}"
fi
dc() { "${COMPOSE[@]}" "${files[@]}" -p "$project" "$@"; }

cleanup() {
  rc=$?
  if [[ $rc != 0 ]]; then
    echo "== compose-smoke FAILED (exit $rc); container states and logs:" >&2
    dc ps >&2 || true
    dc logs --no-color --tail=60 >&2 || true
  fi
  echo "== compose down -v (project $project)"
  dc down -v -t 10 --remove-orphans >/dev/null 2>&1 || dc down -v -t 10 >&2 || true
  [[ -n "${tlsdir:-}" ]] && rm -rf "$tlsdir"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ "${SMOKE_SKIP_IMAGE:-}" != 1 ]]; then
  echo "== make image"
  t0=$(date +%s)
  make -s image >/dev/null
  echo "   built in $(( $(date +%s) - t0 ))s"
fi

if [[ -n "${tlsdir:-}" ]]; then
  echo "== TLS: certificates and gossip key in $tlsdir (raftcache certs)"
  go run ./cmd/raftcache certs --dir "$tlsdir" >/dev/null
  chmod 0644 "$tlsdir"/*  # read by the containers' user
fi

echo "== compose up: project $project, host ports ${base}-${RC_PORT_PREFIX}8, network ${RC_NET_PREFIX}.0/24 (${COMPOSE[*]})"
dc up -d

# wait_healthy SECONDS: until all 9 containers run and are healthy.
wait_healthy() {
  local t0 deadline ids states
  t0=$(date +%s); deadline=$(( t0 + $1 ))
  while :; do
    ids=$(dc ps -a -q) # -a: compose v2 lists only running containers without it
    states=$(docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}' $ids)
    if [[ $(grep -c '^running/healthy$' <<<"$states") == 9 ]]; then break; fi
    if grep -qv '^running/' <<<"$states"; then
      echo "a container is not running: $(sort <<<"$states" | uniq -c | tr '\n' ' ')" >&2; return 1
    fi
    if (( $(date +%s) > deadline )); then
      echo "not all containers healthy after $1 s: $(sort <<<"$states" | uniq -c | tr '\n' ' ')" >&2; return 1
    fi
    sleep 1
  done
  echo "   all 9 healthy after $(( $(date +%s) - t0 ))s"
}

# cluster_check: redis-cli --cluster check passes with 3 masters and 9 nodes.
cluster_check() {
  local check
  check=$("${CLI[@]}" --cluster check "127.0.0.1:${base}" 2>&1) || { echo "$check" >&2; return 1; }
  check=$(sed 's/\x1b\[[0-9;]*m//g' <<<"$check") # no colours
  for want in "All nodes agree about slots configuration" "All 16384 slots covered"; do
    grep -q "$want" <<<"$check" || { echo "$check" >&2; echo "cluster check lacks: $want" >&2; return 1; }
  done
  if [[ $(grep -c '^M: ' <<<"$check") != 3 || $(grep -c '^[MS]: ' <<<"$check") != 9 ]]; then
    echo "$check" >&2; echo "want 3 masters among 9 nodes" >&2; return 1
  fi
  grep '^M: ' <<<"$check" | sed 's/^/   /'
}

echo "== waiting until all 9 containers are healthy (health --require-cluster)"
wait_healthy 90

echo "== redis-cli --cluster check 127.0.0.1:${base}"
cluster_check

echo "== redis-cli -c from the host follows MOVED"
for i in $(seq 0 8); do
  "${CLI[@]}" -c -p "$((base + i))" SET "smoke:cli:$i" "v$i" | grep -qx OK || { echo "SET via 127.0.0.1:$((base + i)) failed" >&2; exit 1; }
  got=$("${CLI[@]}" -c -p "$((base + (i + 4) % 9))" GET "smoke:cli:$i")
  [[ $got == "v$i" ]] || { echo "GET smoke:cli:$i = '$got'" >&2; exit 1; }
done

# The probe writes one key in every slot (fill); then (kill) it kills a
# leader, writes a second key in every slot and reads both back.
probe() { $PY - "$@" <<'PYEOF'
import collections, os, random, subprocess, sys, time
import redis
from redis.crc import key_slot

# SMOKE_TLS: every client connects with TLS, trusting the generated CA.
tls = {"ssl": True, "ssl_ca_certs": os.environ["SMOKE_CA"]} if os.environ.get("SMOKE_CA") else {}

mode, base = sys.argv[1], int(sys.argv[2])
addrs = ["127.0.0.1:%d" % (base + i) for i in range(9)]

# One key per slot, written before the kill; a second key in the same slot
# (same hash tag) is written after it.
keys, filled, i = [None] * 16384, 0, 0
while filled < 16384:
    k = "{smoke:%d}" % i
    s = key_slot(k.encode())
    if keys[s] is None:
        keys[s] = k
        filled += 1
    i += 1
after = [k + ":after" for k in keys]

if mode == "fill":
    # A standard cluster client: redis-py's RedisCluster from one seed.
    rc = redis.RedisCluster(host="127.0.0.1", port=base, socket_timeout=10, **tls)
    pipe = rc.pipeline()
    for s, k in enumerate(keys):
        pipe.set(k, "before")
    res = pipe.execute()
    assert all(r is True for r in res), "pipeline SET failed"
    vals = rc.mget_nonatomic(keys)
    bad = [k for k, v in zip(keys, vals) if v != b"before"]
    assert not bad, "read back %d wrong values, e.g. %s" % (len(bad), bad[:3])
    rc.close()
    print("   wrote and read back 16384 keys (one per slot) with redis-py RedisCluster")
    sys.exit(0)

# mode "kill": docker-kill a shard leader, then measure the cluster, not a
# client library's backoff: route by CLUSTER SLOTS and MOVED ourselves,
# retrying every 50 ms, until every slot took a write.
cid, dead, bound = sys.argv[3], sys.argv[4], float(sys.argv[5])
live = [a for a in addrs if a != dead]
conns = {}
def conn(addr):
    if addr not in conns:
        h, p = addr.rsplit(":", 1)
        conns[addr] = redis.Redis(host=h, port=int(p), socket_timeout=5, socket_connect_timeout=1, **tls)
    return conns[addr]
owner = {}
def refresh():
    for a in random.sample(live, len(live)):
        try:
            for r in conn(a).execute_command("CLUSTER", "SLOTS"):
                m = "%s:%d" % (r[2][0].decode(), r[2][1])
                for s in range(r[0], r[1] + 1):
                    owner[s] = m
            return
        except redis.RedisError:
            conns.pop(a, None)
errors = collections.Counter()
def sweep(op, deadline):
    """Runs op on every slot's key until each succeeded once; returns the
    time the last one succeeded."""
    pending = set(range(16384))
    last_ok = time.time()
    while pending:
        if time.time() > deadline:
            raise SystemExit("%s: %d slots still failing after the bound; errors %s" % (op, len(pending), dict(errors)))
        groups = collections.defaultdict(list)
        for s in pending:
            groups[owner.get(s)].append(s)
        for addr, ss in groups.items():
            if addr is None:
                errors["no owner (slots)"] += len(ss)
                continue
            try:
                p = conn(addr).pipeline(transaction=False)
                for s in ss:
                    if op == "SET":
                        p.set(after[s], "after")
                    else:
                        p.get(keys[s])
                        p.get(after[s])
                res = p.execute(raise_on_error=False)
            except redis.RedisError as e:  # counted once per pipeline
                errors[type(e).__name__ + " (pipelines)"] += 1
                conns.pop(addr, None)
                continue
            now = time.time()
            if op == "GET":  # two replies per slot
                res = [r1 if isinstance(r1, Exception) else r2 if isinstance(r2, Exception) else (r1, r2)
                       for r1, r2 in zip(res[0::2], res[1::2])]
            for s, r in zip(ss, res):
                if isinstance(r, Exception):
                    msg = str(r)
                    if isinstance(r, redis.exceptions.MovedError):
                        owner[s] = "%s:%s" % (r.host, r.port)
                        msg = "MOVED"
                    elif msg.startswith("MOVED "):
                        owner[s] = msg.split(" ")[2]
                    errors[msg.split(" ")[0] + " (replies)"] += 1
                elif op == "GET" and r != (b"before", b"after"):
                    raise SystemExit("slot %d: GET %s, %s = %r after the failover, want before, after (acknowledged writes)"
                                     % (s, keys[s], after[s], r))
                else:
                    pending.discard(s)
                    last_ok = now
        if pending:
            time.sleep(0.05)
            refresh()
    return last_ok

refresh()
t0 = time.time()
subprocess.run(["docker", "kill", cid], check=True, stdout=subprocess.DEVNULL)
t_kill = time.time()
done = sweep("SET", t_kill + bound)
print("   every slot took a write again %.2fs after docker kill returned (kill took %.2fs, bound %.0fs);"
      " errors meanwhile: %s" % (done - t_kill, t_kill - t0, bound, dict(errors) or "none"))
errors.clear()
sweep("GET", time.time() + bound)
print("   every key acknowledged before and after the kill reads back (errors meanwhile: %s)" % (dict(errors) or "none"))
PYEOF
}

echo "== writes to every slot"
probe fill "$base"

# The leader (master) of the shard that owns slot 0.
master=$("${CLI[@]}" -p "$base" CLUSTER NODES | awk '$3 ~ /master/ && $NF ~ /^0-/ {print $2}' | cut -d@ -f1)
[[ -n $master ]] || { "${CLI[@]}" -p "$base" CLUSTER NODES >&2; echo "no master for slot 0" >&2; exit 1; }
idx=$(( ${master##*:} - base ))
svc="rc$((idx + 1))"
cid=$(dc ps -q "$svc")
echo "== docker kill $svc (leader of slots 0-5460, announced as $master), then writes to every slot"
probe kill "$base" "$cid" "$master" 30

echo "== docker start $svc: it comes back on its data volume and rejoins"
docker start "$cid" >/dev/null
wait_healthy 60
cluster_check

echo "== compose-smoke passed in $(( $(date +%s) - start ))s"
