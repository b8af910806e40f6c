package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/raftcache/raftcache/internal/procio"
	"github.com/raftcache/raftcache/internal/testwait"
	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/slots"
)

// startReshardCluster starts dev with shards x 3 replicas and spare nodes.
func startReshardCluster(t *testing.T, shards, spares int) *devCluster {
	t.Helper()
	n := shards*3 + spares
	o := devOptions{shards: shards, replicas: 3, spares: spares, basePort: freeBase(t, n), logLevel: os.Getenv("RAFTCACHE_TEST_LOG")}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var logOut io.Writer = io.Discard
	if o.logLevel != "" {
		logOut = os.Stderr // RAFTCACHE_TEST_LOG=info shows the nodes' logs
	} else {
		o.logLevel = "error"
	}
	dc, err := startDev(ctx, o, logOut)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dc.close)
	return dc
}

// adminOf returns an Admin client talking to instance i.
func adminOf(t *testing.T, dc *devCluster, i int) adminv1.AdminClient {
	t.Helper()
	return adminClient(t, dc.instances[i].node.GRPCAddr())
}

// workload writes and reads keys through a go-redis ClusterClient and
// records every acknowledged write and every error a client call returned.
type workload struct {
	dc      *devCluster
	terms   *termWatch // elections during the run, new shards' included
	c       *redis.ClusterClient
	stop    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	acked   map[string]int64 // key -> last acknowledged value
	errs    []string
	writes  atomic.Int64
	reads   atomic.Int64
	keysPer int
}

func startWorkload(t *testing.T, dc *devCluster, writers, readers, keysPer int, opts *redis.ClusterOptions) *workload {
	w := &workload{dc: dc, c: clusterClient(t, dc, opts), stop: make(chan struct{}), acked: map[string]int64{}, keysPer: keysPer}
	w.terms = watchTerms(dc, w.stop, &w.wg)
	for i := 0; i < writers; i++ {
		w.wg.Add(1)
		go func(id int) {
			defer w.wg.Done()
			ctx := context.Background()
			for seq := int64(1); ; seq++ {
				select {
				case <-w.stop:
					return
				default:
				}
				k := fmt.Sprintf("w%d:k%d", id, rand.IntN(keysPer))
				if err := w.c.Set(ctx, k, seq, 0).Err(); err != nil {
					w.fail(fmt.Sprintf("SET %s: %v", k, err))
					continue
				}
				w.writes.Add(1)
				w.mu.Lock()
				w.acked[k] = seq
				w.mu.Unlock()
			}
		}(i)
	}
	for i := 0; i < readers; i++ {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			ctx := context.Background()
			for {
				select {
				case <-w.stop:
					return
				default:
				}
				k := fmt.Sprintf("w%d:k%d", rand.IntN(max(writers, 1)), rand.IntN(keysPer))
				w.mu.Lock()
				floor, known := w.acked[k]
				w.mu.Unlock()
				v, err := w.c.Get(ctx, k).Int64()
				switch {
				case err == redis.Nil && !known:
				case err != nil:
					w.fail(fmt.Sprintf("GET %s: %v", k, err))
				case v < floor:
					w.fail(fmt.Sprintf("GET %s = %d, but %d was acknowledged before the read", k, v, floor))
				}
				w.reads.Add(1)
			}
		}()
	}
	return w
}

func (w *workload) fail(msg string) {
	if w.dc != nil && strings.Contains(msg, "MOVED") {
		msg += " [" + w.dc.slotStates(msg) + "]"
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.errs) < 50 {
		w.errs = append(w.errs, msg)
	}
}

func isRedirectError(e string) bool {
	if strings.Contains(e, "has no leader") {
		return false // an election on the other side of a move, not the move
	}
	for _, w := range []string{"MOVED", "ASK", "TRYAGAIN", "CROSSSLOT"} {
		if strings.Contains(e, w) {
			return true
		}
	}
	return false
}

