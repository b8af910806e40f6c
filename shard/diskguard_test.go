package shard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/raftcache/raftcache/raftfsm"
	"go.uber.org/goleak"
)

// fakeStore is an inner log and stable store that counts writes and fails
// the ones named in failOps.
type fakeStore struct {
	*raft.InmemStore
	mu      sync.Mutex
	failOps map[string]error
	writes  int
}

func newFakeStore() *fakeStore {
	return &fakeStore{InmemStore: raft.NewInmemStore(), failOps: map[string]error{}}
}

func (s *fakeStore) do(op string, fn func() error) error {
	s.mu.Lock()
	s.writes++
	err := s.failOps[op]
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return fn()
}

func (s *fakeStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

func (s *fakeStore) StoreLog(l *raft.Log) error {
	return s.do("StoreLog", func() error { return s.InmemStore.StoreLog(l) })
}
func (s *fakeStore) StoreLogs(ls []*raft.Log) error {
	return s.do("StoreLogs", func() error { return s.InmemStore.StoreLogs(ls) })
}
func (s *fakeStore) DeleteRange(lo, hi uint64) error {
	return s.do("DeleteRange", func() error { return s.InmemStore.DeleteRange(lo, hi) })
}
func (s *fakeStore) Set(k, v []byte) error {
	return s.do("Set", func() error { return s.InmemStore.Set(k, v) })
}
func (s *fakeStore) SetUint64(k []byte, v uint64) error {
	return s.do("SetUint64", func() error { return s.InmemStore.SetUint64(k, v) })
}

// fatalRecorder collects the guard's fatal calls.
type fatalRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (f *fatalRecorder) onFatal(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, err)
}

func (f *fatalRecorder) get() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error(nil), f.errs...)
}

// guardWrites are the guarded writes, each against both wrappers.
var guardWrites = []struct {
	name string
	do   func(logs raft.LogStore, stable raft.StableStore) error
}{
	{"StoreLog", func(l raft.LogStore, _ raft.StableStore) error { return l.StoreLog(&raft.Log{Index: 1, Term: 1}) }},
	{"StoreLogs", func(l raft.LogStore, _ raft.StableStore) error {
		return l.StoreLogs([]*raft.Log{{Index: 2, Term: 1}, {Index: 3, Term: 1}})
	}},
	{"DeleteRange", func(l raft.LogStore, _ raft.StableStore) error { return l.DeleteRange(1, 1) }},
	{"Set", func(_ raft.LogStore, s raft.StableStore) error { return s.Set([]byte("LastVoteCand"), []byte("n2")) }},
	{"SetUint64", func(_ raft.LogStore, s raft.StableStore) error { return s.SetUint64([]byte("LastVoteTerm"), 4) }},
}

// TestDiskGuardFailStop: the first failed write of each kind reports the
// disk failed exactly once, and every later write is refused without
// reaching the store, while reads go on.
func TestDiskGuardFailStop(t *testing.T) {
	for _, failing := range guardWrites {
		t.Run(failing.name, func(t *testing.T) {
			inner := newFakeStore()
			eio := errors.New("input/output error")
			inner.failOps[failing.name] = eio
			var rec fatalRecorder
			g := newDiskGuard("n1", nil, 0, rec.onFatal)
			defer g.close()
			logs, stable := g.logStore(inner), g.stableStore(inner)

			err := failing.do(logs, stable)
			if !errors.Is(err, eio) || !errors.Is(err, ErrDiskFailed) {
				t.Fatalf("failed write returned %v, want the store's error wrapped in ErrDiskFailed", err)
			}
			testwait.Eventually(t, 5*time.Second, func() error {
				if len(rec.get()) == 0 {
					return errors.New("fatal callback not called")
				}
				return nil
			})
			delete(inner.failOps, failing.name) // the disk "works" again: still refused
			before := inner.count()
			for _, w := range guardWrites {
				if err := w.do(logs, stable); !errors.Is(err, ErrDiskFailed) {
					t.Errorf("%s after the failure: %v, want ErrDiskFailed", w.name, err)
				}
			}
			if n := inner.count() - before; n != 0 {
				t.Errorf("%d writes reached the store after the failure", n)
			}
			if _, err := logs.LastIndex(); err != nil {
				t.Errorf("read after the failure: %v", err)
			}
			if errs := rec.get(); len(errs) != 1 || !errors.Is(errs[0], eio) {
				t.Fatalf("fatal calls %v, want one with the store's error", errs)
			}
			if g.err() == nil {
				t.Fatal("err() is nil after a failure")
			}
		})
	}
}

