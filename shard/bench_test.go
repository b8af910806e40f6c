package shard

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/internal/procio"
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

// BenchmarkWriteLarge: 64 concurrent 16 KiB SETs, the size of a slot
// move's import entries: how many MB/s of entries a shard of three
// replicas in one process commits and applies, the ceiling for a move
// into it (docs/BENCHMARKS.md, slot migration).
func BenchmarkWriteLarge(b *testing.B) {
	c := benchCluster(b)
	l := benchLeader(b, c)
	val := make([]byte, 16<<10)
	for i := range val {
		val[i] = byte(i * 7)
	}
	var n atomic.Int64
	b.SetBytes(int64(len(val)))
	b.SetParallelism(32) // x GOMAXPROCS (2 here): 64 proposers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			k := fmt.Sprintf("k%d", n.Add(1))
			if _, err := l.Write(ctx, [][][]byte{{[]byte("SET"), []byte(k), val}}); err != nil {
				b.Errorf("SET: %v", err)
				return
			}
		}
	})
}

// BenchmarkLogStore measures the log store a replica opens on a data dir
// (raft-boltdb v2 behind raft's LogCache, fsync on) for the entry sizes a
// slot migration writes: MB/s of entry data and the bytes the process
// wrote to disk per byte of entry data (Linux /proc/self/io). bbolt keeps
// at least two keys in a page, so every commit rewrites the log's last leaf
// with the recent entries in it: for large entries, one per commit, that
// is several times the entry (docs/BENCHMARKS.md, slot migration).
func BenchmarkLogStore(b *testing.B) {
	// 15.5 and 16.5 KiB: raft-boltdb encodes an entry into a buffer that
	// doubles as it grows, so allocations jump past a power of two
	// (B/op; node/reshard.go importEntryBytes).
	for _, size := range []int{1 << 10, 8 << 10, 16<<10 - 512, 16 << 10, 16<<10 + 512, 32 << 10, 64 << 10, 128 << 10, 512 << 10, 2 << 20} {
		for _, per := range []int{1, 4, 16, 64} {
			if size*per > 8<<20 {
				// More than a 2 MB Transfer per commit never happens,
				// and make bench's 64 rounds would write gigabytes.
				continue
			}
			b.Run(fmt.Sprintf("entry=%gKiB/per-commit=%d", float64(size)/1024, per), func(b *testing.B) {
				b.ReportAllocs()
				st, err := openStores(Config{Dir: b.TempDir(), SnapshotRetain: 1}, newHclog(slog.New(slog.DiscardHandler), "raft"))
				if err != nil {
					b.Fatal(err)
				}
				defer st.close()
				data := make([]byte, size)
				b.SetBytes(int64(size * per))
				w0, okIO := procio.WriteBytes()
				b.ResetTimer()
				idx := uint64(1)
				for i := 0; i < b.N; i++ {
					logs := make([]*raft.Log, per)
					for j := range logs {
						logs[j] = &raft.Log{Index: idx, Term: 1, Type: raft.LogCommand, Data: data}
						idx++
					}
					if err := st.logs.StoreLogs(logs); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				if w1, ok := procio.WriteBytes(); ok && okIO {
					b.ReportMetric(float64(w1-w0)/float64(b.N*size*per), "disk-bytes/B")
				}
			})
		}
	}
}
