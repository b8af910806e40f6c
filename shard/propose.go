package shard

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/raftfsm"
)

// waiters maps request ids of this replica's in-flight writes to the
// channel the FSM apply hook answers. The hook runs on every applied entry,
// so a write is resolved even when raft cannot tell its outcome (leadership
// lost after enqueue) and this replica applies it later as a follower.
type waiters struct {
	mu sync.Mutex
	m  map[uint64]chan *raftfsm.ApplyResult
}

func (w *waiters) init() { w.m = make(map[uint64]chan *raftfsm.ApplyResult) }

// add registers id; it must happen before the entry is proposed.
func (w *waiters) add(id uint64) <-chan *raftfsm.ApplyResult {
	ch := make(chan *raftfsm.ApplyResult, 1)
	w.mu.Lock()
	w.m[id] = ch
	w.mu.Unlock()
	return ch
}

func (w *waiters) remove(id uint64) {
	w.mu.Lock()
	delete(w.m, id)
	w.mu.Unlock()
}

// deliver is the FSM apply hook. Entries proposed by other replicas miss.
func (w *waiters) deliver(res *raftfsm.ApplyResult) {
	w.mu.Lock()
	ch, ok := w.m[res.ReqID]
	if ok {
		delete(w.m, res.ReqID)
	}
	w.mu.Unlock()
	if ok {
		ch <- res // buffered, and delivered at most once
	}
}

func (w *waiters) len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.m)
}

// nextReqID returns an id unique across the cluster with overwhelming
// probability: a random per-process base plus a counter; never 0 (0 means
// "no id" in the log format).
func (r *Replica) nextReqID() uint64 {
	for {
		if id := r.reqBase + r.reqSeq.Add(1); id != 0 {
			return id
		}
	}
}

// stamp returns the time for a new entry: the local clock, but never below
// the last applied entry's time (a previous leader's clock may be ahead) nor
// below this replica's previous stamp, so entry time never goes backwards.
func (r *Replica) stamp() int64 {
	t := time.Now().UnixMilli()
	if lt := r.fsm.LastTime(); lt > t {
		t = lt
	}
	for {
		prev := r.lastStamp.Load()
		if t <= prev {
			return prev
		}
		if r.lastStamp.CompareAndSwap(prev, t) {
			return t
		}
	}
}

// enqueueTimeout bounds how long raft.Apply may wait to hand the entry to
// the leader loop: the context's deadline, else no bound (the leader loop
// drains the apply channel continuously, and Close unblocks Apply).
func enqueueTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		if left := time.Until(d); left > 0 {
			return left
		}
		return time.Nanosecond
	}
	return 0
}

// Write proposes cmds as one log entry (applied atomically, in order) and
// returns one reply per command once the entry is committed and applied.
//
// Errors: ErrNotLeader, ErrClosed and ErrTimeout mean the entry was
// definitely not applied. ErrUncertain means it was proposed and may or may
// not be applied. Engine errors (WRONGTYPE...) are replies, not errors.
func (r *Replica) Write(ctx context.Context, cmds [][][]byte) ([]raftfsm.Reply, error) {
	return r.Propose(ctx, raftfsm.OpCommands, cmds)
}