// termWatch samples every node's Raft term while a workload runs, so that
// elections count even in a shard founded during the run (AddShard) and
// dissolved before its end (RemoveShard).
type termWatch struct {
	mu          sync.Mutex
	first, last map[string]uint64
	newcomers   map[string]bool // no replica when the watch started
}

// watchTerms samples the instances present now (the slice is not read
// again: kill tests replace it) until stop is closed.
func watchTerms(dc *devCluster, stop <-chan struct{}, wg *sync.WaitGroup) *termWatch {
	insts := slices.Clone(dc.instances)
	tw := &termWatch{first: map[string]uint64{}, last: map[string]uint64{}, newcomers: map[string]bool{}}
	sample := func() {
		tw.mu.Lock()
		defer tw.mu.Unlock()
		for _, inst := range insts {
			r := inst.node.Replica()
			if r == nil {
				continue
			}
			term, err := strconv.ParseUint(r.Stats()["term"], 10, 64)
			if err != nil {
				continue
			}
			id := inst.node.ID()
			if _, ok := tw.first[id]; !ok {
				tw.first[id] = term
			}
			tw.last[id] = term
		}
	}
	for _, inst := range insts {
		if inst.node.Replica() == nil {
			tw.newcomers[inst.node.ID()] = true
		}
	}
	sample()
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				sample()
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return tw
}

// elections lists the nodes whose term moved while watched; a shard
// founded during the run counts from its first leader's term (2: a new
// group starts at term 1 and its first election takes it to 2).
func (tw *termWatch) elections() []string {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	var out []string
	for id, last := range tw.last {
		first := tw.first[id]
		if tw.newcomers[id] {
			first = 2
		}
		if last > first {
			out = append(out, fmt.Sprintf("%s:%d->%d", id, first, last))
		}
	}
	sort.Strings(out)
	return out
}

// slotStates describes, for the slot a redirect error names, what every
// node's log and view say (to diagnose redirect loops).
func (dc *devCluster) slotStates(msg string) string {
	f := strings.Fields(msg[strings.Index(msg, "MOVED"):])
	if len(f) < 2 {
		return ""
	}
	n, err := strconv.Atoi(f[1])
	if err != nil {
		return ""
	}
	var out []string
	for _, inst := range dc.instances {
		si, _ := inst.node.FSM().SlotInfo(slots.Slot(n))
		out = append(out, fmt.Sprintf("%s(%s sh%d ld=%v %s peer%d v%d route=%q)", inst.node.ID(), inst.gw.Addr(), inst.node.ShardID(),
			inst.node.IsLeader(), si.State, si.Peer, si.Ver, inst.node.Route(slots.Slot(n), false, false, false)))
	}
	return strings.Join(out, " ")
}

