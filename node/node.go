package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/shard"
)

// Node is one raftcache process: one replica of one shard.
type Node struct {
	cfg       Config
	clusterID string
	fsm       *raftfsm.FSM
	gossip    *gossip
	started   time.Time

	mu      sync.RWMutex
	replica *shard.Replica
	form    atomic.Pointer[formation]
	view    atomic.Pointer[clusterView]

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New validates cfg and prepares a node; Start brings it up.
func New(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("node %s: data dir: %w", cfg.NodeID, err)
	}
	return &Node{cfg: cfg, clusterID: ClusterID(cfg.NodeID), fsm: raftfsm.NewFSM(cfg.Logger.With("component", "fsm"))}, nil
}

// ID returns the node's name; ClusterID its 40-hex cluster id.
func (n *Node) ID() string        { return n.cfg.NodeID }
func (n *Node) ClusterID() string { return n.clusterID }

// RESPAddr is the advertised client address.
func (n *Node) RESPAddr() string { return hostPort(n.cfg.Advertise, n.cfg.Port) }

func (n *Node) raftDir() string { return filepath.Join(n.cfg.DataDir, "raft") }

// Start joins the gossip pool and starts the shard replica. On a fresh data
// dir it first waits (in the background) until BootstrapExpect nodes have
// met, then bootstraps Raft with the identical voter list on every one of
// them; on an existing data dir it simply resumes. Start returns at once.
func (n *Node) Start(ctx context.Context) error {
	n.started = time.Now()
	self := Member{NodeID: n.cfg.NodeID, AZ: n.cfg.AZ, RESP: n.RESPAddr(), Raft: hostPort(n.cfg.Advertise, n.cfg.RaftPort),
		Gossip: hostPort(n.cfg.Advertise, n.cfg.GossipPort), Shard: -1, Alive: true}
	if f, ok := n.loadFormation(); ok {
		self.Shard = f.Shard
	}
	g, err := newGossip(&n.cfg, self)
	if err != nil {
		return err
	}
	n.gossip = g
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.refreshView()
	n.wg.Add(3)
	go func() { defer n.wg.Done(); n.joinLoop(runCtx) }()
	go func() { defer n.wg.Done(); n.formLoop(runCtx) }()
	go func() { defer n.wg.Done(); n.metaLoop(runCtx) }()
	return nil
}

