package node

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	migratev1 "github.com/raftcache/raftcache/proto/raftcache/migrate/v1"
	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// migrateServer serves raftcache.migrate.v1 on every node; only shard
// leaders accept the calls (others answer Unavailable, so callers look the
// leader up again).
type migrateServer struct {
	migratev1.UnimplementedMigrateServer
	n *Node
}

func (n *Node) registerMigrate(s *grpc.Server) {
	migratev1.RegisterMigrateServer(s, &migrateServer{n: n})
}

func checkSlot(slot uint32) (slots.Slot, error) {
	if slot >= slots.Count {
		return 0, status.Errorf(codes.InvalidArgument, "slot %d out of range (0-%d)", slot, slots.Count-1)
	}
	return slots.Slot(slot), nil
}

// slotList returns the request's slots: the repeated field when set, else
// the single slot. Duplicates are refused.
func slotList(one uint32, many []uint32) ([]slots.Slot, error) {
	if len(many) == 0 {
		many = []uint32{one}
	}
	seen := map[uint32]bool{}
	out := make([]slots.Slot, 0, len(many))
	for _, x := range many {
		s, err := checkSlot(x)
		if err != nil {
			return nil, err
		}
		if seen[x] {
			return nil, status.Errorf(codes.InvalidArgument, "slot %d listed twice", x)
		}
		seen[x] = true
		out = append(out, s)
	}
	return out, nil
}

func (m *migrateServer) MoveSlot(req *migratev1.MoveSlotRequest, stream grpc.ServerStreamingServer[migratev1.MoveSlotProgress]) error {
	ss, err := slotList(req.GetSlot(), req.GetSlots())
	if err != nil {
		return err
	}
	target := int(req.GetTargetShard())
	if !m.n.shardKnown(target) {
		return status.Errorf(codes.InvalidArgument, "unknown shard %d", target)
	}
	pace, err := pacingOf(1, req.PausePercent)
	if err != nil {
		return err
	}
	imp := &remoteImporter{n: m.n, target: target}
	ver, err := m.n.runMoveSlots(stream.Context(), ss, target, imp, pace.pause, func(p MoveProgress) {
		_ = stream.Send(&migratev1.MoveSlotProgress{Slot: uint32(ss[0]), KeysMoved: p.Keys, BytesMoved: p.Bytes})
	})
	if err != nil {
		return grpcError(m.n, err)
	}
	return stream.Send(&migratev1.MoveSlotProgress{Slot: uint32(ss[0]), Done: true, Version: ver})
}

func (m *migrateServer) BeginImport(ctx context.Context, req *migratev1.BeginImportRequest) (*migratev1.BeginImportResponse, error) {
	ss, err := slotList(req.GetSlot(), req.GetSlots())
	if err != nil {
		return nil, err
	}
	if err := m.n.beginImport(ctx, ss, int(req.GetSourceShard()), req.GetFreeze(), req.GetLibraries()); err != nil {
		return nil, grpcError(m.n, err)
	}
	return &migratev1.BeginImportResponse{Shard: int32(m.n.ShardID())}, nil
}

func (m *migrateServer) Transfer(ctx context.Context, req *migratev1.TransferRequest) (*migratev1.TransferResponse, error) {
	if err := m.n.transferKeys(ctx, int(req.GetSourceShard()), req.GetKeys()); err != nil {
		return nil, grpcError(m.n, err)
	}
	return &migratev1.TransferResponse{Keys: uint64(len(req.GetKeys()))}, nil
}

func (m *migrateServer) CompleteImport(ctx context.Context, req *migratev1.CompleteImportRequest) (*migratev1.CompleteImportResponse, error) {
	ss, err := slotList(req.GetSlot(), req.GetSlots())
	if err != nil {
		return nil, err
	}
	if err := m.n.completeImport(ctx, ss, req.GetVersion()); err != nil {
		return nil, grpcError(m.n, err)
	}
	return &migratev1.CompleteImportResponse{}, nil
}

// shardKnown reports whether gossip knows shard id.
func (n *Node) shardKnown(id int) bool {
	v := n.view.Load()
	if v == nil {
		return false
	}
	_, ok := v.shards[id]
	return ok
}

