package node

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Member is what gossip tells us about a node. Gossip is for discovery and
// routing hints only; leadership and membership of a shard come from Raft.
type Member struct {
	NodeID string `json:"id"`
	AZ     string `json:"az"`
	RESP   string `json:"resp"` // host:port clients use (the plaintext one when TLSPort is set)
	// TLSPort is the client port speaking TLS beside RESP's plaintext one,
	// on RESP's host (Config.TLSPort; 0 = none). Only the number travels:
	// metadata is limited to 512 bytes.
	TLSPort int    `json:"tp,omitempty"`
	Raft    string `json:"raft"`         // host:port of the Raft transport
	Gossip  string `json:"gs"`           // host:port of memberlist (node-to-node messages)
	GRPC    string `json:"gr"`           // host:port of the gRPC server (admin API, migration)
	Shard   int    `json:"sh"`           // shard this node replicates; -1 before formation
	Spare   bool   `json:"sp,omitempty"` // waits for the admin API to give it a shard
	// What this node's copy of its shard's log says (routing hints only; a
	// shard never serves a slot its own log does not give it):
	Leader bool   `json:"ld,omitempty"` // leads its shard
	Term   uint64 `json:"tm,omitempty"` // Raft term, to pick the newest leader claim
	Slots  string `json:"sl,omitempty"` // slot ranges the shard owns ("0-5460")
	Ver    uint64 `json:"v,omitempty"`  // version of that slot claim
	// SlotsRef replaces Slots when the claim is too long for memberlist's
	// 512-byte metadata (slots scattered by resharding): a checksum of the
	// claim, which other nodes fetch over gRPC (claims.go).
	SlotsRef string `json:"sr,omitempty"`
	Applied  uint64 `json:"ap,omitempty"` // applied index (replication offset)
	// The digest of this node's ACL user states (aclsync.go; 0: none).
	ACLSum uint64 `json:"as,omitempty"`
	Alive  bool   `json:"-"`
}

// tlsAddr is the member's TLS client address, "" without a TLS port.
func (m Member) tlsAddr() string {
	if m.TLSPort == 0 {
		return ""
	}
	host, _, err := net.SplitHostPort(m.RESP)
	if err != nil {
		return ""
	}
	return net.JoinHostPort(host, strconv.Itoa(m.TLSPort))
}

type gossip struct {
	ml     *memberlist.Memberlist
	logger *slog.Logger

	selfMu sync.Mutex
	self   Member

	mu      sync.Mutex
	members map[string]Member
	hints   map[int]Member // shard -> newest direct leader announcement
	changed chan struct{}  // closed and replaced on every membership change
}

func newGossip(cfg *Config, self Member) (*gossip, error) {
	g := &gossip{self: self, logger: cfg.Logger, members: map[string]Member{}, hints: map[int]Member{}, changed: make(chan struct{})}
	mc := memberlist.DefaultLANConfig()
	// Leadership and slot claims travel as node metadata, so a change must
	// reach every member quickly. With the library's retransmit limits a
	// broadcast sometimes missed a member, which then only learned it at
	// the next full push/pull sync (measured: 15 s of 9 members, see
	// TestGossipConvergence): retransmit more and sync more often.
	mc.RetransmitMult = 6
	mc.GossipNodes = 4
	mc.PushPullInterval = 10 * time.Second
	if cfg.GossipLocal {
		mc = memberlist.DefaultLocalConfig()
		mc.ProbeInterval = 500 * time.Millisecond
		mc.ProbeTimeout = 200 * time.Millisecond
		mc.GossipInterval = 100 * time.Millisecond
		mc.SuspicionMult = 3
		mc.RetransmitMult = 6
		mc.GossipNodes = 4
		mc.PushPullInterval = 2 * time.Second
	}
	// No LZW: gossip packets are small and travel a LAN, and compressing
	// each one (a fresh 16 KB table per packet) took ~3% of the CPU and a
	// twentieth of the allocations during a slot move, when slot claims
	// change often. Members still read compressed packets from others.
	mc.EnableCompression = false
	mc.Name = self.NodeID
	// With a key every gossip message is encrypted and authenticated;
	// members without it (or with another) cannot join or be heard.
	mc.SecretKey = cfg.GossipKey
	mc.BindAddr = cfg.Bind
	mc.BindPort = cfg.GossipPort
	mc.AdvertiseAddr = cfg.Advertise
	mc.AdvertisePort = cfg.GossipPort
	mc.Delegate = g
	mc.Events = g
	mc.LogOutput = nil
	mc.Logger = slog.NewLogLogger(cfg.Logger.With("component", "memberlist").Handler(), slog.LevelDebug)
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("node %s: gossip: %w", self.NodeID, err)
	}
	g.ml = ml
	return g, nil
}

