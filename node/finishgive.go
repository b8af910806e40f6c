package node

import (
	"context"
	"strconv"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// Finishing interrupted gives. A move ends with the target's take and then
// the source's give, each in its own log; an operation that dies between
// the two (its node killed, say) leaves the slot migrating in the source's
// log while the target owns it. MigrateSlots reruns notice that
// (unfinishedGives), but a rerun of another operation, or none, would not:
// the source would claim the slot migrating for good and refuse to import
// it back. So a shard leader settles such a slot by itself: when gossip has
// shown the peer its slot migrates to as the owner, at a newer version,
// for longer than giveGrace (a running operation gives within
// milliseconds of its take), the leader gives the slot away at that
// version. The engine refuses the give if the slot still holds a key
// (nothing is lost by a wrong guess), and a give repeated by the
// operation itself is a no-op.

const (
	giveCheckEvery = 2 * time.Second
	giveGrace      = 10 * time.Second
)

// pendingGive is a slot seen migrating to a peer that already owns it.
type pendingGive struct {
	peer   int
	ver    uint64
	since  time.Time
	warned bool // a refused give was logged (once per slot)
}

func (n *Node) finishGivesLoop(ctx context.Context) {
	t := time.NewTicker(giveCheckEvery)
	defer t.Stop()
	seen := map[slots.Slot]pendingGive{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.finishGives(ctx, seen, time.Now())
		}
	}
}

// finishGives is one check; seen carries the slots found stuck by earlier
// checks.
func (n *Node) finishGives(ctx context.Context, seen map[slots.Slot]pendingGive, now time.Time) {
	r := n.rep()
	v := n.view.Load()
	if r == nil || v == nil || !r.Ready() {
		clear(seen)
		return
	}
	stuck := map[slots.Slot]pendingGive{}
	n.fsm.View(func(db *raftfsm.DB) {
		if !db.SlotsInitialized() {
			return
		}
		for s := slots.Slot(0); s < slots.Count; s++ {
			si := db.Slot(s)
			if si.State != raftfsm.SlotMigrating {
				continue
			}
			owner, ver, ok := v.smap.Owner(s)
			if ok && int(owner) == int(si.Peer) && ver > si.Ver {
				stuck[s] = pendingGive{peer: int(si.Peer), ver: ver}
			}
		}
	})
	for s, p := range stuck {
		if prev, ok := seen[s]; ok && prev.peer == p.peer && prev.ver == p.ver {
			p.since, p.warned = prev.since, prev.warned
		} else {
			p.since = now
		}
		stuck[s] = p
	}
	clear(seen)
	for s, p := range stuck {
		if now.Sub(p.since) < giveGrace {
			seen[s] = p
			continue
		}
		err := n.proposeSlots(ctx, slotCmds("give", []slots.Slot{s}, strconv.Itoa(p.peer), strconv.FormatUint(p.ver, 10))...)
		if err != nil {
			if !p.warned {
				n.cfg.Logger.Warn("finishing an interrupted slot move: give refused", "slot", s, "to_shard", p.peer, "version", p.ver, "err", err)
			}
			p.warned = true
			seen[s] = p // tried again on the next check
			continue
		}
		n.cfg.Logger.Info("finished an interrupted slot move: gave the slot its new owner already holds", "slot", s, "to_shard", p.peer, "version", p.ver)
	}
}
