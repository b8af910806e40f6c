package shard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/raftcache/raftcache/raftfsm"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testLogger discards unless SHARD_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("SHARD_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// fastConfig shrinks timings for in-process clusters.
func fastConfig(id string) Config {
	c := DefaultConfig()
	c.ID = id
	// 100 ms rather than less: test machines are often loaded, and
	// spurious elections would make the tests flaky.
	c.HeartbeatTimeout = 100 * time.Millisecond
	c.ElectionTimeout = 100 * time.Millisecond
	c.LeaderLeaseTimeout = 100 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	c.ExpireInterval = 20 * time.Millisecond
	c.Logger = testLogger()
	return c
}

// member is one replica slot of a test cluster; its stores survive a
// restart.
type member struct {
	id    string
	addr  raft.ServerAddress
	trans *raft.InmemTransport
	mem   *raft.InmemStore
	snaps raft.SnapshotStore
	fsm   *raftfsm.FSM
	rep   *Replica // nil while stopped
}

type cluster struct {
	t       *testing.T
	members []*member
	tweak   func(*Config)
}

// newCluster starts n in-memory replicas bootstrapped as one group.
func newCluster(t *testing.T, n int, tweak func(*Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, tweak: tweak}
	var servers []raft.Server
	for i := 0; i < n; i++ {
		m := c.newMember(fmt.Sprintf("n%d", i+1))
		servers = append(servers, raft.Server{ID: raft.ServerID(m.id), Address: m.addr, Suffrage: raft.Voter})
	}
	for _, m := range c.members {
		c.start(m, servers)
	}
	t.Cleanup(c.close)
	return c
}

func (c *cluster) newMember(id string) *member {
	addr, trans := raft.NewInmemTransport("")
	// A file snapshot store (in a temp dir): raft's in-memory one publishes
	// a snapshot before it is complete, a data race with a concurrent
	// InstallSnapshot that -race reports.
	snaps, err := raft.NewFileSnapshotStore(c.t.TempDir(), 2, io.Discard)
	if err != nil {
		c.t.Fatal(err)
	}
	m := &member{id: id, addr: addr, trans: trans, mem: raft.NewInmemStore(), snaps: snaps}
	for _, o := range c.members {
		m.trans.Connect(o.addr, o.trans)
		o.trans.Connect(m.addr, m.trans)
	}
	c.members = append(c.members, m)
	return m
}

// start (re)starts m with a fresh FSM over its kept stores.
func (c *cluster) start(m *member, bootstrap []raft.Server) {
	c.t.Helper()
	if m.trans == nil { // closed by a previous Close: a new transport, same address
		_, m.trans = raft.NewInmemTransport(m.addr)
		for _, o := range c.members {
			if o != m && o.trans != nil {
				m.trans.Connect(o.addr, o.trans)
				o.trans.Connect(m.addr, m.trans)
			}
		}
	}
	cfg := fastConfig(m.id)
	cfg.Transport = m.trans
	cfg.LogStore, cfg.StableStore, cfg.SnapshotStore = m.mem, m.mem, m.snaps
	cfg.Bootstrap = bootstrap
	m.fsm = raftfsm.NewFSM(nil)
	cfg.FSM = m.fsm
	if c.tweak != nil {
		c.tweak(&cfg)
	}
	r, err := New(cfg)
	if err != nil {
		c.t.Fatalf("start %s: %v", m.id, err)
	}
	m.rep = r
}

// stop closes m's replica (and with it its transport).
func (c *cluster) stop(m *member) {
	c.t.Helper()
	if m.rep == nil {
		return
	}
	for _, o := range c.members {
		if o != m && o.trans != nil {
			o.trans.Disconnect(m.addr) // fail fast instead of timing out
		}
	}
	if err := m.rep.Close(); err != nil {
		c.t.Errorf("close %s: %v", m.id, err)
	}
	m.rep = nil
	m.trans = nil
}

func (c *cluster) close() {
	for _, m := range c.members {
		c.stop(m)
	}
}

// leader waits until exactly one running replica is Ready and returns it.
func (c *cluster) leader() *member {
	c.t.Helper()
	var found *member
	testwait.Eventually(c.t, 5*time.Second, func() error {
		found = nil
		for _, m := range c.members {
			if m.rep != nil && m.rep.Ready() {
				if found != nil {
					return fmt.Errorf("two ready leaders: %s and %s", found.id, m.id)
				}
				found = m
			}
		}
		if found == nil {
			return errors.New("no ready leader")
		}
		return nil
	})
	return found
}

func (c *cluster) followers(l *member) []*member {
	var out []*member
	for _, m := range c.members {
		if m != l && m.rep != nil {
			out = append(out, m)
		}
	}
	return out
}

