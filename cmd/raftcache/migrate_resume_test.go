package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// TestMigrateResumesGive: the node running a MigrateSlots operation died
// after the target shard took a slot and before the source gave it away,
// so the source's log still has the slot migrating while gossip already
// routes it to the target. Running the operation again must finish the
// move on the source (its log gives the slot away), and the slot must be
// movable back afterwards. Found while building the chaos harness's slot
// ownership check (docs/CHAOS.md, migrate).
func TestMigrateResumesGive(t *testing.T) {
	if testing.Short() {
		t.Skip("resharding e2e")
	}
	dc := startReshardCluster(t, 3, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	leader := func(shard int) *instance {
		for {
			for _, inst := range dc.instances {
				if inst.node.ShardID() == shard && inst.node.IsLeader() {
					return inst
				}
			}
			if ctx.Err() != nil {
				t.Fatalf("shard %d has no leader", shard)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	propose := func(inst *instance, args ...string) {
		t.Helper()
		cmd := make([][]byte, len(args))
		for i, a := range args {
			cmd[i] = []byte(a)
		}
		replies, err := inst.node.Replica().Propose(ctx, raftfsm.OpSlots, [][][]byte{cmd})
		if err != nil || len(replies) != 1 || replies[0].IsError() {
			t.Fatalf("%v on %s: %v %+v", args, inst.node.ID(), err, replies)
		}
	}
	src, dst := leader(0), leader(1)
	runner := -1
	for i, inst := range dc.instances {
		if inst.node.ShardID() == 2 {
			runner = i
		}
	}
	ac := adminOf(t, dc, runner)
	var slot slots.Slot = 100 // shard 0's (formation gives shard 0 the first third), empty
	// Each shard's first leader records its slots in its log shortly after
	// formation.
	for _, inst := range []*instance{src, dst} {
		for {
			if _, ok := inst.node.FSM().SlotInfo(slot); ok {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%s never recorded its shard's slots", inst.node.ID())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if si, _ := src.node.FSM().SlotInfo(slot); si.State != raftfsm.SlotOwned {
		t.Fatalf("slot %d on shard 0: %+v", slot, si)
	}
	s := strconv.Itoa(int(slot))
	// The state a move leaves when its runner dies between the two last
	// steps: imported and taken by the target at a new version, still
	// migrating at the source.
	propose(dst, "import", s, "0", "0")
	propose(src, "migrate", s, "1", "0")
	propose(dst, "take", s, "100")
	for owner := -1; owner != 1; {
		if ctx.Err() != nil {
			t.Fatalf("gossip never routed slot %d to shard 1", slot)
		}
		for _, sh := range describe(t, ac).GetShards() {
			for _, r := range sh.GetSlots() {
				if r.GetStart() <= uint32(slot) && uint32(slot) <= r.GetEnd() {
					owner = int(sh.GetId())
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}

	r, err := ac.MigrateSlots(ctx, &adminv1.MigrateSlotsRequest{Slots: []*adminv1.SlotRange{{Start: uint32(slot), End: uint32(slot)}}, TargetShard: 1})
	if err != nil {
		t.Fatal(err)
	}
	mustDone(t, ac, r.GetOperation())
	if si, _ := leader(0).node.FSM().SlotInfo(slot); si.State != raftfsm.SlotUnowned || si.Peer != 1 {
		t.Fatalf("after the rerun, shard 0's log has slot %d %s (peer %d), want given to shard 1", slot, si.State, si.Peer)
	}
	// And back: shard 0 can import it again.
	r, err = ac.MigrateSlots(ctx, &adminv1.MigrateSlotsRequest{Slots: []*adminv1.SlotRange{{Start: uint32(slot), End: uint32(slot)}}, TargetShard: 0})
	if err != nil {
		t.Fatal(err)
	}
	mustDone(t, ac, r.GetOperation())
	if si, _ := leader(0).node.FSM().SlotInfo(slot); si.State != raftfsm.SlotOwned {
		t.Fatalf("slot %d back on shard 0: %s", slot, si.State)
	}
}