// TestDiskGuardCurrentTermHeld: raft panics when saving the current term
// fails, so a refused current-term write is held until the guard closes
// and then reports success; it never reaches the store.
func TestDiskGuardCurrentTermHeld(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fails string // the write that fails first
	}{
		{"term write fails", "SetUint64"},
		{"after a log write failed", "StoreLogs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inner := newFakeStore()
			inner.failOps[tc.fails] = errors.New("EIO")
			var rec fatalRecorder
			g := newDiskGuard("n1", nil, 0, rec.onFatal)
			logs, stable := g.logStore(inner), g.stableStore(inner)
			if tc.fails == "StoreLogs" {
				if err := logs.StoreLogs([]*raft.Log{{Index: 1, Term: 1}}); err == nil {
					t.Fatal("failing write succeeded")
				}
			}
			done := make(chan error, 1)
			go func() { done <- stable.SetUint64([]byte(keyCurrentTerm), 7) }()
			testwait.Eventually(t, 5*time.Second, func() error {
				if g.err() == nil {
					return errors.New("disk not failed yet")
				}
				return nil
			})
			select {
			case err := <-done:
				t.Fatalf("current-term write returned %v before the guard closed", err)
			default:
			}
			g.close()
			if err := <-done; err != nil {
				t.Fatalf("held current-term write returned %v after close, want nil (raft panics on errors)", err)
			}
			if v, _ := inner.GetUint64([]byte(keyCurrentTerm)); v == 7 {
				t.Fatal("the refused term reached the store")
			}
			testwait.Eventually(t, 5*time.Second, func() error {
				if n := len(rec.get()); n != 1 {
					return fmt.Errorf("%d fatal calls, want 1", n)
				}
				return nil
			})
		})
	}
}

// TestDiskGuardFaults covers injected disk faults: an error fails the
// disk of the named replica only; a stall holds writes until lifted, and
// with the watchdog on declares the disk failed.
func TestDiskGuardFaults(t *testing.T) {
	t.Run("error", func(t *testing.T) {
		f := NewFaults()
		var rec1, rec2 fatalRecorder
		g1, g2 := newDiskGuard("n1", f, 0, rec1.onFatal), newDiskGuard("n2", f, 0, rec2.onFatal)
		defer g1.close()
		defer g2.close()
		f.FailDisk("n1", true)
		if err := g1.logStore(newFakeStore()).StoreLog(&raft.Log{Index: 1}); !errors.Is(err, ErrDiskFaultInjected) || !errors.Is(err, ErrDiskFailed) {
			t.Fatalf("n1 write: %v", err)
		}
		if err := g2.logStore(newFakeStore()).StoreLog(&raft.Log{Index: 1}); err != nil {
			t.Fatalf("n2 write under n1's fault: %v", err)
		}
		f.FailDisk("n1", false)
		if err := g1.stableStore(newFakeStore()).Set([]byte("k"), nil); !errors.Is(err, ErrDiskFailed) {
			t.Fatalf("n1 write after the fault was lifted: %v, want still refused", err)
		}
		testwait.Eventually(t, 5*time.Second, func() error {
			if len(rec1.get()) != 1 {
				return errors.New("no fatal call for n1")
			}
			return nil
		})
		if len(rec2.get()) != 0 {
			t.Fatalf("n2 failed: %v", rec2.get())
		}
	})
	t.Run("stall lifted without watchdog", func(t *testing.T) {
		f := NewFaults()
		var rec fatalRecorder
		g := newDiskGuard("n1", f, 0, rec.onFatal)
		defer g.close()
		inner := newFakeStore()
		f.StallDisk("n1", true)
		done := make(chan error, 1)
		go func() { done <- g.logStore(inner).StoreLogs([]*raft.Log{{Index: 1, Term: 1}}) }()
		testwait.Eventually(t, 5*time.Second, func() error {
			if g.inflightCount() == 0 {
				return errors.New("write not in progress yet")
			}
			return nil
		})
		if inner.count() != 0 {
			t.Fatal("a stalled write reached the store")
		}
		f.Heal()
		if err := <-done; err != nil {
			t.Fatalf("write after the stall was lifted: %v", err)
		}
		if inner.count() != 1 || len(rec.get()) != 0 {
			t.Fatalf("writes %d, fatal %v", inner.count(), rec.get())
		}
	})
	t.Run("stall fires the watchdog", func(t *testing.T) {
		f := NewFaults()
		var rec fatalRecorder
		g := newDiskGuard("n1", f, 100*time.Millisecond, rec.onFatal)
		inner := newFakeStore()
		f.StallDisk("n1", true)
		done := make(chan error, 1)
		go func() { done <- g.logStore(inner).StoreLogs([]*raft.Log{{Index: 1, Term: 1}}) }()
		testwait.Eventually(t, 10*time.Second, func() error {
			if len(rec.get()) == 0 {
				return errors.New("watchdog has not fired")
			}
			return nil
		})
		err := rec.get()[0]
		if !errors.Is(err, ErrDiskFailed) || !strings.Contains(err.Error(), "store logs in progress") {
			t.Fatalf("watchdog error %v", err)
		}
		// A later write is refused at once, even under the stall.
		if err := g.stableStore(inner).Set([]byte("k"), nil); !errors.Is(err, ErrDiskFailed) {
			t.Fatalf("write after the watchdog fired: %v", err)
		}
		g.close() // releases the stalled write
		if err := <-done; err == nil {
			t.Fatal("the stalled write succeeded")
		}
		if inner.count() != 0 || len(rec.get()) != 1 {
			t.Fatalf("writes %d, fatal %v", inner.count(), rec.get())
		}
	})
}