// partition cuts m off from every other member, both directions.
func (c *cluster) partition(m *member) {
	for _, o := range c.members {
		if o != m && o.trans != nil {
			m.trans.Disconnect(o.addr)
			o.trans.Disconnect(m.addr)
		}
	}
}

func (c *cluster) heal(m *member) {
	for _, o := range c.members {
		if o != m && o.trans != nil {
			m.trans.Connect(o.addr, o.trans)
			o.trans.Connect(m.addr, m.trans)
		}
	}
}

// converged waits until every running replica applied the same index and
// has the same digest.
func (c *cluster) converged() {
	c.t.Helper()
	testwait.Eventually(c.t, 5*time.Second, func() error {
		var idx, dig uint64
		first := true
		for _, m := range c.members {
			if m.rep == nil {
				continue
			}
			i, d := m.fsm.AppliedIndex(), m.fsm.Digest()
			if first {
				idx, dig, first = i, d, false
				continue
			}
			if i != idx || d != dig {
				return fmt.Errorf("%s at index %d digest %x, want index %d digest %x", m.id, i, d, idx, dig)
			}
		}
		return nil
	})
}

func cmd(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}

// write runs one command through r.
func write(ctx context.Context, r *Replica, args ...string) (string, error) {
	replies, err := r.Write(ctx, [][][]byte{cmd(args...)})
	if err != nil {
		return "", err
	}
	return show(replies[0]), nil
}

func mustWrite(t *testing.T, r *Replica, want string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := write(ctx, r, args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if got != want {
		t.Fatalf("%v: got %q, want %q", args, got, want)
	}
}

// read runs a read-only command through r.
func read(ctx context.Context, r *Replica, stale bool, args ...string) (string, error) {
	var out string
	err := r.Read(ctx, stale, func(db *raftfsm.DB, now int64) {
		out = show(raftfsm.Exec(raftfsm.NewCtx(db, now, false, 0), cmd(args...)))
	})
	return out, err
}

func mustRead(t *testing.T, r *Replica, want string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := read(ctx, r, false, args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if got != want {
		t.Fatalf("%v: got %q, want %q", args, got, want)
	}
}

// show renders a reply compactly: "OK", "!ERR ...", "(5)", "foo", "<nil>".
func show(r raftfsm.Reply) string {
	switch r.Kind {
	case raftfsm.KindStatus, raftfsm.KindBulk, raftfsm.KindVerbatim:
		return r.Str
	case raftfsm.KindError:
		return "!" + r.Str
	case raftfsm.KindInt, raftfsm.KindBool:
		return fmt.Sprintf("(%d)", r.Int)
	case raftfsm.KindNil, raftfsm.KindNilArray:
		return "<nil>"
	case raftfsm.KindArray, raftfsm.KindMap, raftfsm.KindSet:
		parts := make([]string, len(r.Elems))
		for i, e := range r.Elems {
			parts[i] = show(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return fmt.Sprintf("?%d", r.Kind)
}

// mustReadLeader runs a linearizable read on whichever replica leads,
// retrying across leadership changes.
func (c *cluster) mustReadLeader(want string, args ...string) {
	c.t.Helper()
	testwait.Eventually(c.t, 5*time.Second, func() error {
		l := c.leader()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		got, err := read(ctx, l.rep, false, args...)
		if err != nil {
			return err
		}
		if got != want {
			c.t.Fatalf("%v on %s: got %q, want %q", args, l.id, got, want)
		}
		return nil
	})
}

// mustWriteLeader runs an idempotent write on whichever replica leads,
// retrying when leadership moves (ErrNotLeader, ErrUncertain).
func (c *cluster) mustWriteLeader(want string, args ...string) {
	c.t.Helper()
	testwait.Eventually(c.t, 5*time.Second, func() error {
		l := c.leader()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		got, err := write(ctx, l.rep, args...)
		if err != nil {
			if errors.Is(err, ErrNotLeader) || errors.Is(err, ErrUncertain) {
				return err
			}
			c.t.Fatalf("%v: %v", args, err)
		}
		if got != want {
			c.t.Fatalf("%v on %s: got %q, want %q", args, l.id, got, want)
		}
		return nil
	})
}

// transferTo makes id the leader.
func (c *cluster) transferTo(id string) {
	c.t.Helper()
	if l := c.leader(); l.id != id {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.rep.LeadershipTransfer(ctx, id); err != nil {
			c.t.Fatalf("transfer %s -> %s: %v", l.id, id, err)
		}
	}
	testwait.Eventually(c.t, 5*time.Second, func() error {
		if l := c.leader(); l.id != id {
			return fmt.Errorf("leader %s, want %s", l.id, id)
		}
		return nil
	})
}
