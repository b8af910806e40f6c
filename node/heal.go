package node

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
)

// Self-healing (issue #5 item 2, design §5): with Config.ReplaceAfter set,
// the leader of a shard watches its Raft contact with every member (failed
// heartbeats, shard.Replica.UnreachablePeers). When a member has been out
// of contact for longer than ReplaceAfter, the leader runs a REPLACE_NODE
// operation: it adds a spare (same AZ as the lost member when possible,
// else an AZ the shard lacks) with the AddReplica flow (non-voter, catch
// up, promote) and then removes the lost member from the Raft
// configuration, but only if the voters left still make a quorum. One
// replacement at a time per shard; no spare means it logs and retries on
// the next tick. Gossip is never the evidence: a node gossip reports dead
// but that still answers heartbeats is not replaced.
//
// A removed node that comes back still has the old configuration, in which
// it is a member; removedLoop notices that the shard's leader no longer
// lists it and turns it into a spare (leaveShard), so it never serves the
// shard's data again.

// removedCheckEvery is how often a replica without a known Raft leader
// asks the shard's leader whether it is still a member.
const removedCheckEvery = time.Second

type healState struct {
	running atomic.Bool // a replacement of this node's shard is in flight
	mu      sync.Mutex
	blocked string    // "member: reason" last logged as blocked (log once)
	retryAt time.Time // after a failed replacement, wait until then
}

// healBlocked logs once per lost member and reason why it cannot be
// replaced now (the leader retries every tick).
func (n *Node) healBlocked(member, msg string, args ...any) {
	n.heal.mu.Lock()
	key := member + ": " + msg
	first := n.heal.blocked != key
	n.heal.blocked = key
	n.heal.mu.Unlock()
	if first {
		n.cfg.Logger.Warn(msg, args...)
	}
}

// healLoop runs on every node; it acts only while this node leads a
// shard and ReplaceAfter is set.
func (n *Node) healLoop(ctx context.Context) {
	if n.cfg.ReplaceAfter <= 0 {
		return
	}
	every := min(max(n.cfg.ReplaceAfter/4, 100*time.Millisecond), 5*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.healTick()
		}
	}
}

// lostMember is a member the leader has not heard from since lastContact.
type lostMember struct {
	id          string
	lastContact time.Time
}

// lostMembers returns the members of this leader's configuration out of
// Raft contact for longer than after, oldest contact first, and the
// configuration.
func lostMembers(r interface {
	UnreachablePeers() map[string]time.Time
}, servers []raft.Server, self string, after time.Duration) []lostMember {
	unreach := r.UnreachablePeers()
	var out []lostMember
	for _, s := range servers {
		id := string(s.ID)
		last, ok := unreach[id]
		if !ok || id == self || time.Since(last) < after {
			continue
		}
		out = append(out, lostMember{id: id, lastContact: last})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].lastContact.Equal(out[j].lastContact) {
			return out[i].lastContact.Before(out[j].lastContact)
		}
		return out[i].id < out[j].id
	})
	return out
}

