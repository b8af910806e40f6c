# raftcache make targets. `make test` is the test command README names and
# .ci/run calls.
GO ?= go
PKGS := ./...

.PHONY: build test test-short fuzz bench conformance vet fmt clean chaos

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

# Redis's own TCL suite against one dev node: make conformance REDIS_GIT=/path/to/redis.git
conformance: build
	bash .ci/conformance.sh

# Chaos soak against real server processes (docs/CHAOS.md):
#   make chaos SEED=42 DURATION=10m NODES=9 FAULTS=kill,pause,partition
SEED ?= 0
DURATION ?= 5m
NODES ?= 9
FAULTS ?= kill,kill-leader,pause,kill-majority,partition,partition-oneway,noise
chaos: build
	./bin/raftcache chaos --seed $(SEED) --duration $(DURATION) --nodes $(NODES) --faults $(FAULTS) --bin ./bin/raftcache $(if $(OUT),--out $(OUT))

clean:
	rm -rf bin
