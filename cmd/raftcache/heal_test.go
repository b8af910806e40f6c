package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/raftcache/raftcache/node"
	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/shard"
)

// startHealCluster starts dev with 1 shard x 3 replicas, spares spare nodes
// and self-healing after replaceAfter.
func startHealCluster(t *testing.T, spares int, replaceAfter time.Duration) *devCluster {
	t.Helper()
	o := devOptions{shards: 1, replicas: 3, spares: spares, basePort: freeBase(t, 3+spares), logLevel: "error", replaceAfter: replaceAfter}
	var logOut io.Writer = io.Discard
	if lvl := os.Getenv("RAFTCACHE_TEST_LOG"); lvl != "" {
		logOut, o.logLevel = os.Stderr, lvl // RAFTCACHE_TEST_LOG=info shows the nodes' logs
	}
	return startDevClusterLogs(t, o, logOut)
}

// raftMembers returns "id:voter|nonvoter" of the Raft configuration as the
// shard's current leader among live sees it.
func raftMembers(t *testing.T, live []*instance) (leader *instance, members map[string]raft.ServerSuffrage) {
	t.Helper()
	for _, inst := range live {
		r := inst.node.Replica()
		if r == nil || !r.IsLeader() {
			continue
		}
		cf := r.Raft().GetConfiguration()
		if cf.Error() != nil {
			continue
		}
		members = map[string]raft.ServerSuffrage{}
		for _, s := range cf.Configuration().Servers {
			members[string(s.ID)] = s.Suffrage
		}
		return inst, members
	}
	return nil, nil
}

func describeMembers(m map[string]raft.ServerSuffrage) string {
	var out []string
	for id, s := range m {
		out = append(out, id+":"+s.String())
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

func follower(t *testing.T, dc *devCluster) *instance {
	t.Helper()
	leader := dc.leader(t)
	for _, inst := range dc.instances {
		if inst != leader && inst.node.Replica() != nil {
			return inst
		}
	}
	t.Fatal("no follower")
	return nil
}

func without(all []*instance, drop ...*instance) []*instance {
	var out []*instance
	for _, inst := range all {
		keep := true
		for _, d := range drop {
			keep = keep && inst != d
		}
		if keep {
			out = append(out, inst)
		}
	}
	return out
}

// devRaftAddr is inst's Raft address, as fault specs name it (dev puts it
// at the client port plus node.RaftPortOffset, on the bind address).
func devRaftAddr(dc *devCluster, inst *instance) string {
	cfg := dc.configs[indexOf(dc, inst.node.ID())]
	return net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.Port+node.RaftPortOffset))
}

// rejoinConfig is the config of instance i for a restart, joining gossip
// through via (dev's first node has no join address: it is the seed).
func rejoinConfig(dc *devCluster, i int, via *instance) node.Config {
	cfg := dc.configs[i]
	cfg.Join = []string{fmt.Sprintf("127.0.0.1:%d", dc.configs[indexOf(dc, via.node.ID())].Port+node.GossipPortOffset)}
	return cfg
}

func replaceOps(t *testing.T, ac adminv1.AdminClient) []*adminv1.Operation {
	t.Helper()
	resp, err := ac.ListOperations(context.Background(), &adminv1.ListOperationsRequest{AllNodes: true})
	if err != nil {
		t.Fatal(err)
	}
	var out []*adminv1.Operation
	for _, o := range resp.GetOperations() {
		if o.GetKind() == adminv1.OperationKind_OPERATION_KIND_REPLACE_NODE {
			out = append(out, o)
		}
	}
	return out
}

// TestSelfHealingReplacesDeadFollower kills a follower of a 3-replica shard
// with one spare: the leader adds the spare (a voter with every key), drops
// the dead member from the Raft configuration, writes go on throughout
// (none fails), and the dead node, restarted, finds itself removed and
// becomes a spare.
func TestSelfHealingReplacesDeadFollower(t *testing.T) { testSelfHealing(t, false) }

