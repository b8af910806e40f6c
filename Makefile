# raftcache make targets. `make test` is the test command README names and
# .ci/run calls.
GO ?= go
PKGS := ./...

.PHONY: build test test-short fuzz bench failover-bench conformance vet fmt clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/raftcache ./cmd/raftcache

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# The full suite: unit, multi-node (in-memory and TCP), end-to-end with
# go-redis and redis-cli, under the race detector.
test:
	$(GO) test -race -shuffle=on -timeout 20m $(PKGS)

test-short:
	$(GO) test -short -timeout 10m $(PKGS)

# Short runs of every fuzz target (CI); set FUZZTIME for longer runs.
FUZZTIME ?= 10s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEntry$$' -fuzztime $(FUZZTIME) ./raftfsm/
	$(GO) test -run '^$$' -fuzz '^FuzzExec$$' -fuzztime $(FUZZTIME) ./raftfsm/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodePayload$$' -fuzztime $(FUZZTIME) ./raftfsm/
	$(GO) test -run '^$$' -fuzz '^FuzzHashTag$$' -fuzztime $(FUZZTIME) ./slots/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeMap$$' -fuzztime $(FUZZTIME) ./slots/
	$(GO) test -run '^$$' -fuzz '^FuzzRESP$$' -fuzztime $(FUZZTIME) ./gateway/

# Side-by-side throughput against a real redis-server (needs redis-server
# and redis-tools); results go to docs/BENCHMARKS.md by hand.
bench: build
	bash .ci/bench.sh
	$(GO) test -run '^$$' -bench . -benchmem ./raftfsm/

# Failover-time distribution (docs/BENCHMARKS.md): kill a shard leader
# FAILOVER_RUNS times in an in-process dev 3x3 cluster and in 9 real server
# processes (SIGKILL), report p50/p99/max. FAILOVER_MODES=dev,process,pause.
FAILOVER_RUNS ?= 30
FAILOVER_MODES ?= dev,process
failover-bench:
	RAFTCACHE_FAILOVER_RUNS=$(FAILOVER_RUNS) RAFTCACHE_FAILOVER_MODES=$(FAILOVER_MODES) \
		$(GO) test -run '^TestFailoverDistribution$$' -count=1 -v -timeout 60m ./cmd/raftcache/ | grep -E 'run +[0-9]+:|n=|flapping|^(ok|FAIL|---)'

# Redis's own TCL suite against one dev node: make conformance REDIS_GIT=/path/to/redis.git
conformance: build
	bash .ci/conformance.sh

clean:
	rm -rf bin
