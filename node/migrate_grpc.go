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

func (m *migrateServer) MoveSlot(req *migratev1.MoveSlotRequest, stream grpc.ServerStreamingServer[migratev1.MoveSlotProgress]) error {
	s, err := checkSlot(req.GetSlot())
	if err != nil {
		return err
	}
	target := int(req.GetTargetShard())
	if !m.n.shardKnown(target) {
		return status.Errorf(codes.InvalidArgument, "unknown shard %d", target)
	}
	imp := &remoteImporter{n: m.n, target: target}
	ver, err := m.n.runMoveSlot(stream.Context(), s, target, imp, func(p MoveProgress) {
		_ = stream.Send(&migratev1.MoveSlotProgress{Slot: uint32(s), KeysMoved: p.Keys, BytesMoved: p.Bytes})
	})
	if err != nil {
		return grpcError(m.n, err)
	}
	return stream.Send(&migratev1.MoveSlotProgress{Slot: uint32(s), Done: true, Version: ver})
}

func (m *migrateServer) BeginImport(ctx context.Context, req *migratev1.BeginImportRequest) (*migratev1.BeginImportResponse, error) {
	s, err := checkSlot(req.GetSlot())
	if err != nil {
		return nil, err
	}
	if err := m.n.beginImport(ctx, s, int(req.GetSourceShard()), req.GetFreeze()); err != nil {
		return nil, grpcError(m.n, err)
	}
	f := m.n.form.Load()
	return &migratev1.BeginImportResponse{Shard: int32(f.Shard)}, nil
}

func (m *migrateServer) Transfer(ctx context.Context, req *migratev1.TransferRequest) (*migratev1.TransferResponse, error) {
	s, err := checkSlot(req.GetSlot())
	if err != nil {
		return nil, err
	}
	if err := m.n.transferKeys(ctx, s, int(req.GetSourceShard()), req.GetKeys()); err != nil {
		return nil, grpcError(m.n, err)
	}
	return &migratev1.TransferResponse{Keys: uint64(len(req.GetKeys()))}, nil
}

func (m *migrateServer) CompleteImport(ctx context.Context, req *migratev1.CompleteImportRequest) (*migratev1.CompleteImportResponse, error) {
	s, err := checkSlot(req.GetSlot())
	if err != nil {
		return nil, err
	}
	if err := m.n.completeImport(ctx, s, int(req.GetSourceShard()), req.GetVersion()); err != nil {
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
// following leadership changes (every step is idempotent).
type remoteImporter struct {
	n      *Node
	target int
}

func (r *remoteImporter) call(ctx context.Context, fn func(ctx context.Context, c migratev1.MigrateClient) error) error {
	ctx, cancel := context.WithTimeout(ctx, leaderCallTimeout)
	defer cancel()
	var last error
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		if m, ok := r.n.shardLeader(r.target); ok && m.GRPC != "" {
			conn, err := r.n.grpc.conn(m.GRPC)
			if err == nil {
				err = fn(ctx, migratev1.NewMigrateClient(conn))
			}
			if err == nil || status.Code(err) != codes.Unavailable {
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

func (r *remoteImporter) BeginImport(ctx context.Context, s slots.Slot, source int, freeze bool) error {
	return r.call(ctx, func(ctx context.Context, c migratev1.MigrateClient) error {
		_, err := c.BeginImport(ctx, &migratev1.BeginImportRequest{Slot: uint32(s), SourceShard: int32(source), Freeze: freeze})
		return err
	})
}

func (r *remoteImporter) Transfer(ctx context.Context, s slots.Slot, source int, recs []*migratev1.KeyRecord) error {
	return r.call(ctx, func(ctx context.Context, c migratev1.MigrateClient) error {
		_, err := c.Transfer(ctx, &migratev1.TransferRequest{Slot: uint32(s), SourceShard: int32(source), Keys: recs})
		return err
	})
}

func (r *remoteImporter) CompleteImport(ctx context.Context, s slots.Slot, source int, ver uint64) error {
	return r.call(ctx, func(ctx context.Context, c migratev1.MigrateClient) error {
		_, err := c.CompleteImport(ctx, &migratev1.CompleteImportRequest{Slot: uint32(s), SourceShard: int32(source), Version: ver})
		return err
	})
}

// moveSlot moves slot s to shard target from wherever it is: it asks the
// owning shard's leader (over gRPC, this node included) to run the move,
// following leader changes on the source until the move is done.
func (n *Node) moveSlot(ctx context.Context, s slots.Slot, target int, progress func(keys, bytes uint64)) error {
	if !n.shardKnown(target) {
		return status.Errorf(codes.InvalidArgument, "unknown shard %d", target)
	}
	deadline := time.Now().Add(2 * time.Minute)
	var last error
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, time.Second) {
		v := n.view.Load()
		owner, _, ok := v.smap.Owner(s)
		switch {
		case !ok:
			last = status.Errorf(codes.FailedPrecondition, "slot %d has no owner", s)
		case int(owner) == target:
			if n.moveSettled(s, target) {
				return nil
			}
			last = status.Errorf(codes.Unavailable, "slot %d: waiting for the move to settle", s)
		default:
			last = n.moveFrom(ctx, int(owner), s, target, progress)
			if last == nil {
				n.waitOwner(ctx, s, target)
				return nil
			}
			if code := status.Code(last); code != codes.Unavailable && code != codes.Unknown && code != codes.DeadlineExceeded {
				return last
			}
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

func (n *Node) moveFrom(ctx context.Context, source int, s slots.Slot, target int, progress func(keys, bytes uint64)) error {
	m, ok := n.shardLeader(source)
	if !ok || m.GRPC == "" {
		return status.Errorf(codes.Unavailable, "shard %d has no leader", source)
	}
	conn, err := n.grpc.conn(m.GRPC)
	if err != nil {
		return err
	}
	stream, err := migratev1.NewMigrateClient(conn).MoveSlot(ctx, &migratev1.MoveSlotRequest{Slot: uint32(s), TargetShard: int32(target)})
	if err != nil {
		return err
	}
	for {
		p, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return status.Errorf(codes.Unavailable, "move of slot %d ended without completion", s)
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

// waitOwner waits (briefly) until this node's view routes s to target, so
// that an operation reporting success is visible in CLUSTER SLOTS here.
func (n *Node) waitOwner(ctx context.Context, s slots.Slot, target int) {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		n.notifyMeta()
		if v := n.view.Load(); v != nil {
			if owner, _, ok := v.smap.Owner(s); ok && int(owner) == target {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}
