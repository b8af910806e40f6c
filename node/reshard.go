package node

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	migratev1 "github.com/raftcache/raftcache/proto/raftcache/migrate/v1"
	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/shard"
	"github.com/raftcache/raftcache/slots"
)

// Slot migration (design §3). The source shard's leader drives the move of
// one slot: the target records `importing`, the source `migrating` (clients
// now get ASK for keys the source no longer has), keys go over in batches
// through the target's log and are then deleted from the source through
// its log (only if unchanged since they were read; a key written meanwhile
// is sent again), and once the source holds no key of the slot the target
// takes it at a new version and the source gives it away. Every step is an
// idempotent log entry on one side, so a new leader on either side resumes
// where the old one stopped by running the move again.

// Transfer tuning: keys per read, bytes per Transfer message (well under
// gRPC's 4 MB default), part size for large collections.
const (
	migrateBatchKeys  = 512
	migrateBatchBytes = 2 << 20
	migratePartBytes  = 1 << 20
	// After this many passes over the slot (keys rewritten while being
	// sent), the slot is frozen (TRYAGAIN) so that the last pass converges.
	migrateFreezeAfter = 6
	migrateMaxPasses   = 40
)

// importer is the target shard as the source's driver sees it.
type importer interface {
	BeginImport(ctx context.Context, slot slots.Slot, source int, freeze bool) error
	Transfer(ctx context.Context, slot slots.Slot, source int, recs []*migratev1.KeyRecord) error
	CompleteImport(ctx context.Context, slot slots.Slot, source int, ver uint64) error
}

// MoveProgress is reported after every batch.
type MoveProgress struct {
	Keys, Bytes uint64
}

// errNotLeaderRPC tells a caller to find the shard's current leader.
func errNotLeaderRPC(n *Node) error {
	return status.Errorf(codes.Unavailable, "node %s does not lead its shard", n.cfg.NodeID)
}

