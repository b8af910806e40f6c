package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/slots"
)

// ownedBySlots gives each shard count consecutive slots of weight 1.
func ownedBySlots(counts map[int][2]int) map[int][]slotWeight {
	out := map[int][]slotWeight{}
	for s, r := range counts {
		out[s] = []slotWeight{}
		for sl := r[0]; sl <= r[1]; sl++ {
			out[s] = append(out[s], slotWeight{slot: slots.Slot(sl), w: 1})
		}
	}
	return out
}

func applyMoves(t *testing.T, owned map[int][]slotWeight, moves []move) map[int]uint64 {
	t.Helper()
	owner := map[slots.Slot]int{}
	weight := map[slots.Slot]uint64{}
	for s, ws := range owned {
		for _, w := range ws {
			owner[w.slot], weight[w.slot] = s, w.w
		}
	}
	seen := map[slots.Slot]bool{}
	for _, m := range moves {
		if seen[m.Slot] {
			t.Fatalf("slot %d moved twice", m.Slot)
		}
		seen[m.Slot] = true
		if owner[m.Slot] != m.From || m.From == m.To {
			t.Fatalf("move %+v: slot owned by %d", m, owner[m.Slot])
		}
		owner[m.Slot] = m.To
	}
	load := map[int]uint64{}
	for s := range owned {
		load[s] = 0
	}
	for sl, s := range owner {
		load[s] += weight[sl]
	}
	return load
}

func TestPlanBalanceNewEmptyShard(t *testing.T) {
	// Three shards of the formation plus a new empty one, by slots.
	split := slots.SplitEven(3)
	owned := map[int][]slotWeight{3: {}}
	for s, rs := range split {
		for _, r := range rs {
			for sl := int(r.Start); sl <= int(r.End); sl++ {
				owned[s] = append(owned[s], slotWeight{slot: slots.Slot(sl), w: 1})
			}
		}
	}
	moves := planBalance(owned, 5)
	load := applyMoves(t, owned, moves)
	for s, l := range load {
		if l != 4096 {
			t.Fatalf("shard %d has %d slots after the plan (want 4096): %v", s, l, load)
		}
	}
	if len(moves) != 4096 {
		t.Fatalf("%d moves, want 4096", len(moves))
	}
	// Each old shard gives away the tail of its range: one contiguous run each.
	if runs := planPB(moves); len(runs) != 3 {
		t.Fatalf("plan has %d runs, want 3: %v", len(runs), runs)
	}
}

func TestPlanBalanceByKeys(t *testing.T) {
	// Shard 0 holds a few heavy slots; shard 1 many light ones.
	owned := map[int][]slotWeight{0: nil, 1: nil}
	for sl := 0; sl < 100; sl++ {
		owned[0] = append(owned[0], slotWeight{slot: slots.Slot(sl), w: 1 + 1000})
	}
	for sl := 100; sl < 1100; sl++ {
		owned[1] = append(owned[1], slotWeight{slot: slots.Slot(sl), w: 1 + 10})
	}
	moves := planBalance(owned, 5)
	load := applyMoves(t, owned, moves)
	diff := int64(load[0]) - int64(load[1])
	if diff < -1001 || diff > 1001 || len(moves) == 0 {
		t.Fatalf("unbalanced after the plan: %v (%d moves)", load, len(moves))
	}
	// Within the threshold nothing moves.
	if m := planBalance(ownedBySlots(map[int][2]int{0: {0, 99}, 1: {100, 196}}), 5); len(m) != 0 {
		t.Fatalf("moves within the threshold: %v", m)
	}
	// One shard: nothing to balance.
	if m := planBalance(ownedBySlots(map[int][2]int{0: {0, 99}}), 5); m != nil {
		t.Fatalf("moves with one shard: %v", m)
	}
}

func TestPlanBalanceHotSlot(t *testing.T) {
	// A single slot heavier than everything else cannot be split: the plan
	// stops instead of moving it back and forth.
	owned := map[int][]slotWeight{0: {{slot: 0, w: 1000}, {slot: 1, w: 1}}, 1: {{slot: 2, w: 1}}}
	moves := planBalance(owned, 5)
	load := applyMoves(t, owned, moves)
	if load[0] < 1000 {
		t.Fatalf("hot slot moved: %v %v", moves, load)
	}
}