func (n *Node) healTick() {
	if n.heal.running.Load() {
		return
	}
	n.heal.mu.Lock()
	wait := time.Now().Before(n.heal.retryAt)
	n.heal.mu.Unlock()
	if wait {
		return
	}
	f, r := n.form.Load(), n.rep()
	if f == nil || r == nil || !r.IsLeader() || !r.Ready() {
		return
	}
	cf := r.Raft().GetConfiguration()
	if cf.Error() != nil {
		return
	}
	servers := cf.Configuration().Servers
	lost := lostMembers(r, servers, n.cfg.NodeID, n.cfg.ReplaceAfter)
	if len(lost) == 0 {
		n.heal.mu.Lock()
		n.heal.blocked = ""
		n.heal.mu.Unlock()
		return
	}
	dead := lost[0]
	unreach := r.UnreachablePeers()
	// A non-voter in contact is a replica being added (by an earlier
	// replacement whose leader changed, or by an operator): finish that
	// one instead of adding another spare.
	var target Member
	for _, s := range servers {
		if _, failing := unreach[string(s.ID)]; s.Suffrage != raft.Voter && !failing {
			if m, ok := n.member(string(s.ID)); ok && m.Alive {
				target = m
				break
			}
		}
	}
	deadAZ := ""
	if m, ok := n.member(dead.id); ok {
		deadAZ = m.AZ
	}
	if target.NodeID == "" {
		// Same AZ as the lost member when possible, else an AZ the shard
		// lacks (pickSpares prefers the least used AZs).
		azs := map[string]int{}
		for _, s := range servers {
			if _, failing := unreach[string(s.ID)]; failing {
				continue
			}
			if m, ok := n.member(string(s.ID)); ok {
				azs[m.AZ]++
			}
		}
		all := n.spares()
		var sameAZ []Member
		for _, m := range all {
			if m.AZ == deadAZ {
				sameAZ = append(sameAZ, m)
			}
		}
		if len(sameAZ) > 0 {
			all = sameAZ
		}
		picked := pickSpares(all, 1, azs)
		if len(picked) == 0 {
			n.healBlocked(dead.id, "shard member unreachable but no spare node to replace it; retrying",
				"shard_id", f.Shard, "node", dead.id, "last_contact", dead.lastContact, "replace_after", n.cfg.ReplaceAfter)
			return
		}
		target = picked[0]
		if len(servers) >= MaxShardMembers {
			n.healBlocked(dead.id, "shard member unreachable but the shard is at its maximum size; remove it with remove-replica",
				"shard_id", f.Shard, "node", dead.id, "members", len(servers))
			return
		}
	}
	desc := fmt.Sprintf("replace node %s of shard %d (no Raft contact since %s) with %s (%s)",
		dead.id, f.Shard, dead.lastContact.UTC().Format(time.RFC3339), target.NodeID, target.AZ)
	o := n.newOp(adminv1.OperationKind_OPERATION_KIND_REPLACE_NODE, f.Shard, desc)
	if err := n.reserved.reserve([]string{target.NodeID}, o.id()); err != nil {
		o.finish(err)
		return
	}
	n.heal.running.Store(true)
	n.cfg.Logger.Warn("replacing unreachable shard member", "op", o.id(), "shard_id", f.Shard, "node", dead.id,
		"last_contact", dead.lastContact, "spare", target.NodeID, "spare_az", target.AZ)
	shardID := f.Shard
	n.run(o, func(ctx context.Context, o *op) error {
		defer n.heal.running.Store(false)
		defer n.reserved.release([]string{target.NodeID})
		err := n.replaceNode(ctx, o, shardID, dead.id, target)
		if err != nil {
			// Do not hammer a failing spare: the next attempt (perhaps
			// with another spare, or adopting this one) waits a while.
			n.heal.mu.Lock()
			n.heal.retryAt = time.Now().Add(max(n.cfg.ReplaceAfter, 5*time.Second))
			n.heal.mu.Unlock()
		}
		return err
	})
}

// replaceNode adds spare to shard, then removes dead from its Raft group if
// the shard's current leader (this node, or a successor) still has no
// contact with dead and the voters it reaches without dead make a quorum.
func (n *Node) replaceNode(ctx context.Context, o *op, shard int, dead string, spare Member) error {
	if err := n.addReplica(ctx, o, shard, spare); err != nil {
		return err
	}
	o.setStep("checking that %s can be removed from shard %d", dead, shard)
	if err := n.checkRemovable(ctx, shard, dead); err != nil {
		return err
	}
	o.setStep("removing %s from shard %d's Raft group", dead, shard)
	m, ok := n.member(dead)
	if !ok {
		m = Member{NodeID: dead}
	}
	if err := n.removeFromGroup(ctx, shard, m); err != nil {
		return fmt.Errorf("shard %d: remove %s: %w", shard, dead, err)
	}
	// Best effort: if the node is reachable after all (a partition of its
	// Raft port only), it becomes a spare now; otherwise it finds out it
	// was removed when it comes back (removedLoop).
	if c, err := n.control(dead); err == nil {
		lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := c.LeaveShard(lctx, &adminv1.LeaveShardRequest{Shard: int32(shard)})
		cancel()
		if err != nil {
			n.cfg.Logger.Info("removed node not reachable; it becomes a spare when it returns", "node", dead, "err", err)
		}
	}
	return nil
}

