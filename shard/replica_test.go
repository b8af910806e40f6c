package shard

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/raftcache/raftcache/raftfsm"
)

func TestReplicaBasic(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.leader()
	ctx := context.Background()

	mustWrite(t, l.rep, "OK", "SET", "k", "v1")
	mustRead(t, l.rep, "v1", "GET", "k")
	mustWrite(t, l.rep, "(1)", "INCR", "n")
	mustWrite(t, l.rep, "!WRONGTYPE Operation against a key holding the wrong kind of value", "LPUSH", "k", "x")

	// Several commands in one entry apply in order.
	replies, err := l.rep.Write(ctx, [][][]byte{cmd("SET", "a", "1"), cmd("INCR", "a"), cmd("GET", "a")})
	if err != nil {
		t.Fatal(err)
	}
	if got := show(replies[0]) + " " + show(replies[1]) + " " + show(replies[2]); got != "OK (2) 2" {
		t.Fatalf("batch replies %s", got)
	}

	if id, addr := l.rep.Leader(); id != l.id || addr != string(l.addr) {
		t.Fatalf("Leader() = %s %s, want %s %s", id, addr, l.id, l.addr)
	}
	for _, f := range c.followers(l) {
		if _, err := write(ctx, f.rep, "SET", "k", "nope"); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("follower write: %v, want ErrNotLeader", err)
		}
		if _, err := read(ctx, f.rep, false, "GET", "k"); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("follower linearizable read: %v, want ErrNotLeader", err)
		}
		testwait.Eventually(t, 2*time.Second, func() error {
			if id, _ := f.rep.Leader(); id != l.id {
				return fmt.Errorf("%s thinks the leader is %q", f.id, id)
			}
			return nil
		})
		testwait.Eventually(t, 2*time.Second, func() error {
			got, err := read(ctx, f.rep, true, "GET", "k")
			if err != nil || got != "v1" {
				return fmt.Errorf("stale read on %s: %q %v", f.id, got, err)
			}
			return nil
		})
	}
	mustRead(t, l.rep, "v1", "GET", "k")
	c.converged()
	if s := l.rep.Stats(); s["state"] != "Leader" || s["ready"] != "true" || s["fsm_applied_index"] == "0" {
		t.Fatalf("stats %v", s)
	}
}

func TestReplicaConcurrentClients(t *testing.T) {
	c := newCluster(t, 3, nil)
	const clients, ops = 50, 40
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			key := fmt.Sprintf("c%d", i)
			for j := 1; j <= ops; j++ {
				// Leadership may move on a loaded machine: retry the
				// (idempotent) SET on the new leader.
				var err error
				for try := 0; try < 50; try++ {
					l := c.leader()
					var got string
					if got, err = write(ctx, l.rep, "SET", key, fmt.Sprint(j)); err == nil {
						if got != "OK" {
							err = fmt.Errorf("SET %s: %q", key, got)
						}
						var val string
						// A linearizable read sees the write just acknowledged.
						if val, err = read(ctx, l.rep, false, "GET", key); err == nil && val != fmt.Sprint(j) {
							errs <- fmt.Errorf("GET %s after SET %d on %s: %q", key, j, l.id, val)
							return
						}
					}
					if err == nil || !(errors.Is(err, ErrNotLeader) || errors.Is(err, ErrUncertain)) {
						break
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c.converged()
	for _, m := range c.members {
		if n := m.rep.waiters.len(); n != 0 {
			t.Fatalf("%s: %d waiters left", m.id, n)
		}
	}
}

func TestReplicaLeaderKilled(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.leader()

	// Writers run across the kill; every acknowledged write must survive.
	// They target whichever replica claims to lead (a closed one answers
	// ErrClosed).
	var reps []*Replica
	for _, m := range c.members {
		reps = append(reps, m.rep)
	}
	var acked sync.Map
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				var target *Replica
				for _, r := range reps {
					if r.IsLeader() {
						target = r
					}
				}
				if target == nil {
					time.Sleep(time.Millisecond)
					continue
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				got, err := write(ctx, target, "SET", key, key)
				cancel()
				if err == nil && got == "OK" {
					acked.Store(key, true)
				}
			}
		}(w)
	}
	time.Sleep(100 * time.Millisecond)
	c.stop(l)
	c.leader()
	time.Sleep(100 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	n := 0
	acked.Range(func(k, _ any) bool {
		n++
		c.mustReadLeader(k.(string), "GET", k.(string))
		return true
	})
	if n == 0 {
		t.Fatal("no write acknowledged")
	}
	t.Logf("%d acknowledged writes survived the leader kill", n)
	c.converged()
}

func TestReplicaPartitionedLeader(t *testing.T) {
	c := newCluster(t, 3, nil)
	old := c.leader()
	mustWrite(t, old.rep, "OK", "SET", "k", "before")

	c.partition(old)
	var nl *member
	testwait.Eventually(t, 5*time.Second, func() error {
		for _, m := range c.followers(old) {
			if m.rep.Ready() {
				nl = m
				return nil
			}
		}
		return errors.New("no new leader")
	})
	mustWrite(t, nl.rep, "OK", "SET", "k", "after")

	// The deposed leader must not serve the stale value, nor acknowledge a
	// write that the majority never sees.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if got, err := read(ctx, old.rep, false, "GET", "k"); err == nil {
		t.Fatalf("partitioned leader served a linearizable read: %q", got)
	}
	got, err := write(ctx, old.rep, "SET", "lost", "1")
	if err == nil {
		t.Fatalf("partitioned leader acknowledged a write: %q", got)
	}
	if !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrUncertain) {
		t.Fatalf("partitioned write: %v, want ErrNotLeader or ErrUncertain", err)
	}
	// Stale reads stay available on the isolated replica.
	if got, err := read(context.Background(), old.rep, true, "GET", "k"); err != nil || got != "before" {
		t.Fatalf("stale read on isolated replica: %q %v", got, err)
	}

	c.heal(old)
	testwait.Eventually(t, 5*time.Second, func() error {
		got, err := read(context.Background(), old.rep, true, "GET", "k")
		if err != nil || got != "after" {
			return fmt.Errorf("old leader after heal: %q %v", got, err)
		}
		return nil
	})
	l := c.leader()
	mustRead(t, l.rep, "<nil>", "GET", "lost")
	c.converged()
}

