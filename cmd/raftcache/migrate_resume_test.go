package main

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/testwait"
	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// stuckGive builds, through the logs of a 3-shard dev cluster, the state a
// move leaves when its runner dies between the target's take and the
// source's give: slot taken by shard 1 at a new version, still migrating
// in shard 0's log, and gossip routing it to shard 1. It returns the slot,
// a lookup of each shard's leader and an admin client of shard 2's node.
func stuckGive(t *testing.T, ctx context.Context) (slots.Slot, func(int) *instance, adminv1.AdminClient) {
	t.Helper()
	dc := startReshardCluster(t, 3, 0)
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

	return slot, leader, ac
}

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
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	slot, leader, ac := stuckGive(t, ctx)
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

// TestStuckGiveFinishedByLeader: with no operation run again, the source
// shard's leader gives the slot away by itself once gossip has shown the
// target owning it for longer than the grace period (node/finishgive.go).
func TestStuckGiveFinishedByLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("resharding e2e")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	slot, leader, _ := stuckGive(t, ctx)
	testwait.Eventually(t, 60*time.Second, func() error {
		if si, _ := leader(0).node.FSM().SlotInfo(slot); si.State != raftfsm.SlotUnowned || si.Peer != 1 || si.Ver != 100 {
			return fmt.Errorf("shard 0's log has slot %d %s (peer %d, version %d)", slot, si.State, si.Peer, si.Ver)
		}
		return nil
	})
}

// TestRebalanceResumesGive: a Rebalance run on a balanced cluster still
// finishes the give an earlier operation left (at once, not after the
// source leader's grace period), as AddShard and RemoveShard do before
// their own moves.
func TestRebalanceResumesGive(t *testing.T) {
	if testing.Short() {
		t.Skip("resharding e2e")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	slot, leader, ac := stuckGive(t, ctx)
	r, err := ac.Rebalance(ctx, &adminv1.RebalanceRequest{By: adminv1.RebalanceBy_REBALANCE_BY_SLOTS, ThresholdPercent: 100})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetOperation() == nil {
		t.Fatalf("no operation: the unfinished give of slot %d was not found (plan %v)", slot, r.GetPlan())
	}
	mustDone(t, ac, r.GetOperation())
	if si, _ := leader(0).node.FSM().SlotInfo(slot); si.State != raftfsm.SlotUnowned || si.Peer != 1 {
		t.Fatalf("after the rebalance, shard 0's log has slot %d %s (peer %d), want given to shard 1", slot, si.State, si.Peer)
	}
}