// Propose is Write for any entry kind (slot ownership changes, migration
// imports and deletes), with the same outcome guarantees.
func (r *Replica) Propose(ctx context.Context, op raftfsm.Op, cmds [][][]byte) ([]raftfsm.Reply, error) {
	if r.closed() {
		return nil, ErrClosed
	}
	if r.raft.State() != raft.Leader {
		return nil, fmt.Errorf("shard: write: %w", ErrNotLeader)
	}
	id := r.nextReqID()
	e := raftfsm.Entry{Op: op, ReqID: id, Time: r.stamp(), Seed: rand.Uint64(), Cmds: cmds}
	if op == raftfsm.OpCommands && r.cfg.Params != nil {
		e.Params = r.cfg.Params()
	}
	data := raftfsm.EncodeEntry(nil, &e)
	applied := r.waiters.add(id)
	defer r.waiters.remove(id)
	installs := r.fsm.Installs()

	transferDeadline := time.Now().Add(r.cfg.ElectionTimeout)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("shard: write: %w", err)
		}
		f := r.raft.Apply(data, enqueueTimeout(ctx))
		var err error
		select {
		case res := <-applied:
			return res.Replies, nil
		case err = <-r.futureErr(f):
		case <-ctx.Done():
			return r.resolve(ctx, applied, ctx.Err(), outcomeAt{})
		case <-r.closing:
			return r.resolve(ctx, applied, ErrClosed, outcomeAt{})
		}
		if err == nil {
			if res, ok := f.Response().(*raftfsm.ApplyResult); ok && res != nil {
				return res.Replies, nil
			}
			// Unreachable with our FSM; do not pretend the write failed.
			return nil, fmt.Errorf("shard: write: unexpected apply response %T: %w", f.Response(), ErrUncertain)
		}
		switch {
		case errors.Is(err, raft.ErrNotLeader):
			return nil, fmt.Errorf("shard: write: %w", ErrNotLeader)
		case errors.Is(err, raft.ErrEnqueueTimeout):
			return nil, fmt.Errorf("shard: write: %w", ErrTimeout)
		case errors.Is(err, raft.ErrLeadershipTransferInProgress):
			// Rejected before entering the log: retry until the transfer
			// settles (bounded by ElectionTimeout, as the transfer is).
			if time.Now().After(transferDeadline) || r.raft.State() != raft.Leader {
				return nil, fmt.Errorf("shard: write: leadership transfer: %w", ErrNotLeader)
			}
			select {
			case <-time.After(5 * time.Millisecond):
				continue
			case <-ctx.Done():
				return nil, fmt.Errorf("shard: write: %w", ctx.Err())
			case <-r.closing:
				return nil, ErrClosed
			}
		case errors.Is(err, raft.ErrRaftShutdown) && immediate(f):
			// Refused by Apply itself: never entered the log.
			return nil, ErrClosed
		case errors.Is(err, raft.ErrLeadershipLost):
			// In the log at f.Index() (the leader loop set it before it
			// answered), and may still commit under the next leader.
			return r.resolve(ctx, applied, err, outcomeAt{index: f.Index(), installs: installs})
		default:
			// Shutdown after dispatch, disk errors: unknown.
			return r.resolve(ctx, applied, err, outcomeAt{})
		}
	}
}

// immediate reports whether f is raft's errorFuture, which Apply returns
// when it refuses an entry outright (shutdown, enqueue timeout). Any other
// future was handed to the leader loop. (Reading f.Index() instead would
// race with the leader loop when the future is answered by shutdown.)
func immediate(f raft.Future) bool { return reflect.ValueOf(f).Kind() != reflect.Pointer }

// uncertainWait bounds how long a write with an unknown outcome waits to
// see its entry applied: a new leader is normally elected and has
// committed the previous term's entries within two election timeouts.
func (r *Replica) uncertainWait() time.Duration { return 2 * r.cfg.ElectionTimeout }

// outcomeAt locates an entry whose outcome is unknown: its log index (0
// when unknown) and the FSM's snapshot installs when it was proposed.
type outcomeAt struct{ index, installs uint64 }

// resolve waits for an entry whose outcome raft could not report to show up
// through the apply hook (on a follower too), until uncertainWait, ctx or
// Close. It returns the real replies; ErrNotLeader when this replica
// applied another entry at the entry's index with no snapshot installed
// since (raft never moves an entry to another index, so the write can no
// longer happen and the client may retry it elsewhere); ErrUncertain
// otherwise.
func (r *Replica) resolve(ctx context.Context, applied <-chan *raftfsm.ApplyResult, cause error, at outcomeAt) ([]raftfsm.Reply, error) {
	t := time.NewTimer(r.uncertainWait())
	defer t.Stop()
	var passed chan error // the applied index reached at.index
	if at.index > 0 {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		passed = make(chan error, 1)
		go func() { passed <- r.fsm.WaitApplied(wctx, at.index) }()
	}
wait:
	for {
		select {
		case res := <-applied:
			return res.Replies, nil
		case err := <-passed:
			passed = nil
			if err != nil {
				continue
			}
			select {
			case res := <-applied:
				return res.Replies, nil
			default:
			}
			if r.fsm.Installs() == at.installs {
				return nil, fmt.Errorf("shard: write: %v; index %d now holds another entry: %w", cause, at.index, ErrNotLeader)
			}
		case <-t.C:
			break wait
		case <-ctx.Done():
			break wait
		case <-r.closing:
			break wait
		}
	}
	select {
	case res := <-applied:
		return res.Replies, nil
	default:
	}
	return nil, fmt.Errorf("shard: write: %v: %w", cause, ErrUncertain)
}
