package shard

import (
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Contact tracking: while this replica leads, raft's heartbeat goroutines
// report each failed heartbeat to a follower (FailedHeartbeatObservation,
// with the time the leader last heard from it) and the first success after
// failures (ResumedHeartbeatObservation). The node's self-healing decides
// from this Raft evidence alone whether a member is gone (node/heal.go).

// contactStale is how long a failing follower stays reported without a
// new failed heartbeat. raft observations are dropped when the observer's
// channel is full, so a lost "resumed" must not pin a healthy follower as
// unreachable forever; a dead follower fails a heartbeat at least every
// transport timeout plus the backoff (at most HeartbeatTimeout/2).
const contactStale = 2 * tcpTimeout

type peerFailure struct {
	lastContact time.Time // when the leader last heard from the peer
	lastFailure time.Time // when the latest failed heartbeat was observed
}

type contacts struct {
	mu      sync.Mutex
	failing map[raft.ServerID]peerFailure
}

func (c *contacts) observe(o raft.Observation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch d := o.Data.(type) {
	case raft.FailedHeartbeatObservation:
		if c.failing == nil {
			c.failing = map[raft.ServerID]peerFailure{}
		}
		c.failing[d.PeerID] = peerFailure{lastContact: d.LastContact, lastFailure: time.Now()}
	case raft.ResumedHeartbeatObservation:
		delete(c.failing, d.PeerID)
	case raft.RaftState:
		// A new leadership (or none) starts replication afresh.
		clear(c.failing)
	}
}

// contactLoop drains the contact observer.
func (r *Replica) contactLoop() {
	defer r.wg.Done()
	for {
		select {
		case <-r.closing:
			return
		case o := <-r.contactCh:
			r.contacts.observe(o)
		}
	}
}

// UnreachablePeers returns, while this replica leads, the followers whose
// heartbeats currently fail, each with the last time the leader heard from
// it (raft's own bookkeeping: a follower unreachable since before this
// leadership began counts from the start of the leadership). Empty on a
// follower.
func (r *Replica) UnreachablePeers() map[string]time.Time {
	out := map[string]time.Time{}
	if r.raft.State() != raft.Leader {
		return out
	}
	r.contacts.mu.Lock()
	defer r.contacts.mu.Unlock()
	for id, f := range r.contacts.failing {
		if time.Since(f.lastFailure) > contactStale {
			continue // the "resumed" observation may have been dropped
		}
		out[string(id)] = f.lastContact
	}
	return out
}

func newContactObserver(ch chan raft.Observation) *raft.Observer {
	return raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation, raft.RaftState:
			return true
		}
		return false
	})
}
