package node

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
)

// Operations are long admin calls (AddShard, RemoveShard, MigrateSlots,
// Rebalance, AddReplica, RemoveReplica). Each runs in a goroutine of the node
// that received the call, in memory only: its id ("<node>-<n>") tells any
// node where to ask about it. A node restart forgets its operations; an
// interrupted operation is resumed by running it again, since the state
// that matters (slot migrations, Raft membership) lives in the shards' logs.

// keepFinishedOps bounds the finished operations a node remembers.
const keepFinishedOps = 100

type opRegistry struct {
	mu    sync.Mutex
	seq   int
	ops   map[string]*op
	order []string // ids, oldest first
	wg    sync.WaitGroup
}

// op is one operation. Its state is a proto message changed only under mu;
// every change closes and replaces changed, which is how watchers wake up.
type op struct {
	mu      sync.Mutex
	pb      *adminv1.Operation
	started time.Time
	changed chan struct{}
}

// newOp registers a running operation and returns it.
func (n *Node) newOp(kind adminv1.OperationKind, shard int, desc string) *op {
	r := &n.ops
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ops == nil {
		r.ops = map[string]*op{}
	}
	if r.seq == 0 && !n.started.IsZero() {
		// Numbered from the node's start time in milliseconds: a node
		// forgets its operations when it restarts, and an id handed out
		// before must not name a newer operation afterwards.
		r.seq = int(n.started.UnixMilli())
	}
	r.seq++
	now := time.Now()
	o := &op{
		pb: &adminv1.Operation{
			Id: n.cfg.NodeID + "-" + strconv.Itoa(r.seq), Kind: kind, State: adminv1.OperationState_OPERATION_STATE_RUNNING,
			Description: desc, Started: timestamppb.New(now), Node: n.cfg.NodeID, Shard: int32(shard),
		},
		started: now,
		changed: make(chan struct{}),
	}
	r.ops[o.pb.Id] = o
	r.order = append(r.order, o.pb.Id)
	// Forget the oldest finished operations beyond the limit.
	if len(r.order) > keepFinishedOps {
		kept := r.order[:0]
		excess := len(r.order) - keepFinishedOps
		for _, id := range r.order {
			if excess > 0 && r.ops[id].finished() {
				delete(r.ops, id)
				excess--
				continue
			}
			kept = append(kept, id)
		}
		r.order = kept
	}
	return o
}

// run starts fn for o in the background, on a context that ends when the
// node closes, and records its outcome.
func (n *Node) run(o *op, fn func(ctx context.Context, o *op) error) {
	n.ops.wg.Add(1)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer n.ops.wg.Done()
		err := fn(n.runCtx, o)
		if err != nil && n.runCtx.Err() != nil {
			err = fmt.Errorf("node %s shut down during the operation (run it again to resume): %w", n.cfg.NodeID, err)
		}
		o.finish(err)
		if err != nil {
			n.cfg.Logger.Warn("admin operation failed", "op", o.id(), "err", err)
		} else {
			n.cfg.Logger.Info("admin operation done", "op", o.id())
		}
	}()
}

func (o *op) id() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pb.Id
}

func (o *op) finished() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.pb.State != adminv1.OperationState_OPERATION_STATE_RUNNING
}

// update changes the operation's state and wakes its watchers.
func (o *op) update(fn func(pb *adminv1.Operation)) {
	o.mu.Lock()
	fn(o.pb)
	close(o.changed)
	o.changed = make(chan struct{})
	o.mu.Unlock()
}

func (o *op) setStep(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	o.update(func(pb *adminv1.Operation) { pb.Step = msg })
}

func (o *op) finish(err error) {
	o.update(func(pb *adminv1.Operation) {
		pb.Finished = timestamppb.Now()
		if err != nil {
			pb.State = adminv1.OperationState_OPERATION_STATE_FAILED
			pb.Error = err.Error()
			return
		}
		pb.State = adminv1.OperationState_OPERATION_STATE_DONE
		pb.Step = "done"
	})
}

