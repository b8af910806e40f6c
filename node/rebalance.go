package node

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/slots"
)

// Slot-moving operations: MigrateSlots, Rebalance, AddShard (a new empty
// shard, then a rebalance) and RemoveShard (drain, then release the nodes).
// Each computes a list of single-slot moves and runs them through
// n.moveBatch, the slot-migration engine (design §3), a few at a time.

const (
	maxParallelism = 8
	// defaultThresholdPercent: Rebalance leaves the cluster alone while
	// every shard is within this percentage of the mean.
	defaultThresholdPercent = 5
	newShardLeaderTimeout   = 30 * time.Second
)

// move is one slot to move from shard From to shard To. Resume marks a
// move that To already completed while From's log still has the slot
// migrating (the operation that ran it died between the target's take and
// the source's give): From must still be driven to its give.
type move struct {
	Slot     slots.Slot
	From, To int
	Resume   bool
}

// planPB renders moves as ranges of consecutive slots with the same
// source and target.
func planPB(moves []move) []*adminv1.SlotMove {
	ms := append([]move(nil), moves...)
	sort.Slice(ms, func(i, j int) bool { return ms[i].Slot < ms[j].Slot })
	var out []*adminv1.SlotMove
	for _, m := range ms {
		if k := len(out) - 1; k >= 0 && out[k].Slots.End+1 == uint32(m.Slot) && int(out[k].SourceShard) == m.From && int(out[k].TargetShard) == m.To {
			out[k].Slots.End++
			continue
		}
		out = append(out, &adminv1.SlotMove{Slots: &adminv1.SlotRange{Start: uint32(m.Slot), End: uint32(m.Slot)}, SourceShard: int32(m.From), TargetShard: int32(m.To)})
	}
	return out
}

// pacing is how fast an operation moves slots: batches at once, and the
// pause a mover takes after each batch of keys as a fraction of the time
// that batch took (0: full speed; transferPass).
type pacing struct {
	par   int
	pause float64
}

// defaultPausePercent leaves clients room on a busy machine: a paced move
// keeps one small batch of keys in flight and rests half its time
// (docs/BENCHMARKS.md, slot migration, has the client p99 it gives).
const (
	defaultPausePercent = 50
	maxPausePercent     = 1000
)

// pacingOf validates an operation's parallelism and pause_percent (unset:
// the default).
func pacingOf(par uint32, pause *uint32) (pacing, error) {
	switch {
	case par == 0:
		par = 1
	case par > maxParallelism:
		return pacing{}, status.Errorf(codes.InvalidArgument, "parallelism %d: at most %d slots move at once", par, maxParallelism)
	}
	pct := uint32(defaultPausePercent)
	if pause != nil {
		pct = *pause
	}
	if pct > maxPausePercent {
		return pacing{}, status.Errorf(codes.InvalidArgument, "pause_percent %d: at most %d", pct, maxPausePercent)
	}
	return pacing{par: int(par), pause: float64(pct) / 100}, nil
}

// pausePercent is p's pause as MoveSlotRequest.pause_percent.
func pausePercent(pause float64) *uint32 {
	pct := uint32(math.Round(pause * 100))
	return &pct
}

// A batch is up to maxBatchSlots slots with the same source and target,
// moved together: one log entry per migration step for all of them, and
// their keys streamed in one run of transfers. Fewer, larger batches
// amortize the four slot-state entries and their round trips (with 64-slot
// batches those took more time than the keys did: docs/BENCHMARKS.md, slot
// migration); but an operation splits its moves into at least par batches
// where it can, so every mover has work, and never below minBatchSlots.
const (
	minBatchSlots = 64
	maxBatchSlots = 1024
)

// batchSlots returns the batch size for moves slots run by par movers.
func batchSlots(moves, par int) int {
	return min(max((moves+par-1)/max(par, 1), minBatchSlots), maxBatchSlots)
}