// TestDiskGuardFreezeIsNoStall drives the watchdog's check by hand: time
// the process was frozen (a gap between ticks) does not count against a
// write in progress; a stall after the freeze still fails the disk.
func TestDiskGuardFreezeIsNoStall(t *testing.T) {
	f := NewFaults()
	var rec fatalRecorder
	g := newDiskGuard("n1", f, 0, rec.onFatal) // no watchdog goroutine: ticks by hand
	g.timeout = time.Second                    // tick 200 ms
	defer g.close()
	f.StallDisk("n1", true)
	go func() { _ = g.logStore(newFakeStore()).StoreLogs([]*raft.Log{{Index: 1, Term: 1}}) }()
	testwait.Eventually(t, 5*time.Second, func() error {
		if g.inflightCount() == 0 {
			return errors.New("write not in progress yet")
		}
		return nil
	})
	now := time.Now()
	for _, tc := range []struct {
		at, gap  time.Duration
		wantFail bool
	}{
		{at: 400 * time.Millisecond, gap: 200 * time.Millisecond},  // stalled 0.4 s
		{at: 3 * time.Second, gap: 2600 * time.Millisecond},        // frozen 2.6 s: clocks restart
		{at: 3800 * time.Millisecond, gap: 200 * time.Millisecond}, // 0.8 s since the restart
		{at: 4100 * time.Millisecond, gap: 300 * time.Millisecond, wantFail: true},
	} {
		g.check(now.Add(tc.at), tc.gap)
		if failed := g.err() != nil; failed != tc.wantFail {
			t.Fatalf("at %v (gap %v): failed %v (%v), want %v", tc.at, tc.gap, failed, g.err(), tc.wantFail)
		}
	}
}

// TestDiskGuardErrorAfterClose: a write failing after the replica began
// closing is refused but reports no disk failure (a late heartbeat's term
// write against a closed store must not fail-stop a process shutting down).
func TestDiskGuardErrorAfterClose(t *testing.T) {
	inner := newFakeStore()
	inner.failOps["SetUint64"] = errors.New("database not open")
	inner.failOps["StoreLogs"] = errors.New("database not open")
	var rec fatalRecorder
	g := newDiskGuard("n1", nil, 0, rec.onFatal)
	g.close()
	if err := g.stableStore(inner).SetUint64([]byte(keyCurrentTerm), 3); err != nil {
		t.Fatalf("term write after close: %v, want nil (raft panics on errors)", err)
	}
	if err := g.logStore(inner).StoreLogs([]*raft.Log{{Index: 1}}); !errors.Is(err, ErrDiskFailed) {
		t.Fatalf("log write after close: %v", err)
	}
	time.Sleep(10 * time.Millisecond) // a fatal call would run in its own goroutine
	if errs := rec.get(); len(errs) != 0 {
		t.Fatalf("fatal calls after close: %v", errs)
	}
}

// TestDiskGuardCloseStopsWatchdog: a clean close ends the watchdog and
// reports nothing.
func TestDiskGuardCloseStopsWatchdog(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var rec fatalRecorder
	g := newDiskGuard("n1", NewFaults(), 20*time.Millisecond, rec.onFatal)
	if err := g.logStore(newFakeStore()).StoreLog(&raft.Log{Index: 1}); err != nil {
		t.Fatal(err)
	}
	g.close()
	g.close() // idempotent
	if len(rec.get()) != 0 {
		t.Fatalf("fatal on a clean close: %v", rec.get())
	}
}

