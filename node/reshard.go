package node

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
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
	migrateBatchKeys  = 2048
	migrateBatchBytes = 2 << 20
	migratePartBytes  = 1 << 20
	// After this many passes over the slot (keys rewritten while being
	// sent), the slot is frozen (TRYAGAIN) so that the last pass converges.
	migrateFreezeAfter = 6
	migrateMaxPasses   = 40
	// migrateWindow is how many batches of keys one mover has in flight
	// at full speed (transferPass): about 8 MB read ahead of the logs.
	migrateWindow = 4
	// migratePacedBytes is the batch of a paced move (pause_percent > 0),
	// one at a time: what a client's write may queue behind in the
	// target's log.
	migratePacedBytes = 512 << 10
)

// importer is the target shard as the source's driver sees it. Each call
// covers a batch of slots moving together.
type importer interface {
	BeginImport(ctx context.Context, ss []slots.Slot, source int, freeze bool, libraries [][]byte) error
	Transfer(ctx context.Context, ss []slots.Slot, source int, recs []*migratev1.KeyRecord) error
	CompleteImport(ctx context.Context, ss []slots.Slot, source int, ver uint64) error
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

// proposeSlots runs ownership changes (one command each, e.g. "migrate 7
// 2 0") through this shard's log as one entry.
func (n *Node) proposeSlots(ctx context.Context, cmds ...[]string) error {
	r, _, err := n.leaderReplica()
	if err != nil {
		return err
	}
	if len(cmds) == 0 {
		return nil
	}
	entry := make([][][]byte, len(cmds))
	for i, args := range cmds {
		for _, a := range args {
			entry[i] = append(entry[i], []byte(a))
		}
	}
	replies, err := r.Propose(ctx, raftfsm.OpSlots, entry)
	if err != nil {
		return grpcError(n, fmt.Errorf("slot %s: %w", cmds[0][0], err))
	}
	n.notifyMeta()
	for _, rep := range replies {
		if rep.Kind == raftfsm.KindError {
			return status.Error(codes.FailedPrecondition, rep.Str)
		}
	}
	return nil
}

// slotCmds builds one slot command per slot: verb, slot, then args.
func slotCmds(verb string, ss []slots.Slot, args ...string) [][]string {
	out := make([][]string, len(ss))
	for i, s := range ss {
		out[i] = append([]string{verb, strconv.Itoa(int(s))}, args...)
	}
	return out
}

// ---- target side ------------------------------------------------------

func (n *Node) beginImport(ctx context.Context, ss []slots.Slot, source int, freeze bool, libraries [][]byte) error {
	r, me, err := n.leaderReplica()
	if err != nil {
		return err
	}
	if source == me {
		return status.Errorf(codes.InvalidArgument, "shard %d cannot import slots from itself", me)
	}
	if err := n.loadMissingLibraries(ctx, r, source, libraries); err != nil {
		return err
	}
	return n.proposeSlots(ctx, slotCmds("import", ss, strconv.Itoa(source), boolArg(freeze))...)
}

// loadMissingLibraries loads, through this shard's log, the source shard's
// function libraries that this shard lacks: keys that move here keep
// working with FCALL (a shard added by add-shard starts with none). A
// library of the same name already here is kept as it is.
func (n *Node) loadMissingLibraries(ctx context.Context, r *shard.Replica, source int, libraries [][]byte) error {
	if len(libraries) == 0 {
		return nil
	}
	cmds := make([][][]byte, len(libraries))
	for i, code := range libraries {
		cmds[i] = [][]byte{[]byte("function"), []byte("load"), code}
	}
	replies, err := r.Propose(ctx, raftfsm.OpCommands, cmds)
	if err != nil {
		return fmt.Errorf("load shard %d's function libraries: %w", source, err)
	}
	for _, rep := range replies {
		if rep.IsError() && !strings.Contains(rep.Str, "already exists") {
			n.cfg.Logger.Warn("function library of the source shard not loaded", "source", source, "error", rep.Str)
		}
	}
	return nil
}

func (n *Node) transferKeys(ctx context.Context, source int, recs []*migratev1.KeyRecord) error {
	r, _, err := n.leaderReplica()
	if err != nil {
		return err
	}
	cmds := make([][][]byte, 0, len(recs))
	for _, rec := range recs {
		s := slots.Of(rec.GetKey())
		if si, ok := n.slotState(s); !ok || si.State != raftfsm.SlotImporting || int(si.Peer) != source {
			return status.Errorf(codes.FailedPrecondition, "slot %d (key %q) is not being imported from shard %d here", s, rec.GetKey(), source)
		}
		cmds = append(cmds, [][]byte{rec.GetKey(), []byte(strconv.FormatInt(rec.GetExpireAtMs(), 10)),
			rec.GetPayload(), []byte(boolArg(rec.GetMerge()))})
	}
	if len(cmds) == 0 {
		return nil
	}
	// Many small entries proposed at once instead of one large one. bbolt
	// (under raft-boltdb) rewrites the log's last leaf, which holds the
	// last two to four entries, on every commit: a large entry is written
	// again by each of the next few commits, a client's 100-byte SET
	// included. With 512 KiB entries a move wrote ~30 bytes to disk per
	// byte moved; with 16 KiB entries, which raft commits together, ~9
	// (docs/BENCHMARKS.md, slot migration).
	chunks := importChunks(cmds, importEntryBytes)
	errs := make([]error, len(chunks))
	var wg sync.WaitGroup
	for i, c := range chunks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Propose(ctx, raftfsm.OpImport, c); err != nil {
				errs[i] = fmt.Errorf("import %d keys: %w", len(c), err)
			}
		}()
	}
	wg.Wait()
	// Any failure fails the call; the source sends the batch again (an
	// import of a whole key is idempotent).
	return grpcError(n, errors.Join(errs...))
}

