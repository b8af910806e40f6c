package shard

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/raftfsm"
)

func TestWaiters(t *testing.T) {
	var w waiters
	w.init()
	ch := w.add(7)
	w.deliver(&raftfsm.ApplyResult{ReqID: 8}) // someone else's entry
	select {
	case <-ch:
		t.Fatal("delivered to the wrong waiter")
	default:
	}
	res := &raftfsm.ApplyResult{ReqID: 7, Replies: []raftfsm.Reply{raftfsm.ReplyOK}}
	w.deliver(res)
	w.deliver(res) // a replayed entry must not block or double-deliver
	if got := <-ch; got != res {
		t.Fatalf("got %v", got)
	}
	if w.len() != 0 {
		t.Fatalf("%d waiters left after delivery", w.len())
	}
	w.add(9)
	w.remove(9)
	w.deliver(&raftfsm.ApplyResult{ReqID: 9})
	if w.len() != 0 {
		t.Fatal("remove left a waiter")
	}
}

// resolve turns an unknown outcome into the real replies when the entry
// shows up later, and into ErrUncertain (never a clean failure) otherwise.
func TestResolveUncertain(t *testing.T) {
	r := &Replica{cfg: Config{ElectionTimeout: 50 * time.Millisecond}, closing: make(chan struct{})}
	r.waiters.init()
	cause := raft.ErrLeadershipLost

	t.Run("applied later", func(t *testing.T) {
		ch := r.waiters.add(1)
		go func() {
			time.Sleep(20 * time.Millisecond)
			r.waiters.deliver(&raftfsm.ApplyResult{ReqID: 1, Replies: []raftfsm.Reply{raftfsm.Int(3)}})
		}()
		replies, err := r.resolve(context.Background(), ch, cause, outcomeAt{})
		if err != nil || len(replies) != 1 || replies[0].Int != 3 {
			t.Fatalf("got %v %v", replies, err)
		}
	})
	t.Run("never applied", func(t *testing.T) {
		ch := r.waiters.add(2)
		defer r.waiters.remove(2)
		start := time.Now()
		_, err := r.resolve(context.Background(), ch, cause, outcomeAt{})
		if !errors.Is(err, ErrUncertain) {
			t.Fatalf("got %v, want ErrUncertain", err)
		}
		if d := time.Since(start); d < r.uncertainWait() {
			t.Fatalf("gave up after %v, before %v", d, r.uncertainWait())
		}
	})
	t.Run("caller gives up", func(t *testing.T) {
		ch := r.waiters.add(3)
		defer r.waiters.remove(3)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := r.resolve(ctx, ch, ctx.Err(), outcomeAt{}); !errors.Is(err, ErrUncertain) {
			t.Fatalf("got %v, want ErrUncertain", err)
		}
	})
	t.Run("applied before giving up", func(t *testing.T) {
		ch := r.waiters.add(4)
		r.waiters.deliver(&raftfsm.ApplyResult{ReqID: 4, Replies: []raftfsm.Reply{raftfsm.ReplyOK}})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if replies, err := r.resolve(ctx, ch, ctx.Err(), outcomeAt{}); err != nil || len(replies) != 1 {
			t.Fatalf("got %v %v", replies, err)
		}
	})
}

// resolve decides an entry's outcome from its index: replies when the
// entry applied there, ErrNotLeader (the client may retry) when another
// entry did, and ErrUncertain when a snapshot installed since hides which.
func TestResolveByIndex(t *testing.T) {
	tests := []struct {
		name    string
		install bool   // a snapshot is installed after the proposal
		reqID   uint64 // the request id of the entry applied at index 5
		want    error  // nil: the entry's replies
	}{
		{"another entry took the index", false, 99, ErrNotLeader},
		{"the entry applied at its index", false, 1, nil},
		{"a snapshot installed since", true, 99, ErrUncertain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Replica{cfg: Config{ElectionTimeout: 200 * time.Millisecond}, closing: make(chan struct{}), fsm: raftfsm.NewFSM(nil)}
			r.waiters.init()
			r.fsm.SetOnApply(r.waiters.deliver)
			ch := r.waiters.add(1)
			defer r.waiters.remove(1)
			at := outcomeAt{index: 5, installs: r.fsm.Installs()}
			if tt.install {
				r.fsm.Reset()
			}
			apply := func(idx, reqID uint64) {
				data := raftfsm.EncodeEntry(nil, &raftfsm.Entry{Op: raftfsm.OpNoop, ReqID: reqID, Time: 1})
				r.fsm.ApplyBatch([]*raft.Log{{Index: idx, Term: 2, Type: raft.LogCommand, Data: data}})
			}
			apply(4, 98) // below the index: decides nothing
			go func() {
				time.Sleep(10 * time.Millisecond)
				apply(5, tt.reqID)
			}()
			_, err := r.resolve(context.Background(), ch, raft.ErrLeadershipLost, at)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReqIDsAndStamps(t *testing.T) {
	r := &Replica{reqBase: ^uint64(0) - 2, fsm: raftfsm.NewFSM(nil)}
	seen := map[uint64]bool{}
	for i := 0; i < 10; i++ {
		id := r.nextReqID()
		if id == 0 || seen[id] {
			t.Fatalf("bad id %d", id)
		}
		seen[id] = true
	}
	r.lastStamp.Store(time.Now().UnixMilli() + 60_000) // a previous leader's clock ran ahead
	prev := r.stamp()
	for i := 0; i < 100; i++ {
		s := r.stamp()
		if s < prev {
			t.Fatalf("stamp went backwards: %d < %d", s, prev)
		}
		prev = s
	}
}

// bindShutdown must find raft's ShutdownCh on real futures, or waiting on
// them could leak goroutines after Close.
func TestBindShutdown(t *testing.T) {
	c := newCluster(t, 1, nil)
	l := c.leader()
	ch := make(chan struct{})
	e := raftfsm.Entry{Op: raftfsm.OpNoop}
	for name, f := range map[string]raft.Future{
		"apply":  l.rep.Raft().Apply(raftfsm.EncodeEntry(nil, &e), 0),
		"verify": l.rep.Raft().VerifyLeader(),
	} {
		if !bindShutdown(f, ch) {
			t.Errorf("%s: ShutdownCh not found on %T", name, f)
		}
		if err := f.Error(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// An apply future that raft never answers returns once ch closes.
	f := l.rep.Raft().Apply(raftfsm.EncodeEntry(nil, &e), 0)
	stuck := make(chan struct{})
	bindShutdown(f, stuck)
	close(stuck)
	_ = f.Error() // answered either by raft or by the closed channel, never hangs
}
