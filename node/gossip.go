package node

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Member is what gossip tells us about a node. Gossip is for discovery and
// routing hints only; leadership and membership of a shard come from Raft.
type Member struct {
	NodeID string `json:"id"`
	AZ     string `json:"az"`
	RESP   string `json:"resp"` // host:port clients use
	Raft   string `json:"raft"` // host:port of the Raft transport
	Alive  bool   `json:"-"`
}

type gossip struct {
	ml     *memberlist.Memberlist
	self   Member
	logger *slog.Logger

	mu      sync.Mutex
	members map[string]Member
	changed chan struct{} // closed and replaced on every membership change
}

func newGossip(cfg *Config, self Member) (*gossip, error) {
	g := &gossip{self: self, logger: cfg.Logger, members: map[string]Member{}, changed: make(chan struct{})}
	mc := memberlist.DefaultLANConfig()
	if cfg.GossipLocal {
		mc = memberlist.DefaultLocalConfig()
		mc.ProbeInterval = 500 * time.Millisecond
		mc.ProbeTimeout = 200 * time.Millisecond
		mc.GossipInterval = 100 * time.Millisecond
		mc.SuspicionMult = 3
	}
	mc.Name = self.NodeID
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
	b, _ := json.Marshal(g.self)
	if len(b) > limit {
		return nil
	}
	return b
}
func (g *gossip) NotifyMsg([]byte)                           {}
func (g *gossip) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (g *gossip) LocalState(join bool) []byte                { return nil }
func (g *gossip) MergeRemoteState(buf []byte, join bool)     {}

// memberlist.EventDelegate
func (g *gossip) NotifyJoin(n *memberlist.Node)   { g.update(n, true) }
func (g *gossip) NotifyLeave(n *memberlist.Node)  { g.update(n, false) }
func (g *gossip) NotifyUpdate(n *memberlist.Node) { g.update(n, true) }
