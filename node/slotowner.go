package node

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// slotState returns slot s's entry in this replica's copy of the shard's
// ownership record; ok is false until the log has recorded ownership.
func (n *Node) slotState(s slots.Slot) (raftfsm.SlotInfo, bool) {
	return n.fsm.SlotInfo(s)
}

// WaitSlotUnfrozen implements the gateway's optional slot waiter: it
// returns once this node's slot table no longer marks s frozen (the
// migration's last pass ended: the slot moved, or the move was aborted),
// or after max.
func (n *Node) WaitSlotUnfrozen(ctx context.Context, s slots.Slot, max time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, max)
	defer cancel()
	for {
		// The slot table is published before the applied index moves, so
		// reading the index first cannot miss the entry that thaws it.
		idx := n.fsm.AppliedIndex()
		if st, ok := n.slotState(s); !ok || !st.Frozen {
			return
		}
		if n.fsm.WaitApplied(ctx, idx+1) != nil {
			return
		}
	}
}

// ResolveRedirect implements the gateway's Backend: the engine names the
// shard a slot moves or moved to ("ASK 866 @2"); clients need its leader's
// address.
func (n *Node) ResolveRedirect(msg string) string {
	kind, slot, shard, ok := raftfsm.ParseShardRedirect(msg)
	if !ok {
		return msg
	}
	if shard < 0 {
		if v := n.view.Load(); v != nil {
			if owner, _, ok := v.smap.Owner(slots.Slot(slot)); ok {
				shard = int(owner)
			}
		}
	}
	if shard >= 0 {
		if addr := n.shardLeaderRESP(shard); addr != "" {
			return kind + " " + strconv.Itoa(slot) + " " + addr
		}
	}
	if kind == "ASK" {
		return "TRYAGAIN slot is being migrated and its target has no leader yet"
	}
	return "CLUSTERDOWN The cluster is down"
}

// initSlots records the formation plan's slots in the shard's log the first
// time this node leads a shard whose log has none (version 1, as formation
// gave them). Every later ownership change is a log entry too.
func (n *Node) initSlots(ctx context.Context, busy *atomic.Bool) {
	r := n.rep()
	f := n.form.Load()
	if r == nil || f == nil || !r.IsLeader() || !r.Ready() {
		return
	}
	if _, logged := n.slotState(0); logged || !busy.CompareAndSwap(false, true) {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer busy.Store(false)
		ver := "1"
		if f.Slots == "" {
			ver = "0"
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		cmd := [][]byte{[]byte("init"), []byte(f.Slots), []byte(ver)}
		if _, err := r.Propose(cctx, raftfsm.OpSlots, [][][]byte{cmd}); err != nil {
			n.cfg.Logger.Warn("recording the shard's slots in its log failed; retrying", "err", err)
			return
		}
		n.cfg.Logger.Info("slot ownership recorded in the shard's log", "shard_id", f.Shard, "slots", f.Slots)
		n.notifyMeta()
	}()
}

// ShardID returns the shard this node replicates, -1 before formation (or
// for a spare node).
func (n *Node) ShardID() int {
	if f := n.form.Load(); f != nil {
		return f.Shard
	}
	return -1
}
