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
	"github.com/raftcache/raftcache/slots"
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
	// writeHold is the gateway's CLIENT PAUSE check (SetWriteHold).
	writeHold atomic.Pointer[func() bool]
	// aclSrc is the gateway's users (SetACLSource, aclsync.go).
	aclSrc atomic.Pointer[ACLSource]
	form   atomic.Pointer[formation]
	view   atomic.Pointer[clusterView]
	// smapCache is the last slot map built from complete claims (slotMap).
	smapCache atomic.Pointer[smapCache]
	spare     atomic.Bool // no shard: waits for JoinShard (replicas.go)

	metaKick chan struct{} // wakes metaLoop (notifyMeta)
	claims   claimCache    // long slot claims fetched by reference (claims.go)

	memberMu sync.Mutex // serializes joining and leaving a shard
	pubMu    sync.Mutex // serializes publishSelf

	grpc *grpcServer // admin API and node-to-node calls (grpc.go)
	ops  opRegistry  // long admin operations run by this node (ops.go)
	// reserved holds the nodes this node's running operations are
	// turning into replicas, so concurrent operations pick others.
	reserved reservations
	heal     healState // self-healing (heal.go)
	// autoBackups counts this node's automatic backups (autobackup.go).
	autoBackups autoBackupState
	// testMover replaces the migration engine (moveSlotsTo) in tests of the operations.
	testMover func(ctx context.Context, slot slots.Slot, target int, progress func(keys, bytes uint64)) error

	runCtx context.Context // cancelled by Close/Abort
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
	fsm := raftfsm.NewFSM(cfg.Logger.With("component", "fsm"))
	fsm.SetHashLogEvery(cfg.HashLogEvery)
	fsm.SetScriptACL(cfg.ScriptACL)
	return &Node{cfg: cfg, clusterID: ClusterID(cfg.NodeID), fsm: fsm, metaKick: make(chan struct{}, 1)}, nil
}

// ID returns the node's name; ClusterID its 40-hex cluster id.
func (n *Node) ID() string        { return n.cfg.NodeID }
func (n *Node) ClusterID() string { return n.clusterID }

// RESPAddr is the client address this node announces (Config.Announce,
// by default the advertised host and the RESP port).
func (n *Node) RESPAddr() string { return n.cfg.Announce }

func (n *Node) raftDir() string { return filepath.Join(n.cfg.DataDir, "raft") }

// Start joins the gossip pool and starts the shard replica. On a fresh data
// dir it first waits (in the background) until BootstrapExpect nodes have
// met, then bootstraps Raft with the identical voter list on every one of
// them; on an existing data dir it simply resumes. Start returns at once.
func (n *Node) Start(ctx context.Context) error {
	n.started = time.Now()
	self := Member{NodeID: n.cfg.NodeID, AZ: n.cfg.AZ, RESP: n.RESPAddr(), TLSPort: n.cfg.AnnounceTLSPort, Raft: hostPort(n.cfg.Advertise, n.cfg.RaftPort),
		Gossip: hostPort(n.cfg.Advertise, n.cfg.GossipPort), GRPC: n.GRPCAddr(), Shard: -1, Alive: true}
	if f, ok := n.loadFormation(); ok {
		self.Shard = f.Shard
		n.spare.Store(f.Shard < 0) // released from a shard earlier
	} else {
		n.spare.Store(n.cfg.Spare)
	}
	self.Spare = n.spare.Load()
	gs, err := newGRPCServer(n)
	if err != nil {
		return err
	}
	self.GRPC = n.GRPCAddr() // the port may have fallen back (dev)
	g, err := newGossip(&n.cfg, self)
	if err != nil {
		gs.stop()
		return err
	}
	n.gossip = g
	n.grpc = gs
	runCtx, cancel := context.WithCancel(context.Background())
	n.runCtx, n.cancel = runCtx, cancel
	n.wg.Add(1)
	go func() { defer n.wg.Done(); gs.serve() }()
	n.refreshView()
	n.wg.Add(8)
	go func() { defer n.wg.Done(); n.finishGivesLoop(runCtx) }()
	go func() { defer n.wg.Done(); n.aclSyncLoop(runCtx) }()
	go func() { defer n.wg.Done(); n.joinLoop(runCtx) }()
	go func() { defer n.wg.Done(); n.autoBackupLoop(runCtx) }()
	go func() { defer n.wg.Done(); n.formLoop(runCtx) }()
	go func() { defer n.wg.Done(); n.metaLoop(runCtx) }()
	go func() { defer n.wg.Done(); n.healLoop(runCtx) }()
	go func() { defer n.wg.Done(); n.removedLoop(runCtx) }()
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

// formation is what this node remembers of its shard assignment, in
// <data-dir>/formation.json, so that a restarted node knows its shard and
// any future leader of a fresh shard can claim the shard's initial slots.
// Founders write it at formation; the admin API writes it when it makes a
// spare a replica (JoinShard), before the replica starts, so a restart
// resumes the replica instead of founding anything.
type formation struct {
	Shard  int    `json:"shard"`
	Shards int    `json:"shards"`
	Slots  string `json:"slots"`
	// Joined: assigned by the admin API rather than by founding; the
	// replica is started even if its Raft directory is still empty.
	Joined bool `json:"joined,omitempty"`
	// Bootstrap is the voter list of a shard founded by AddShard (empty
	// for a replica added to an existing shard). Raft bootstraps only on
	// empty stores, so keeping it is safe across restarts.
	Bootstrap []raftServer `json:"bootstrap,omitempty"`
}

type raftServer struct {
	ID      string `json:"id"`
	Address string `json:"addr"`
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
	raw, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("formation: %w", err)
	}
	tmp := n.formationPath() + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return fmt.Errorf("formation: %w", err)
	}
	if err := os.Rename(tmp, n.formationPath()); err != nil {
		return fmt.Errorf("formation: %w", err)
	}
	return nil
}

