package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/shard"
	"github.com/raftcache/raftcache/slots"
)

// respError carries the RESP error text for a backend failure; the gateway
// recognises it by its RESPError method (node does not import gateway).
type respError struct {
	n    *Node
	kind int
	err  error
}

const (
	errKindNotLeader = iota
	errKindUncertain
	errKindDown
)

func (e *respError) Error() string { return e.err.Error() }
func (e *respError) Unwrap() error { return e.err }

// RESPError renders the error for a command on slot.
func (e *respError) RESPError(slot int) string {
	switch e.kind {
	case errKindNotLeader:
		if addr := e.n.leaderRESP(); addr != "" && addr != e.n.RESPAddr() {
			return "MOVED " + strconv.Itoa(slot) + " " + addr
		}
		if slot >= 0 {
			if r := e.n.Route(slots.Slot(slot), true, false, false); r != "" {
				return r
			}
		}
		return "CLUSTERDOWN The cluster is down"
	case errKindUncertain:
		return "UNCERTAIN the write may or may not have been applied (leadership changed while it was in flight); read the key before retrying"
	default:
		return "CLUSTERDOWN The cluster is down"
	}
}

func (n *Node) wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, shard.ErrNotLeader):
		return &respError{n: n, kind: errKindNotLeader, err: err}
	case errors.Is(err, shard.ErrUncertain):
		return &respError{n: n, kind: errKindUncertain, err: err}
	case errors.Is(err, shard.ErrClosed):
		return &respError{n: n, kind: errKindDown, err: err}
	}
	return fmt.Errorf("node %s: %w", n.cfg.NodeID, err)
}

// leaderRESP returns the client address of the shard leader, "" if unknown.
func (n *Node) leaderRESP() string {
	r := n.rep()
	if r == nil {
		return ""
	}
	id, _ := r.Leader()
	if id == "" {
		return ""
	}
	if id == n.cfg.NodeID {
		return n.RESPAddr()
	}
	if m, ok := n.gossip.lookup(id); ok {
		return m.RESP
	}
	return ""
}

// Route implements the gateway's Backend: serve here, or redirect. A slot
// this node's shard owns is served by the shard leader (or by this replica
// for reads after READONLY); any other slot is redirected to its owner's
// leader as gossip last reported it.
func (n *Node) Route(slot slots.Slot, write, readonly, asking bool) string {
	// One read of the slot table per command: it is a published copy that
	// an OpSlots apply can replace at any moment.
	st, logged := n.slotState(slot)
	if logged && st.State == raftfsm.SlotImporting {
		r := n.rep()
		switch {
		case r == nil:
			return "CLUSTERDOWN The cluster is down"
		case !asking:
			// Not ours yet: the source serves it (and ASKs for moved keys).
			if addr := n.shardLeaderRESP(int(st.Peer)); addr != "" {
				return "MOVED " + strconv.Itoa(int(slot)) + " " + addr
			}
			return "TRYAGAIN slot is being migrated, retry shortly"
		case r.IsLeader(), readonly && !write:
			return ""
		}
		if addr := n.leaderRESP(); addr != "" && addr != n.RESPAddr() {
			return "MOVED " + strconv.Itoa(int(slot)) + " " + addr
		}
		return "CLUSTERDOWN The cluster is down"
	}
	if n.owns(slot, st, logged) {
		r := n.rep()
		if r == nil {
			return "CLUSTERDOWN The cluster is down"
		}
		if r.IsLeader() {
			return ""
		}
		if readonly && !write {
			return "" // replica read after READONLY (possibly stale)
		}
		// Never redirect to ourselves: while Raft steps down it may still
		// name this node as leader for an instant, and a client would
		// follow the MOVED in a tight loop.
		if addr := n.leaderRESP(); addr != "" && addr != n.RESPAddr() {
			return "MOVED " + strconv.Itoa(int(slot)) + " " + addr
		}
		return "CLUSTERDOWN The cluster is down"
	}
	v := n.view.Load()
	if v == nil {
		return "CLUSTERDOWN The cluster is down"
	}
	owner, _, ok := v.smap.Owner(slot)
	if f := n.form.Load(); f != nil && (!ok || int(owner) == f.Shard) {
		// Gossip names no owner or still this shard, but this shard's log
		// gave the slot away: send the client where the log says it went.
		if logged && st.State == raftfsm.SlotUnowned && st.Peer >= 0 {
			owner, ok = slots.ShardID(st.Peer), true
		} else if ok {
			return "TRYAGAIN slot ownership is changing, retry shortly"
		}
	}
	if !ok {
		return "CLUSTERDOWN Hash slot not served"
	}
	if addr := n.shardLeaderRESP(int(owner)); addr != "" {
		return "MOVED " + strconv.Itoa(int(slot)) + " " + addr
	}
	return "CLUSTERDOWN The cluster is down"
}