// TestSelfHealingReplacesDeadLeader: the same when the leader dies; the new
// leader counts the lost member's silence from its own election.
func TestSelfHealingReplacesDeadLeader(t *testing.T) { testSelfHealing(t, true) }

func testSelfHealing(t *testing.T, killLeader bool) {
	const replaceAfter = 2 * time.Second
	dc := startHealCluster(t, 1, replaceAfter)
	ctx := context.Background()
	c := clusterClient(t, dc, &redis.ClusterOptions{MaxRedirects: 8, ClusterStateReloadInterval: time.Second})
	var keys []string
	for i := 0; i < 300; i++ {
		k := fmt.Sprintf("heal:%d", i)
		if err := c.Set(ctx, k, "v"+k, 0).Err(); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	spare := dc.instances[3]
	if spare.node.Replica() != nil {
		t.Fatal("n4 should be a spare")
	}
	dead := follower(t, dc)
	if killLeader {
		dead = dc.leader(t)
	}
	deadIdx := indexOf(dc, dead.node.ID())

	// Writes keep going while the follower is gone and being replaced.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var writes, errs atomic.Int64
	var lastErr atomic.Value
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			if err := c.Set(ctx, fmt.Sprintf("during:%d", i), i, 0).Err(); err != nil {
				errs.Add(1)
				lastErr.Store(err.Error())
			} else {
				writes.Add(1)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	killed := time.Now()
	if err := dead.kill(); err != nil {
		t.Fatal(err)
	}
	live := without(dc.instances, dead)
	var members map[string]raft.ServerSuffrage
	testwait.Eventually(t, 90*time.Second, func() error {
		var l *instance
		l, members = raftMembers(t, live)
		if l == nil {
			return fmt.Errorf("no leader")
		}
		_, deadIn := members[dead.node.ID()]
		if members[spare.node.ID()] != raft.Voter || deadIn || len(members) != 3 {
			return fmt.Errorf("configuration %s: want the spare %s a voter and %s gone", describeMembers(members), spare.node.ID(), dead.node.ID())
		}
		return nil
	})
	healed := time.Since(killed)
	stop.Store(true)
	wg.Wait()
	t.Logf("replaced %s by %s %v after the kill (replace-after %v); %d writes meanwhile, %d errors (last: %v)",
		dead.node.ID(), spare.node.ID(), healed, replaceAfter, writes.Load(), errs.Load(), lastErr.Load())
	if writes.Load() == 0 {
		t.Fatal("no write succeeded while the follower was replaced")
	}
	if errs.Load() > 0 && !killLeader {
		// A follower loss does not stop a 3-voter shard: no write may fail.
		t.Fatalf("%d writes failed, last: %v", errs.Load(), lastErr.Load())
	}

	ac := adminClient(t, live[0].node.GRPCAddr())
	// The configuration can show the removal before the operation has
	// returned from it (and from its best-effort LeaveShard to the dead node).
	testwait.Eventually(t, 15*time.Second, func() error {
		ops := replaceOps(t, ac)
		if len(ops) != 1 || ops[0].GetState() == adminv1.OperationState_OPERATION_STATE_RUNNING {
			return fmt.Errorf("want one finished REPLACE_NODE operation, got %v", ops)
		}
		if ops[0].GetState() != adminv1.OperationState_OPERATION_STATE_DONE {
			t.Fatalf("REPLACE_NODE operation did not succeed: %v", ops[0])
		}
		return nil
	})
	// The new replica has every key (READONLY reads on it), and writes go on.
	sh := findShard(describe(t, ac), 0)
	checkReplicaHasKeys(t, spare, sh, keys)
	for i := 0; i < 100; i++ {
		if err := c.Set(ctx, fmt.Sprintf("after:%d", i), i, 0).Err(); err != nil {
			t.Fatalf("write after the replacement: %v", err)
		}
	}

	// The dead node comes back on its data dir: it finds itself out of the
	// group and becomes a spare instead of serving the shard.
	back, err := startInstance(ctx, rejoinConfig(dc, deadIdx, live[0]))
	if err != nil {
		t.Fatal(err)
	}
	dc.instances[deadIdx] = back
	testwait.Eventually(t, 30*time.Second, func() error {
		if !back.node.IsSpare() || back.node.Replica() != nil {
			return fmt.Errorf("returned node %s is not a spare yet", back.node.ID())
		}
		return nil
	})
	_, members = raftMembers(t, live)
	if _, in := members[back.node.ID()]; in || len(members) != 3 {
		t.Fatalf("returned node rejoined the group: %s", describeMembers(members))
	}
	r := redis.NewClient(&redis.Options{Addr: back.gw.Addr().String(), MaxRetries: -1})
	defer r.Close()
	conn := r.Conn()
	defer conn.Close()
	if err := conn.ReadOnly(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := conn.Get(ctx, keys[0]).Result(); err == nil {
		t.Fatalf("the removed node still serves reads: GET %s = %q", keys[0], v)
	}
}

// TestSelfHealingHoldsBack checks what must not be replaced: a follower
// that returns before replace-after, and, with no spare, a dead follower
// (it stays in the configuration: nothing is removed).
func TestSelfHealingHoldsBack(t *testing.T) {
	const replaceAfter = 4 * time.Second
	dc := startHealCluster(t, 1, replaceAfter)
	ctx := context.Background()
	spare := dc.instances[3]
	ac := adminClient(t, dc.leader(t).node.GRPCAddr())

	// A follower down for less than replace-after is kept.
	f := follower(t, dc)
	i := indexOf(dc, f.node.ID())
	if err := f.kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(replaceAfter / 4)
	back, err := startInstance(ctx, rejoinConfig(dc, i, spare))
	if err != nil {
		t.Fatal(err)
	}
	dc.instances[i] = back
	time.Sleep(2 * replaceAfter)
	_, members := raftMembers(t, dc.instances)
	if len(members) != 3 || members[back.node.ID()] != raft.Voter {
		t.Fatalf("configuration changed after a short outage: %s", describeMembers(members))
	}
	if !spare.node.IsSpare() || len(replaceOps(t, ac)) != 0 {
		t.Fatalf("a follower back within replace-after was replaced: ops %v", replaceOps(t, ac))
	}

	// Without a spare, a dead follower stays a member.
	if err := spare.close(); err != nil {
		t.Fatal(err)
	}
	live := without(dc.instances, spare)
	testwait.Eventually(t, 30*time.Second, func() error {
		for _, inst := range live {
			if len(inst.node.Spares()) != 0 {
				return fmt.Errorf("%s still sees spares %v", inst.node.ID(), inst.node.Spares())
			}
		}
		return nil
	})
	leader := dc.leader(t)
	f = follower(t, dc)
	if err := f.kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * replaceAfter)
	_, members = raftMembers(t, without(live, f))
	if len(members) != 3 || members[f.node.ID()] != raft.Voter {
		t.Fatalf("with no spare the configuration changed: %s", describeMembers(members))
	}
	if ops := replaceOps(t, adminClient(t, leader.node.GRPCAddr())); len(ops) != 0 {
		t.Fatalf("with no spare a replacement ran: %v", ops)
	}
	// The shard still works on its two remaining voters.
	c := redis.NewClient(&redis.Options{Addr: dc.leader(t).gw.Addr().String(), MaxRetries: -1})
	defer c.Close()
	if err := c.Set(ctx, "{x}still", "up", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestWipedReplicaRejoins kills a follower, deletes its data dir and starts
// it again under the same id: it must not come back as a voter with an
// empty log (it could elect a replica lacking writes it had acknowledged);
// it rejoins through an ADD_REPLICA operation (removed, added as a
// non-voter, caught up, promoted) and then holds every key.
func TestWipedReplicaRejoins(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster e2e")
	}
	dc := startHealCluster(t, 0, 0)
	ctx := context.Background()
	c := clusterClient(t, dc, &redis.ClusterOptions{MaxRedirects: 8})
	var keys []string
	write := func(prefix string, n int) {
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("%s:%d", prefix, i)
			if err := c.Set(ctx, k, "v"+k, 0).Err(); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k)
		}
	}
	write("before", 200)
	wiped, idx := wipeFollower(t, dc)
	write("while-down", 200) // two voters of three keep committing
	live := without(dc.instances, wiped)
	back, err := startInstance(ctx, rejoinConfig(dc, idx, live[0]))
	if err != nil {
		t.Fatal(err)
	}
	dc.instances[idx] = back
	checkRejoined(t, live, back, keys)
	write("after", 50)
}

// wipeFollower kills a follower of dc and deletes its data dir (a replaced
// disk); it returns the instance and its index in dc.
func wipeFollower(t *testing.T, dc *devCluster) (*instance, int) {
	t.Helper()
	wiped := follower(t, dc)
	idx := indexOf(dc, wiped.node.ID())
	if err := wiped.kill(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dc.configs[idx].DataDir); err != nil {
		t.Fatal(err)
	}
	return wiped, idx
}

// checkRejoined waits until back, a wiped node restarted under its old id,
// is a voter of shard 0 again beside live; it must have come back through
// exactly one ADD_REPLICA operation (non-voter, caught up, promoted) and
// hold every one of keys.
func checkRejoined(t *testing.T, live []*instance, back *instance, keys []string) {
	t.Helper()
	id := back.node.ID()
	testwait.Eventually(t, 60*time.Second, func() error {
		_, members := raftMembers(t, live)
		if members[id] != raft.Voter || len(members) != 3 || back.node.Replica() == nil {
			return fmt.Errorf("configuration %s: want %s a voter again", describeMembers(members), id)
		}
		return nil
	})
	// The operation reports done a moment after the promotion commits (it
	// then waits for its node's gossip view): wait for it to end, then
	// want exactly one, finished.
	ac := adminClient(t, live[0].node.GRPCAddr())
	var adds []*adminv1.Operation
	testwait.Eventually(t, 20*time.Second, func() error {
		resp, err := ac.ListOperations(context.Background(), &adminv1.ListOperationsRequest{AllNodes: true})
		if err != nil {
			return err
		}
		adds = adds[:0]
		for _, o := range resp.GetOperations() {
			if o.GetKind() == adminv1.OperationKind_OPERATION_KIND_ADD_REPLICA && strings.Contains(o.GetDescription(), id) {
				adds = append(adds, o)
				if o.GetState() == adminv1.OperationState_OPERATION_STATE_RUNNING {
					return fmt.Errorf("ADD_REPLICA %s still running: %s", o.GetId(), o.GetStep())
				}
			}
		}
		return nil
	})
	if len(adds) != 1 || adds[0].GetState() != adminv1.OperationState_OPERATION_STATE_DONE {
		t.Fatalf("want one finished ADD_REPLICA operation for %s (rejoin as a non-voter), got %v", id, adds)
	}
	checkReplicaHasKeys(t, back, findShard(describe(t, ac), 0), keys)
}

// TestWipedReplicaWaitsForALeader: a node that lost its data dir comes
// back while its shard has no leader (the two others cannot reach each
// other). It must not found the shard again from the formation plan (as an
// empty voter it could elect a replica lacking acknowledged writes); it
// waits, and once the shard has a leader again it rejoins through an
// ADD_REPLICA operation and holds every key.
func TestWipedReplicaWaitsForALeader(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster e2e")
	}
	faults := shard.NewFaults()
	dc := startDevCluster(t, devOptions{shards: 1, replicas: 3, basePort: freeBase(t, 3), logLevel: "error", faults: faults})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := clusterClient(t, dc, &redis.ClusterOptions{MaxRedirects: 8})
	var keys []string
	for i := 0; i < 100; i++ {
		k := fmt.Sprintf("k:%d", i)
		testwait.Eventually(t, 10*time.Second, func() error { return c.Set(ctx, k, "v"+k, 0).Err() })
		keys = append(keys, k)
	}
	wiped, idx := wipeFollower(t, dc)
	live := without(dc.instances, wiped)
	faults.Partition([]string{devRaftAddr(dc, live[0])}, []string{devRaftAddr(dc, live[1])})
	testwait.Eventually(t, 30*time.Second, func() error {
		for _, inst := range live {
			if inst.node.IsLeader() {
				return fmt.Errorf("%s still leads", inst.node.ID())
			}
		}
		return nil
	})
	back, err := startInstance(ctx, rejoinConfig(dc, idx, live[0]))
	if err != nil {
		t.Fatal(err)
	}
	dc.instances[idx] = back
	// Without a leader to ask, the plan would have it found the shard
	// within a gossip round; give it several.
	time.Sleep(3 * time.Second)
	if back.node.Replica() != nil {
		t.Fatal("the wiped node started a replica while its shard had no leader (founded it again as an empty voter)")
	}
	faults.Heal()
	checkRejoined(t, live, back, keys)
}