func TestDrainPlan(t *testing.T) {
	v := &clusterView{smap: slots.NewMap()}
	v.smap.Merge(slots.Claim{Shard: 0, Slots: []slots.Range{{Start: 0, End: 5999}}, Version: 1})
	v.smap.Merge(slots.Claim{Shard: 1, Slots: []slots.Range{{Start: 6000, End: 9999}}, Version: 1})
	v.smap.Merge(slots.Claim{Shard: 2, Slots: []slots.Range{{Start: 10000, End: 16383}}, Version: 1})
	moves := drainPlan(2, v.smap.Ranges(2), []int{0, 1}, v)
	got := map[int]int{}
	for _, m := range moves {
		if m.From != 2 {
			t.Fatalf("move %+v", m)
		}
		got[m.To]++
	}
	// 6384 slots: shard 1 (4000) first catches up with shard 0 (6000), then both share.
	if got[0]+got[1] != 6384 || 6000+got[0] != 4000+got[1] {
		t.Fatalf("drain plan: %v", got)
	}
	if runs := planPB(moves); len(runs) != 2 {
		t.Fatalf("drain plan has %d runs, want 2 contiguous chunks", len(runs))
	}
	if drainPlan(2, nil, []int{0}, v) != nil {
		t.Fatal("draining an empty shard moves slots")
	}
}

func TestPickSpares(t *testing.T) {
	spares := []Member{{NodeID: "s1", AZ: "a"}, {NodeID: "s2", AZ: "a"}, {NodeID: "s3", AZ: "b"}, {NodeID: "s4", AZ: "c"}, {NodeID: "s5", AZ: "c"}}
	got := memberIDs(pickSpares(spares, 3, nil))
	if fmt.Sprint(got) != "[s1 s3 s4]" {
		t.Fatalf("three AZ-spread spares: %v", got)
	}
	// A shard with replicas in a and b gets the spare in c.
	got = memberIDs(pickSpares(spares, 1, map[string]int{"a": 1, "b": 1}))
	if fmt.Sprint(got) != "[s4]" {
		t.Fatalf("spare for a shard lacking AZ c: %v", got)
	}
	if got := pickSpares(spares[:1], 3, nil); len(got) != 1 {
		t.Fatalf("more than available: %v", got)
	}
}

func TestOpOwner(t *testing.T) {
	for id, want := range map[string]string{"n1-3": "n1", "node-a-12": "node-a"} {
		if got, err := opOwner(id); err != nil || got != want {
			t.Errorf("opOwner(%q) = %q, %v", id, got, err)
		}
	}
	for _, bad := range []string{"", "n1", "n1-", "-3", "n1-x"} {
		if _, err := opOwner(bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("opOwner(%q): %v", bad, err)
		}
	}
}

func testNode() *Node {
	// Only the operation machinery is used: no gossip, Raft or gRPC.
	n := &Node{cfg: Config{NodeID: "t1", Logger: slog.New(slog.DiscardHandler)}}
	n.runCtx, n.cancel = context.WithCancel(context.Background())
	return n
}

func TestMoveSlotsProgress(t *testing.T) {
	n := testNode()
	defer n.cancel()
	var moved sync.Map
	n.testMover = func(ctx context.Context, slot slots.Slot, target int, progress func(keys, bytes uint64)) error {
		progress(5, 500)
		progress(10, 1000) // cumulative for the slot
		moved.Store(slot, target)
		return nil
	}
	o := n.newOp(adminv1.OperationKind_OPERATION_KIND_MIGRATE_SLOTS, 1, "test")
	var moves []move
	for s := 0; s < 20; s++ {
		moves = append(moves, move{Slot: slots.Slot(s), From: 0, To: 1})
	}
	if err := n.moveSlots(context.Background(), o, moves, pacing{par: 4}); err != nil {
		t.Fatal(err)
	}
	o.finish(nil)
	pb, _ := o.snapshot()
	if pb.GetSlotsTotal() != 20 || pb.GetSlotsDone() != 20 || pb.GetKeysMoved() != 200 || pb.GetBytesMoved() != 20000 || pb.GetEta() != nil {
		t.Fatalf("operation after the moves: %v", pb)
	}
	for s := 0; s < 20; s++ {
		if to, ok := moved.Load(slots.Slot(s)); !ok || to != 1 {
			t.Fatalf("slot %d not moved", s)
		}
	}
}

func TestMoveSlotsStopsAtFirstFailure(t *testing.T) {
	n := testNode()
	defer n.cancel()
	var calls atomic.Int32
	boom := errors.New("boom")
	n.testMover = func(ctx context.Context, slot slots.Slot, target int, progress func(keys, bytes uint64)) error {
		calls.Add(1)
		if slot == 3 {
			return boom
		}
		return nil
	}
	o := n.newOp(adminv1.OperationKind_OPERATION_KIND_MIGRATE_SLOTS, 1, "test")
	var moves []move
	for s := 0; s < 100; s++ {
		moves = append(moves, move{Slot: slots.Slot(s), From: 0, To: 1})
	}
	err := n.moveSlots(context.Background(), o, moves, pacing{par: 1})
	if !errors.Is(err, boom) || calls.Load() != 4 {
		t.Fatalf("err %v after %d calls, want boom after 4", err, calls.Load())
	}
	// Slots move in batches (batchMoves): the failed batch counts none.
	pb, _ := o.snapshot()
	if pb.GetSlotsDone() != 0 || pb.GetSlotsTotal() != 100 {
		t.Fatalf("progress after a failure: %d/%d", pb.GetSlotsDone(), pb.GetSlotsTotal())
	}
}

