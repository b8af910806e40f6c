package node

import (
	"context"
	"errors"
	"time"

	"google.golang.org/grpc/status"
)

// Server commands a Redis node answers about itself, for the gateway:
// SAVE/BGSAVE/LASTSAVE (a Raft snapshot of this replica) and CLUSTER
// FAILOVER sent to a replica (a Raft leadership transfer to it).

var errNoReplica = errors.New("this node serves no shard yet")

// SaveSnapshot takes a Raft snapshot of this node's replica now.
func (n *Node) SaveSnapshot(ctx context.Context) error {
	r := n.rep()
	if r == nil {
		return errNoReplica
	}
	return r.Snapshot(ctx)
}

// LastSave is the time of this replica's newest snapshot, or the node's
// start when it has none (Redis's LASTSAVE starts at the server's start).
func (n *Node) LastSave() time.Time {
	if r := n.rep(); r != nil {
		if t := r.LastSnapshot(); !t.IsZero() {
			return t
		}
	}
	return n.started
}

// FailoverHere makes this node its shard's leader: the current leader
// hands leadership over once this node holds every committed entry (the
// admin API's Failover with this node as target). Raft does not allow a
// takeover without a majority, so there is no FORCE or TAKEOVER variant.
func (n *Node) FailoverHere(ctx context.Context) error {
	if n.ShardID() < 0 {
		return errNoReplica
	}
	if _, err := n.failover(ctx, n.ShardID(), n.ID()); err != nil {
		return errors.New(status.Convert(err).Message())
	}
	return nil
}

// SetWriteHold installs the gateway's CLIENT PAUSE state: while held says
// writes are paused, this node's replica neither expires nor evicts keys
// (when it leads). It applies to the replica the node serves now and to
// any it serves later.
func (n *Node) SetWriteHold(held func() bool) { n.writeHold.Store(&held) }

// writesHeld is shard.Config.WritesHeld.
func (n *Node) writesHeld() bool {
	if p := n.writeHold.Load(); p != nil && *p != nil {
		return (*p)()
	}
	return false
}

// WritesResumed runs the expiry the pause held, at once, when this node
// leads its shard (CLIENT UNPAUSE answers after it).
func (n *Node) WritesResumed(ctx context.Context) error {
	r := n.rep()
	if r == nil {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- r.ExpireNow() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