// snapshot returns a copy of the operation with its rates and ETA
// computed now, and the channel closed at its next change.
func (o *op) snapshot() (*adminv1.Operation, <-chan struct{}) {
	o.mu.Lock()
	defer o.mu.Unlock()
	pb := proto.Clone(o.pb).(*adminv1.Operation)
	end := time.Now()
	if pb.Finished != nil {
		end = pb.Finished.AsTime()
	}
	fillRates(pb, end.Sub(o.started))
	return pb, o.changed
}

// fillRates sets the average rates since the start and, while running, an
// ETA from the slots still to move at the average time per slot so far.
func fillRates(pb *adminv1.Operation, elapsed time.Duration) {
	if sec := elapsed.Seconds(); sec > 0 {
		pb.BytesPerSecond = float64(pb.BytesMoved) / sec
		pb.KeysPerSecond = float64(pb.KeysMoved) / sec
	}
	pb.Eta = nil
	if pb.State == adminv1.OperationState_OPERATION_STATE_RUNNING && pb.SlotsDone > 0 && pb.SlotsTotal > pb.SlotsDone {
		perSlot := elapsed / time.Duration(pb.SlotsDone)
		pb.Eta = durationpb.New(perSlot * time.Duration(pb.SlotsTotal-pb.SlotsDone))
	}
}

func (n *Node) lookupOp(id string) (*op, bool) {
	n.ops.mu.Lock()
	defer n.ops.mu.Unlock()
	o, ok := n.ops.ops[id]
	return o, ok
}

func (n *Node) listOps() []*adminv1.Operation {
	n.ops.mu.Lock()
	ids := append([]string(nil), n.ops.order...)
	n.ops.mu.Unlock()
	var out []*adminv1.Operation
	for _, id := range ids {
		if o, ok := n.lookupOp(id); ok {
			pb, _ := o.snapshot()
			out = append(out, pb)
		}
	}
	return out
}

// opOwner returns the node id part of an operation id.
func opOwner(id string) (string, error) {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 || i == len(id)-1 {
		return "", status.Errorf(codes.InvalidArgument, "malformed operation id %q (want NODE-N)", id)
	}
	if _, err := strconv.Atoi(id[i+1:]); err != nil {
		return "", status.Errorf(codes.InvalidArgument, "malformed operation id %q (want NODE-N)", id)
	}
	return id[:i], nil
}

// slotProgress sums the progress of an operation's slot moves (several
// may run at once) into the operation.
type slotProgress struct {
	o           *op
	mu          sync.Mutex
	keys, bytes uint64 // of finished moves
	inflight    map[*moveCount]struct{}
}

type moveCount struct{ keys, bytes uint64 }

func newSlotProgress(o *op) *slotProgress {
	return &slotProgress{o: o, inflight: map[*moveCount]struct{}{}}
}

func (p *slotProgress) start() *moveCount {
	m := &moveCount{}
	p.mu.Lock()
	p.inflight[m] = struct{}{}
	p.mu.Unlock()
	return m
}

// set records the cumulative counts of one slot's move so far.
func (p *slotProgress) set(m *moveCount, keys, bytes uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	m.keys, m.bytes = keys, bytes
	p.report(0)
}

// finish ends one move of slots slots; the keys it moved count even if it
// failed.
func (p *slotProgress) finish(m *moveCount, ok bool, slots int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inflight, m)
	p.keys += m.keys
	p.bytes += m.bytes
	if !ok {
		slots = 0
	}
	p.report(slots)
}

func (p *slotProgress) report(slotsDone int) {
	keys, bytes := p.keys, p.bytes
	for m := range p.inflight {
		keys += m.keys
		bytes += m.bytes
	}
	p.o.update(func(pb *adminv1.Operation) {
		pb.KeysMoved, pb.BytesMoved = keys, bytes
		pb.SlotsDone += uint32(slotsDone)
	})
}
