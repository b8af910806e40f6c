# raftcache make targets. `make test` is the test command README names and
# .ci/run calls.
GO ?= go
PKGS := ./...

.PHONY: build image compose-smoke test test-short fuzz bench failover-bench migrate-bench conformance vet fmt clean proto proto-tools proto-check proto-lint chaos chaos-docker

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/raftcache ./cmd/raftcache
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/raftcachectl ./cmd/raftcachectl

# The container image raftcache:dev (deploy/Dockerfile, FROM scratch): a
# static linux binary in a context directory of its own, so the build sends
# only the binary to the daemon and pulls no base image.
IMAGE ?= raftcache:dev
image:
	mkdir -p bin/image
	CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags '-s -w' -o bin/image/raftcache ./cmd/raftcache
	docker build -t $(IMAGE) -f deploy/Dockerfile bin/image

# The 9-node compose cluster end to end (needs docker, redis-cli, python3-redis).
compose-smoke:
	bash .ci/compose-smoke.sh

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# The full suite: unit, multi-node (in-memory and TCP), end-to-end with
# go-redis and redis-cli, under the race detector.
# One package at a time (-p 1): the cluster, chaos and resharding tests run
# whole clusters under the race detector, and two of them side by side on 2
# cores starve Raft heartbeats into spurious elections.
test:
	$(GO) test -race -shuffle=on -p 1 -timeout 20m $(PKGS)

test-short:
	$(GO) test -short -timeout 10m $(PKGS)

# Short runs of every fuzz target (CI): a fixed number of executions per
# target (about 8 s each here), not a duration: a duration -fuzztime can fail
# with a spurious "context deadline exceeded" at its end (golang/go#75804,
# not fixed in Go 1.26). Set FUZZTIME (e.g. 10m or 5000000x) for longer runs.
FUZZTIME ?=
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeEntry$$' -fuzztime $(or $(FUZZTIME),40000x) ./raftfsm/
	$(GO) test -run '^$$' -fuzz '^FuzzExec$$' -fuzztime $(or $(FUZZTIME),10000x) ./raftfsm/
	$(GO) test -run '^$$' -fuzz '^FuzzEval$$' -fuzztime $(or $(FUZZTIME),3000x) ./raftfsm/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodePayload$$' -fuzztime $(or $(FUZZTIME),40000x) ./raftfsm/
	$(GO) test -run '^$$' -fuzz '^FuzzSlotEntries$$' -fuzztime $(or $(FUZZTIME),300x) ./raftfsm/
	$(GO) test -run '^$$' -fuzz '^FuzzStreamPayload$$' -fuzztime $(or $(FUZZTIME),20000x) ./raftfsm/
	$(GO) test -run '^$$' -fuzz '^FuzzScanRDB$$' -fuzztime $(or $(FUZZTIME),40000x) ./raftfsm/
	$(GO) test -run '^$$' -fuzz '^FuzzHLL$$' -fuzztime $(or $(FUZZTIME),20000x) ./raftfsm/
	$(GO) test -run '^$$' -fuzz '^FuzzGeo$$' -fuzztime $(or $(FUZZTIME),5000x) ./raftfsm/
	$(GO) test -run '^$$' -fuzz '^FuzzHashTag$$' -fuzztime $(or $(FUZZTIME),200000x) ./slots/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeMap$$' -fuzztime $(or $(FUZZTIME),80000x) ./slots/
	$(GO) test -run '^$$' -fuzz '^FuzzRESP$$' -fuzztime $(or $(FUZZTIME),50000x) ./gateway/

# Side-by-side throughput against a real redis-server (needs redis-server
# and redis-tools); results go to docs/BENCHMARKS.md by hand.
bench: build
	bash .ci/bench.sh
	bash .ci/bench-tls.sh
	$(GO) test -run '^$$' -bench . -benchmem ./raftfsm/
	$(GO) test -run '^$$' -bench LogStore -benchtime 64x ./shard/