func (g *gossip) join(addrs []string) error {
	if len(addrs) == 0 {
		return nil
	}
	_, err := g.ml.Join(addrs)
	return err
}

// snapshot returns the known members sorted by node id.
func (g *gossip) snapshot() ([]Member, <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Member, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NodeID < out[j].NodeID })
	return out, g.changed
}

func (g *gossip) lookup(id string) (Member, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	m, ok := g.members[id]
	return m, ok
}

func (g *gossip) update(n *memberlist.Node, alive bool) {
	var m Member
	if err := json.Unmarshal(n.Meta, &m); err != nil || m.NodeID == "" {
		g.logger.Warn("ignoring gossip member with bad metadata", "member", n.Name, "err", err)
		return
	}
	m.Alive = alive
	g.mu.Lock()
	g.members[m.NodeID] = m
	close(g.changed)
	g.changed = make(chan struct{})
	g.mu.Unlock()
}

// setSelf publishes new metadata for this node if it changed; memberlist
// spreads it to the others (UpdateNode) within a gossip round or two.
// UpdateNode queues the broadcast and then waits until memberlist has
// retransmitted it enough times, which with our retransmit settings is
// longer than any timeout worth waiting (the metadata loop used to stall
// a full second on every change, delaying a new leader's announcement):
// we do not wait.
func (g *gossip) setSelf(m Member) {
	g.selfMu.Lock()
	changed := g.self != m
	g.self = m
	g.selfMu.Unlock()
	if changed && g.ml != nil {
		if err := g.ml.UpdateNode(time.Nanosecond); err != nil && !strings.Contains(err.Error(), "timeout waiting") {
			g.logger.Debug("gossip metadata update", "err", err)
		}
	}
}

// userMsgLeader is the first byte of a leader announcement (handleUserMsg).
const userMsgLeader byte = 2

// announceLeader sends m (this node's metadata, just become leader of its
// shard) to every other member at once over UDP, best effort: gossip
// carries the same metadata too, only a few rounds later.
func (g *gossip) announceLeader(m Member) {
	if g.ml == nil {
		return
	}
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	msg := append([]byte{userMsgLeader}, b...)
	// Addresses come from our own member table: the nodes memberlist's
	// Members returns are mutated by its goroutines (data race).
	all, _ := g.snapshot()
	for _, o := range all {
		if o.NodeID == m.NodeID || !o.Alive || o.Gossip == "" {
			continue
		}
		if err := g.ml.SendToAddress(memberlist.Address{Addr: o.Gossip, Name: o.NodeID}, msg); err != nil {
			g.logger.Debug("leader announcement", "to", o.NodeID, "err", err)
		}
	}
}

// receiveLeader records a leader announcement (newest term per shard).
func (g *gossip) receiveLeader(b []byte) {
	var m Member
	if err := json.Unmarshal(b, &m); err != nil || m.NodeID == "" || m.Shard < 0 || !m.Leader {
		g.logger.Debug("ignoring bad leader announcement", "err", err)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if cur, ok := g.hints[m.Shard]; ok && cur.Term >= m.Term {
		return
	}
	g.hints[m.Shard] = m
	close(g.changed)
	g.changed = make(chan struct{})
}

// leaderHints returns the newest leader announcement of each shard.
func (g *gossip) leaderHints() map[int]Member {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[int]Member, len(g.hints))
	for s, m := range g.hints {
		out[s] = m
	}
	return out
}

func (g *gossip) getSelf() Member {
	g.selfMu.Lock()
	defer g.selfMu.Unlock()
	return g.self
}

func (g *gossip) close() {
	if g.ml == nil {
		return
	}
	if err := g.ml.Leave(500 * time.Millisecond); err != nil {
		g.logger.Debug("gossip leave", "err", err)
	}
	if err := g.ml.Shutdown(); err != nil {
		g.logger.Debug("gossip shutdown", "err", err)
	}
}

// memberlist.Delegate
func (g *gossip) NodeMeta(limit int) []byte {
	g.selfMu.Lock()
	b, _ := json.Marshal(g.self)
	g.selfMu.Unlock()
	if len(b) > limit {
		return nil
	}
	return b
}

// NotifyMsg receives user messages (SendReliable/SendBestEffort), dispatched
// by their first byte (node/pubsub.go).
func (g *gossip) NotifyMsg(b []byte) { handleUserMsg(g, b) }

func (g *gossip) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (g *gossip) LocalState(join bool) []byte                { return nil }
func (g *gossip) MergeRemoteState(buf []byte, join bool)     {}

// memberlist.EventDelegate
func (g *gossip) NotifyJoin(n *memberlist.Node)   { g.update(n, true) }
func (g *gossip) NotifyLeave(n *memberlist.Node)  { g.update(n, false) }
func (g *gossip) NotifyUpdate(n *memberlist.Node) { g.update(n, true) }