// Write implements the gateway's Backend.
func (n *Node) Write(ctx context.Context, cmds [][][]byte) ([]raftfsm.Reply, error) {
	r := n.rep()
	if r == nil {
		return nil, &respError{n: n, kind: errKindDown, err: errors.New("shard not formed yet")}
	}
	replies, err := r.Write(ctx, cmds)
	return replies, n.wrap(err)
}

// Read implements the gateway's Backend.
func (n *Node) Read(ctx context.Context, stale bool, fn func(db *raftfsm.DB, now int64)) error {
	r := n.rep()
	if r == nil {
		return &respError{n: n, kind: errKindDown, err: errors.New("shard not formed yet")}
	}
	return n.wrap(r.Read(ctx, stale, fn))
}

// IsLeader implements the gateway's Backend.
func (n *Node) IsLeader() bool {
	r := n.rep()
	return r != nil && r.IsLeader()
}

// logHashInfo is INFO replication's raft_applied_log_hash line: the
// applied-log hash (raftfsm/loghash.go) with the index it covers; known=0
// when it does not cover the history before an old-format snapshot.
func (n *Node) logHashInfo() string {
	h := n.fsm.AppliedLogHash()
	known := 0
	if h.Known {
		known = 1
	}
	return fmt.Sprintf("raft_applied_log_hash:index=%d,hash=%016x,known=%d", h.Index, h.Hash, known)
}