// TestAddReplicaEndsWhenTargetDropsItsReplica: an AddReplica whose new
// replica goes away while it catches up (the node judged itself removed,
// or came back as a spare) fails with a clear error at once instead of
// waiting out the catch-up timeout (10 minutes); a wiped node's rejoin
// (node/rejoin.go) then retries instead of staying a spare.
func TestAddReplicaEndsWhenTargetDropsItsReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster e2e")
	}
	faults := shard.NewFaults()
	dc := startDevCluster(t, devOptions{shards: 1, replicas: 3, spares: 1, basePort: freeBase(t, 4), logLevel: "error", faults: faults})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	raftAddr := func(i int) string { return devRaftAddr(dc, dc.instances[i]) }
	spare := dc.instances[3]
	if spare.node.Replica() != nil {
		t.Fatal("n4 should be a spare")
	}
	// More entries than the lag a caught-up replica may have.
	c := clusterClient(t, dc, &redis.ClusterOptions{MaxRedirects: 8})
	for i := 0; i < 200; i++ {
		testwait.Eventually(t, 10*time.Second, func() error { return c.Set(ctx, fmt.Sprintf("k%d", i), "v", 0).Err() })
	}
	// The voters' Raft messages never reach the spare: it cannot catch up.
	faults.Partition([]string{raftAddr(3)}, []string{raftAddr(0), raftAddr(1), raftAddr(2)})
	ac := adminClient(t, dc.instances[0].node.GRPCAddr())
	resp, err := ac.AddReplica(ctx, &adminv1.AddReplicaRequest{Shard: 0, Node: spare.node.ID()})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetOperation().GetId()
	getOp := func() *adminv1.Operation {
		t.Helper()
		r, err := ac.GetOperation(ctx, &adminv1.GetOperationRequest{Id: id})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetOperation()
	}
	testwait.Eventually(t, 30*time.Second, func() error {
		if op := getOp(); !strings.Contains(op.GetStep(), "catching up") {
			return fmt.Errorf("operation %s: step %q, state %s", id, op.GetStep(), op.GetState())
		}
		return nil
	})
	cc, err := grpc.NewClient(spare.node.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if _, err := adminv1.NewNodeControlClient(cc).LeaveShard(ctx, &adminv1.LeaveShardRequest{Shard: 0}); err != nil {
		t.Fatal(err)
	}
	var final *adminv1.Operation
	testwait.Eventually(t, 30*time.Second, func() error {
		if final = getOp(); final.GetState() == adminv1.OperationState_OPERATION_STATE_RUNNING {
			return fmt.Errorf("operation %s still running: %s", id, final.GetStep())
		}
		return nil
	})
	if final.GetState() != adminv1.OperationState_OPERATION_STATE_FAILED || !strings.Contains(final.GetError(), "no longer runs a replica") {
		t.Fatalf("operation %s: %s %q, want FAILED because the replica went away", id, final.GetState(), final.GetError())
	}
}
