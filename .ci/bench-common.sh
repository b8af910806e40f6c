# Shared by the side-by-side benchmark scripts (sourced): the tools they
# need, the binary, a scratch directory and the cleanup of what they start.
for t in redis-server redis-benchmark redis-cli; do
  command -v $t >/dev/null || { echo "$t missing: apt-get install -y redis-server redis-tools" >&2; exit 2; }
done
[ -x bin/raftcache ] || make build >/dev/null
D=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT
