package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/raftcache/raftcache/internal/testwait"
	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/slots"
)

// Test clusters put gRPC at RESP+5000 (16000-20000 with freeBase's RESP
// ports), outside the ephemeral port range that RESP+30000 falls into.
func init() { devGRPCOffset = 5000 }

// startAdminCluster starts dev with 2 shards x 3 replicas and 3 spares.
func startAdminCluster(t *testing.T) (*devCluster, adminv1.AdminClient) {
	t.Helper()
	o := devOptions{shards: 2, replicas: 3, spares: 3, basePort: freeBase(t, 9), logLevel: "error"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var logOut io.Writer = io.Discard
	if path := os.Getenv("RAFTCACHE_TEST_LOG"); path != "" { // debugging aid: node logs at info
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		logOut, o.logLevel = f, "info"
	}
	dc, err := startDev(ctx, o, logOut)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dc.close)
	return dc, adminClient(t, dc.instances[0].node.GRPCAddr())
}

func adminClient(t *testing.T, addr string) adminv1.AdminClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return adminv1.NewAdminClient(cc)
}

// waitOp follows an operation with WatchOperation until it finishes.
func waitOp(t *testing.T, c adminv1.AdminClient, id string) *adminv1.Operation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := c.WatchOperation(ctx, &adminv1.WatchOperationRequest{Id: id})
	if err != nil {
		t.Fatal(err)
	}
	var last *adminv1.Operation
	for {
		msg, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("watch %s: %v (last: %v)", id, err, last)
		}
		last = msg.GetOperation()
	}
	if last == nil || last.GetState() == adminv1.OperationState_OPERATION_STATE_RUNNING {
		t.Fatalf("watch %s ended while running: %v", id, last)
	}
	return last
}

func mustDone(t *testing.T, c adminv1.AdminClient, op *adminv1.Operation) *adminv1.Operation {
	t.Helper()
	final := waitOp(t, c, op.GetId())
	if final.GetState() != adminv1.OperationState_OPERATION_STATE_DONE {
		t.Fatalf("operation %s (%s): %s: %s", final.GetId(), final.GetDescription(), final.GetState(), final.GetError())
	}
	return final
}

