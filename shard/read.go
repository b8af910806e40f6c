package shard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/raftfsm"
)

// readBatch is one group of linearizable readers confirmed by a single
// VerifyLeader round. err is written before done is closed.
type readBatch struct {
	done chan struct{}
	err  error
}

// Read runs fn on the engine with the read clock now (Unix ms).
//
// stale=true reads local state without any check (replica reads after
// READONLY). Otherwise the read is linearizable: only the leader serves it,
// after its term's no-op is applied, and after a read index confirmed by
// VerifyLeader (shared by every reader that arrived before the round
// started) has been applied. fn must not retain db.
func (r *Replica) Read(ctx context.Context, stale bool, fn func(db *raftfsm.DB, now int64)) error {
	if r.closed() {
		return ErrClosed
	}
	if !stale {
		if err := r.readIndex(ctx); err != nil {
			return err
		}
	}
	now := r.readClock()
	r.fsm.View(func(db *raftfsm.DB) { fn(db, now) })
	return nil
}

// readClock hides keys that expired by the local clock, but never by a
// clock behind the newest applied entry, so a read never shows a key that a
// write already treated as expired.
func (r *Replica) readClock() int64 {
	t := time.Now().UnixMilli()
	if lt := r.fsm.LastTime(); lt > t {
		return lt
	}
	return t
}

func (r *Replica) readIndex(ctx context.Context) error {
	if r.raft.State() != raft.Leader {
		return fmt.Errorf("shard: read: %w", ErrNotLeader)
	}
	if err := r.waitReady(ctx); err != nil {
		return err
	}
	b := r.joinReadBatch()
	select {
	case <-b.done:
		return b.err
	case <-ctx.Done():
		return fmt.Errorf("shard: read: %w", ctx.Err())
	case <-r.closing:
		return ErrClosed
	}
}

// waitReady waits until this leader has applied its term's no-op.
func (r *Replica) waitReady(ctx context.Context) error {
	for {
		ch := r.stateChanged()
		if r.Ready() {
			return nil
		}
		if r.raft.State() != raft.Leader {
			return fmt.Errorf("shard: read: %w", ErrNotLeader)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("shard: read: waiting for leader barrier: %w", ctx.Err())
		case <-r.closing:
			return ErrClosed
		}
	}
}

// joinReadBatch adds the caller to the batch that the next verification
// round will confirm. A round already in flight took its batch beforehand,
// so a reader never rides on a verification that started before it arrived.
func (r *Replica) joinReadBatch() *readBatch {
	r.readMu.Lock()
	b := r.readNext
	if b == nil {
		b = &readBatch{done: make(chan struct{})}
		r.readNext = b
	}
	r.readMu.Unlock()
	select {
	case r.readKick <- struct{}{}:
	default: // already kicked
	}
	return b
}

// readLoop confirms one batch of readers at a time.
func (r *Replica) readLoop() {
	defer r.wg.Done()
	for {
		select {
		case <-r.closing:
			return
		case <-r.readKick:
		}
		r.readMu.Lock()
		b := r.readNext
		r.readNext = nil
		r.readMu.Unlock()
		if b == nil {
			continue
		}
		b.err = r.confirmRead()
		close(b.done)
	}
}

// confirmRead is the read index: note the term and commit index, confirm
// that this node still leads that term, then wait until the engine has
// applied the noted index.
func (r *Replica) confirmRead() error {
	term := r.raft.CurrentTerm()
	if r.readyTerm.Load() != term {
		return fmt.Errorf("shard: read: leadership changed: %w", ErrNotLeader)
	}
	idx := r.raft.CommitIndex()
	if err := <-r.futureErr(r.raft.VerifyLeader()); err != nil {
		if errors.Is(err, raft.ErrRaftShutdown) {
			return ErrClosed
		}
		return fmt.Errorf("shard: read: verify leader: %v: %w", err, ErrNotLeader)
	}
	// A success in a later term would not cover writes a leader in between
	// committed after idx was noted.
	if r.raft.CurrentTerm() != term {
		return fmt.Errorf("shard: read: leadership changed: %w", ErrNotLeader)
	}
	if r.fsm.AppliedIndex() >= idx {
		return nil
	}
	// idx is committed, so this node applies it eventually whatever happens
	// to its leadership: no timeout beyond Close. Readers give up on their
	// own contexts.
	if err := r.fsm.WaitApplied(r.ctx, idx); err != nil {
		return ErrClosed
	}
	return nil
}
