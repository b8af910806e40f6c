package shard

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/raftfsm"
)

// benchCluster starts three replicas over TCP with raft-boltdb (fsync on)
// and production timings, as a node would run them.
func benchCluster(b *testing.B) *cluster {
	b.Helper()
	dir := b.TempDir()
	var servers []raft.Server
	addrs := make([]string, 3)
	for i := range addrs {
		addrs[i] = freeAddr(b)
		servers = append(servers, raft.Server{ID: raft.ServerID(fmt.Sprintf("n%d", i+1)), Address: raft.ServerAddress(addrs[i])})
	}
	c := &cluster{}
	for i := range addrs {
		cfg := DefaultConfig()
		cfg.ID = fmt.Sprintf("n%d", i+1)
		cfg.Dir = filepath.Join(dir, cfg.ID)
		cfg.Bind = addrs[i]
		cfg.Bootstrap = servers
		m := &member{id: cfg.ID, fsm: raftfsm.NewFSM(nil)}
		cfg.FSM = m.fsm
		r, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		m.rep = r
		c.members = append(c.members, m)
	}
	b.Cleanup(func() {
		for _, m := range c.members {
			m.rep.Close()
		}
	})
	return c
}

func benchLeader(b *testing.B, c *cluster) *Replica {
	b.Helper()
	for {
		for _, m := range c.members {
			if m.rep.Ready() {
				return m.rep
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkReadLinearizable: 50 concurrent GETs (b.SetParallelism), the
// redis-benchmark -c 50 shape.
func BenchmarkReadLinearizable(b *testing.B) {
	c := benchCluster(b)
	l := benchLeader(b, c)
	if _, err := l.Write(context.Background(), [][][]byte{cmd("SET", "key", "value")}); err != nil {
		b.Fatal(err)
	}
	get := cmd("GET", "key")
	b.SetParallelism(50)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			var r raftfsm.Reply
			err := l.Read(ctx, false, func(db *raftfsm.DB, now int64) {
				r = raftfsm.Exec(raftfsm.NewCtx(db, now, false, 0), get)
			})
			if err != nil || r.Str != "value" {
				b.Errorf("GET: %v %v", show(r), err)
				return
			}
		}
	})
}

// BenchmarkWrite: 50 concurrent SETs, each acknowledged after fsync and
// commit on a majority.
func BenchmarkWrite(b *testing.B) {
	c := benchCluster(b)
	l := benchLeader(b, c)
	var n atomic.Int64
	b.SetParallelism(50)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			k := fmt.Sprintf("k%d", n.Add(1))
			if _, err := l.Write(ctx, [][][]byte{cmd("SET", k, "value")}); err != nil {
				b.Errorf("SET: %v", err)
				return
			}
		}
	})
}