// grpcError turns an internal error into a status a caller can act on.
func grpcError(n *Node, err error) error {
	switch {
	case err == nil:
		return nil
	case status.Code(err) != codes.Unknown:
		return err
	case errors.Is(err, shard.ErrNotLeader), errors.Is(err, shard.ErrClosed), errors.Is(err, shard.ErrTimeout):
		return status.Error(codes.Unavailable, err.Error())
	case errors.Is(err, shard.ErrUncertain), errors.Is(err, context.DeadlineExceeded):
		// The step may have applied: every step is idempotent, retry it.
		return status.Error(codes.Unavailable, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// leaderReplica returns this node's replica if it leads its shard (and
// has committed in its term), with its shard id.
func (n *Node) leaderReplica() (*shard.Replica, int, error) {
	r, f := n.rep(), n.form.Load()
	if r == nil || f == nil || !r.IsLeader() || !r.Ready() {
		return nil, 0, errNotLeaderRPC(n)
	}
	return r, f.Shard, nil
}

// proposeSlots runs one ownership change through this shard's log.
func (n *Node) proposeSlots(ctx context.Context, args ...string) error {
	r, _, err := n.leaderReplica()
	if err != nil {
		return err
	}
	cmd := make([][]byte, len(args))
	for i, a := range args {
		cmd[i] = []byte(a)
	}
	replies, err := r.Propose(ctx, raftfsm.OpSlots, [][][]byte{cmd})
	if err != nil {
		return grpcError(n, fmt.Errorf("slot %s %s: %w", args[0], args[1], err))
	}
	if len(replies) == 1 && replies[0].Kind == raftfsm.KindError {
		return status.Error(codes.FailedPrecondition, replies[0].Str)
	}
	n.notifyMeta()
	return nil
}

// ---- target side ------------------------------------------------------

func (n *Node) beginImport(ctx context.Context, s slots.Slot, source int, freeze bool) error {
	_, me, err := n.leaderReplica()
	if err != nil {
		return err
	}
	if source == me {
		return status.Errorf(codes.InvalidArgument, "shard %d cannot import slot %d from itself", me, s)
	}
	return n.proposeSlots(ctx, "import", strconv.Itoa(int(s)), strconv.Itoa(source), boolArg(freeze))
}

func (n *Node) transferKeys(ctx context.Context, s slots.Slot, source int, recs []*migratev1.KeyRecord) error {
	r, _, err := n.leaderReplica()
	if err != nil {
		return err
	}
	if si, ok := n.slotState(s); !ok || si.State != raftfsm.SlotImporting || int(si.Peer) != source {
		return status.Errorf(codes.FailedPrecondition, "slot %d is not being imported from shard %d here", s, source)
	}
	cmds := make([][][]byte, 0, len(recs))
	for _, rec := range recs {
		if slots.Of(rec.GetKey()) != s {
			return status.Errorf(codes.InvalidArgument, "key %q is not in slot %d", rec.GetKey(), s)
		}
		cmds = append(cmds, [][]byte{rec.GetKey(), []byte(strconv.FormatInt(rec.GetExpireAtMs(), 10)),
			rec.GetPayload(), []byte(boolArg(rec.GetMerge()))})
	}
	if len(cmds) == 0 {
		return nil
	}
	if _, err := r.Propose(ctx, raftfsm.OpImport, cmds); err != nil {
		return grpcError(n, fmt.Errorf("import into slot %d: %w", s, err))
	}
	return nil
}

func (n *Node) completeImport(ctx context.Context, s slots.Slot, source int, ver uint64) error {
	if ver == 0 {
		return status.Error(codes.InvalidArgument, "version 0")
	}
	return n.proposeSlots(ctx, "take", strconv.Itoa(int(s)), strconv.FormatUint(ver, 10))
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// ---- source side ------------------------------------------------------

// runMoveSlot moves slot s from this node's shard (which it must lead) to
// target and returns the version the target owns it at.
func (n *Node) runMoveSlot(ctx context.Context, s slots.Slot, target int, imp importer, progress func(MoveProgress)) (uint64, error) {
	r, me, err := n.leaderReplica()
	if err != nil {
		return 0, err
	}
	if target == me {
		return 0, status.Errorf(codes.InvalidArgument, "slot %d already belongs to shard %d", s, me)
	}
	si, ok := n.slotState(s)
	if !ok {
		return 0, status.Errorf(codes.Unavailable, "shard %d has not recorded its slots in its log yet", me)
	}
	slotArg, targetArg := strconv.Itoa(int(s)), strconv.Itoa(target)
	frozen := si.Frozen
	switch si.State {
	case raftfsm.SlotUnowned:
		if int(si.Peer) == target {
			return si.Ver, nil // done already (a retried move)
		}
		return 0, status.Errorf(codes.FailedPrecondition, "slot %d is not owned by shard %d", s, me)
	case raftfsm.SlotImporting:
		return 0, status.Errorf(codes.FailedPrecondition, "slot %d is being imported into shard %d", s, me)
	case raftfsm.SlotMigrating:
		if int(si.Peer) != target {
			return 0, status.Errorf(codes.FailedPrecondition, "slot %d is already migrating to shard %d", s, si.Peer)
		}
	case raftfsm.SlotOwned:
		// A shard that owns no slot yet is absent from CLUSTER SLOTS, and
		// some clients (redis-py) fail on an ASK to such a node: its first
		// slot moves frozen (TRYAGAIN, then MOVED), without ASK.
		frozen = n.shardOwnsNothing(target)
	}
	if err := imp.BeginImport(ctx, s, me, frozen); err != nil {
		return 0, fmt.Errorf("begin import on shard %d: %w", target, err)
	}
	if si.State == raftfsm.SlotOwned {
		if err := n.proposeSlots(ctx, "migrate", slotArg, targetArg, boolArg(frozen)); err != nil {
			return 0, err
		}
	}
	var prog MoveProgress
	for pass := 1; ; pass++ {
		if err := n.transferPass(ctx, r, s, target, imp, &prog, progress); err != nil {
			return 0, err
		}
		var left int
		n.fsm.View(func(db *raftfsm.DB) { left = db.CountInSlot(s) })
		if left == 0 {
			break
		}
		if pass >= migrateMaxPasses {
			return 0, status.Errorf(codes.Aborted, "slot %d: %d keys still changing after %d passes", s, left, pass)
		}
		if pass >= migrateFreezeAfter && !frozen {
			// Keys are rewritten faster than they move: stop writes to the
			// slot (TRYAGAIN) for the last pass.
			frozen = true
			if err := n.proposeSlots(ctx, "migrate", slotArg, targetArg, "1"); err != nil {
				return 0, err
			}
		}
	}
	var ver uint64
	n.fsm.View(func(db *raftfsm.DB) { ver = db.MaxSlotVersion() })
	if v := n.view.Load(); v != nil && v.smap.MaxVersion() > ver {
		ver = v.smap.MaxVersion()
	}
	ver++
	if err := imp.CompleteImport(ctx, s, me, ver); err != nil {
		return 0, fmt.Errorf("complete import on shard %d: %w", target, err)
	}
	if err := n.proposeSlots(ctx, "give", slotArg, targetArg, strconv.FormatUint(ver, 10)); err != nil {
		return 0, err
	}
	n.cfg.Logger.Info("slot moved", "slot", s, "from_shard", me, "to_shard", target, "version", ver, "keys", prog.Keys, "bytes", prog.Bytes)
	return ver, nil
}

// transferPass sends every key of slot s once, in batches: read under the
// read lock, send, then delete what was sent (if unchanged) through the log.
func (n *Node) transferPass(ctx context.Context, r *shard.Replica, s slots.Slot, target int, imp importer, prog *MoveProgress, progress func(MoveProgress)) error {
	var after []byte
	_, me, _ := n.leaderReplica()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !r.IsLeader() {
			return errNotLeaderRPC(n)
		}
		var batch []raftfsm.SlotKey
		more := false
		now := time.Now().UnixMilli()
		if t := n.fsm.LastTime(); t > now {
			now = t
		}
		n.fsm.View(func(db *raftfsm.DB) {
			batch, more = db.ReadSlotKeys(s, after, migrateBatchKeys, migratePartBytes, now)
		})
		if len(batch) == 0 {
			return nil
		}
		after = batch[len(batch)-1].Key
		var msg []*migratev1.KeyRecord
		size := 0
		flush := func() error {
			if len(msg) == 0 {
				return nil
			}
			err := imp.Transfer(ctx, s, me, msg)
			msg, size = nil, 0
			return err
		}
		var dels [][][]byte
		var sent MoveProgress
		for _, k := range batch {
			dels = append(dels, [][]byte{k.Key, []byte(strconv.FormatUint(k.Ver, 10))})
			if k.Expired {
				continue
			}
			for i, p := range k.Parts {
				if size > 0 && size+len(p) > migrateBatchBytes {
					if err := flush(); err != nil {
						return err
					}
				}
				msg = append(msg, &migratev1.KeyRecord{Key: k.Key, ExpireAtMs: k.Expire, Payload: p, Merge: i > 0})
				size += len(p) + len(k.Key)
				sent.Bytes += uint64(len(p))
			}
			sent.Keys++
		}
		if err := flush(); err != nil {
			return err
		}
		if _, err := r.Propose(ctx, raftfsm.OpMigDel, dels); err != nil {
			return grpcError(n, fmt.Errorf("delete moved keys of slot %d: %w", s, err))
		}
		prog.Keys += sent.Keys
		prog.Bytes += sent.Bytes
		if progress != nil {
			progress(*prog)
		}
		if !more {
			return nil
		}
	}
}

// shardOwnsNothing reports whether gossip shows shard id with no slots.
func (n *Node) shardOwnsNothing(id int) bool {
	v := n.view.Load()
	return v == nil || len(v.smap.Ranges(slots.ShardID(id))) == 0
}
