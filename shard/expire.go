package shard

import (
	"math/rand/v2"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/raftfsm"
)

const (
	expireBatch  = 500 // keys per OpExpire entry
	expireRounds = 16  // entries per tick at most, so expiry cannot starve writes
)

// expireLoop is active expiry: the ready leader finds keys whose TTL passed
// and deletes them through the log, so every replica removes them at the
// same position. (Reads hide expired keys before that.)
func (r *Replica) expireLoop() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.ExpireInterval)
	defer t.Stop()
	for {
		select {
		case <-r.closing:
			return
		case <-t.C:
		}
		if r.writesHeld() {
			continue
		}
		if err := r.expireRounds(); err != nil {
			r.log.Debug("active expiry", "err", err)
		}
	}
}

// expireRounds deletes expired keys, expireBatch per entry, for at most
// expireRounds entries, while this replica is the ready leader.
func (r *Replica) expireRounds() error {
	for i := 0; i < expireRounds && r.Ready(); i++ {
		n, err := r.expireOnce()
		if err != nil || n < expireBatch {
			return err
		}
	}
	return nil
}

// ExpireNow runs active expiry at once when this replica is the ready
// leader, waiting for the deletions to apply (CLIENT UNPAUSE: the keys
// whose expiry the pause held go right away). A no-op elsewhere.
func (r *Replica) ExpireNow() error {
	if r.closed() {
		return ErrClosed
	}
	return r.expireRounds()
}

// writesHeld reports whether Config.WritesHeld holds expiry and eviction.
func (r *Replica) writesHeld() bool { return r.cfg.WritesHeld != nil && r.cfg.WritesHeld() }

// expireOnce proposes the deletion of up to expireBatch expired keys and
// waits for it to apply. The entry carries the time used to find them;
// Apply deletes a key only if it is still expired at that time, so a key
// rewritten in between survives.
func (r *Replica) expireOnce() (int, error) {
	now := r.stamp()
	var keys []string
	r.fsm.View(func(db *raftfsm.DB) { keys = db.ExpiredKeys(now, expireBatch) })
	if len(keys) == 0 {
		return 0, nil
	}
	args := make([][]byte, len(keys))
	for i, k := range keys {
		args[i] = []byte(k)
	}
	e := raftfsm.Entry{Op: raftfsm.OpExpire, Time: now, Seed: rand.Uint64(), Cmds: [][][]byte{args}}
	f := r.raft.Apply(raftfsm.EncodeEntry(nil, &e), r.cfg.ElectionTimeout)
	if err := <-r.futureErr(f); err != nil {
		return 0, err
	}
	return len(keys), nil
}

var _ raft.BatchingFSM = (*raftfsm.FSM)(nil)