// finish stops the clients and checks that no call failed and that every
// acknowledged write is present, once, on the shard that owns its slot.
// With faults (a killed leader) client calls may fail; acknowledged writes
// must still all be there (a failed SET may have applied: values only grow).
// Without faults no call may fail, unless a leader election happened on
// the loaded test machine (a term moved): its errors are logged, not
// failed on. Acknowledged writes must be there either way.
func (w *workload) finish(t *testing.T, dc *devCluster, faults bool) {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	elections := w.terms.elections()
	t.Logf("workload: %d writes, %d reads acknowledged, %d failed calls; elections during the run: %v",
		w.writes.Load(), w.reads.Load(), len(w.errs), elections)
	if len(w.errs) > 0 && !faults {
		var redirects []string
		for _, e := range w.errs {
			if isRedirectError(e) {
				redirects = append(redirects, e)
			}
		}
		// A leader election moves leadership under the client too (MOVED
		// chains, CLUSTERDOWN, UNCERTAIN), indistinguishable from a move's
		// redirects, so the zero-error check holds only for runs without
		// one; data checks below hold always.
		switch {
		case len(elections) == 0:
			t.Errorf("%d client calls failed (%d on a redirect), first: %s", len(w.errs), len(redirects), strings.Join(w.errs[:min(5, len(w.errs))], "; "))
		default:
			t.Logf("tolerated, leader elections %v on the loaded machine: %d failed calls (%d redirects), first: %s",
				elections, len(w.errs), len(redirects), strings.Join(w.errs[:min(5, len(w.errs))], "; "))
		}
	}
	// A write that failed during an election may still have applied.
	faults = faults || len(elections) > 0
	for _, e := range w.errs {
		if strings.Contains(e, "was acknowledged before the read") {
			t.Errorf("stale read: %s", e)
		}
	}
	ctx := context.Background()
	for k, want := range w.acked {
		got, err := w.c.Get(ctx, k).Int64()
		if err != nil || got < want || !faults && got != want {
			t.Fatalf("after resharding GET %s = %d, %v; want %d", k, got, err, want)
		}
	}
	// Exactly once: the shard leaders together hold each key once.
	var sum atomic.Int64
	err := w.c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		n, err := m.DBSize(ctx).Result()
		sum.Add(n)
		return err
	})
	total := sum.Load()
	if err != nil {
		t.Fatal(err)
	}
	if total != int64(len(w.acked)) && !(faults && total >= int64(len(w.acked))) {
		t.Fatalf("masters hold %d keys in all, %d distinct keys were written", total, len(w.acked))
	}
	clusterCheck(t, dc)
}

func clusterCheck(t *testing.T, dc *devCluster) {
	t.Helper()
	var out []byte
	var err error
	for try := 0; try < 30; try++ {
		out, err = exec.Command("redis-cli", "--cluster", "check", dc.addrs()[0]).CombinedOutput()
		if err == nil && !strings.Contains(string(out), "[WARNING]") && !strings.Contains(string(out), "[ERR]") {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("redis-cli --cluster check: %v\n%s", err, out)
}

func shardSlots(t *testing.T, ac adminv1.AdminClient) map[int32]uint32 {
	t.Helper()
	r, err := ac.DescribeCluster(context.Background(), &adminv1.DescribeClusterRequest{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]uint32{}
	for _, s := range r.GetShards() {
		out[s.GetId()] = s.GetSlotCount()
	}
	return out
}

// TestReshardUnderLoad grows a 2-shard cluster to 3 shards (AddShard,
// balanced by keys), rebalances by slots and shrinks it back (RemoveShard)
// while go-redis ClusterClients (default options) and a redis-py
// RedisCluster keep reading and writing: no client call may fail, every
// acknowledged write is on its owning shard exactly once, and
// redis-cli --cluster check passes.
func TestReshardUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("resharding e2e")
	}
	dc := startReshardCluster(t, 2, 3)
	ac := adminOf(t, dc, 0)
	w := startWorkload(t, dc, 4, 4, 300, nil)
	py := startRedisPyLoop(t, dc)
	time.Sleep(500 * time.Millisecond)

	ctx := context.Background()
	// A function library on every shard: the new shard gets it with its
	// first slot, so FCALL works on the keys that move there.
	cc := clusterClient(t, dc, nil)
	const lib = "#!lua name=reshardlib\nredis.register_function('getit', function(keys) return redis.call('get', keys[1]) end)"
	if err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error { return m.FunctionLoad(ctx, lib).Err() }); err != nil {
		t.Fatal(err)
	}
	add, err := ac.AddShard(ctx, &adminv1.AddShardRequest{Replicas: 3, Parallelism: 8})
	if err != nil {
		t.Fatal(err)
	}
	mustDone(t, ac, add.GetOperation())
	for _, inst := range dc.instances {
		if inst.node.ShardID() != int(add.GetShard()) {
			continue
		}
		testwait.Eventually(t, 10*time.Second, func() error {
			if codes := inst.node.FSM().LibraryCodes(); len(codes) != 1 || string(codes[0]) != lib {
				return fmt.Errorf("new shard's replica %s has libraries %q", inst.node.ID(), codes)
			}
			return nil
		})
	}
	got := shardSlots(t, ac)
	// Balanced by keys: roughly a third of the slots each.
	if len(got) != 3 || got[add.GetShard()] < 4000 || got[0]+got[1]+got[2] != 16384 {
		t.Fatalf("after AddShard: slots per shard %v", got)
	}

	reb, err := ac.Rebalance(ctx, &adminv1.RebalanceRequest{By: adminv1.RebalanceBy_REBALANCE_BY_SLOTS, Parallelism: 8})
	if err != nil {
		t.Fatal(err)
	}
	if reb.GetOperation() != nil {
		mustDone(t, ac, reb.GetOperation())
	}

	rm, err := ac.RemoveShard(ctx, &adminv1.RemoveShardRequest{Shard: add.GetShard(), Parallelism: 8})
	if err != nil {
		t.Fatal(err)
	}
	mustDone(t, ac, rm.GetOperation())
	got = shardSlots(t, ac)
	if got[add.GetShard()] != 0 || got[0]+got[1] != 16384 {
		t.Fatalf("after RemoveShard: slots per shard %v", got)
	}
	py.finish(t, w.terms.elections())
	w.finish(t, dc, false)
}

