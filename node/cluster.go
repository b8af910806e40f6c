package node

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// clusterView is this node's picture of the cluster, rebuilt from gossip
// on every change. It is immutable once published (atomic pointer), so the
// RESP hot path reads it without locks.
type clusterView struct {
	members []Member // sorted by node id, self included
	shards  map[int][]Member
	leaders map[int]Member // shard -> its leader (newest term wins)
	smap    *slots.Map     // slot -> shard, highest claim version wins
	// tlsAddrs maps the client address of each node with a TLS port
	// beside its plaintext one to its TLS address (TLSRedirectAddr).
	tlsAddrs map[string]string
}

// owned returns the slots this node's shard serves and the highest version
// among them, as its copy of the shard's log records them; before the log
// has recorded ownership (a shard's first moments), the formation plan's.
func (n *Node) owned() ([]slots.Range, uint64) {
	f := n.form.Load()
	if f == nil {
		return nil, 0
	}
	if rs, ver, logged := n.fsm.OwnedRanges(); logged {
		return rs, ver
	}
	rs, err := slots.ParseRanges(f.Slots)
	if err != nil {
		return nil, 0
	}
	return rs, 1
}

// ownsSlot reports whether this node's shard serves s (owned or migrating
// away) by its own log, or by the formation plan before the log records it.
func (n *Node) ownsSlot(s slots.Slot) bool {
	st, logged := n.slotState(s)
	return n.owns(s, st, logged)
}

// owns is ownsSlot for a slot state already read.
func (n *Node) owns(s slots.Slot, st raftfsm.SlotInfo, logged bool) bool {
	if logged {
		return st.State == raftfsm.SlotOwned || st.State == raftfsm.SlotMigrating
	}
	v := n.view.Load()
	f := n.form.Load()
	if v == nil || f == nil {
		return false
	}
	owner, _, ok := v.smap.Owner(s)
	return ok && int(owner) == f.Shard
}

// metaLoop publishes this node's state (shard, leadership, term, slot
// claim, applied index) through gossip and rebuilds the cluster view: at
// once when Raft reports a leadership change (a new leader publishes itself
// and followers route to it without waiting for gossip), on every gossip
// change, and every 100 ms.
func (n *Node) metaLoop(ctx context.Context) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var initBusy atomic.Bool
	var appliedAt time.Time
	for {
		_, changed := n.gossip.snapshot()
		var raftChanged <-chan struct{}
		if r := n.rep(); r != nil {
			raftChanged = r.StateChanged()
		}
		n.initSlots(ctx, &initBusy)
		n.publishSelf(&appliedAt)
		n.refreshView()
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-raftChanged:
		case <-n.metaKick:
		case <-tick.C:
		}
	}
}

// notifyMeta asks the metadata loop to republish at once (a slot ownership
// change must reach routing without waiting for the tick).
func (n *Node) notifyMeta() {
	select {
	case n.metaKick <- struct{}{}:
	default:
	}
}

// appliedEvery bounds how often a change of the applied index alone is
// gossiped: under write load it changes all the time, and every metadata
// update makes every node rebuild its view.
const appliedEvery = time.Second

// publishSelf gossips this node's metadata; appliedAt is when the applied
// index was last published (nil: publish it now).
func (n *Node) publishSelf(appliedAt *time.Time) {
	// Serialized: a publish computed before a shard change must not land
	// after the one computed from the new state.
	n.pubMu.Lock()
	defer n.pubMu.Unlock()
	m := n.gossip.getSelf()
	m.Shard, m.Leader, m.Term, m.Spare = -1, false, 0, n.spare.Load()
	if f := n.form.Load(); f != nil {
		m.Shard = f.Shard
	}
	if r := n.rep(); r != nil {
		m.Leader = r.IsLeader() && r.Ready()
		if st := r.Stats(); st != nil {
			m.Term, _ = strconv.ParseUint(st["term"], 10, 64)
		}
	}
	rs, ver := n.owned()
	m.Slots, m.SlotsRef, m.Ver = claimFields(slots.FormatRanges(rs)), "", ver
	if m.Slots == "" && len(rs) > 0 {
		m.SlotsRef = claimRef(slots.FormatRanges(rs))
	}
	m.Applied = n.fsm.AppliedIndex()
	if src := n.aclSource(); src != nil {
		_, _, m.ACLSum = src.ACLStamp()
	}
	prev := n.gossip.getSelf()
	if m.Applied != prev.Applied && appliedAt != nil {
		same := m
		same.Applied = prev.Applied
		if same == prev && time.Since(*appliedAt) < appliedEvery {
			m.Applied = prev.Applied // only the offset moved: wait
		} else {
			*appliedAt = time.Now()
		}
	}
	n.gossip.setSelf(m)
	if m.Leader && (!prev.Leader || prev.Term != m.Term) {
		// Gossip takes a few rounds to reach everyone; tell every member
		// directly that this node now leads its shard.
		n.gossip.announceLeader(m)
	}
}