// batchMoves groups moves with the same source and target, in order, into
// batches of at most batchSlots(len(moves), par).
func batchMoves(moves []move, par int) [][]move {
	size := batchSlots(len(moves), par)
	groups := map[[3]int][]move{}
	var order [][3]int
	for _, mv := range moves {
		k := [3]int{mv.From, mv.To, 0}
		if mv.Resume {
			k[2] = 1
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], mv)
	}
	var out [][]move
	for _, k := range order {
		g := groups[k]
		for len(g) > 0 {
			n := min(len(g), size)
			out = append(out, g[:n])
			g = g[n:]
		}
	}
	return out
}

// moveSlots runs moves, batched by source and target, with at most
// pace.par batches at once, each source pacing its transfer as pace says;
// the first failure stops the rest (batches already running finish or
// fail).
func (n *Node) moveSlots(ctx context.Context, o *op, moves []move, pace pacing) error {
	o.update(func(pb *adminv1.Operation) { pb.SlotsTotal += uint32(len(moves)) })
	prog := newSlotProgress(o)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan []move)
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	for i := 0; i < pace.par; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if ctx.Err() != nil {
					continue // a move failed: drain without starting more
				}
				ss := make([]slots.Slot, len(b))
				for i, mv := range b {
					ss[i] = mv.Slot
				}
				desc := fmt.Sprintf("slots %s from shard %d to shard %d", slots.FormatRanges(rangesOf(ss)), b[0].From, b[0].To)
				o.setStep("moving %s", desc)
				mc := prog.start()
				from := -1
				if b[0].Resume {
					from = b[0].From
				}
				err := n.moveBatch(ctx, ss, from, b[0].To, pace.pause, func(keys, bytes uint64) { prog.set(mc, keys, bytes) })
				prog.finish(mc, err == nil, len(b))
				if err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: %w", desc, err)
					}
					errMu.Unlock()
					cancel()
				}
			}
		}()
	}
	for _, b := range batchMoves(moves, pace.par) {
		select {
		case work <- b:
			continue
		case <-ctx.Done():
		}
		break
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if n.testMover == nil {
		n.waitMoved(ctx, moves)
	}
	return nil
}

// moveBatch moves slots with the migration engine (n.moveSlotsTo), or
// slot by slot with testMover when a test set one. from is the source of
// a move to resume (-1: wherever the slots are).
func (n *Node) moveBatch(ctx context.Context, ss []slots.Slot, from, target int, pause float64, progress func(keys, bytes uint64)) error {
	if n.testMover != nil {
		var done MoveProgress
		for _, s := range ss {
			var cur MoveProgress
			err := n.testMover(ctx, s, target, func(keys, bytes uint64) {
				cur = MoveProgress{Keys: keys, Bytes: bytes}
				progress(done.Keys+keys, done.Bytes+bytes)
			})
			if err != nil {
				return err
			}
			done.Keys += cur.Keys
			done.Bytes += cur.Bytes
		}
		return nil
	}
	return n.moveSlotsTo(ctx, ss, from, target, pause, progress)
}