func describe(t *testing.T, c adminv1.AdminClient) *adminv1.DescribeClusterResponse {
	t.Helper()
	d, err := c.DescribeCluster(context.Background(), &adminv1.DescribeClusterRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func findNode(d *adminv1.DescribeClusterResponse, id string) *adminv1.Node {
	for _, n := range d.GetNodes() {
		if n.GetId() == id {
			return n
		}
	}
	return nil
}

func findShard(d *adminv1.DescribeClusterResponse, id int32) *adminv1.Shard {
	for _, s := range d.GetShards() {
		if s.GetId() == id {
			return s
		}
	}
	return nil
}

func (dc *devCluster) byID(id string) *instance {
	for _, inst := range dc.instances {
		if inst.node.ID() == id {
			return inst
		}
	}
	return nil
}

func wantCode(t *testing.T, err error, code codes.Code, contains string) {
	t.Helper()
	if status.Code(err) != code || !strings.Contains(err.Error(), contains) {
		t.Fatalf("got %v, want %s containing %q", err, code, contains)
	}
}

// TestAdminAPI runs the admin API against one dev cluster, step by step:
// describe, bad input, failover (named and AZ-preferred) under a go-redis
// client, add a replica after writes (it has every key), restart it,
// remove it (it becomes a spare again), add and remove an empty shard.
func TestAdminAPI(t *testing.T) {
	dc, ac := startAdminCluster(t)
	ctx := context.Background()

	t.Run("describe", func(t *testing.T) {
		// Leaders and key counts need a settled cluster (the machine may be
		// loaded and elections slow): poll.
		testwait.Eventually(t, 30*time.Second, func() error {
			d := describe(t, ac)
			if d.GetSlotsAssigned() != slots.Count || len(d.GetShards()) != 2 || len(d.GetSpares()) != 3 || len(d.GetNodes()) != 9 {
				return fmt.Errorf("describe: %d slots, %d shards, spares %v, %d nodes", d.GetSlotsAssigned(), len(d.GetShards()), d.GetSpares(), len(d.GetNodes()))
			}
			for _, sh := range d.GetShards() {
				if sh.GetLeader() == "" || len(sh.GetMembers()) != 3 || sh.GetSlotCount() != slots.Count/2 || sh.GetKeys() != 0 || sh.GetCommitIndex() == 0 {
					return fmt.Errorf("shard %v", sh)
				}
				azs := map[string]bool{}
				for _, m := range sh.GetMembers() {
					azs[findNode(d, m).GetAz()] = true
				}
				if len(azs) != 3 {
					return fmt.Errorf("shard %d replicas not in 3 AZs: %v", sh.GetId(), azs)
				}
			}
			roles := map[adminv1.NodeRole]int{}
			for _, n := range d.GetNodes() {
				roles[n.GetRole()]++
				if n.GetGrpcAddr() == "" || len(n.GetClusterId()) != 40 || !n.GetAlive() {
					return fmt.Errorf("node %v", n)
				}
			}
			if roles[adminv1.NodeRole_NODE_ROLE_LEADER] != 2 || roles[adminv1.NodeRole_NODE_ROLE_REPLICA] != 4 || roles[adminv1.NodeRole_NODE_ROLE_SPARE] != 3 {
				return fmt.Errorf("roles %v", roles)
			}
			return nil
		})
		// Any node answers, spares included.
		d2 := describe(t, adminClient(t, dc.instances[8].node.GRPCAddr()))
		if d2.GetAnsweredBy() != "n9" || len(d2.GetShards()) != 2 {
			t.Fatalf("describe from a spare: %v", d2)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		_, err := ac.MigrateSlots(ctx, &adminv1.MigrateSlotsRequest{Slots: []*adminv1.SlotRange{{Start: 10, End: 5}}, TargetShard: 1})
		wantCode(t, err, codes.InvalidArgument, "bad slot range 10-5")
		_, err = ac.MigrateSlots(ctx, &adminv1.MigrateSlotsRequest{Slots: []*adminv1.SlotRange{{Start: 0, End: 16384}}, TargetShard: 1})
		wantCode(t, err, codes.InvalidArgument, "bad slot range")
		_, err = ac.MigrateSlots(ctx, &adminv1.MigrateSlotsRequest{TargetShard: 1})
		wantCode(t, err, codes.InvalidArgument, "no slots")
		_, err = ac.MigrateSlots(ctx, &adminv1.MigrateSlotsRequest{Slots: []*adminv1.SlotRange{{Start: 0, End: 5}}, TargetShard: 7})
		wantCode(t, err, codes.InvalidArgument, "unknown shard 7")
		_, err = ac.MigrateSlots(ctx, &adminv1.MigrateSlotsRequest{Slots: []*adminv1.SlotRange{{Start: 0, End: 5}}, TargetShard: 1, Parallelism: 99})
		wantCode(t, err, codes.InvalidArgument, "parallelism")
		_, err = ac.Failover(ctx, &adminv1.FailoverRequest{Shard: 9})
		wantCode(t, err, codes.InvalidArgument, "unknown shard 9")
		_, err = ac.Failover(ctx, &adminv1.FailoverRequest{Shard: 0, TargetNode: "nope"})
		wantCode(t, err, codes.InvalidArgument, `unknown node "nope"`)
		_, err = ac.Failover(ctx, &adminv1.FailoverRequest{Shard: 0, TargetNode: "n9"})
		wantCode(t, err, codes.InvalidArgument, "not a voting member of shard 0")
		_, err = ac.AddReplica(ctx, &adminv1.AddReplicaRequest{Shard: 0, Node: "nope"})
		wantCode(t, err, codes.InvalidArgument, `unknown node "nope"`)
		_, err = ac.AddReplica(ctx, &adminv1.AddReplicaRequest{Shard: 5})
		wantCode(t, err, codes.InvalidArgument, "unknown shard 5")
		d := describe(t, ac)
		other := findShard(d, 1).GetMembers()[0]
		_, err = ac.AddReplica(ctx, &adminv1.AddReplicaRequest{Shard: 0, Node: other})
		wantCode(t, err, codes.FailedPrecondition, "replicates shard 1")
		_, err = ac.RemoveReplica(ctx, &adminv1.RemoveReplicaRequest{Shard: 0, Node: other})
		wantCode(t, err, codes.InvalidArgument, "not a member of shard 0")
		_, err = ac.RemoveShard(ctx, &adminv1.RemoveShardRequest{Shard: 0, NoDrain: true})
		wantCode(t, err, codes.FailedPrecondition, "still owns 8192 slots")
		_, err = ac.RemoveShard(ctx, &adminv1.RemoveShardRequest{Shard: 4})
		wantCode(t, err, codes.InvalidArgument, "unknown shard 4")
		_, err = ac.AddShard(ctx, &adminv1.AddShardRequest{Replicas: 4})
		wantCode(t, err, codes.FailedPrecondition, "no spare nodes")
		_, err = ac.AddShard(ctx, &adminv1.AddShardRequest{Replicas: 7})
		wantCode(t, err, codes.InvalidArgument, "at most 6")
		_, err = ac.AddShard(ctx, &adminv1.AddShardRequest{Nodes: []string{other}})
		wantCode(t, err, codes.FailedPrecondition, "not an alive spare")
		_, err = ac.GetOperation(ctx, &adminv1.GetOperationRequest{Id: "garbage"})
		wantCode(t, err, codes.InvalidArgument, "malformed operation id")
		_, err = ac.GetOperation(ctx, &adminv1.GetOperationRequest{Id: "n1-999"})
		wantCode(t, err, codes.NotFound, "no operation n1-999")
		_, err = ac.Rebalance(ctx, &adminv1.RebalanceRequest{ThresholdPercent: 500})
		wantCode(t, err, codes.InvalidArgument, "threshold")
	})

	cc := clusterClient(t, dc, &redis.ClusterOptions{ClusterStateReloadInterval: time.Second, MaxRedirects: 16})
	// On a loaded machine (2 shared cores) elections happen on their own;
	// SET is idempotent, so retry an UNCERTAIN or CLUSTERDOWN answer.
	set := func(t *testing.T, k string) {
		t.Helper()
		testwait.Eventually(t, 20*time.Second, func() error { return cc.Set(ctx, k, "v"+k, 0).Err() })
	}
	keys := make([]string, 400)
	for i := range keys {
		keys[i] = fmt.Sprintf("admin:%d", i)
		set(t, keys[i])
	}
	checkKeys := func(t *testing.T) {
		t.Helper()
		for _, k := range keys {
			testwait.Eventually(t, 20*time.Second, func() error {
				if v, err := cc.Get(ctx, k).Result(); err != nil || v != "v"+k {
					return fmt.Errorf("GET %s = %q, %v", k, v, err)
				}
				return nil
			})
		}
	}

	t.Run("failover named", func(t *testing.T) {
		d := describe(t, ac)
		sh := findShard(d, 0)
		var target string
		for _, m := range sh.GetMembers() {
			if m != sh.GetLeader() {
				target = m
				break
			}
		}
		// Ask a node of the other shard: it forwards to shard 0's leader.
		fc := adminClient(t, dc.byID(findShard(d, 1).GetLeader()).node.GRPCAddr())
		resp, err := fc.Failover(ctx, &adminv1.FailoverRequest{Shard: 0, TargetNode: target})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetNewLeader() != target || resp.GetPreviousLeader() != sh.GetLeader() {
			t.Fatalf("failover: %v", resp)
		}
		t.Logf("named failover of shard 0 %s -> %s took %v", resp.GetPreviousLeader(), resp.GetNewLeader(), resp.GetTook().AsDuration())
		if !dc.byID(target).node.IsLeader() {
			t.Fatalf("%s does not lead after the failover", target)
		}
		checkKeys(t)
		set(t, keys[0])
	})

	t.Run("failover AZ-preferred", func(t *testing.T) {
		for _, shard := range []int32{0, 1} {
			d := describe(t, ac)
			prev := findNode(d, findShard(d, shard).GetLeader())
			resp, err := ac.Failover(ctx, &adminv1.FailoverRequest{Shard: shard})
			if err != nil {
				t.Fatal(err)
			}
			next := findNode(d, resp.GetNewLeader())
			if resp.GetPreviousLeader() != prev.GetId() || next == nil || next.GetId() == prev.GetId() || next.GetAz() == prev.GetAz() || next.GetShard() != shard {
				t.Fatalf("AZ-preferred failover of shard %d from %s (%s): %v", shard, prev.GetId(), prev.GetAz(), resp)
			}
		}
		// The go-redis client keeps working: every key reads, writes succeed.
		checkKeys(t)
		for _, k := range keys[:50] {
			set(t, k)
		}
	})

	var added string
	t.Run("add replica", func(t *testing.T) {
		resp, err := ac.AddReplica(ctx, &adminv1.AddReplicaRequest{Shard: 0})
		if err != nil {
			t.Fatal(err)
		}
		added = resp.GetNode()
		final := mustDone(t, ac, resp.GetOperation())
		t.Logf("add replica %s: %s", added, final.GetDescription())
		d := describe(t, ac)
		sh := findShard(d, 0)
		if len(sh.GetMembers()) != 4 || findNode(d, added).GetRole() != adminv1.NodeRole_NODE_ROLE_REPLICA {
			t.Fatalf("after add: shard %v, node %v", sh, findNode(d, added))
		}
		// The replica the writes predate has every key of its shard:
		// READONLY reads from it directly.
		checkReplicaHasKeys(t, dc.byID(added), sh, keys)
	})

	t.Run("added replica survives a restart", func(t *testing.T) {
		i := indexOf(dc, added)
		if err := dc.instances[i].close(); err != nil {
			t.Fatal(err)
		}
		inst, err := startInstance(context.Background(), dc.configs[i])
		if err != nil {
			t.Fatal(err)
		}
		dc.instances[i] = inst
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := inst.node.WaitReady(wctx); err != nil || inst.node.Replica() == nil {
			t.Fatalf("restarted replica: %v", err)
		}
		checkReplicaHasKeys(t, inst, findShard(describe(t, ac), 0), keys)
	})

	t.Run("remove replica", func(t *testing.T) {
		resp, err := ac.RemoveReplica(ctx, &adminv1.RemoveReplicaRequest{Shard: 0, Node: added})
		if err != nil {
			t.Fatal(err)
		}
		mustDone(t, ac, resp.GetOperation())
		testwait.Eventually(t, 10*time.Second, func() error {
			d := describe(t, ac)
			if n := findNode(d, added); n.GetRole() != adminv1.NodeRole_NODE_ROLE_SPARE || len(findShard(d, 0).GetMembers()) != 3 {
				return fmt.Errorf("after remove: node %v, shard %v", n, findShard(d, 0))
			}
			return nil
		})
		inst := dc.byID(added)
		if inst.node.Replica() != nil || !inst.node.IsSpare() {
			t.Fatal("removed node still has a replica")
		}
		moved, _ := filepath.Glob(filepath.Join(dc.configs[indexOf(dc, added)].DataDir, "removed-shard0-*", "raft"))
		if len(moved) != 1 {
			t.Fatalf("raft dir not moved aside: %v", moved)
		}
		if _, err := os.Stat(filepath.Join(dc.configs[indexOf(dc, added)].DataDir, "raft")); !os.IsNotExist(err) {
			t.Fatalf("raft dir still there: %v", err)
		}
		checkKeys(t)
	})

	t.Run("remove the leader replica", func(t *testing.T) {
		// Add a replica to shard 1, then remove shard 1's leader: leadership
		// moves first, the old leader becomes a spare.
		resp, err := ac.AddReplica(ctx, &adminv1.AddReplicaRequest{Shard: 1})
		if err != nil {
			t.Fatal(err)
		}
		mustDone(t, ac, resp.GetOperation())
		leader := findShard(describe(t, ac), 1).GetLeader()
		rr, err := ac.RemoveReplica(ctx, &adminv1.RemoveReplicaRequest{Shard: 1, Node: leader})
		if err != nil {
			t.Fatal(err)
		}
		mustDone(t, ac, rr.GetOperation())
		testwait.Eventually(t, 10*time.Second, func() error {
			d := describe(t, ac)
			sh := findShard(d, 1)
			if sh.GetLeader() == leader || sh.GetLeader() == "" || len(sh.GetMembers()) != 3 || findNode(d, leader).GetRole() != adminv1.NodeRole_NODE_ROLE_SPARE {
				return fmt.Errorf("after removing the leader: %v", sh)
			}
			return nil
		})
		checkKeys(t)
	})

	t.Run("add and remove an empty shard", func(t *testing.T) {
		resp, err := ac.AddShard(ctx, &adminv1.AddShardRequest{NoRebalance: true})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetShard() != 2 || len(resp.GetNodes()) != 3 {
			t.Fatalf("add shard: %v", resp)
		}
		mustDone(t, ac, resp.GetOperation())
		var leaderID string
		testwait.Eventually(t, 10*time.Second, func() error {
			sh := findShard(describe(t, ac), 2)
			if sh == nil || sh.GetLeader() == "" || len(sh.GetMembers()) != 3 || sh.GetSlotCount() != 0 {
				return fmt.Errorf("new shard: %v", sh)
			}
			leaderID = sh.GetLeader()
			return nil
		})
		// CLUSTER NODES shows the new leader as a master without slots;
		// CLUSTER SHARDS lists the shard; every slot is still served.
		rc := client(t, dc.instances[0], 2)
		testwait.Eventually(t, 10*time.Second, func() error {
			nodes, err := rc.ClusterNodes(ctx).Result()
			if err != nil {
				return err
			}
			for _, line := range strings.Split(nodes, "\n") {
				f := strings.Fields(line)
				if len(f) >= 8 && f[0] == dc.byID(leaderID).node.ClusterID() {
					if strings.Contains(f[2], "master") && len(f) == 8 {
						return nil
					}
					return fmt.Errorf("new leader in CLUSTER NODES: %q", line)
				}
			}
			return fmt.Errorf("new leader missing from CLUSTER NODES:\n%s", nodes)
		})
		// CLUSTER SHARDS lists every master: the 3 shard leaders, and the
		// spares (masters without slots, as in Redis).
		testwait.Eventually(t, 10*time.Second, func() error {
			d := describe(t, ac)
			shards, err := rc.ClusterShards(ctx).Result()
			if err != nil || len(shards) != 3+len(d.GetSpares()) {
				return fmt.Errorf("CLUSTER SHARDS: %d shards (%d spares), %v", len(shards), len(d.GetSpares()), err)
			}
			return nil
		})
		ss, err := rc.ClusterSlots(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		covered := 0
		for _, s := range ss {
			covered += s.End - s.Start + 1
		}
		if covered != slots.Count {
			t.Fatalf("CLUSTER SLOTS covers %d slots", covered)
		}
		checkKeys(t)

		rm, err := ac.RemoveShard(ctx, &adminv1.RemoveShardRequest{Shard: 2})
		if err != nil {
			t.Fatal(err)
		}
		mustDone(t, ac, rm.GetOperation())
		testwait.Eventually(t, 10*time.Second, func() error {
			d := describe(t, ac)
			if findShard(d, 2) != nil || len(d.GetSpares()) != 3 {
				return fmt.Errorf("after remove-shard: shards %v, spares %v", d.GetShards(), d.GetSpares())
			}
			return nil
		})
	})

	t.Run("operations", func(t *testing.T) {
		// Every operation of this test ran on n1; another node lists them
		// with all_nodes and forwards GetOperation.
		other := adminClient(t, dc.instances[3].node.GRPCAddr())
		list, err := other.ListOperations(ctx, &adminv1.ListOperationsRequest{AllNodes: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.GetOperations()) != 6 {
			t.Fatalf("%d operations listed: %v", len(list.GetOperations()), list.GetOperations())
		}
		first := list.GetOperations()[0]
		got, err := other.GetOperation(ctx, &adminv1.GetOperationRequest{Id: first.GetId()})
		if err != nil || got.GetOperation().GetState() != adminv1.OperationState_OPERATION_STATE_DONE || got.GetOperation().GetFinished() == nil {
			t.Fatalf("forwarded GetOperation: %v, %v", got, err)
		}
	})
}

func indexOf(dc *devCluster, id string) int {
	for i, inst := range dc.instances {
		if inst.node.ID() == id {
			return i
		}
	}
	return -1
}

// checkReplicaHasKeys reads, after READONLY on inst, every key whose slot
// shard sh owns.
func checkReplicaHasKeys(t *testing.T, inst *instance, sh *adminv1.Shard, keys []string) {
	t.Helper()
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: inst.gw.Addr().String(), MaxRetries: -1})
	defer c.Close()
	conn := c.Conn()
	defer conn.Close()
	if err := conn.ReadOnly(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	owns := func(s slots.Slot) bool {
		for _, r := range sh.GetSlots() {
			if uint32(s) >= r.GetStart() && uint32(s) <= r.GetEnd() {
				return true
			}
		}
		return false
	}
	n := 0
	for _, k := range keys {
		if !owns(slots.OfString(k)) {
			continue
		}
		n++
		var v string
		var err error
		testwait.Eventually(t, 10*time.Second, func() error {
			v, err = conn.Get(ctx, k).Result()
			if err != nil || v != "v"+k {
				return fmt.Errorf("READONLY GET %s on %s = %q, %v", k, inst.node.ID(), v, err)
			}
			return nil
		})
	}
	if n == 0 {
		t.Fatal("no key in the shard's slots")
	}
}