func (n *Node) refreshView() {
	all, _ := n.gossip.snapshot()
	self := n.gossip.getSelf()
	self.Alive = true
	v := &clusterView{shards: map[int][]Member{}, leaders: map[int]Member{}}
	seenSelf := false
	for _, m := range all {
		if m.NodeID == self.NodeID {
			m, seenSelf = self, true
		}
		v.members = append(v.members, m)
	}
	if !seenSelf {
		v.members = append(v.members, self)
		sort.Slice(v.members, func(i, j int) bool { return v.members[i].NodeID < v.members[j].NodeID })
	}
	v.smap = n.slotMap(v.members, self.NodeID)
	for _, m := range v.members {
		if m.Shard < 0 {
			continue
		}
		v.shards[m.Shard] = append(v.shards[m.Shard], m)
		if m.Leader && m.Alive {
			if cur, ok := v.leaders[m.Shard]; !ok || m.Term > cur.Term {
				v.leaders[m.Shard] = m
			}
		}
	}
	// A leader's direct announcement (gossip.announceLeader) counts until
	// gossip itself carries that node's term, unless gossip says the node
	// is gone or another leader has a newer term.
	for s, h := range n.gossip.leaderHints() {
		if cur, ok := v.leaders[s]; ok && cur.Term >= h.Term {
			continue
		}
		if m, ok := n.gossip.lookup(h.NodeID); ok && (!m.Alive || m.Term >= h.Term) {
			continue
		}
		h.Alive = true
		v.leaders[s] = h
	}
	// This node knows its own leader from Raft, sooner than gossip does.
	if f := n.form.Load(); f != nil {
		if r := n.rep(); r != nil {
			if id, _ := r.Leader(); id != "" {
				for _, m := range v.shards[f.Shard] {
					if m.NodeID == id && m.Alive {
						v.leaders[f.Shard] = m
					}
				}
			}
		}
	}
	for _, m := range v.members {
		v.addTLSAddr(m)
	}
	for _, m := range v.leaders {
		v.addTLSAddr(m) // a leader known from its announcement only
	}
	n.view.Store(v)
}

func (v *clusterView) addTLSAddr(m Member) {
	if a := m.tlsAddr(); a != "" {
		if v.tlsAddrs == nil {
			v.tlsAddrs = map[string]string{}
		}
		v.tlsAddrs[m.RESP] = a
	}
}

// TLSRedirectAddr implements the gateway's optional tlsRedirector: the TLS
// client address of the node whose client address is addr, "" if it has
// no TLS port beside its plaintext one.
func (n *Node) TLSRedirectAddr(addr string) string {
	v := n.view.Load()
	if v == nil {
		return ""
	}
	return v.tlsAddrs[addr]
}

// smapCache is the slot map built from one set of claims.
type smapCache struct {
	key  string
	smap *slots.Map
}