// requireLeaders fails with Unavailable unless every shard in ids has a
// leader, waiting up to leaderCallTimeout for elections in progress.
func (n *Node) requireLeaders(ctx context.Context, ids []int) error {
	ctx, cancel := context.WithTimeout(ctx, leaderCallTimeout)
	defer cancel()
	for _, s := range ids {
		for {
			if _, ok := n.findLeader(ctx, s); ok {
				break
			}
			select {
			case <-ctx.Done():
				return status.Errorf(codes.Unavailable, "shard %d has no leader", s)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// shardIDs returns the shards this node knows (members or slot claims).
func (v *clusterView) shardIDs() []int {
	ids := map[int]bool{}
	for s := range v.shards {
		ids[s] = true
	}
	for _, s := range v.smap.Shards() {
		ids[int(s)] = true
	}
	out := make([]int, 0, len(ids))
	for s := range ids {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}

func (n *Node) startMigrateSlots(ctx context.Context, req *adminv1.MigrateSlotsRequest) (*op, error) {
	pace, err := pacingOf(req.GetParallelism(), req.PausePercent)
	if err != nil {
		return nil, err
	}
	if len(req.GetSlots()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "no slots given")
	}
	var bm slots.Bitmap
	for _, r := range req.GetSlots() {
		if r.GetStart() > r.GetEnd() || r.GetEnd() >= slots.Count {
			return nil, status.Errorf(codes.InvalidArgument, "bad slot range %d-%d (slots are 0-%d, start <= end)", r.GetStart(), r.GetEnd(), slots.Count-1)
		}
		bm.SetRange(slots.Range{Start: slots.Slot(r.GetStart()), End: slots.Slot(r.GetEnd())})
	}
	target := int(req.GetTargetShard())
	if err := n.knownShard(target); err != nil {
		return nil, err
	}
	if err := n.requireLeaders(ctx, []int{target}); err != nil {
		return nil, err
	}
	v := n.view.Load()
	var moves []move
	var there []slots.Slot // at the target already, as gossip shows
	for _, r := range bm.Ranges() {
		for s := int(r.Start); s <= int(r.End); s++ {
			owner, _, ok := v.smap.Owner(slots.Slot(s))
			if !ok {
				// Every slot has an owner once the cluster formed: this
				// node's view is not complete yet (it just started).
				return nil, status.Errorf(codes.Unavailable, "slot %d has no owner in this node's view of the cluster yet (just started?); retry", s)
			}
			if int(owner) != target {
				moves = append(moves, move{Slot: slots.Slot(s), From: int(owner), To: target})
			} else {
				there = append(there, slots.Slot(s))
			}
		}
	}
	desc := fmt.Sprintf("move slots %s to shard %d", slots.FormatRanges(bm.Ranges()), target)
	o := n.newOp(adminv1.OperationKind_OPERATION_KIND_MIGRATE_SLOTS, target, desc)
	n.run(o, func(ctx context.Context, o *op) error {
		resume, err := n.unfinishedGives(ctx, there, target)
		if err != nil {
			return err
		}
		all := append(slices.Clip(moves), resume...)
		if len(all) == 0 {
			o.setStep("shard %d already owns these slots", target)
			return nil
		}
		return n.moveSlots(ctx, o, all, pace)
	})
	return o, nil
}

// unfinishedGives finds, among slots ss that gossip shows at target, those
// another shard's log still has migrating (a rerun of an operation that
// died after the target's take and before the source's give): gossip
// routes by the highest version, so only the shards' leaders can tell.
func (n *Node) unfinishedGives(ctx context.Context, ss []slots.Slot, target int) ([]move, error) {
	if len(ss) == 0 {
		return nil, nil
	}
	all, err := n.unfinishedGivesAll(ctx)
	if err != nil {
		return nil, err
	}
	var want slots.Bitmap
	for _, s := range ss {
		want.Set(s)
	}
	var out []move
	for _, m := range all {
		if m.To == target && want.Has(m.Slot) {
			out = append(out, m)
		}
	}
	return out, nil
}

// slotClaimOf reads shard sh's slot claim (owned and migrating slots) from
// its leader's log.
func (n *Node) slotClaimOf(ctx context.Context, sh int) ([]slots.Range, error) {
	st, err := n.shardStatusReq(ctx, sh, &adminv1.NodeStatusRequest{})
	if err != nil {
		return nil, fmt.Errorf("shard %d: reading its slot claim: %w", sh, err)
	}
	claim, err := slots.ParseRanges(st.GetSlotClaim())
	if err != nil {
		return nil, fmt.Errorf("shard %d: slot claim %q: %w", sh, st.GetSlotClaim(), err)
	}
	return claim, nil
}

// unfinishedGivesAll is unfinishedGives for the whole cluster, for the
// operations that plan from gossip's view (Rebalance, AddShard,
// RemoveShard): every slot some shard's log still claims while gossip
// routes it to another shard. One status call per shard.
func (n *Node) unfinishedGivesAll(ctx context.Context) ([]move, error) {
	v := n.view.Load()
	var out []move
	for _, sh := range v.shardIDs() {
		claim, err := n.slotClaimOf(ctx, sh)
		if err != nil {
			return nil, err
		}
		for _, r := range claim {
			for s := int(r.Start); s <= int(r.End); s++ {
				if owner, _, ok := v.smap.Owner(slots.Slot(s)); ok && int(owner) != sh {
					out = append(out, move{Slot: slots.Slot(s), From: sh, To: int(owner), Resume: true})
				}
			}
		}
	}
	return out, nil
}

// withUnfinishedGives runs plan's moves after finishing the gives earlier
// operations left (unfinishedGivesAll), so that a rerun of any operation
// leaves no slot migrating in a source's log.
func (n *Node) withUnfinishedGives(ctx context.Context, o *op, moves []move, pace pacing) error {
	resume, err := n.unfinishedGivesAll(ctx)
	if err != nil {
		return err
	}
	if len(resume) > 0 {
		o.setStep("finishing %d slot moves an earlier operation left between take and give", len(resume))
	}
	return n.moveSlots(ctx, o, append(resume, moves...), pace)
}

// slotWeights returns, for every shard in ids, the weight of each slot it
// owns: 1 per slot by slots, 1 + its key count by keys, 1 + its estimated
// KiB by memory (so an empty cluster is balanced by slot count).
func (n *Node) slotWeights(ctx context.Context, ids []int, by adminv1.RebalanceBy) (map[int][]slotWeight, error) {
	v := n.view.Load()
	out := map[int][]slotWeight{}
	for _, s := range ids {
		out[s] = nil
		for _, r := range v.smap.Ranges(slots.ShardID(s)) {
			for sl := int(r.Start); sl <= int(r.End); sl++ {
				out[s] = append(out[s], slotWeight{slot: slots.Slot(sl), w: 1})
			}
		}
	}
	if by == adminv1.RebalanceBy_REBALANCE_BY_SLOTS {
		return out, nil
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for _, s := range ids {
		if len(out[s]) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			byMem := by == adminv1.RebalanceBy_REBALANCE_BY_MEMORY
			st, err := n.shardStatusReq(ctx, s, &adminv1.NodeStatusRequest{SlotKeys: !byMem, SlotBytes: byMem})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("shard %d: key counts: %w", s, err)
				}
				return
			}
			counts, bytes := st.GetSlotKeys(), st.GetSlotBytes()
			ws := out[s]
			for i := range ws {
				if int(ws[i].slot) < len(counts) {
					ws[i].w += uint64(counts[ws[i].slot])
				}
				if int(ws[i].slot) < len(bytes) {
					ws[i].w += bytes[ws[i].slot] / 1024
				}
			}
		}()
	}
	wg.Wait()
	return out, firstErr
}

type slotWeight struct {
	slot slots.Slot
	w    uint64
}

// planBalance returns moves that even out the shards' total weights:
// repeatedly the heaviest shard gives the receiver with the least weight
// the heaviest slot that does not overshoot (ties: the highest slot, so
// shards give away the tail of their ranges). Nothing moves while every
// shard is within thresholdPct of the mean.
func planBalance(owned map[int][]slotWeight, thresholdPct int) []move {
	if len(owned) < 2 {
		return nil
	}
	ids := make([]int, 0, len(owned))
	load := map[int]uint64{}
	lists := map[int][]slotWeight{}
	var total uint64
	for s, ws := range owned {
		ids = append(ids, s)
		l := append([]slotWeight(nil), ws...)
		sortWeights(l)
		lists[s] = l
		for _, w := range ws {
			load[s] += w.w
		}
		total += load[s]
	}
	sort.Ints(ids)
	mean := float64(total) / float64(len(ids))
	unbalanced := false
	for _, s := range ids {
		if d := float64(load[s]) - mean; d > mean*float64(thresholdPct)/100 || -d > mean*float64(thresholdPct)/100 {
			unbalanced = true
		}
	}
	if !unbalanced {
		return nil
	}
	var moves []move
	dirty := map[int]bool{}
	for iter := 0; iter < 4*slots.Count; iter++ {
		donor, recv := ids[0], ids[0]
		for _, s := range ids {
			if load[s] > load[donor] {
				donor = s
			}
			if load[s] < load[recv] {
				recv = s
			}
		}
		gap := load[donor] - load[recv]
		if gap <= 1 {
			break
		}
		if dirty[donor] {
			sortWeights(lists[donor])
			dirty[donor] = false
		}
		l := lists[donor]
		// The heaviest slot with 2w <= gap (sorted by weight, descending);
		// else the lightest slot with w < gap, which still narrows the gap.
		i := sort.Search(len(l), func(i int) bool { return 2*l[i].w <= gap })
		if i == len(l) {
			i = len(l) - 1
			if i < 0 || l[i].w >= gap {
				break
			}
		}
		sw := l[i]
		lists[donor] = append(l[:i], l[i+1:]...)
		lists[recv] = append(lists[recv], sw)
		dirty[recv] = true
		load[donor] -= sw.w
		load[recv] += sw.w
		moves = append(moves, move{Slot: sw.slot, From: donor, To: recv})
	}
	// A slot may have moved twice (A to B, later B to C): keep one move
	// from its first source to its last target.
	first := map[slots.Slot]int{}
	last := map[slots.Slot]int{}
	var order []slots.Slot
	for _, m := range moves {
		if _, ok := first[m.Slot]; !ok {
			first[m.Slot] = m.From
			order = append(order, m.Slot)
		}
		last[m.Slot] = m.To
	}
	var out []move
	for _, s := range order {
		if first[s] != last[s] {
			out = append(out, move{Slot: s, From: first[s], To: last[s]})
		}
	}
	return out
}

func sortWeights(l []slotWeight) {
	sort.Slice(l, func(i, j int) bool {
		if l[i].w != l[j].w {
			return l[i].w > l[j].w
		}
		return l[i].slot > l[j].slot
	})
}

func (n *Node) rebalancePlan(ctx context.Context, by adminv1.RebalanceBy, thresholdPct int) ([]move, error) {
	v := n.view.Load()
	ids := v.shardIDs()
	if len(ids) < 2 {
		return nil, nil
	}
	if err := n.requireLeaders(ctx, ids); err != nil {
		return nil, err
	}
	owned, err := n.slotWeights(ctx, ids, by)
	if err != nil {
		return nil, err
	}
	return planBalance(owned, thresholdPct), nil
}

func rebalanceDesc(by adminv1.RebalanceBy) string {
	switch by {
	case adminv1.RebalanceBy_REBALANCE_BY_SLOTS:
		return "slots"
	case adminv1.RebalanceBy_REBALANCE_BY_MEMORY:
		return "memory"
	}
	return "keys"
}

func (n *Node) startRebalance(ctx context.Context, req *adminv1.RebalanceRequest) (*op, []*adminv1.SlotMove, error) {
	pace, err := pacingOf(req.GetParallelism(), req.PausePercent)
	if err != nil {
		return nil, nil, err
	}
	th := int(req.GetThresholdPercent())
	if th == 0 {
		th = defaultThresholdPercent
	}
	if th > 100 {
		return nil, nil, status.Errorf(codes.InvalidArgument, "threshold %d%%: at most 100", th)
	}
	moves, err := n.rebalancePlan(ctx, req.GetBy(), th)
	if err != nil {
		return nil, nil, err
	}
	plan := planPB(moves)
	if req.GetDryRun() {
		return nil, plan, nil
	}
	if len(moves) == 0 {
		// Balanced; still finish what an earlier operation left.
		resume, err := n.unfinishedGivesAll(ctx)
		if err != nil || len(resume) == 0 {
			return nil, plan, err
		}
	}
	desc := fmt.Sprintf("rebalance by %s: move %d slots", rebalanceDesc(req.GetBy()), len(moves))
	if len(moves) == 0 {
		desc = fmt.Sprintf("rebalance by %s: balanced; finish the slot moves an earlier operation left", rebalanceDesc(req.GetBy()))
	}
	o := n.newOp(adminv1.OperationKind_OPERATION_KIND_REBALANCE, -1, desc)
	n.run(o, func(ctx context.Context, o *op) error { return n.withUnfinishedGives(ctx, o, moves, pace) })
	return o, plan, nil
}

func (n *Node) startAddShard(ctx context.Context, req *adminv1.AddShardRequest) (*op, int, []string, error) {
	pace, err := pacingOf(req.GetParallelism(), req.PausePercent)
	if err != nil {
		return nil, 0, nil, err
	}
	var picked []Member
	if len(req.GetNodes()) > 0 {
		if len(req.GetNodes()) > MaxShardMembers {
			return nil, 0, nil, status.Errorf(codes.InvalidArgument, "%d nodes: a shard has at most %d", len(req.GetNodes()), MaxShardMembers)
		}
		seen := map[string]bool{}
		for _, id := range req.GetNodes() {
			m, ok := n.member(id)
			if !ok {
				return nil, 0, nil, status.Errorf(codes.InvalidArgument, "unknown node %q", id)
			}
			if seen[id] {
				return nil, 0, nil, status.Errorf(codes.InvalidArgument, "node %s given twice", id)
			}
			seen[id] = true
			if !m.Alive || m.Shard >= 0 || !m.Spare {
				return nil, 0, nil, status.Errorf(codes.FailedPrecondition, "node %s is not an alive spare", id)
			}
			picked = append(picked, m)
		}
	} else {
		count := int(req.GetReplicas())
		if count == 0 {
			count = 3
		}
		if count > MaxShardMembers {
			return nil, 0, nil, status.Errorf(codes.InvalidArgument, "%d replicas: a shard has at most %d", count, MaxShardMembers)
		}
		spares := n.spares()
		if len(spares) < count {
			return nil, 0, nil, status.Errorf(codes.FailedPrecondition, "no spare nodes: a new shard of %d needs %d spares, %d available", count, count, len(spares))
		}
		picked = pickSpares(spares, count, nil)
	}
	v := n.view.Load()
	shard := 0
	for _, s := range v.shardIDs() {
		shard = max(shard, s+1)
	}
	ids := memberIDs(picked)
	o := n.newOp(adminv1.OperationKind_OPERATION_KIND_ADD_SHARD, -1, "")
	// Reserve the nodes and the shard id against concurrent operations.
	for {
		if err := n.reserved.reserve([]string{"shard:" + strconv.Itoa(shard)}, o.id()); err == nil {
			break
		}
		shard++
	}
	if err := n.reserved.reserve(ids, o.id()); err != nil {
		n.reserved.release([]string{"shard:" + strconv.Itoa(shard)})
		o.finish(err)
		return nil, 0, nil, err
	}
	desc := fmt.Sprintf("add shard %d on %v", shard, ids)
	if !req.GetNoRebalance() {
		desc += ", then rebalance by " + rebalanceDesc(req.GetRebalanceBy())
	}
	o.update(func(pb *adminv1.Operation) { pb.Description, pb.Shard = desc, int32(shard) })
	n.run(o, func(ctx context.Context, o *op) error {
		defer n.reserved.release(append(ids, "shard:"+strconv.Itoa(shard)))
		if err := n.formShard(ctx, o, shard, picked); err != nil {
			return err
		}
		if req.GetNoRebalance() {
			return nil
		}
		o.setStep("planning the rebalance")
		moves, err := n.rebalancePlan(ctx, req.GetRebalanceBy(), defaultThresholdPercent)
		if err != nil {
			return fmt.Errorf("rebalance after adding shard %d: %w", shard, err)
		}
		return n.withUnfinishedGives(ctx, o, moves, pace)
	})
	return o, shard, ids, nil
}

// formShard founds shard on the given spares (identical voter list on
// each) and waits until it has a leader that every node can route to.
func (n *Node) formShard(ctx context.Context, o *op, shard int, ms []Member) error {
	var boot []*adminv1.RaftServer
	for _, m := range ms {
		boot = append(boot, &adminv1.RaftServer{Id: m.NodeID, Address: m.Raft, Suffrage: adminv1.Suffrage_SUFFRAGE_VOTER})
	}
	for _, m := range ms {
		o.setStep("starting shard %d's replica on %s", shard, m.NodeID)
		c, err := n.control(m.NodeID)
		if err != nil {
			return err
		}
		jctx, cancel := context.WithTimeout(ctx, membershipTimeout)
		_, err = c.JoinShard(jctx, &adminv1.JoinShardRequest{Shard: int32(shard), Bootstrap: boot})
		cancel()
		if err != nil {
			return fmt.Errorf("node %s: found shard %d: %w", m.NodeID, shard, err)
		}
	}
	o.setStep("waiting for shard %d to elect a leader", shard)
	deadline := time.Now().Add(newShardLeaderTimeout)
	for {
		if _, ok := n.findLeader(ctx, shard); ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("shard %d: no leader after %v", shard, newShardLeaderTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (n *Node) startRemoveShard(ctx context.Context, req *adminv1.RemoveShardRequest) (*op, error) {
	pace, err := pacingOf(req.GetParallelism(), req.PausePercent)
	if err != nil {
		return nil, err
	}
	shard := int(req.GetShard())
	if err := n.knownShard(shard); err != nil {
		return nil, err
	}
	v := n.view.Load()
	owned := v.smap.Ranges(slots.ShardID(shard))
	if req.GetNoDrain() && len(owned) > 0 {
		return nil, status.Errorf(codes.FailedPrecondition, "shard %d still owns %d slots (%s); drain it first (without --no-drain)", shard, rangesLen(owned), slots.FormatRanges(owned))
	}
	var others []int
	for _, s := range v.shardIDs() {
		if s != shard {
			others = append(others, s)
		}
	}
	if len(owned) > 0 {
		if len(others) == 0 {
			return nil, status.Errorf(codes.FailedPrecondition, "shard %d is the only shard: nowhere to move its %d slots", shard, rangesLen(owned))
		}
		if err := n.requireLeaders(ctx, append([]int{shard}, others...)); err != nil {
			return nil, err
		}
	}
	moves := drainPlan(shard, owned, others, v)
	o := n.newOp(adminv1.OperationKind_OPERATION_KIND_REMOVE_SHARD, shard, fmt.Sprintf("remove shard %d: move %d slots to shards %v, then release its nodes", shard, len(moves), others))
	n.run(o, func(ctx context.Context, o *op) error {
		if err := n.withUnfinishedGives(ctx, o, moves, pace); err != nil {
			return err
		}
		return n.dissolveShard(ctx, o, shard)
	})
	return o, nil
}

// drainPlan hands the slots of shard to the others so that their slot
// counts end up as even as possible, in contiguous chunks.
func drainPlan(shard int, owned []slots.Range, others []int, v *clusterView) []move {
	if len(owned) == 0 || len(others) == 0 {
		return nil
	}
	count := map[int]int{}
	for _, s := range others {
		count[s] = rangesLen(v.smap.Ranges(slots.ShardID(s)))
	}
	quota := map[int]int{}
	for i := rangesLen(owned); i > 0; i-- {
		least := others[0]
		for _, s := range others {
			if count[s] < count[least] {
				least = s
			}
		}
		count[least]++
		quota[least]++
	}
	var moves []move
	k := 0
	for _, r := range owned {
		for s := int(r.Start); s <= int(r.End); s++ {
			for quota[others[k]] == 0 {
				k++
			}
			quota[others[k]]--
			moves = append(moves, move{Slot: slots.Slot(s), From: shard, To: others[k]})
		}
	}
	return moves
}

// dissolveShard checks that shard owns no slot any more and releases its
// nodes as spares (followers first, then the leader).
func (n *Node) dissolveShard(ctx context.Context, o *op, shard int) error {
	o.setStep("checking that shard %d owns no slots", shard)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n.refreshView()
		rs := n.view.Load().smap.Ranges(slots.ShardID(shard))
		if len(rs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return status.Errorf(codes.FailedPrecondition, "shard %d still owns slots %s after the moves; not releasing its nodes", shard, slots.FormatRanges(rs))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	members := map[string]bool{}
	if st, err := n.shardStatus(ctx, shard, false); err == nil {
		for _, s := range st.GetServers() {
			members[s.GetId()] = true
		}
	}
	for _, m := range n.view.Load().shards[shard] {
		members[m.NodeID] = true
	}
	leader, _ := n.shardLeader(shard)
	var order []string
	for id := range members {
		if id != leader.NodeID {
			order = append(order, id)
		}
	}
	sort.Strings(order)
	if leader.NodeID != "" && members[leader.NodeID] {
		order = append(order, leader.NodeID)
	}
	for _, id := range order {
		o.setStep("releasing %s as a spare", id)
		if err := n.release(ctx, shard, id, true); err != nil {
			return err
		}
	}
	return nil
}