// remoteImporter reaches the target shard's current leader over gRPC,
// following leadership changes (every step is idempotent but one, see
// Transfer).
type remoteImporter struct {
	n      *Node
	target int
}

// call runs fn against the target's leader, retrying while it answers
// Unavailable (no leader, or an outcome unknown); with once, fn runs at most
// once and its error is returned.
func (r *remoteImporter) call(ctx context.Context, once bool, fn func(ctx context.Context, c migratev1.MigrateClient) error) error {
	ctx, cancel := context.WithTimeout(ctx, leaderCallTimeout)
	defer cancel()
	var last error
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		if m, ok := r.n.shardLeader(r.target); ok && m.GRPC != "" {
			conn, err := r.n.grpc.conn(m.GRPC)
			if err == nil {
				err = fn(ctx, migratev1.NewMigrateClient(conn))
			}
			if err == nil || status.Code(err) != codes.Unavailable || once {
				return err
			}
			last = err
		} else {
			last = status.Errorf(codes.Unavailable, "shard %d has no leader", r.target)
		}
		select {
		case <-ctx.Done():
			if last == nil {
				last = ctx.Err()
			}
			return last
		case <-time.After(delay):
		}
	}
}

func u32s(ss []slots.Slot) []uint32 {
	out := make([]uint32, len(ss))
	for i, s := range ss {
		out[i] = uint32(s)
	}
	return out
}

func (r *remoteImporter) BeginImport(ctx context.Context, ss []slots.Slot, source int, freeze bool, libraries [][]byte) error {
	return r.call(ctx, false, func(ctx context.Context, c migratev1.MigrateClient) error {
		_, err := c.BeginImport(ctx, &migratev1.BeginImportRequest{Slot: uint32(ss[0]), Slots: u32s(ss), SourceShard: int32(source), Freeze: freeze, Libraries: libraries})
		return err
	})
}

// Transfer sends one message of key records. Sending it again is safe
// unless it opens with a part that continues a large value begun in an
// earlier message: merging a list's part twice would repeat its elements.
// Such a message is not retried; the error fails the pass, and the move,
// run again, sends the value from its first part, which replaces it.
func (r *remoteImporter) Transfer(ctx context.Context, ss []slots.Slot, source int, recs []*migratev1.KeyRecord) error {
	return r.call(ctx, continuesValue(recs), func(ctx context.Context, c migratev1.MigrateClient) error {
		_, err := c.Transfer(ctx, &migratev1.TransferRequest{Slot: uint32(ss[0]), SourceShard: int32(source), Keys: recs})
		return err
	})
}

// continuesValue reports whether a Transfer message opens with a part to
// merge into a value sent earlier.
func continuesValue(recs []*migratev1.KeyRecord) bool {
	return len(recs) > 0 && recs[0].GetMerge()
}

func (r *remoteImporter) CompleteImport(ctx context.Context, ss []slots.Slot, source int, ver uint64) error {
	return r.call(ctx, false, func(ctx context.Context, c migratev1.MigrateClient) error {
		_, err := c.CompleteImport(ctx, &migratev1.CompleteImportRequest{Slot: uint32(ss[0]), Slots: u32s(ss), SourceShard: int32(source), Version: ver})
		return err
	})
}