// migrateWithKill moves slots from shard 0 to shard 1 under load and kills
// the leader of shard victim midway: the migration must still complete
// with no acknowledged write lost.
func migrateWithKill(t *testing.T, victimShard int) {
	dc := startReshardCluster(t, 2, 0)
	// Drive the operation from a node outside the victim's shard.
	runner := -1
	for i, inst := range dc.instances {
		if f := inst.node.ShardID(); f != victimShard {
			runner = i
			break
		}
	}
	ac := adminOf(t, dc, runner)
	// As with Redis Cluster, a client must reload the topology to leave a
	// dead master.
	w := startWorkload(t, dc, 4, 2, 2000, &redis.ClusterOptions{MaxRedirects: 8, ClusterStateReloadInterval: time.Second})
	time.Sleep(time.Second) // some data in the slots first
	ctx := context.Background()
	r, err := ac.MigrateSlots(ctx, &adminv1.MigrateSlotsRequest{Slots: []*adminv1.SlotRange{{Start: 0, End: 1999}}, TargetShard: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Kill once some slots have moved.
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		o, err := ac.GetOperation(ctx, &adminv1.GetOperationRequest{Id: r.GetOperation().GetId()})
		if err != nil {
			t.Fatal(err)
		}
		if o.GetOperation().GetSlotsDone() >= 100 || o.GetOperation().GetState() != adminv1.OperationState_OPERATION_STATE_RUNNING {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var victim *instance
	for _, inst := range dc.instances {
		if inst.node.ShardID() == victimShard && inst.node.IsLeader() {
			victim = inst
		}
	}
	if victim == nil {
		t.Fatalf("shard %d has no leader to kill", victimShard)
	}
	t.Logf("killing %s, leader of shard %d, mid-migration", victim.node.ID(), victimShard)
	_ = victim.kill()
	var rest []*instance
	for _, inst := range dc.instances {
		if inst != victim {
			rest = append(rest, inst)
		}
	}
	dc.instances = rest
	mustDone(t, ac, r.GetOperation())
	got := shardSlots(t, ac)
	if got[1] < 2000+8192-1 {
		t.Fatalf("after migration: slots per shard %v", got)
	}
	w.finish(t, dc, true)
}

func TestMigrateKillSourceLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("resharding e2e")
	}
	migrateWithKill(t, 0)
}

func TestMigrateKillTargetLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("resharding e2e")
	}
	migrateWithKill(t, 1)
}

