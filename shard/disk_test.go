package shard

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/raftfsm"
)

var (
	freeMu    sync.Mutex
	freeGiven = map[string]bool{}
)

// freeAddr returns a loopback address that was free a moment ago and was
// never returned before in this process (the kernel hands the same
// ephemeral port out again right after it is closed).
func freeAddr(t testing.TB) string {
	t.Helper()
	freeMu.Lock()
	defer freeMu.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		if !freeGiven[addr] {
			freeGiven[addr] = true
			return addr
		}
	}
}

// TestReplicaTCPBoltRestart runs three replicas over TCP with raft-boltdb
// and file snapshots, closes them all and reopens them on the same dirs.
func TestReplicaTCPBoltRestart(t *testing.T) {
	dir := t.TempDir()
	const n = 3
	ids := make([]string, n)
	addrs := make([]string, n)
	var servers []raft.Server
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i+1)
		addrs[i] = freeAddr(t)
		servers = append(servers, raft.Server{ID: raft.ServerID(ids[i]), Address: raft.ServerAddress(addrs[i])})
	}
	open := func() *cluster {
		c := &cluster{t: t}
		for i := range ids {
			cfg := fastConfig(ids[i])
			cfg.Dir = filepath.Join(dir, ids[i])
			cfg.Bind = addrs[i]
			cfg.Bootstrap = servers
			cfg.SnapshotThreshold = 100
			cfg.TrailingLogs = 20
			cfg.SnapshotInterval = 50 * time.Millisecond
			m := &member{id: ids[i], addr: raft.ServerAddress(addrs[i]), fsm: raftfsm.NewFSM(nil)}
			cfg.FSM = m.fsm
			r, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			m.rep = r
			c.members = append(c.members, m)
		}
		return c
	}
	closeAll := func(c *cluster) {
		for _, m := range c.members {
			if err := m.rep.Close(); err != nil {
				t.Errorf("close %s: %v", m.id, err)
			}
			m.rep = nil
		}
	}

	c := open()
	for i := 0; i < 300; i++ {
		c.mustWriteLeader("OK", "SET", fmt.Sprintf("k%d", i), fmt.Sprint(i))
	}
	c.mustWriteLeader("OK", "SET", "ttl", "v", "EX", "1000")
	c.converged()
	digest := c.members[0].fsm.Digest()
	closeAll(c)

	c = open()
	defer closeAll(c)
	c.mustReadLeader("299", "GET", "k299")
	c.mustReadLeader("0", "GET", "k0")
	c.converged()
	// New entries (the leader's no-op) may follow, but the data is the same.
	if got := c.members[0].fsm.Digest(); got != digest {
		t.Fatalf("digest after restart %x, before %x", got, digest)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, m := range c.members {
		if err := m.rep.WaitLeader(ctx); err != nil {
			t.Fatal(err)
		}
	}
	c.mustWriteLeader("OK", "SET", "after", "restart")
}

// TestFailoverTimeDefaultConfig measures, with production timings over TCP
// and raft-boltdb, how long after a leader dies a new one accepts writes
// (design target: 2 s).
func TestFailoverTimeDefaultConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("uses production timings")
	}
	dir := t.TempDir()
	var servers []raft.Server
	ids := []string{"n1", "n2", "n3"}
	addrs := make([]string, len(ids))
	for i, id := range ids {
		addrs[i] = freeAddr(t)
		servers = append(servers, raft.Server{ID: raft.ServerID(id), Address: raft.ServerAddress(addrs[i])})
	}
	c := &cluster{t: t}
	for i, id := range ids {
		cfg := DefaultConfig()
		cfg.ID = id
		cfg.Dir = filepath.Join(dir, id)
		cfg.Bind = addrs[i]
		cfg.Bootstrap = servers
		cfg.Logger = testLogger()
		m := &member{id: id, fsm: raftfsm.NewFSM(nil)}
		cfg.FSM = m.fsm
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		m.rep = r
		c.members = append(c.members, m)
	}
	defer func() {
		for _, m := range c.members {
			if m.rep != nil {
				m.rep.Close()
			}
		}
	}()
	c.mustWriteLeader("OK", "SET", "k", "v")
	old := c.leader()
	start := time.Now()
	if err := old.rep.Close(); err != nil {
		t.Fatal(err)
	}
	old.rep = nil
	c.mustWriteLeader("OK", "SET", "k", "w")
	d := time.Since(start)
	t.Logf("leader killed -> write acknowledged by the new leader in %v", d)
	if d > 3*time.Second {
		t.Errorf("failover took %v, target 2s", d)
	}
}