// TestLeaderDiskFaultFailsOver runs a 3-replica in-memory group and breaks
// the leader's disk (a stall the watchdog catches, or I/O errors): the
// leader stops without acknowledging the write it was persisting, the
// others elect a leader and take writes, and the old leader, restarted on
// its stores once the fault is gone, catches up.
func TestLeaderDiskFaultFailsOver(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(f *Faults, id string, on bool)
	}{
		{"stall", (*Faults).StallDisk},
		{"error", (*Faults).FailDisk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			faults := NewFaults()
			fatal := make(chan string, 3)
			c := newCluster(t, 3, func(cfg *Config) {
				cfg.Faults = faults
				cfg.DiskStallTimeout = 300 * time.Millisecond
				id := cfg.ID
				cfg.OnFatal = func(err error) {
					if errors.Is(err, ErrDiskFailed) {
						fatal <- id
					}
				}
			})
			c.mustWriteLeader("OK", "SET", "k", "v1")
			old := c.leader()
			tc.inject(faults, old.id, true)
			res := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				_, err := write(ctx, old.rep, "SET", "k", "lost")
				res <- err
			}()
			select {
			case id := <-fatal:
				if id != old.id {
					t.Fatalf("fatal on %s, want the leader %s", id, old.id)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the leader did not fail-stop")
			}
			// The replica closes itself (raft's State is no witness: a
			// failed dispatch sets Follower over Shutdown).
			testwait.Eventually(t, 10*time.Second, func() error {
				if !old.rep.closed() || old.rep.DiskErr() == nil {
					return fmt.Errorf("old leader: closed %v, disk error %v", old.rep.closed(), old.rep.DiskErr())
				}
				return nil
			})
			if err := <-res; err == nil {
				t.Fatal("the write on the failed disk was acknowledged")
			}
			c.mustWriteLeader("OK", "SET", "k", "v2")
			if l := c.leader(); l == old {
				t.Fatal("the failed replica leads")
			}
			c.mustReadLeader("v2", "GET", "k")

			tc.inject(faults, old.id, false)
			c.stop(old)
			c.start(old, nil)
			c.mustWriteLeader("OK", "SET", "k", "v3")
			c.converged()
			if v, _ := read(context.Background(), old.rep, true, "GET", "k"); v != "v3" {
				t.Fatalf("restarted replica reads %q, want v3", v)
			}
			select {
			case id := <-fatal:
				t.Fatalf("another fatal on %s", id)
			default:
			}
		})
	}
}

// hangStore is a log store whose writes hang, once armed, until released:
// a disk the guard cannot release on close.
type hangStore struct {
	*raft.InmemStore
	armed   atomic.Bool
	release chan struct{}
}

func (s *hangStore) StoreLogs(ls []*raft.Log) error {
	if s.armed.Load() {
		<-s.release
		return errors.New("EIO after the hang")
	}
	return s.InmemStore.StoreLogs(ls)
}

func (s *hangStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// TestLeaderDiskHangFencedOverTCP: when the leader's store itself hangs,
// closing the replica waits for that write, yet the watchdog's fence stops
// the leader's heartbeats at once over the TCP transport, so the followers
// elect a successor while the write still hangs (hashicorp/raft #503).
func TestLeaderDiskHangFencedOverTCP(t *testing.T) {
	ids := []string{"n1", "n2", "n3"}
	var servers []raft.Server
	addrs := map[string]string{}
	for _, id := range ids {
		addrs[id] = freeAddr(t)
		servers = append(servers, raft.Server{ID: raft.ServerID(id), Address: raft.ServerAddress(addrs[id])})
	}
	release := make(chan struct{})
	c := &cluster{t: t}
	stores := map[string]*hangStore{}
	for _, id := range ids {
		hs := &hangStore{InmemStore: raft.NewInmemStore(), release: release}
		stores[id] = hs
		snaps, err := raft.NewFileSnapshotStore(t.TempDir(), 2, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		cfg := fastConfig(id)
		cfg.Bind = addrs[id]
		cfg.Bootstrap = servers
		cfg.LogStore, cfg.StableStore, cfg.SnapshotStore = hs, hs.InmemStore, snaps
		cfg.DiskStallTimeout = 300 * time.Millisecond
		m := &member{id: id, fsm: raftfsm.NewFSM(nil)}
		cfg.FSM = m.fsm
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		m.rep = r
		c.members = append(c.members, m)
	}
	closed := make(chan struct{})
	defer func() {
		close(release) // the hung write returns; the old leader's Close completes
		<-closed
		for _, m := range c.members {
			m.rep.Close()
		}
	}()
	c.mustWriteLeader("OK", "SET", "k", "v1")
	old := c.leader()
	stores[old.id].armed.Store(true)
	go func() {
		defer close(closed)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = write(ctx, old.rep, "SET", "k", "lost")
	}()
	testwait.Eventually(t, 10*time.Second, func() error {
		if old.rep.DiskErr() == nil {
			return errors.New("watchdog has not fired")
		}
		return nil
	})
	c.mustWriteLeader("OK", "SET", "k", "v2")
	if l := c.leader(); l == old {
		t.Fatal("the hung replica leads")
	}
	c.mustReadLeader("v2", "GET", "k")
}