func TestReplicaLeadershipTransfer(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.leader()
	mustWrite(t, l.rep, "OK", "SET", "k", "v")
	target := c.followers(l)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.rep.LeadershipTransfer(ctx, target.id); err != nil {
		t.Fatal(err)
	}
	if nl := c.leader(); nl != target {
		t.Fatalf("leader is %s, want %s", nl.id, target.id)
	}
	mustRead(t, target.rep, "v", "GET", "k")
	mustWrite(t, target.rep, "OK", "SET", "k", "w")
	if err := target.rep.LeadershipTransfer(ctx, "nosuch"); err == nil {
		t.Fatal("transfer to a non-member succeeded")
	}
}

func TestReplicaActiveExpiry(t *testing.T) {
	c := newCluster(t, 3, nil)
	c.mustWriteLeader("OK", "SET", "tmp", "v", "PX", "50")
	c.mustWriteLeader("OK", "SET", "keep", "v")
	for i := 0; i < 1200; i++ { // more than one expiry batch
		c.mustWriteLeader("OK", "SET", fmt.Sprintf("t%d", i), "v", "PX", "30")
	}
	testwait.Eventually(t, 5*time.Second, func() error {
		for _, m := range c.members {
			var n int
			m.fsm.View(func(db *raftfsm.DB) { n = db.Len() })
			if n != 1 {
				return fmt.Errorf("%s holds %d keys, want 1", m.id, n)
			}
		}
		return nil
	})
	c.mustReadLeader("<nil>", "GET", "tmp")
	c.mustReadLeader("v", "GET", "keep")
	c.converged()
}

func TestReplicaSnapshots(t *testing.T) {
	c := newCluster(t, 3, func(cfg *Config) {
		cfg.SnapshotThreshold = 50
		cfg.TrailingLogs = 10
		cfg.SnapshotInterval = 20 * time.Millisecond
	})
	for i := 0; i < 300; i++ {
		c.mustWriteLeader("OK", "SET", fmt.Sprintf("k%d", i), fmt.Sprint(i))
	}
	l := c.leader()
	testwait.Eventually(t, 5*time.Second, func() error {
		if s := l.rep.Stats()["last_snapshot_index"]; s == "0" {
			return errors.New("no snapshot taken")
		}
		return nil
	})

	// A follower that misses compacted entries catches up by InstallSnapshot.
	f := c.followers(l)[0]
	c.stop(f)
	for i := 300; i < 600; i++ {
		c.mustWriteLeader("OK", "SET", fmt.Sprintf("k%d", i), fmt.Sprint(i))
	}
	testwait.Eventually(t, 5*time.Second, func() error {
		first, _ := l.mem.FirstIndex()
		last, _ := f.mem.LastIndex()
		if first <= last {
			return fmt.Errorf("leader log starts at %d, stopped follower has %d", first, last)
		}
		return nil
	})
	c.start(f, nil)
	c.converged()
	c.mustReadLeader("599", "GET", "k599")

	// A replica added later starts empty and gets a snapshot too.
	nm := c.newMember("n4")
	c.start(nm, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	testwait.Eventually(t, 5*time.Second, func() error {
		return c.leader().rep.Raft().AddVoter(raft.ServerID(nm.id), nm.addr, 0, time.Second).Error()
	})
	c.mustWriteLeader("OK", "SET", "last", "x")
	c.converged()
	testwait.Eventually(t, 5*time.Second, func() error {
		got, err := read(ctx, nm.rep, true, "GET", "k0")
		if err != nil || got != "0" {
			return fmt.Errorf("new member: %q %v", got, err)
		}
		return nil
	})
}

func TestReplicaRestartInMemory(t *testing.T) {
	c := newCluster(t, 3, nil)
	for i := 0; i < 50; i++ {
		c.mustWriteLeader("OK", "SET", fmt.Sprintf("k%d", i), "v")
	}
	for _, m := range c.members {
		c.stop(m)
	}
	for _, m := range c.members {
		c.start(m, []raft.Server{{ID: "ignored", Address: "ignored"}}) // existing state: no bootstrap
	}
	c.mustReadLeader("v", "GET", "k49")
	c.converged()
}
