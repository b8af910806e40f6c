package shard

import (
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/goleak"
)

// TestHeartbeatsReachMainLoop: through the transport raft is given, a
// heartbeat is delivered on the RPC channel raft's main goroutine reads,
// never to a fast-path handler on the connection's goroutine (heartbeat.go:
// that path changes the term concurrently with the leader loop).
func TestHeartbeatsReachMainLoop(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, wrapped := range []bool{true, false} {
		name := map[bool]string{true: "wrapped", false: "raw"}[wrapped]
		t.Run(name, func(t *testing.T) {
			recv, err := raft.NewTCPTransport("127.0.0.1:0", nil, 2, time.Second, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			send, err := raft.NewTCPTransport("127.0.0.1:0", nil, 2, time.Second, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer send.Close()
			var tr raft.Transport = recv
			if wrapped {
				tr = clampCommits(recv)
			}
			defer tr.(raft.WithClose).Close()
			var fast atomic.Int32
			tr.SetHeartbeatHandler(func(rpc raft.RPC) {
				fast.Add(1)
				rpc.Respond(&raft.AppendEntriesResponse{Term: 2, Success: true}, nil)
			})
			viaLoop, stop, stopped := make(chan struct{}), make(chan struct{}), make(chan struct{})
			go func() {
				defer close(stopped)
				select {
				case rpc := <-tr.Consumer():
					close(viaLoop)
					rpc.Respond(&raft.AppendEntriesResponse{Term: 2, Success: true}, nil)
				case <-stop:
				}
			}()
			defer func() { close(stop); <-stopped }()
			hb := &raft.AppendEntriesRequest{RPCHeader: raft.RPCHeader{ID: []byte("b"), Addr: []byte(send.LocalAddr())}, Term: 2}
			if err := send.AppendEntries("a", recv.LocalAddr(), hb, &raft.AppendEntriesResponse{}); err != nil {
				t.Fatal(err)
			}
			if wrapped {
				select {
				case <-viaLoop:
				default:
					t.Fatal("heartbeat did not reach the RPC channel")
				}
				if n := fast.Load(); n != 0 {
					t.Fatalf("fast-path handler ran %d times", n)
				}
				return
			}
			// The raw transport takes the fast path (what the wrapper must
			// prevent): if this ever changes, the test still shows why.
			if n := fast.Load(); n != 1 {
				t.Fatalf("raw transport: fast-path handler ran %d times, want 1", n)
			}
		})
	}
}
