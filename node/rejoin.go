package node

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Rejoining after data loss. A node that starts with no formation file and
// no Raft state normally founds its shard from the gossip plan. If a formed
// cluster's shard leader still lists the node in its Raft configuration,
// the node lost its data dir (a replaced disk, a container without its
// volume): as a voter with an empty log it could vote for a replica that
// lacks writes it had acknowledged, and it has forgotten its votes. So it
// does not start Raft as that voter: it becomes a spare, the leader removes
// its old identity (only if the other voters it reaches make a quorum),
// and it joins again through the AddReplica flow: non-voter, catch up from
// a snapshot, promotion.

// rejoinRetry is the pause between rejoin attempts (e.g. while the shard
// lacks a quorum without this node).
const rejoinRetry = 2 * time.Second

// formerShard returns the shard whose leader lists this node in its Raft
// configuration. Only gossip members that lead a shard are asked; none
// answering means a fresh formation.
func (n *Node) formerShard(ctx context.Context, members []Member) (int, bool) {
	for _, m := range members {
		if !m.Alive || !m.Leader || m.Shard < 0 || m.NodeID == n.cfg.NodeID {
			continue
		}
		st, err := n.nodeStatusOf(ctx, m.NodeID)
		if err != nil || !st.GetLeader() || int(st.GetShard()) != m.Shard {
			continue
		}
		if findServer(st, n.cfg.NodeID) != nil {
			return m.Shard, true
		}
	}
	return 0, false
}

// rejoinShard makes this empty node a replica of shard again, retrying
// until it is one or ctx ends.
func (n *Node) rejoinShard(ctx context.Context, shard int) {
	n.spare.Store(true)
	n.publishSelf(nil)
	n.refreshView()
	n.cfg.Logger.Warn("data dir is empty but the shard's leader still lists this node: rejoining as a non-voter that catches up before it votes",
		"node_id", n.cfg.NodeID, "shard_id", shard)
	for {
		err := n.rejoinOnce(ctx, shard)
		if err == nil {
			n.cfg.Logger.Info("rejoined the shard", "node_id", n.cfg.NodeID, "shard_id", shard)
			return
		}
		n.cfg.Logger.Warn("rejoining the shard failed; retrying", "node_id", n.cfg.NodeID, "shard_id", shard, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(rejoinRetry):
		}
	}
}

func (n *Node) rejoinOnce(ctx context.Context, shard int) error {
	if f := n.form.Load(); f != nil {
		if f.Shard == shard {
			return nil // joined meanwhile (an earlier attempt's operation finished)
		}
		return fmt.Errorf("node replicates shard %d meanwhile", f.Shard)
	}
	// The leader must see this node's old identity out of contact (it is:
	// Raft does not run here) and keep a quorum without it.
	if err := n.checkRemovable(ctx, shard, n.cfg.NodeID); err != nil {
		return err
	}
	self, _ := n.member(n.cfg.NodeID)
	if err := n.removeFromGroup(ctx, shard, self); err != nil {
		return fmt.Errorf("shard %d: remove the old %s: %w", shard, n.cfg.NodeID, err)
	}
	o, _, err := n.startAddReplica(ctx, shard, n.cfg.NodeID)
	if err != nil {
		return fmt.Errorf("shard %d: add %s back: %w", shard, n.cfg.NodeID, err)
	}
	for {
		pb, changed := o.snapshot()
		if o.finished() {
			if pb.GetError() != "" {
				return errors.New(pb.GetError())
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}
