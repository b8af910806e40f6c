package node

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/raftfsm"
)

// Backups (raftcachectl snapshot create): a shard's leader streams a
// point-in-time copy of its engine in the snapshot format its Raft
// snapshots use. It is the FSM's copy-on-write snapshot, so writes go on
// while it streams.

// exportChunkBytes bounds one ExportShard message (gRPC's default limit is
// 4 MB).
const exportChunkBytes = 1 << 20

// forwardedKey marks a call one node passed to another, so that a node
// that is not the leader either (leadership moved meanwhile) answers
// Unavailable instead of passing it on again.
const forwardedKey = "x-raftcache-forwarded"

func (a *adminServer) ExportShard(req *adminv1.ExportShardRequest, stream grpc.ServerStreamingServer[adminv1.ExportShardResponse]) error {
	n := a.n
	ctx := stream.Context()
	id := int(req.GetShard())
	if err := n.knownShard(id); err != nil {
		return err
	}
	if f := n.form.Load(); f != nil && f.Shard == id {
		if r := n.rep(); r != nil && r.IsLeader() {
			return n.exportLocal(ctx, stream)
		}
	}
	if md, _ := metadata.FromIncomingContext(ctx); len(md.Get(forwardedKey)) > 0 {
		return status.Errorf(codes.Unavailable, "node %s does not lead shard %d", n.cfg.NodeID, id)
	}
	m, ok := n.findLeader(ctx, id)
	if !ok || m.NodeID == n.cfg.NodeID {
		return status.Errorf(codes.Unavailable, "shard %d has no leader", id)
	}
	c, err := n.adminClient(m.NodeID)
	if err != nil {
		return status.Errorf(codes.Unavailable, "shard %d leader %s: %v", id, m.NodeID, err)
	}
	up, err := c.ExportShard(metadata.AppendToOutgoingContext(ctx, forwardedKey, n.cfg.NodeID), req)
	if err != nil {
		return err
	}
	for {
		msg, err := up.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
}

// exportLocal streams this leader's engine after a linearizable read
// barrier: the copy holds every write acknowledged before the call.
func (n *Node) exportLocal(ctx context.Context, stream grpc.ServerStreamingServer[adminv1.ExportShardResponse]) error {
	r := n.rep()
	if err := r.Read(ctx, false, func(*raftfsm.DB, int64) {}); err != nil {
		return grpcError(n, err)
	}
	snap, err := n.fsm.Snapshot()
	if err != nil {
		return status.Errorf(codes.Internal, "snapshot: %v", err)
	}
	defer snap.Release()
	sink := &exportSink{stream: stream, first: &adminv1.ExportShardResponse{Node: n.cfg.NodeID}}
	if x, ok := snap.(interface{ Index() uint64 }); ok {
		sink.first.Index = x.Index()
	}
	if err := snap.Persist(sink); err != nil {
		if sink.err != nil {
			return sink.err
		}
		return status.Errorf(codes.Internal, "snapshot: %v", err)
	}
	return sink.err
}

// exportSink is the raft.SnapshotSink Persist writes to: it sends the
// bytes in messages of up to exportChunkBytes.
type exportSink struct {
	stream grpc.ServerStreamingServer[adminv1.ExportShardResponse]
	first  *adminv1.ExportShardResponse // metadata, sent with the first part
	buf    []byte
	err    error
}

func (s *exportSink) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := len(p)
	for len(p) > 0 {
		take := min(len(p), exportChunkBytes-len(s.buf))
		s.buf = append(s.buf, p[:take]...)
		p = p[take:]
		if len(s.buf) == exportChunkBytes {
			if err := s.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (s *exportSink) flush() error {
	msg := s.first
	if msg == nil {
		msg = &adminv1.ExportShardResponse{}
	}
	s.first = nil
	msg.Data = s.buf
	if err := s.stream.Send(msg); err != nil {
		s.err = err
		return err
	}
	s.buf = make([]byte, 0, exportChunkBytes)
	return nil
}

func (s *exportSink) Close() error {
	if s.err != nil {
		return s.err
	}
	if len(s.buf) > 0 || s.first != nil {
		return s.flush()
	}
	return nil
}

func (s *exportSink) Cancel() error { return nil }
func (s *exportSink) ID() string    { return "export" }
