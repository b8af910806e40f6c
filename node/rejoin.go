package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
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
// a snapshot, promotion. An attempt can fail half way (after this node
// started its empty replica, before the leader listed it); the next one
// starts from the state it finds (nextRejoinStep), never from the
// assumption that a running replica means done.

// rejoinRetry is the pause between rejoin attempts (e.g. while the shard
// lacks a quorum without this node).
const rejoinRetry = 2 * time.Second

// formedShards returns the shards that gossip shows have applied entries
// (a leader recorded their slots), this node's own record aside: a shard
// whose members all report applied index 0 is still forming.
func formedShards(members []Member, self string) map[int]bool {
	out := map[int]bool{}
	for _, m := range members {
		if m.Alive && m.Shard >= 0 && m.Applied > 0 && m.NodeID != self {
			out[m.Shard] = true
		}
	}
	return out
}

// formerShard asks every shard leader gossip names whether its Raft
// configuration lists this node. listed: the shard that does. settled:
// every shard of formed (formedShards) had its leader answer, so "not
// listed" is final; a formed shard without an answering leader (an
// election, a lost quorum) could be the one that lists this node.
func (n *Node) formerShard(ctx context.Context, members []Member, formed map[int]bool) (shard int, listed, settled bool) {
	answered := map[int]bool{}
	for _, m := range members {
		if !m.Alive || !m.Leader || m.Shard < 0 || m.NodeID == n.cfg.NodeID {
			continue
		}
		st, err := n.nodeStatusOf(ctx, m.NodeID)
		if err != nil || !st.GetLeader() || int(st.GetShard()) != m.Shard {
			continue
		}
		if findServer(st, n.cfg.NodeID) != nil {
			return m.Shard, true, true
		}
		answered[m.Shard] = true
	}
	for s := range formed {
		if !answered[s] {
			return 0, false, false
		}
	}
	return 0, false, true
}

// formerShardWait is formerShard retried until it settles (or ctx ends):
// an empty node must not found a shard while a formed shard that may list
// it has no leader to ask. It returns the shards formed by then.
func (n *Node) formerShardWait(ctx context.Context) (shard int, listed bool, formed map[int]bool) {
	waiting := false
	for {
		all, changed := n.gossip.snapshot()
		n.refreshView()
		formed = formedShards(all, n.cfg.NodeID)
		shard, listed, settled := n.formerShard(ctx, all, formed)
		if listed || settled {
			return shard, listed, formed
		}
		if !waiting {
			waiting = true
			n.cfg.Logger.Warn("data dir is empty and a formed shard has no leader to ask whether it lists this node: waiting (founding a shard now could make an empty voter of a member that lost its data)",
				"node_id", n.cfg.NodeID)
		}
		select {
		case <-ctx.Done():
			return 0, false, formed
		case <-changed:
		case <-time.After(time.Second):
		}
	}
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

// rejoinStep is what a rejoin attempt does next, from whether this node
// runs a replica (of which shard) and how the shard leader's configuration
// lists the node.
type rejoinStep int

const (
	rejoinDone      rejoinStep = iota // a voter again
	rejoinElsewhere                   // replicates another shard meanwhile
	rejoinRemoveOld                   // the old voter is still listed: remove it, then add
	rejoinLeave                       // a replica runs here unlisted (an attempt failed after the join): drop it, then add
	rejoinAdd                         // (re)run the add: not listed, or a non-voter still to catch up and promote
)

// nextRejoinStep: running is the shard this node replicates (-1: none);
// listed and voter describe the leader's configuration.
func nextRejoinStep(shard, running int, listed, voter bool) rejoinStep {
	switch {
	case running >= 0 && running != shard:
		return rejoinElsewhere
	case running == shard && listed && voter:
		return rejoinDone
	case running == shard && !listed:
		return rejoinLeave
	case running < 0 && listed && voter:
		return rejoinRemoveOld
	default:
		return rejoinAdd
	}
}

func (n *Node) rejoinOnce(ctx context.Context, shard int) error {
	st, err := n.shardStatus(ctx, shard, false)
	if err != nil {
		return fmt.Errorf("shard %d: status: %w", shard, err)
	}
	running := -1
	if f := n.form.Load(); f != nil {
		running = f.Shard
	}
	me := findServer(st, n.cfg.NodeID)
	switch nextRejoinStep(shard, running, me != nil, me.GetSuffrage() == adminv1.Suffrage_SUFFRAGE_VOTER) {
	case rejoinDone:
		return nil
	case rejoinElsewhere:
		return fmt.Errorf("node replicates shard %d meanwhile", running)
	case rejoinRemoveOld:
		// The leader must see this node's old identity out of contact (it
		// is: Raft does not run here) and keep a quorum without it.
		if err := n.checkRemovable(ctx, shard, n.cfg.NodeID); err != nil {
			return err
		}
		self, _ := n.member(n.cfg.NodeID)
		if err := n.removeFromGroup(ctx, shard, self); err != nil {
			return fmt.Errorf("shard %d: remove the old %s: %w", shard, n.cfg.NodeID, err)
		}
	case rejoinLeave:
		// Without this, the replica would wait for a leader that never
		// contacts it until removedLoop made the node a spare for good.
		if err := n.leaveShard(shard, false); err != nil {
			return fmt.Errorf("shard %d: drop the unlisted replica: %w", shard, err)
		}
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