# Failover-time distribution (docs/BENCHMARKS.md): kill a shard leader
# FAILOVER_RUNS times in an in-process dev 3x3 cluster and in 9 real server
# processes (SIGKILL), report p50/p99/max. FAILOVER_MODES=dev,process,pause.
FAILOVER_RUNS ?= 30
FAILOVER_MODES ?= dev,process
# Slot-migration throughput and client latency during a move (docs/BENCHMARKS.md):
#   make migrate-bench MIGRATE_MB=200 MIGRATE_PARALLELISM=1 MIGRATE_PAUSE=0 MIGRATE_RUNTIME=process
# (MIGRATE_PAUSE: the operation's pause_percent, empty = the server's default;
# MIGRATE_RUNTIME: dev = one process, process = six server processes)
MIGRATE_MB ?= 200
MIGRATE_PARALLELISM ?= 1
MIGRATE_PAUSE ?=
MIGRATE_RUNTIME ?= dev
migrate-bench:
	RAFTCACHE_MIGRATION_BENCH=1 RAFTCACHE_MIGRATION_MB=$(MIGRATE_MB) RAFTCACHE_MIGRATION_RUNTIME=$(MIGRATE_RUNTIME) \
		RAFTCACHE_MIGRATION_PARALLELISM=$(MIGRATE_PARALLELISM) RAFTCACHE_MIGRATION_PAUSE_PERCENT=$(MIGRATE_PAUSE) \
		$(GO) test -run '^TestMigrationThroughput$$' -count=1 -v -timeout 30m ./cmd/raftcache/ | grep -E 'moved|latency|disk|by command|^(ok|FAIL|---)'

failover-bench:
	RAFTCACHE_FAILOVER_RUNS=$(FAILOVER_RUNS) RAFTCACHE_FAILOVER_MODES=$(FAILOVER_MODES) \
		$(GO) test -run '^TestFailoverDistribution$$' -count=1 -v -timeout 60m ./cmd/raftcache/ | grep -E 'run +[0-9]+:|n=|flapping|^(ok|FAIL|---)'

# Redis's own TCL suite against one dev node: make conformance REDIS_GIT=/path/to/redis.git
conformance: build
	bash .ci/conformance.sh

# Protocol buffers (proto/, buf.yaml, buf.gen.yaml). The generated Go code is
# committed; `make proto` installs the pinned generators into bin/tools and
# regenerates it. proto/generate_test.go fails when the committed code is stale.
BUF_VERSION ?= v1.75.0
PROTOC_GEN_GO_VERSION ?= v1.36.12
PROTOC_GEN_GO_GRPC_VERSION ?= v1.6.2
TOOLS := $(CURDIR)/bin/tools

proto-tools:
	GOBIN=$(TOOLS) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)

proto: proto-tools
	PATH=$(TOOLS):$$PATH $(TOOLS)/buf lint
	PATH=$(TOOLS):$$PATH $(TOOLS)/buf generate

proto-lint: proto-tools
	$(TOOLS)/buf lint

# Regenerates into a temporary directory and compares with the committed code
# (builds the pinned tools first if needed; minutes on a cold cache).
proto-check:
	RAFTCACHE_PROTO_CHECK=1 $(GO) test -count=1 -run '^TestGeneratedCodeIsFresh$$' ./proto/

# Chaos soak against real server processes (docs/CHAOS.md):
#   make chaos SEED=42 DURATION=10m NODES=9 FAULTS=kill,pause,partition
SEED ?= 0
DURATION ?= 5m
NODES ?= 9
FAULTS ?= kill,kill-leader,pause,kill-majority,partition,partition-oneway,noise,wipe,disk-stall,disk-error
chaos: build
	./bin/raftcache chaos --seed $(SEED) --duration $(DURATION) --nodes $(NODES) --faults $(FAULTS) --bin ./bin/raftcache $(if $(OUT),--out $(OUT))

# The same against the 9-node compose cluster (docker kill/pause, network
# disconnect, AZ loss); builds the image first:
#   make chaos-docker SEED=42 DURATION=10m
DOCKER_FAULTS ?= kill,kill-leader,pause,kill-majority,disconnect,lose-az,isolate-az
chaos-docker: image build
	./bin/raftcache chaos --runtime docker --seed $(SEED) --duration $(DURATION) --faults $(DOCKER_FAULTS) $(if $(OUT),--out $(OUT))

clean:
	rm -rf bin