func (n *Node) formLoop(ctx context.Context) {
	var voters []raft.Server
	form, known := n.loadFormation()
	switch {
	case known && form.Shard < 0:
		n.cfg.Logger.Info("spare node (released from its shard): waiting for the admin API to assign a shard", "node_id", n.cfg.NodeID)
		return
	case known && (form.Joined || hasState(n.raftDir())):
		for _, s := range form.Bootstrap {
			voters = append(voters, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(s.ID), Address: raft.ServerAddress(s.Address)})
		}
	case n.cfg.Spare:
		n.spare.Store(true)
		n.cfg.Logger.Info("spare node: waiting for the admin API to assign a shard", "node_id", n.cfg.NodeID)
		return
	default:
		var members, all []Member
		for {
			var changed <-chan struct{}
			all, changed = n.gossip.snapshot()
			members = members[:0]
			for _, m := range all {
				if m.Alive && !m.Spare {
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
		// A formed cluster whose leader still lists this node: its data
		// dir was lost (rejoin.go).
		shard, listed, formed := n.formerShardWait(ctx)
		if ctx.Err() != nil {
			return
		}
		if listed {
			n.rejoinShard(ctx, shard)
			return
		}
		// Every founder computes the same plan from the smallest ids.
		members = members[:n.cfg.BootstrapExpect]
		plan := PlanFormation(members, n.cfg.Shards)
		shardID, founder := plan.Members[n.cfg.NodeID]
		if founder && formed[shardID] {
			// The plan's shard exists and its leader does not list this
			// node: a new node (or one removed earlier), not a founder.
			founder = false
		}
		if !founder {
			n.spare.Store(true)
			n.publishSelf(nil)
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
	if err := n.startReplica(ctx, form, voters); err != nil {
		n.cfg.Logger.Error("starting shard replica failed", "node_id", n.cfg.NodeID, "err", err)
	}
}

// startReplica starts this node's replica of form.Shard and publishes it.
// With voters it bootstraps the group on empty stores; without, an empty
// replica waits for the shard's leader to add it. ctx is the node's run
// context: a replica started while the node is closing is closed again.
func (n *Node) startReplica(ctx context.Context, form formation, voters []raft.Server) error {
	sc := shard.DefaultConfig()
	sc.ID = n.cfg.NodeID
	sc.Dir = n.raftDir()
	sc.Bind = hostPort(n.cfg.Bind, n.cfg.RaftPort)
	sc.Advertise = hostPort(n.cfg.Advertise, n.cfg.RaftPort)
	sc.Bootstrap = voters
	sc.FSM = n.fsm
	sc.Faults = n.cfg.Faults
	if t := n.cfg.TLS; t != nil {
		sc.TLSServer, sc.TLSClient = t.PeerServer(), t.PeerClient()
	}
	sc.Zone = n.zoneOf
	sc.Eviction = n.cfg.Eviction
	sc.WritesHeld = n.writesHeld
	sc.Params = n.cfg.EngineParams
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
	if n.cfg.SnapshotInterval > 0 {
		sc.SnapshotInterval = n.cfg.SnapshotInterval
	}
	switch d := n.cfg.DiskStallTimeout; {
	case d > 0:
		sc.DiskStallTimeout = d
	case d < 0:
		sc.DiskStallTimeout = 0 // off
	}
	if f := n.cfg.OnFatal; f != nil {
		id := n.cfg.NodeID
		sc.OnFatal = func(err error) { f(fmt.Errorf("node %s: %w", id, err)) }
	}
	r, err := shard.New(sc)
	if err != nil {
		return fmt.Errorf("node %s: shard %d replica: %w", n.cfg.NodeID, form.Shard, err)
	}
	n.mu.Lock()
	if ctx.Err() != nil { // closed meanwhile
		n.mu.Unlock()
		_ = r.Close()
		return fmt.Errorf("node %s: shard %d replica: %w", n.cfg.NodeID, form.Shard, ctx.Err())
	}
	n.replica = r
	n.form.Store(&form)
	n.spare.Store(false)
	n.mu.Unlock()
	return nil
}

func (n *Node) rep() *shard.Replica {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.replica
}

// WaitReady blocks until the shard has a leader that can serve
// linearizable reads (as seen from this node) or ctx ends; a spare node
// is ready at once.
func (n *Node) WaitReady(ctx context.Context) error {
	for {
		if n.spare.Load() {
			return nil // a spare has no shard to wait for
		}
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
		if n.grpc != nil {
			n.grpc.stop() // operations and watchers end with the run context
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