// InfoSection implements the gateway's Backend: the INFO lines the node owns.
func (n *Node) InfoSection(name string) []string {
	r := n.rep()
	switch name {
	case "replication":
		stats := map[string]string{}
		if r != nil {
			stats = r.Stats()
		}
		applied := n.fsm.AppliedIndex()
		if r != nil && r.IsLeader() {
			lines := []string{"role:master"}
			members, _ := n.gossip.snapshot()
			var replicas []string
			shardID := n.ShardID()
			for _, m := range members {
				// This shard's other live members (not every node of the
				// cluster: each shard is its own master and replicas).
				if m.NodeID == n.cfg.NodeID || !m.Alive || m.Shard != shardID || m.Spare {
					continue
				}
				host, port, _ := net.SplitHostPort(m.RESP)
				replicas = append(replicas, fmt.Sprintf("slave%d:ip=%s,port=%s,state=online,offset=%d,lag=0", len(replicas), host, port, applied))
			}
			lines = append(lines, "connected_slaves:"+strconv.Itoa(len(replicas)))
			lines = append(lines, replicas...)
			return append(lines, "master_failover_state:no-failover", "master_replid:"+n.clusterID,
				"master_repl_offset:"+strconv.FormatUint(applied, 10), "raft_state:"+stats["state"], "raft_term:"+stats["term"],
				"raft_commit_index:"+stats["commit_index"], "raft_applied_index:"+strconv.FormatUint(applied, 10), n.logHashInfo())
		}
		host, port := "", ""
		if addr := n.leaderRESP(); addr != "" {
			host, port, _ = net.SplitHostPort(addr)
		}
		link := "down"
		if host != "" {
			link = "up"
		}
		// How long since the leader was last heard from (raft's
		// last_contact): the follower's staleness, ElastiCache's
		// ReplicationLag. -1: never.
		lastIO, contactMS := "-1", "-1"
		if d, err := time.ParseDuration(stats["last_contact"]); err == nil {
			lastIO, contactMS = strconv.FormatInt(int64(d/time.Second), 10), strconv.FormatInt(d.Milliseconds(), 10)
		} else if stats["last_contact"] == "0" {
			lastIO, contactMS = "0", "0"
		}
		return []string{"role:slave", "master_host:" + host, "master_port:" + port, "master_link_status:" + link,
			"master_last_io_seconds_ago:" + lastIO, "raft_last_contact_ms:" + contactMS, "master_sync_in_progress:0", "slave_read_repl_offset:" + strconv.FormatUint(applied, 10),
			"slave_repl_offset:" + strconv.FormatUint(applied, 10), "slave_priority:100", "slave_read_only:1",
			"connected_slaves:0", "master_replid:" + n.clusterID, "master_repl_offset:" + strconv.FormatUint(applied, 10),
			"raft_state:" + stats["state"], "raft_term:" + stats["term"], "raft_commit_index:" + stats["commit_index"],
			"raft_applied_index:" + strconv.FormatUint(applied, 10), n.logHashInfo()}
	case "persistence":
		var dirty int64
		n.fsm.View(func(db *raftfsm.DB) { dirty = db.Dirty() })
		return append([]string{"loading:0", "async_loading:0", "rdb_changes_since_last_save:" + strconv.FormatInt(dirty, 10),
			"rdb_bgsave_in_progress:0", "rdb_last_save_time:" + strconv.FormatInt(n.LastSave().Unix(), 10),
			"rdb_last_bgsave_status:ok", "aof_enabled:0", "aof_rewrite_in_progress:0",
			"raft_log_fsync:always", "raft_data_dir:" + n.cfg.DataDir}, n.autoBackupInfo()...)
	case "cluster":
		return []string{"cluster_enabled:1"}
	case "memory":
		// The keyspace estimate maxmemory is compared with (raftfsm's sum
		// of MEMORY USAGE), beside the process figures the gateway prints.
		return []string{"used_memory_dataset:" + strconv.FormatInt(n.fsm.UsedMemory(), 10)}
	case "stats":
		var evicted int64
		if r != nil {
			evicted = r.EvictedKeys()
		}
		return []string{"evicted_keys:" + strconv.FormatInt(evicted, 10)}
	case "server":
		return []string{"raftcache_node_id:" + n.cfg.NodeID, "raftcache_az:" + n.cfg.AZ,
			"uptime_since:" + n.started.UTC().Format(time.RFC3339)}
	}
	return nil
}

// OverMemory implements the gateway's Backend (OOM errors under maxmemory).
func (n *Node) OverMemory() bool {
	r := n.rep()
	return r != nil && r.OverMemory()
}

// WaitKeys implements the gateway's Backend: it returns once a write
// touching one of keys has been applied on this node (or ctx ends).
func (n *Node) WaitKeys(ctx context.Context, keys [][]byte) error {
	return n.fsm.WaitKeys(ctx, keys)
}

// SetKeyEventMask implements gateway.KeyEventSource: the engine collects
// keyspace events of these classes (notify-keyspace-events).
func (n *Node) SetKeyEventMask(m raftfsm.NotifyClass) { n.fsm.SetKeyEventMask(m) }

// SetKeyEventHandler sets the function that receives the keyspace events of
// every write this node applies (the gateway's KeyEvents). It must not block.
func (n *Node) SetKeyEventHandler(h func([]raftfsm.KeyEvent)) { n.fsm.SetKeyEventSink(h) }

// EnableTrackingSink implements gateway.TrackingSource: the engine records
// the keys of applied writes while the gateway has tracking clients.
func (n *Node) EnableTrackingSink(on bool) { n.fsm.EnableTrackingSink(on) }

// SetTrackingHandler sets the function that receives the keys every applied
// batch modified (all: a flush or a snapshot restore), the gateway's
// InvalidateKeys (client-side caching). It must not block.
func (n *Node) SetTrackingHandler(h func(keys [][]byte, all bool)) { n.fsm.SetTrackingSink(h) }
