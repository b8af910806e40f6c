package shard

import (
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/goleak"
)

// fakeView is a raft's state and term as the heartbeat check sees them.
type fakeView struct {
	state raft.RaftState
	term  uint64
}

func (f fakeView) State() raft.RaftState { return f.state }
func (f fakeView) CurrentTerm() uint64   { return f.term }

// TestHeartbeatFastPath sends real heartbeats over TCP: raw
// NetworkTransport runs every one on the fast path (raft's appendEntries on
// the connection goroutine, which is how a newer term reached a deposed
// leader's dispatchLogs); through clampCommits only a heartbeat of the term
// a follower is in does, and any other is refused with an error, reaching
// neither the fast path nor raft's RPC channel.
func TestHeartbeatFastPath(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tests := []struct {
		name string
		raw  bool
		view *fakeView // nil: not bound yet
		term uint64    // the heartbeat's
		fast bool
	}{
		{name: "raw transport, newer term", raw: true, view: &fakeView{raft.Leader, 5}, term: 6, fast: true},
		{name: "follower, same term", view: &fakeView{raft.Follower, 5}, term: 5, fast: true},
		{name: "follower, newer term", view: &fakeView{raft.Follower, 5}, term: 6},
		{name: "follower, older term", view: &fakeView{raft.Follower, 6}, term: 5},
		{name: "leader, newer term", view: &fakeView{raft.Leader, 5}, term: 6},
		{name: "candidate, same term", view: &fakeView{raft.Candidate, 5}, term: 5},
		{name: "not bound yet", term: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv, err := raft.NewTCPTransport("127.0.0.1:0", nil, 2, time.Second, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			send, err := raft.NewTCPTransport("127.0.0.1:0", nil, 2, time.Second, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				// Close drops no pooled connection: without CloseStreams the
				// receiver's connection goroutine waits for the next RPC.
				send.CloseStreams()
				send.Close()
			}()
			var tr raft.Transport = recv
			if !tt.raw {
				tr = clampCommits(recv)
				if tt.view != nil {
					bindRaft(tr, *tt.view)
				}
			}
			defer tr.(raft.WithClose).Close()
			var fast atomic.Int32
			tr.SetHeartbeatHandler(func(rpc raft.RPC) {
				fast.Add(1)
				rpc.Respond(&raft.AppendEntriesResponse{Term: tt.term, Success: true}, nil)
			})
			viaLoop := make(chan struct{}, 1)
			stop, stopped := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(stopped)
				select {
				case rpc := <-tr.Consumer():
					viaLoop <- struct{}{}
					rpc.Respond(&raft.AppendEntriesResponse{Term: tt.term}, nil)
				case <-stop:
				}
			}()
			defer func() { close(stop); <-stopped }()
			hb := &raft.AppendEntriesRequest{RPCHeader: raft.RPCHeader{ID: []byte("b"), Addr: []byte(send.LocalAddr())}, Term: tt.term}
			err = send.AppendEntries("a", recv.LocalAddr(), hb, &raft.AppendEntriesResponse{})
			if len(viaLoop) != 0 {
				t.Fatal("a heartbeat reached raft's RPC channel")
			}
			if tt.fast {
				if err != nil || fast.Load() != 1 {
					t.Fatalf("want the fast path: err %v, handler ran %d times", err, fast.Load())
				}
				return
			}
			// The error crosses the wire as text.
			if err == nil || !strings.Contains(err.Error(), errHeartbeatMainLoop.Error()) || fast.Load() != 0 {
				t.Fatalf("want a refusal: err %v, handler ran %d times", err, fast.Load())
			}
		})
	}
}