// checkRemovable is the last check before removing dead, on the evidence
// of the shard's current leader: dead is a member it has no Raft contact
// with, and the voters it reaches, dead aside, make a quorum of the
// configuration without dead.
func (n *Node) checkRemovable(ctx context.Context, shard int, dead string) error {
	st, err := n.shardStatus(ctx, shard, false)
	if err != nil {
		return fmt.Errorf("shard %d: status before removing %s: %w", shard, dead, err)
	}
	d := findServer(st, dead)
	if d == nil {
		return nil // already removed (the remove below is then a no-op)
	}
	if d.GetUnreachableSince() == nil {
		return fmt.Errorf("shard %d: leader %s is in Raft contact with %s again; not removed", shard, st.GetNode(), dead)
	}
	voters, healthy := 0, 0
	for _, s := range st.GetServers() {
		if s.GetSuffrage() != adminv1.Suffrage_SUFFRAGE_VOTER || s.GetId() == dead {
			continue
		}
		voters++
		if s.GetUnreachableSince() == nil {
			healthy++
		}
	}
	if healthy < voters/2+1 {
		return fmt.Errorf("shard %d: removing %s would leave %d reachable voters of %d, less than a quorum; not removed", shard, dead, healthy, voters)
	}
	return nil
}

// removedLoop turns this node into a spare when it finds that its shard's
// Raft group no longer includes it (it was replaced or removed while it was
// down or cut off).
func (n *Node) removedLoop(ctx context.Context) {
	t := time.NewTicker(removedCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		f, r := n.form.Load(), n.rep()
		if f == nil || r == nil {
			continue
		}
		// A removed node hears from no leader (the leader no longer
		// replicates to it, and its votes are refused); the check itself
		// is conservative (the leader must confirm), so one tick will do.
		if id, _ := r.Leader(); id != "" {
			continue
		}
		if n.removedFromShard(ctx, f.Shard) {
			n.cfg.Logger.Warn("this node was removed from its shard's Raft group: becoming a spare", "node_id", n.cfg.NodeID, "shard_id", f.Shard)
			if err := n.leaveShard(f.Shard, false); err != nil {
				n.cfg.Logger.Error("leaving the shard after removal failed", "shard_id", f.Shard, "err", err)
			}
		}
	}
}

// removedFromShard reports whether the configuration of shard's leader (as
// gossip names it, confirmed by the leader itself) leaves this node out.
// A replica whose own configuration is still empty is a new one the leader
// has not added yet and is never judged. A removed node may or may not
// have received its removal (raft sends the removing entry to it once
// more, and then shuts itself down on commit: ShutdownOnRemove), so its
// own configuration, when readable, is not the evidence.
func (n *Node) removedFromShard(ctx context.Context, shard int) bool {
	r := n.rep()
	if r == nil {
		return false
	}
	if cf := r.Raft().GetConfiguration(); cf.Error() == nil && len(cf.Configuration().Servers) == 0 {
		return false // a fresh replica not yet added by the leader
	}
	v := n.view.Load()
	if v == nil {
		return false
	}
	leader, ok := v.leaders[shard]
	if !ok || !leader.Alive || leader.NodeID == n.cfg.NodeID {
		return false
	}
	st, err := n.nodeStatusOf(ctx, leader.NodeID)
	if err != nil || !st.GetLeader() || int(st.GetShard()) != shard || len(st.GetServers()) == 0 {
		return false
	}
	return findServer(st, n.cfg.NodeID) == nil
}