// slotMap merges the members' slot claims. The map (16384 slots) is
// rebuilt only when a claim changed: refreshView runs on every gossip
// change and every 100 ms on every node, and rebuilding it each time cost a
// large share of a busy dev cluster's CPU and allocation. A map that lacks
// a claim it could not fetch yet is not cached.
func (n *Node) slotMap(members []Member, selfID string) *slots.Map {
	var kb strings.Builder
	for _, m := range members {
		if m.Shard >= 0 && m.Ver > 0 && (m.Slots != "" || m.SlotsRef != "") {
			fmt.Fprintf(&kb, "%s|%d|%d|%s|%s\n", m.NodeID, m.Shard, m.Ver, m.Slots, m.SlotsRef)
		}
	}
	key := kb.String()
	if c := n.smapCache.Load(); c != nil && c.key == key {
		return c.smap
	}
	smap, complete := slots.NewMap(), true
	for _, m := range members {
		if m.Shard < 0 || m.Ver == 0 {
			continue
		}
		if m.SlotsRef != "" {
			if m.NodeID == selfID {
				rs, _ := n.owned()
				smap.Merge(slots.Claim{Shard: slots.ShardID(m.Shard), Slots: rs, Version: m.Ver})
			} else {
				rs, ver, ok, fresh := n.claims.get(n, m)
				if ok {
					smap.Merge(slots.Claim{Shard: slots.ShardID(m.Shard), Slots: rs, Version: ver})
				}
				complete = complete && fresh
			}
		} else if m.Slots != "" {
			if rs, err := slots.ParseRanges(m.Slots); err == nil {
				n.claims.remember(m.NodeID, rs, m.Ver)
				smap.Merge(slots.Claim{Shard: slots.ShardID(m.Shard), Slots: rs, Version: m.Ver})
			}
		}
	}
	if complete {
		n.smapCache.Store(&smapCache{key: key, smap: smap})
	}
	return smap
}

// shardLeaderRESP returns the client address of shard s's leader.
func (n *Node) shardLeaderRESP(s int) string {
	v := n.view.Load()
	if v == nil {
		return ""
	}
	if f := n.form.Load(); f != nil && f.Shard == s {
		if addr := n.leaderRESP(); addr != "" {
			return addr
		}
	}
	if m, ok := v.leaders[s]; ok {
		return m.RESP
	}
	return ""
}

// Topology implements the gateway's Backend: the cluster view rendered by
// the CLUSTER commands.
func (n *Node) Topology() *slots.Topology {
	v := n.view.Load()
	if v == nil {
		n.refreshView()
		v = n.view.Load()
	}
	t := &slots.Topology{Self: n.clusterID, Epoch: v.smap.MaxVersion()}
	now := time.Now().UnixMilli()
	var shardIDs []int
	for s := range v.shards {
		shardIDs = append(shardIDs, s)
	}
	sort.Ints(shardIDs)
	leaderOf := func(s int) string {
		if m, ok := v.leaders[s]; ok {
			return ClusterID(m.NodeID)
		}
		return ""
	}
	for _, m := range v.members {
		host, portStr, _ := net.SplitHostPort(m.RESP)
		port, _ := strconv.Atoi(portStr)
		_, raftPort, _ := net.SplitHostPort(m.Raft)
		bus, _ := strconv.Atoi(raftPort)
		info := slots.NodeInfo{
			ID: ClusterID(m.NodeID), Name: m.NodeID, Host: host, Port: port, TLSPort: m.TLSPort, BusPort: bus, AZ: m.AZ,
			Failed: !m.Alive, Offset: m.Applied, PongMs: now,
		}
		if m.Shard >= 0 {
			info.Shard, info.HasShard = slots.ShardID(m.Shard), true
			info.LeaderID = leaderOf(m.Shard)
			info.Leader = info.LeaderID == info.ID
			info.Epoch = m.Ver
		}
		t.Nodes = append(t.Nodes, info)
	}
	for _, s := range shardIDs {
		si := slots.ShardInfo{ID: slots.ShardID(s), Slots: v.smap.Ranges(slots.ShardID(s)), LeaderID: leaderOf(s)}
		for _, m := range v.shards[s] {
			si.Members = append(si.Members, ClusterID(m.NodeID))
		}
		t.Shards = append(t.Shards, si)
	}
	return t
}

// ClusterReady reports whether, as far as this node knows, every slot is
// assigned to a shard that has a leader able to serve it.
func (n *Node) ClusterReady() bool {
	v := n.view.Load()
	if v == nil || v.smap.Assigned() != slots.Count {
		return false
	}
	for _, run := range v.smap.Runs() {
		if _, ok := v.leaders[int(run.Shard)]; !ok {
			return false
		}
	}
	return true
}