// moveSlotsTo moves slots ss to shard target from wherever they are: it
// asks each owning shard's leader (over gRPC, this node included) to move
// its share, following leader changes on the source, until every slot is
// done. from >= 0 names the source of moves to resume: the target owns
// the slots already, the source has yet to give them away. progress
// receives cumulative keys and bytes.
func (n *Node) moveSlotsTo(ctx context.Context, ss []slots.Slot, from, target int, pause float64, progress func(keys, bytes uint64)) error {
	if !n.shardKnown(target) {
		return status.Errorf(codes.InvalidArgument, "unknown shard %d", target)
	}
	deadline := time.Now().Add(5 * time.Minute)
	var done MoveProgress
	var last error
	// origin: the shard a slot was seen leaving; confirmed: its source's
	// MoveSlot reported the move finished in both logs. Gossip may show the
	// target as owner (it took the slot) before the source gave it away:
	// the source must still be driven to its give.
	origin := map[slots.Slot]int{}
	confirmed := map[slots.Slot]bool{}
	if from >= 0 && from != target {
		for _, s := range ss {
			origin[s] = from
		}
	}
	me := n.ShardID()
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		bySource := map[int][]slots.Slot{}
		var sources []int
		v := n.view.Load()
		for _, s := range ss {
			if confirmed[s] {
				continue
			}
			owner, _, ok := v.smap.Owner(s)
			src := int(owner)
			switch {
			case !ok:
				last = status.Errorf(codes.FailedPrecondition, "slot %d has no owner", s)
				continue
			case src == target:
				o, seen := origin[s]
				switch {
				case seen:
					src = o
				case me != target && !n.moveSettled(s, target):
					src = me // this node's shard still migrates it out
				default:
					confirmed[s] = true // there already
					continue
				}
			default:
				origin[s] = src
			}
			if _, seen := bySource[src]; !seen {
				sources = append(sources, src)
			}
			bySource[src] = append(bySource[src], s)
		}
		left := 0
		for _, s := range ss {
			if !confirmed[s] {
				left++
			}
		}
		if left == 0 {
			// Done in the logs; gossip spreads the new claims within a
			// round. The operation waits for this node's view once at its
			// end (waitMoved), not per batch: a gossip round per batch
			// was most of a move's time.
			n.notifyMeta()
			return nil
		}
		progressed := false
		for _, src := range sources {
			base := done
			err := n.moveFrom(ctx, src, bySource[src], target, pause, func(keys, bytes uint64) {
				done = MoveProgress{Keys: base.Keys + keys, Bytes: base.Bytes + bytes}
				if progress != nil {
					progress(done.Keys, done.Bytes)
				}
			})
			if err == nil {
				progressed = true
				for _, s := range bySource[src] {
					confirmed[s] = true
				}
				continue
			}
			last = err
			n.cfg.Logger.Debug("moving slots: retrying", "from_shard", src, "to_shard", target, "slots", len(bySource[src]), "err", err)
			if code := status.Code(err); code != codes.Unavailable && code != codes.Unknown && code != codes.DeadlineExceeded {
				return err
			}
		}
		if progressed {
			delay = 50 * time.Millisecond
			continue
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			if last == nil {
				last = ctx.Err()
			}
			return last
		}
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
	}
}

// waitMoved waits briefly until this node's view routes every moved slot
// to its target (the claims travel by gossip), so that what the node
// reports when an operation ends is current.
func (n *Node) waitMoved(ctx context.Context, moves []move) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		v := n.view.Load()
		all := true
		for _, mv := range moves {
			if owner, _, ok := v.smap.Owner(mv.Slot); !ok || int(owner) != mv.To {
				all = false
				break
			}
		}
		if all {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (n *Node) moveFrom(ctx context.Context, source int, ss []slots.Slot, target int, pause float64, progress func(keys, bytes uint64)) error {
	m, ok := n.shardLeader(source)
	if !ok || m.GRPC == "" {
		return status.Errorf(codes.Unavailable, "shard %d has no leader", source)
	}
	conn, err := n.grpc.conn(m.GRPC)
	if err != nil {
		return err
	}
	stream, err := migratev1.NewMigrateClient(conn).MoveSlot(ctx, &migratev1.MoveSlotRequest{Slot: uint32(ss[0]), Slots: u32s(ss), TargetShard: int32(target), PausePercent: pausePercent(pause)})
	if err != nil {
		return err
	}
	for {
		p, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return status.Errorf(codes.Unavailable, "move of %d slots from shard %d ended without completion", len(ss), source)
		}
		if err != nil {
			return err
		}
		if p.GetDone() {
			return nil
		}
		if progress != nil {
			progress(p.GetKeysMoved(), p.GetBytesMoved())
		}
	}
}

// moveSettled reports whether s is owned by target and no longer migrating
// out of its previous shard as far as this node can tell.
func (n *Node) moveSettled(s slots.Slot, target int) bool {
	if f := n.form.Load(); f != nil && f.Shard != target {
		if st, ok := n.slotState(s); ok && st.State == raftfsm.SlotMigrating {
			return false
		}
	}
	return true
}