func TestOperationLifecycle(t *testing.T) {
	n := testNode()
	o := n.newOp(adminv1.OperationKind_OPERATION_KIND_REBALANCE, -1, "test op")
	release := make(chan struct{})
	n.run(o, func(ctx context.Context, o *op) error {
		o.update(func(pb *adminv1.Operation) { pb.SlotsTotal = 4; pb.SlotsDone = 1 })
		<-release
		return errors.New("went wrong")
	})
	// A watcher sees the change, then the end.
	pb, changed := o.snapshot()
	if pb.GetState() != adminv1.OperationState_OPERATION_STATE_RUNNING || pb.GetId() != "t1-1" || pb.GetNode() != "t1" {
		t.Fatalf("new op: %v", pb)
	}
	deadline := time.After(10 * time.Second)
	for pb.GetSlotsDone() == 0 {
		select {
		case <-changed:
		case <-deadline:
			t.Fatal("no update")
		}
		pb, changed = o.snapshot()
	}
	if pb.GetEta() == nil {
		t.Fatalf("running op with progress has no ETA: %v", pb)
	}
	close(release)
	n.ops.wg.Wait()
	pb, _ = o.snapshot()
	if pb.GetState() != adminv1.OperationState_OPERATION_STATE_FAILED || pb.GetError() != "went wrong" || pb.GetFinished() == nil || pb.GetEta() != nil {
		t.Fatalf("failed op: %v", pb)
	}
	if got, ok := n.lookupOp("t1-1"); !ok || got != o || len(n.listOps()) != 1 {
		t.Fatal("registry lost the op")
	}
	n.cancel()
	n.wg.Wait()
}

func TestOperationRegistryForgetsOldFinished(t *testing.T) {
	n := testNode()
	defer n.cancel()
	first := n.newOp(adminv1.OperationKind_OPERATION_KIND_REBALANCE, -1, "keeps running")
	for i := 0; i < keepFinishedOps+10; i++ {
		n.newOp(adminv1.OperationKind_OPERATION_KIND_REBALANCE, -1, "done").finish(nil)
	}
	ops := n.listOps()
	if len(ops) > keepFinishedOps+1 {
		t.Fatalf("%d operations kept", len(ops))
	}
	if _, ok := n.lookupOp(first.id()); !ok {
		t.Fatal("a running operation was forgotten")
	}
}

func TestBatchMoves(t *testing.T) {
	var moves []move
	for s := 0; s < 150; s++ {
		moves = append(moves, move{Slot: slots.Slot(s), From: s % 2, To: 2})
	}
	moves = append(moves, move{Slot: 900, From: 2, To: 0})
	var big []move
	for s := 0; s < 4096; s++ {
		big = append(big, move{Slot: slots.Slot(s), From: 0, To: 1})
	}
	tests := []struct {
		name  string
		moves []move
		par   int
		want  string
	}{
		// shard 0 -> 2: 75 slots, shard 1 -> 2: 75, 2 -> 0: 1.
		{"one mover: whole groups", moves, 1, "[75 75 1]"},
		{"never below the minimum", moves, 4, "[64 11 64 11 1]"},
		{"one mover: the maximum", big, 1, "[1024 1024 1024 1024]"},
		{"a batch per mover", big, 8, "[512 512 512 512 512 512 512 512]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sizes []int
			for _, b := range batchMoves(tt.moves, tt.par) {
				for _, mv := range b {
					if mv.From != b[0].From || mv.To != b[0].To {
						t.Fatalf("batch mixes moves: %v", b)
					}
				}
				sizes = append(sizes, len(b))
			}
			if fmt.Sprint(sizes) != tt.want {
				t.Fatalf("batch sizes %v, want %s", sizes, tt.want)
			}
		})
	}
}

func TestPacingOf(t *testing.T) {
	u := func(v uint32) *uint32 { return &v }
	tests := []struct {
		name  string
		par   uint32
		pause *uint32
		want  pacing
		code  codes.Code
	}{
		{"defaults", 0, nil, pacing{par: 1, pause: 0.5}, codes.OK},
		{"full speed", 3, u(0), pacing{par: 3, pause: 0}, codes.OK},
		{"slow", 8, u(1000), pacing{par: 8, pause: 10}, codes.OK},
		{"too many at once", 9, nil, pacing{}, codes.InvalidArgument},
		{"pause too long", 1, u(1001), pacing{}, codes.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pacingOf(tt.par, tt.pause)
			if status.Code(err) != tt.code || got != tt.want {
				t.Fatalf("pacingOf(%d, %v) = %+v, %v; want %+v, %v", tt.par, tt.pause, got, err, tt.want, tt.code)
			}
		})
	}
}