// importEntryBytes bounds the encoding of an import entry, which a
// Transfer's records are cut into. raft-boltdb encodes each entry into a
// buffer that doubles as it grows: one just past a power of two allocates
// about 1.6x what one just below it does (BenchmarkLogStore, entry=15.5KiB
// against 16.5KiB), so an entry, with raft's own fields, stays under
// 16 KiB. (4-32 KiB entries moved keys alike; 16 KiB, the fewest entries
// that kept client latency during a move as low, is the measured choice.)
const importEntryBytes = 16<<10 - 512

// importChunks cuts import commands into runs whose entries encode to at
// most limit bytes (a run of one command may be larger).
// A cut is made only before a whole value (MERGE=0): the parts of a large
// value must apply in order, and entries proposed concurrently may commit
// in any order.
func importChunks(cmds [][][]byte, limit int) [][][][]byte {
	var out [][][][]byte
	start, size := 0, raftfsm.EntryHeaderMax
	for i, c := range cmds {
		n := raftfsm.CommandSize(c)
		if i > start && size+n > limit && string(c[3]) != "1" {
			out = append(out, cmds[start:i])
			start, size = i, raftfsm.EntryHeaderMax
		}
		size += n
	}
	return append(out, cmds[start:])
}

func (n *Node) completeImport(ctx context.Context, ss []slots.Slot, ver uint64) error {
	if ver == 0 {
		return status.Error(codes.InvalidArgument, "version 0")
	}
	return n.proposeSlots(ctx, slotCmds("take", ss, strconv.FormatUint(ver, 10))...)
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// ---- source side ------------------------------------------------------

// runMoveSlots moves slots ss from this node's shard (which it must lead)
// to target together (one log entry per step for all of them) and returns
// the version the target owns them at.
func (n *Node) runMoveSlots(ctx context.Context, ss []slots.Slot, target int, imp importer, pause float64, progress func(MoveProgress)) (uint64, error) {
	_, me, err := n.leaderReplica()
	if err != nil {
		return 0, err
	}
	if target == me {
		return 0, status.Errorf(codes.InvalidArgument, "the slots already belong to shard %d", me)
	}
	if len(ss) == 0 {
		return 0, status.Error(codes.InvalidArgument, "no slot to move")
	}
	// What each slot needs: done already, a fresh start, or a resume.
	var todo, start []slots.Slot
	var doneVer uint64
	frozen := false
	for _, s := range ss {
		si, ok := n.slotState(s)
		if !ok {
			return 0, status.Errorf(codes.Unavailable, "shard %d has not recorded its slots in its log yet", me)
		}
		switch si.State {
		case raftfsm.SlotUnowned:
			if int(si.Peer) != target {
				return 0, status.Errorf(codes.FailedPrecondition, "slot %d is not owned by shard %d", s, me)
			}
			doneVer = max(doneVer, si.Ver) // moved already (a retried move)
		case raftfsm.SlotImporting:
			return 0, status.Errorf(codes.FailedPrecondition, "slot %d is being imported into shard %d", s, me)
		case raftfsm.SlotMigrating:
			if int(si.Peer) != target {
				return 0, status.Errorf(codes.FailedPrecondition, "slot %d is already migrating to shard %d", s, si.Peer)
			}
			frozen = frozen || si.Frozen
			todo = append(todo, s)
		case raftfsm.SlotOwned:
			todo = append(todo, s)
			start = append(start, s)
		}
	}
	if len(todo) == 0 {
		return doneVer, nil
	}
	// A shard that owns no slot yet is absent from CLUSTER SLOTS, and some
	// clients (redis-py) fail on an ASK to such a node: its first slot
	// moves alone and frozen (TRYAGAIN for a few log commits, then MOVED),
	// without ASK. The emptiest slot is picked, so usually no client sees
	// the freeze; the others follow with ASK once gossip shows the target.
	if len(start) == len(todo) && n.shardOwnsNothing(target) {
		if len(todo) == 1 {
			frozen = true
		} else {
			first := n.emptiestSlot(todo)
			if _, err := n.runMoveSlots(ctx, []slots.Slot{first}, target, imp, pause, progress); err != nil {
				return 0, err
			}
			n.waitClaim(ctx, first, target)
			rest := make([]slots.Slot, 0, len(ss)-1)
			for _, s := range ss {
				if s != first {
					rest = append(rest, s)
				}
			}
			return n.runMoveSlots(ctx, rest, target, imp, pause, progress)
		}
	}
	if err := imp.BeginImport(ctx, todo, me, frozen, n.fsm.LibraryCodes()); err != nil {
		return 0, fmt.Errorf("begin import on shard %d: %w", target, err)
	}
	targetArg := strconv.Itoa(target)
	if err := n.proposeSlots(ctx, slotCmds("migrate", start, targetArg, boolArg(frozen))...); err != nil {
		return 0, err
	}
	var prog MoveProgress
	for pass := 1; ; pass++ {
		if err := n.transferPass(ctx, todo, imp, pause, &prog, progress); err != nil {
			return 0, err
		}
		left := 0
		n.fsm.View(func(db *raftfsm.DB) {
			for _, s := range todo {
				left += db.CountInSlot(s)
			}
		})
		if left == 0 {
			break
		}
		if pass >= migrateMaxPasses {
			return 0, status.Errorf(codes.Aborted, "%d keys still changing after %d passes over %d slots", left, pass, len(todo))
		}
		if pass >= migrateFreezeAfter && !frozen {
			// Keys are rewritten faster than they move: stop writes to the
			// slots (TRYAGAIN) for the last pass.
			frozen = true
			if err := n.proposeSlots(ctx, slotCmds("migrate", todo, targetArg, "1")...); err != nil {
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
	if err := imp.CompleteImport(ctx, todo, me, ver); err != nil {
		return 0, fmt.Errorf("complete import on shard %d: %w", target, err)
	}
	if err := n.proposeSlots(ctx, slotCmds("give", todo, targetArg, strconv.FormatUint(ver, 10))...); err != nil {
		return 0, err
	}
	n.cfg.Logger.Info("slots moved", "slots", slots.FormatRanges(rangesOf(todo)), "from_shard", me, "to_shard", target,
		"version", ver, "keys", prog.Keys, "bytes", prog.Bytes)
	return ver, nil
}

func rangesOf(ss []slots.Slot) []slots.Range {
	var set [slots.Count]bool
	for _, s := range ss {
		set[s] = true
	}
	return slots.RangesOf(set[:])
}

// transferPass sends every key of the slots once, in batches of keys from
// one or more slots: read under the read lock, send, then delete what was
// sent (if unchanged since it was read) through the log. At full speed
// (pause 0) up to migrateWindow batches are in flight: the next is read
// and sent while the previous ones commit in the two logs, so a move is
// bounded by the logs' throughput rather than their latency (batches hold
// different keys, a large value's parts all in one, so they may commit in
// any order). Paced (pause > 0), one smaller batch is in flight and the
// mover rests pause x its time after it: a client's write to the target
// then queues behind at most migratePacedBytes of moved keys.
func (n *Node) transferPass(ctx context.Context, ss []slots.Slot, imp importer, pause float64, prog *MoveProgress, progress func(MoveProgress)) error {
	r, me, err := n.leaderReplica()
	if err != nil {
		return err
	}
	window, batchBytes := migrateWindow, migrateBatchBytes
	if pause > 0 {
		window, batchBytes = 1, migratePacedBytes
	}
	i, after := 0, []byte(nil) // the slot being read, and its last key read
	next := func(context.Context) ([]raftfsm.SlotKey, bool, error) {
		var pend []raftfsm.SlotKey
		size := 0
		for i < len(ss) && len(pend) < migrateBatchKeys && size < batchBytes {
			if !r.IsLeader() {
				return nil, false, errNotLeaderRPC(n)
			}
			var batch []raftfsm.SlotKey
			var more bool
			now := max(time.Now().UnixMilli(), n.fsm.LastTime())
			n.fsm.View(func(db *raftfsm.DB) {
				batch, more = db.ReadSlotKeys(ss[i], after, migrateBatchKeys-len(pend), migratePartBytes, batchBytes, now)
			})
			if len(batch) == 0 || !more {
				i, after = i+1, nil
			} else {
				after = batch[len(batch)-1].Key
			}
			for _, k := range batch {
				for _, p := range k.Parts {
					size += len(p)
				}
			}
			pend = append(pend, batch...)
		}
		return pend, len(pend) > 0, nil
	}
	var mu sync.Mutex // prog, and calls to progress (a stream's Send)
	return inFlight(ctx, window, pause, next, func(ctx context.Context, pend []raftfsm.SlotKey) error {
		sent, err := n.sendKeys(ctx, r, ss, me, imp, pend)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		prog.Keys += sent.Keys
		prog.Bytes += sent.Bytes
		if progress != nil {
			progress(*prog)
		}
		return nil
	})
}

// sendKeys sends one batch of keys to the target in messages of up to
// migrateBatchBytes, then deletes them from this shard (each only if
// unchanged since it was read), and returns what it sent.
func (n *Node) sendKeys(ctx context.Context, r *shard.Replica, ss []slots.Slot, me int, imp importer, pend []raftfsm.SlotKey) (MoveProgress, error) {
	var sent MoveProgress
	var msg []*migratev1.KeyRecord
	size := 0
	send := func() error {
		if len(msg) == 0 {
			return nil
		}
		err := imp.Transfer(ctx, ss, me, msg)
		msg, size = nil, 0
		return err
	}
	dels := make([][][]byte, 0, len(pend))
	for _, k := range pend {
		dels = append(dels, [][]byte{k.Key, []byte(strconv.FormatUint(k.Ver, 10))})
		if k.Expired {
			continue
		}
		for i, p := range k.Parts {
			if size > 0 && size+len(p) > migrateBatchBytes {
				if err := send(); err != nil {
					return sent, err
				}
			}
			msg = append(msg, &migratev1.KeyRecord{Key: k.Key, ExpireAtMs: k.Expire, Payload: p, Merge: i > 0})
			size += len(p) + len(k.Key)
			sent.Bytes += uint64(len(p))
		}
		sent.Keys++
	}
	if err := send(); err != nil {
		return sent, err
	}
	if _, err := r.Propose(ctx, raftfsm.OpMigDel, dels); err != nil {
		return sent, grpcError(n, fmt.Errorf("delete %d moved keys: %w", len(dels), err))
	}
	return sent, nil
}

// emptiestSlot returns the slot of ss holding the fewest keys.
func (n *Node) emptiestSlot(ss []slots.Slot) slots.Slot {
	best, fewest := ss[0], -1
	n.fsm.View(func(db *raftfsm.DB) {
		for _, s := range ss {
			if c := db.CountInSlot(s); fewest < 0 || c < fewest {
				best, fewest = s, c
			}
		}
	})
	return best
}

// waitClaim waits (bounded) until this node's view shows shard target
// owning slot s, i.e. the target's claim has spread by gossip.
func (n *Node) waitClaim(ctx context.Context, s slots.Slot, target int) {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if v := n.view.Load(); v != nil {
			if owner, _, ok := v.smap.Owner(s); ok && int(owner) == target {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// shardOwnsNothing reports whether gossip shows shard id with no slots.
func (n *Node) shardOwnsNothing(id int) bool {
	v := n.view.Load()
	return v == nil || len(v.smap.Ranges(slots.ShardID(id))) == 0
}