// joinLoop keeps trying the join addresses until one answers: nodes of a
// cluster are usually started together, in any order.
func (n *Node) joinLoop(ctx context.Context) {
	if len(n.cfg.Join) == 0 {
		return
	}
	for {
		if err := n.gossip.join(n.cfg.Join); err == nil {
			return
		} else {
			n.cfg.Logger.Debug("gossip join failed, retrying", "join", n.cfg.Join, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func hasState(dir string) bool {
	entries, err := os.ReadDir(dir)
	return err == nil && len(entries) > 0
}

// formation is what this node remembers of cluster formation, in
// <data-dir>/formation.json, so that a restarted node knows its shard and
// any future leader of a fresh shard can claim the shard's initial slots.
type formation struct {
	Shard  int    `json:"shard"`
	Shards int    `json:"shards"`
	Slots  string `json:"slots"`
}

func (n *Node) formationPath() string { return filepath.Join(n.cfg.DataDir, "formation.json") }

func (n *Node) loadFormation() (formation, bool) {
	raw, err := os.ReadFile(n.formationPath())
	if err != nil {
		return formation{}, false
	}
	var f formation
	if err := json.Unmarshal(raw, &f); err != nil {
		n.cfg.Logger.Error("unreadable formation file", "path", n.formationPath(), "err", err)
		return formation{}, false
	}
	return f, true
}

func (n *Node) saveFormation(f formation) error {
	raw, _ := json.Marshal(f)
	tmp := n.formationPath() + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, n.formationPath())
}

func (n *Node) formLoop(ctx context.Context) {
	var voters []raft.Server
	form, known := n.loadFormation()
	if !known || !hasState(n.raftDir()) {
		var members []Member
		for {
			all, changed := n.gossip.snapshot()
			members = members[:0]
			for _, m := range all {
				if m.Alive {
					members = append(members, m)
				}
			}
			if len(members) >= n.cfg.BootstrapExpect {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-changed:
			case <-time.After(time.Second):
			}
		}
		// Every founder computes the same plan from the smallest ids.
		members = members[:n.cfg.BootstrapExpect]
		plan := PlanFormation(members, n.cfg.Shards)
		shardID, founder := plan.Members[n.cfg.NodeID]
		if !founder {
			n.cfg.Logger.Info("not a founder: waiting to be added to a shard", "node_id", n.cfg.NodeID)
			return
		}
		for _, m := range members {
			if plan.Members[m.NodeID] == shardID {
				voters = append(voters, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(m.NodeID), Address: raft.ServerAddress(m.Raft)})
			}
		}
		form = formation{Shard: shardID, Shards: n.cfg.Shards, Slots: plan.Slots[shardID]}
		if err := n.saveFormation(form); err != nil {
			n.cfg.Logger.Error("saving formation failed", "err", err)
			return
		}
		n.cfg.Logger.Info("forming shard", "node_id", n.cfg.NodeID, "shard_id", shardID, "voters", len(voters), "slots", form.Slots)
	}
	n.form.Store(&form)
	sc := shard.DefaultConfig()
	sc.ID = n.cfg.NodeID
	sc.Dir = n.raftDir()
	sc.Bind = hostPort(n.cfg.Bind, n.cfg.RaftPort)
	sc.Advertise = hostPort(n.cfg.Advertise, n.cfg.RaftPort)
	sc.Bootstrap = voters
	sc.FSM = n.fsm
	sc.Zone = n.zoneOf
	sc.Logger = n.cfg.Logger.With("component", "shard", "node_id", n.cfg.NodeID)
	if n.cfg.HeartbeatTimeout > 0 {
		sc.HeartbeatTimeout = n.cfg.HeartbeatTimeout
	}
	if n.cfg.ElectionTimeout > 0 {
		sc.ElectionTimeout = n.cfg.ElectionTimeout
	}
	if n.cfg.LeaderLease > 0 {
		sc.LeaderLeaseTimeout = n.cfg.LeaderLease
	}
	if n.cfg.SnapshotThreshold > 0 {
		sc.SnapshotThreshold = n.cfg.SnapshotThreshold
	}
	if n.cfg.TrailingLogs > 0 {
		sc.TrailingLogs = n.cfg.TrailingLogs
	}
	r, err := shard.New(sc)
	if err != nil {
		n.cfg.Logger.Error("starting shard replica failed", "node_id", n.cfg.NodeID, "err", err)
		return
	}
	n.mu.Lock()
	if ctx.Err() != nil { // closed meanwhile
		n.mu.Unlock()
		_ = r.Close()
		return
	}
	n.replica = r
	n.mu.Unlock()
}

func (n *Node) rep() *shard.Replica {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.replica
}

// WaitReady blocks until the shard has a leader that can serve
// linearizable reads (as seen from this node) or ctx ends.
func (n *Node) WaitReady(ctx context.Context) error {
	for {
		if r := n.rep(); r != nil {
			if id, _ := r.Leader(); id != "" {
				if r.IsLeader() && r.Ready() || !r.IsLeader() {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Replica returns the shard replica, nil before formation.
func (n *Node) Replica() *shard.Replica { return n.rep() }

// FSM returns the engine.
func (n *Node) FSM() *raftfsm.FSM { return n.fsm }

// Close shuts the node down gracefully: if it leads its shard it first
// hands leadership to a caught-up replica (so clients see a leader change
// of about one round trip instead of an election timeout), then stops its
// loops, shuts the replica down and leaves gossip. Idempotent.
func (n *Node) Close() error { return n.shutdown(true) }

// Abort stops the node without handing leadership off, as a crash would
// look to the rest of the shard (apart from the gossip leave).
func (n *Node) Abort() error { return n.shutdown(false) }

func (n *Node) shutdown(handoff bool) error {
	var err error
	n.once.Do(func() {
		if r := n.rep(); handoff && r != nil && r.IsLeader() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			target := n.handoffTarget()
			terr := r.LeadershipTransfer(ctx, target)
			if terr != nil && target != "" && ctx.Err() == nil {
				// e.g. the target is not (or no longer) a voter: let raft pick.
				n.cfg.Logger.Debug("leadership handoff to preferred successor failed", "target", target, "err", terr)
				terr = r.LeadershipTransfer(ctx, "")
			}
			if terr != nil {
				n.cfg.Logger.Warn("leadership handoff before shutdown failed", "node_id", n.cfg.NodeID, "err", terr)
			} else {
				n.cfg.Logger.Info("handed leadership off before shutdown", "node_id", n.cfg.NodeID)
			}
			cancel()
		}
		if r := n.rep(); !handoff && r != nil {
			// A crash stops Raft first, before anything else of the node.
			err = r.Close()
		}
		if n.cancel != nil {
			n.mu.Lock()
			n.cancel()
			n.mu.Unlock()
		}
		n.wg.Wait()
		if r := n.rep(); handoff && r != nil {
			err = r.Close()
		}
		if n.gossip != nil {
			n.closePubSub()
			n.gossip.close()
		}
	})
	if err != nil && !errors.Is(err, shard.ErrClosed) {
		return fmt.Errorf("node %s: close: %w", n.cfg.NodeID, err)
	}
	return nil
}

// zoneOf returns the AZ of a node as gossip reports it ("" if unknown).
func (n *Node) zoneOf(id string) string {
	if id == n.cfg.NodeID {
		return n.cfg.AZ
	}
	if m, ok := n.gossip.lookup(id); ok {
		return m.AZ
	}
	return ""
}

// handoffTarget picks the successor for a graceful leadership handoff: a
// live member of this node's shard, preferably in another AZ, then the one
// with the highest applied index (gossip), so the transfer has least to
// catch up. "" lets raft pick the most up-to-date follower.
func (n *Node) handoffTarget() string {
	f := n.form.Load()
	if f == nil {
		return ""
	}
	all, _ := n.gossip.snapshot()
	better := func(a, b Member) bool {
		if ao, bo := a.AZ != n.cfg.AZ, b.AZ != n.cfg.AZ; ao != bo {
			return ao
		}
		return a.Applied > b.Applied
	}
	var best Member
	for _, m := range all {
		if m.NodeID == n.cfg.NodeID || m.Shard != f.Shard || !m.Alive {
			continue
		}
		if best.NodeID == "" || better(m, best) {
			best = m
		}
	}
	return best.NodeID
}

// AZ returns the node's availability zone.
func (n *Node) AZ() string { return n.cfg.AZ }