// TestMigrateLargeValues moves a slot holding big collections (split into
// parts on the way) and checks them member for member.
func TestMigrateLargeValues(t *testing.T) {
	if testing.Short() {
		t.Skip("resharding e2e")
	}
	dc := startReshardCluster(t, 2, 0)
	ac := adminOf(t, dc, 0)
	c := clusterClient(t, dc, nil)
	ctx := context.Background()
	members := 60000 // several parts per value (migratePartBytes is 1 MB)
	if n, _ := strconv.Atoi(os.Getenv("RAFTCACHE_LARGE_MEMBERS")); n > 0 {
		members = n // e.g. 1000000 for the 1M-member sorted set (by hand)
	}
	pipe := c.Pipeline()
	for i := 0; i < members; i++ {
		m := "member-" + strconv.Itoa(i)
		pipe.HSet(ctx, "{big}h", m, strings.Repeat("x", 32))
		pipe.ZAdd(ctx, "{big}z", redis.Z{Score: float64(i), Member: m})
		if i%1000 == 999 {
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	slot := int(slots.OfString("{big}h"))
	owner := shardOfSlot(t, ac, slot)
	r, err := ac.MigrateSlots(ctx, &adminv1.MigrateSlotsRequest{Slots: []*adminv1.SlotRange{{Start: uint32(slot), End: uint32(slot)}}, TargetShard: int32(1 - owner)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	o := mustDone(t, ac, r.GetOperation())
	t.Logf("moved a %d-field hash and a %d-member zset (%.1f MB) in %v; process peak RSS %s",
		members, members, float64(o.GetBytesMoved())/1e6, time.Since(start).Round(time.Millisecond), peakRSS())
	if o.GetBytesMoved() < uint64(members)*32 {
		t.Fatalf("moved %d bytes", o.GetBytesMoved())
	}
	// An error (e.g. CLUSTERDOWN during an election on a loaded machine)
	// is retried; a wrong count is not an error and stays wrong.
	testwait.Eventually(t, 10*time.Second, func() error {
		hlen, err := c.HLen(ctx, "{big}h").Result()
		if err != nil {
			return fmt.Errorf("HLEN after move: %w", err)
		}
		zcard, err := c.ZCard(ctx, "{big}z").Result()
		if err != nil {
			return fmt.Errorf("ZCARD after move: %w", err)
		}
		score, err := c.ZScore(ctx, "{big}z", "member-54321").Result()
		if err != nil {
			return fmt.Errorf("ZSCORE after move: %w", err)
		}
		if hlen != int64(members) || zcard != int64(members) || score != 54321 {
			t.Fatalf("after move: HLEN %d, ZCARD %d (want %d), ZSCORE member-54321 %v", hlen, zcard, members, score)
		}
		return nil
	})
	if got := shardOfSlot(t, ac, slot); got != 1-owner {
		t.Fatalf("slot %d owned by shard %d after the move", slot, got)
	}
	// By memory, the shard holding the big slot is the heavy one: a
	// rebalance plan moves slots away from it only.
	plan, err := ac.Rebalance(ctx, &adminv1.RebalanceRequest{By: adminv1.RebalanceBy_REBALANCE_BY_MEMORY, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.GetPlan()) == 0 {
		t.Fatal("rebalance by memory plans no move")
	}
	for _, m := range plan.GetPlan() {
		if int(m.GetSourceShard()) != 1-owner {
			t.Fatalf("rebalance by memory moves from shard %d: %v", m.GetSourceShard(), m)
		}
	}
}

func shardOfSlot(t *testing.T, ac adminv1.AdminClient, slot int) int {
	t.Helper()
	r, err := ac.DescribeCluster(context.Background(), &adminv1.DescribeClusterRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.GetShards() {
		for _, rg := range s.GetSlots() {
			if uint32(slot) >= rg.GetStart() && uint32(slot) <= rg.GetEnd() {
				return int(s.GetId())
			}
		}
	}
	t.Fatalf("slot %d has no owner", slot)
	return -1
}

// TestMigrationThroughput is a measurement, not a pass/fail test: run with
// RAFTCACHE_MIGRATION_BENCH=1 (make bench-migrate). It loads a shard, moves
// half its slots to the other shard and prints MB/s, keys/s and a client's
// p50/p99 latency idle and during the move (docs/BENCHMARKS.md).
func TestMigrationThroughput(t *testing.T) {
	if os.Getenv("RAFTCACHE_MIGRATION_BENCH") == "" {
		t.Skip("set RAFTCACHE_MIGRATION_BENCH=1 to measure migration throughput")
	}
	mb, _ := strconv.Atoi(os.Getenv("RAFTCACHE_MIGRATION_MB"))
	if mb <= 0 {
		mb = 200
	}
	par, _ := strconv.Atoi(os.Getenv("RAFTCACHE_MIGRATION_PARALLELISM"))
	if par <= 0 {
		par = 1
	}
	// RAFTCACHE_MIGRATION_PAUSE_PERCENT: the operation's pause_percent
	// (unset: the server's default).
	var pause *uint32
	if v, err := strconv.ParseUint(os.Getenv("RAFTCACHE_MIGRATION_PAUSE_PERCENT"), 10, 32); err == nil {
		p := uint32(v)
		pause = &p
	}
	// RAFTCACHE_MIGRATION_RUNTIME=process: the six replicas as separate
	// `raftcache server` processes (own heaps and GC) instead of one dev
	// process; same two cores and disk.
	var ac adminv1.AdminClient
	var c *redis.ClusterClient
	diskBytes := procio.WriteBytes
	runtime := os.Getenv("RAFTCACHE_MIGRATION_RUNTIME")
	switch runtime {
	case "", "dev":
		runtime = "dev"
		dc := startReshardCluster(t, 2, 0)
		ac = adminOf(t, dc, 0)
		c = clusterClient(t, dc, nil)
	case "process":
		pc := startProcessCluster(t, buildBinary(t), 6, 2)
		ac = adminClient(t, pc.grpc[0])
		c = redis.NewClusterClient(&redis.ClusterOptions{Addrs: pc.addrs})
		t.Cleanup(func() { c.Close() })
		diskBytes = pc.writeBytes
	default:
		t.Fatalf("RAFTCACHE_MIGRATION_RUNTIME %q: want dev or process", runtime)
	}
	ctx := context.Background()
	// Incompressible values: the transfer format (Redis's) LZF-compresses
	// repetitive strings, which would flatter the MB/s.
	rnd := make([]byte, 500)
	for i := range rnd {
		rnd[i] = byte(rand.IntN(256))
	}
	val := fmt.Sprintf("%x", rnd) // 1000 bytes
	keys := mb * 1000
	pipe := c.Pipeline()
	for i := 0; i < keys; i++ {
		pipe.Set(ctx, "bench:"+strconv.Itoa(i), val, 0)
		if i%500 == 499 {
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	probe := func(stop <-chan struct{}, d time.Duration) []time.Duration {
		var lat []time.Duration
		end := time.Now().Add(d)
		for i := 0; ; i++ {
			if stop != nil {
				select {
				case <-stop:
					return lat
				default:
				}
			} else if time.Now().After(end) {
				return lat
			}
			k := "bench:" + strconv.Itoa(rand.IntN(keys))
			st := time.Now()
			var err error
			if i%2 == 0 {
				err = c.Get(ctx, k).Err()
			} else {
				err = c.Set(ctx, k, val, 0).Err()
			}
			if err != nil {
				t.Errorf("%s during measurement: %v", k, err)
			}
			lat = append(lat, time.Since(st))
		}
	}
	idle := probe(nil, 3*time.Second)
	stop := make(chan struct{})
	var during []time.Duration
	done := make(chan struct{})
	go func() { during = probe(stop, 0); close(done) }()
	// Profiles of the move alone (not of the load before it), to files
	// named by the environment: a CPU profile, and a runtime trace (what
	// the client's operations wait for: go tool trace -pprof=sched|sync).
	capture := func(env string, begin func(io.Writer) error) {
		path := os.Getenv(env)
		if path == "" {
			return
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if err := begin(f); err != nil {
			t.Fatal(err)
		}
	}
	capture("RAFTCACHE_MIGRATION_CPUPROFILE", pprof.StartCPUProfile)
	capture("RAFTCACHE_MIGRATION_TRACE", trace.Start)
	// An allocation profile of the move: the process's allocations up to
	// its start (PATH.base) and its end (PATH); go tool pprof -base.
	allocs := func(suffix string) {
		if path := os.Getenv("RAFTCACHE_MIGRATION_ALLOCPROFILE"); path != "" {
			goruntime.GC() // the profile is as of the last collection
			if err := writeProfile("allocs", path+suffix); err != nil {
				t.Fatal(err)
			}
		}
	}
	allocs(".base")
	var ms0, ms1 goruntime.MemStats
	goruntime.ReadMemStats(&ms0)
	w0, okIO := diskBytes()
	r, err := ac.MigrateSlots(ctx, &adminv1.MigrateSlotsRequest{Slots: []*adminv1.SlotRange{{Start: 0, End: 4095}}, TargetShard: 1, Parallelism: uint32(par), PausePercent: pause})
	if err != nil {
		t.Fatal(err)
	}
	o := mustDone(t, ac, r.GetOperation())
	// The operation's own start and finish: the watch stream reports the
	// end up to 100 ms late (it coalesces updates).
	took := o.GetFinished().AsTime().Sub(o.GetStarted().AsTime())
	w1, _ := diskBytes()
	goruntime.ReadMemStats(&ms1)
	allocs("")
	pprof.StopCPUProfile()
	trace.Stop()
	close(stop)
	<-done
	pct := func(l []time.Duration, p float64) time.Duration {
		if len(l) == 0 {
			return 0
		}
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		return l[int(float64(len(l)-1)*p)]
	}
	pauseDesc := "default"
	if pause != nil {
		pauseDesc = strconv.Itoa(int(*pause))
	}
	t.Logf("%s, parallelism %d, pause %s%%: moved %d keys, %.1f MB in %v: %.1f MB/s, %.0f keys/s", runtime, par,
		pauseDesc, o.GetKeysMoved(), float64(o.GetBytesMoved())/1e6, took.Round(time.Millisecond),
		float64(o.GetBytesMoved())/1e6/took.Seconds(), float64(o.GetKeysMoved())/took.Seconds())
	if okIO && o.GetBytesMoved() > 0 {
		// A move writes each byte at least 3 times (the target's log on
		// every replica).
		t.Logf("disk writes during the move: %.0f MB, %.1f bytes per byte moved", float64(w1-w0)/1e6, float64(w1-w0)/float64(o.GetBytesMoved()))
	}
	if runtime == "dev" && o.GetBytesMoved() > 0 {
		// The whole cluster shares this heap: what it allocated per byte
		// moved and how many collections the move paid for.
		t.Logf("allocated during the move: %.0f MB, %.1f bytes per byte moved; %d GC cycles, heap %.0f MB after",
			float64(ms1.TotalAlloc-ms0.TotalAlloc)/1e6, float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(o.GetBytesMoved()),
			ms1.NumGC-ms0.NumGC, float64(ms1.HeapAlloc)/1e6)
	}
	// Even operations are GETs, odd ones SETs (probe).
	split := func(l []time.Duration, odd int) []time.Duration {
		var out []time.Duration
		for i := odd; i < len(l); i += 2 {
			out = append(out, l[i])
		}
		return out
	}
	gi, si, gd, sd := split(idle, 0), split(idle, 1), split(during, 0), split(during, 1)
	t.Logf("client latency idle: p50 %v p99 %v (%d ops); during migration: p50 %v p99 %v (%d ops); p99 ratio %.1fx",
		pct(idle, .5), pct(idle, .99), len(idle), pct(during, .5), pct(during, .99), len(during),
		float64(pct(during, .99))/float64(pct(idle, .99)))
	t.Logf("p99 by command: GET idle %v during %v; SET idle %v during %v", pct(gi, .99), pct(gd, .99), pct(si, .99), pct(sd, .99))
}

// writeProfile writes the named runtime profile to path.
func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// redisPyLoop runs Debian's redis-py RedisCluster (SET then GET of its own
// keys) until told to stop: redis-py 4.3 fails on an ASK to a node absent
// from CLUSTER SLOTS, which a new shard's first slots must avoid.
type redisPyLoop struct {
	cmd  *exec.Cmd
	stop string
	out  strings.Builder
}

func startRedisPyLoop(t *testing.T, dc *devCluster) *redisPyLoop {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import redis").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3-redis is required in CI")
		}
		t.Log("python3-redis not installed: no redis-py client during resharding")
		return nil
	}
	script := `
import os, sys
from redis.cluster import RedisCluster
rc = RedisCluster(host=sys.argv[1], port=int(sys.argv[2]))
n, errs, redirects, askbug = 0, [], 0, 0
while not os.path.exists(sys.argv[3]):
    k = "py:%d" % (n % 500)
    try:
        rc.set(k, n)
        v = rc.get(k)
        if v is None or int(v) != n:
            errs.append("GET %s = %r, want %d" % (k, v, n))
    except AttributeError as e:
        # redis-py 4.3 follows an ASK only to a node it already knows from
        # CLUSTER SLOTS; a brand-new shard's leader may not be (known bug).
        if "server_type" not in repr(e):
            raise
        askbug += 1
    except Exception as e:
        errs.append("%s: %r" % (k, e))
        if any(w in repr(e) for w in ("Moved", "Ask", "TryAgain", "MOVED", "ASK", "TRYAGAIN")):
            redirects += 1
    n += 1
for i in range(min(n, 500)):
    try:
        rc.delete("py:%d" % i)
    except Exception as e:
        errs.append("DEL: %r" % e)
print("ops %d redirects %d errors %d askbug %d %s" % (n, redirects, len(errs), askbug, "; ".join(errs[:3])))
`
	host, port, _ := strings.Cut(dc.addrs()[0], ":")
	l := &redisPyLoop{stop: t.TempDir() + "/stop"}
	l.cmd = exec.Command(py, "-c", script, host, port, l.stop)
	l.cmd.Stdout, l.cmd.Stderr = &l.out, &l.out
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if l.cmd.ProcessState == nil {
			_ = l.cmd.Process.Kill()
			_ = l.cmd.Wait()
		}
	})
	return l
}

// finish stops the loop: redis-py must have seen no redirect error, and no
// error at all unless a leader election happened (elections non-empty).
func (l *redisPyLoop) finish(t *testing.T, elections []string) {
	t.Helper()
	if l == nil {
		return
	}
	if err := os.WriteFile(l.stop, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := l.cmd.Wait()
	out := strings.TrimSpace(l.out.String())
	if i := strings.LastIndex(out, "ops "); i >= 0 {
		out = out[i:] // redis-py may log handled exceptions before
	}
	t.Logf("redis-py: %s", out)
	var ops, redirects, errs, askbug int
	if _, perr := fmt.Sscanf(out, "ops %d redirects %d errors %d askbug %d", &ops, &redirects, &errs, &askbug); err != nil || perr != nil {
		t.Fatalf("redis-py during resharding: %v: %s", err, out)
	}
	if askbug > 0 {
		// Known limitation, documented in README: redis-py 4.3 (Debian
		// 12) fails on an ASK to a node missing from its topology cache.
		t.Logf("redis-py 4.3 failed %d calls on an ASK to the new shard's leader (known client bug)", askbug)
	}
	if (redirects > 0 || errs > 0) && len(elections) == 0 {
		t.Fatalf("redis-py during resharding (elections %v): %s", elections, out)
	}
}

// peakRSS reports the process's peak resident set (Linux), for the log.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}
