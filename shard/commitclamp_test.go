package shard

import (
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"go.uber.org/goleak"
)

// recFSM records the data of every command it applies, in order.
type recFSM struct {
	mu      sync.Mutex
	applied []string
	last    uint64
}

func (f *recFSM) Apply(l *raft.Log) interface{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = append(f.applied, string(l.Data))
	f.last = l.Index
	return nil
}

func (f *recFSM) Snapshot() (raft.FSMSnapshot, error) { return nil, io.ErrUnexpectedEOF }
func (f *recFSM) Restore(io.ReadCloser) error         { return io.ErrUnexpectedEOF }

func (f *recFSM) state() ([]string, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.applied), f.last
}

// TestCommitClampStaleSuffix plays a new leader talking to a deposed one.
// The follower's log is [1 config][2 "common", term 1][3 "stale", term 1]:
// entry 3 it appended as leader of term 1 and never replicated. The leader
// of term 2 has "common" at 2 and its own "new" at 3, committed. Its first
// request matches at 2 and carries nothing, with commit index 3 (an empty
// commit update, or a batch chosen before the commit moved); its second
// carries "new" at 3.
//
// hashicorp/raft alone commits and applies "stale" on the first request,
// then replaces it in the log with "new" and never applies that: the
// replica diverges at the same applied index. With the leader's transport
// wrapped by clampCommits it applies "common", then "new". If the raw case ever stops diverging, hashicorp/raft
// follows the paper's rule and the clamp may go.
func TestCommitClampStaleSuffix(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, tc := range []struct {
		name  string
		clamp bool
		want  []string
	}{
		{"raw hashicorp/raft", false, []string{"common", "stale"}},
		{"clamped", true, []string{"common", "new"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsm := &recFSM{}
			store := raft.NewInmemStore()
			addrA, transA := raft.NewInmemTransport("A")
			addrB, transB := raft.NewInmemTransport("B")
			defer transB.Close()
			conf := raft.DefaultConfig()
			conf.LocalID = "A"
			// Long timeouts: A must stay a follower while the test speaks.
			conf.HeartbeatTimeout = 10 * time.Second
			conf.ElectionTimeout = 10 * time.Second
			conf.LeaderLeaseTimeout = time.Second
			conf.Logger = newHclog(nil, "raft")
			servers := raft.Configuration{Servers: []raft.Server{
				{ID: "A", Address: addrA}, {ID: "B", Address: addrB}, {ID: "C", Address: "C"},
			}}
			if err := raft.BootstrapCluster(conf, store, store, raft.NewInmemSnapshotStore(), transA, servers); err != nil {
				t.Fatal(err)
			}
			if err := store.StoreLogs([]*raft.Log{
				{Index: 2, Term: 1, Type: raft.LogCommand, Data: []byte("common")},
				{Index: 3, Term: 1, Type: raft.LogCommand, Data: []byte("stale")},
			}); err != nil {
				t.Fatal(err)
			}
			// The clamp acts where the leader sends.
			var lead raft.Transport = transB
			if tc.clamp {
				lead = clampCommits(transB)
			}
			r, err := raft.NewRaft(conf, fsm, store, store, raft.NewInmemSnapshotStore(), transA)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := r.Shutdown().Error(); err != nil {
					t.Error(err)
				}
			}()
			transB.Connect(addrA, transA)

			send := func(req raft.AppendEntriesRequest) {
				t.Helper()
				req.RPCHeader = raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("B"), Addr: []byte(addrB)}
				req.Term = 2
				var resp raft.AppendEntriesResponse
				if err := lead.AppendEntries("A", addrA, &req, &resp); err != nil {
					t.Fatal(err)
				}
				if !resp.Success {
					t.Fatalf("append refused: %+v", resp)
				}
			}
			waitApplied := func(idx uint64) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for {
					if _, last := fsm.state(); last >= idx {
						return
					}
					if time.Now().After(deadline) {
						got, last := fsm.state()
						t.Fatalf("applied %q up to %d, want index %d", got, last, idx)
					}
					time.Sleep(2 * time.Millisecond)
				}
			}

			send(raft.AppendEntriesRequest{PrevLogEntry: 2, PrevLogTerm: 1, LeaderCommitIndex: 3})
			if tc.clamp {
				waitApplied(2)
			} else {
				waitApplied(3)
			}
			send(raft.AppendEntriesRequest{PrevLogEntry: 2, PrevLogTerm: 1, LeaderCommitIndex: 3,
				Entries: []*raft.Log{{Index: 3, Term: 2, Type: raft.LogCommand, Data: []byte("new")}}})
			waitApplied(3)
			// The second request was handled before its response came: the
			// log holds "new" now, and raft has applied whatever it will.
			var l raft.Log
			if err := store.GetLog(3, &l); err != nil || string(l.Data) != "new" {
				t.Fatalf("log entry 3 = %q (%v), want the new leader's", l.Data, err)
			}
			if got, _ := fsm.state(); !slices.Equal(got, tc.want) {
				t.Fatalf("applied %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClampCommit(t *testing.T) {
	for _, tc := range []struct {
		name         string
		prev, commit uint64
		entries      []uint64
		wantCommit   uint64
	}{
		{"empty request within prev", 10, 8, nil, 8},
		{"empty request past prev", 10, 15, nil, 10},
		{"entries cover the commit", 10, 12, []uint64{11, 12, 13}, 12},
		{"commit past the entries", 10, 40, []uint64{11, 12, 13}, 13},
		{"heartbeat", 0, 0, nil, 0},
		{"first entries", 0, 5, []uint64{1, 2}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &raft.AppendEntriesRequest{PrevLogEntry: tc.prev, LeaderCommitIndex: tc.commit}
			for _, i := range tc.entries {
				a.Entries = append(a.Entries, &raft.Log{Index: i})
			}
			clampCommit(a)
			if a.LeaderCommitIndex != tc.wantCommit {
				t.Fatalf("commit %d, want %d", a.LeaderCommitIndex, tc.wantCommit)
			}
		})
	}
}

// sentTransport records the AppendEntries requests sent through it, by
// the plain call and through a pipeline. Only those methods are used.
type sentTransport struct {
	raft.Transport
	sent []uint64 // LeaderCommitIndex of each request, as sent
}

func (s *sentTransport) AppendEntries(_ raft.ServerID, _ raft.ServerAddress, a *raft.AppendEntriesRequest, _ *raft.AppendEntriesResponse) error {
	s.sent = append(s.sent, a.LeaderCommitIndex)
	return nil
}

func (s *sentTransport) AppendEntriesPipeline(raft.ServerID, raft.ServerAddress) (raft.AppendPipeline, error) {
	return sentPipeline{s}, nil
}

type sentPipeline struct{ s *sentTransport }

func (p sentPipeline) AppendEntries(a *raft.AppendEntriesRequest, _ *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	p.s.sent = append(p.s.sent, a.LeaderCommitIndex)
	return nil, nil
}
func (sentPipeline) Consumer() <-chan raft.AppendFuture { return nil }
func (sentPipeline) Close() error                       { return nil }

// TestClampCommitsBothPaths: raft sends through AppendEntries and, once a
// follower is caught up, through a pipeline; both are clamped.
func TestClampCommitsBothPaths(t *testing.T) {
	inner := &sentTransport{}
	tr := clampCommits(inner)
	req := func() *raft.AppendEntriesRequest {
		return &raft.AppendEntriesRequest{PrevLogEntry: 7, LeaderCommitIndex: 20,
			Entries: []*raft.Log{{Index: 8}, {Index: 9}}}
	}
	if err := tr.AppendEntries("x", "x", req(), &raft.AppendEntriesResponse{}); err != nil {
		t.Fatal(err)
	}
	p, err := tr.AppendEntriesPipeline("x", "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AppendEntries(req(), &raft.AppendEntriesResponse{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(inner.sent, []uint64{9, 9}) {
		t.Fatalf("sent commit indexes %v, want [9 9]", inner.sent)
	}
	if _, ok := tr.(raft.WithPreVote); ok {
		t.Fatal("pre-vote claimed for a transport without it")
	}
	_, inmem := raft.NewInmemTransport("")
	if _, ok := clampCommits(inmem).(raft.WithPreVote); !ok {
		t.Fatal("pre-vote lost by wrapping")
	}
}
