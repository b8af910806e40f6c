package node

import (
	"context"
	"math"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	migratev1 "github.com/raftcache/raftcache/proto/raftcache/migrate/v1"
	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// TestImportChunks checks how a Transfer's records are cut into log
// entries: up to the limit each, never between the parts of one value.
func TestImportChunks(t *testing.T) {
	rec := func(key string, size int, merge bool) [][]byte {
		m := "0"
		if merge {
			m = "1"
		}
		return [][]byte{[]byte(key), []byte("0"), make([]byte, size), []byte(m)}
	}
	// shape renders chunks as keys per chunk, e.g. "a b|c".
	shape := func(chunks [][][][]byte) string {
		var out []string
		for _, c := range chunks {
			var keys []string
			for _, r := range c {
				k := string(r[0])
				if string(r[3]) == "1" {
					k += "+"
				}
				keys = append(keys, k)
			}
			out = append(out, strings.Join(keys, " "))
		}
		return strings.Join(out, "|")
	}
	// A record of n bytes encodes to n+8 here; limit leaves 100 bytes of
	// records in an entry.
	limit := raftfsm.EntryHeaderMax + 100
	tests := []struct {
		name string
		cmds [][][]byte
		want string
	}{
		{"one small record", [][][]byte{rec("a", 10, false)}, "a"},
		{"fits in one", [][][]byte{rec("a", 30, false), rec("b", 30, false)}, "a b"},
		{"exactly the limit", [][][]byte{rec("a", 42, false), rec("b", 42, false), rec("c", 10, false)}, "a b|c"},
		{"cut before the limit is passed", [][][]byte{rec("a", 40, false), rec("b", 40, false), rec("c", 40, false), rec("d", 40, false)}, "a b|c d"},
		{"record larger than the limit", [][][]byte{rec("a", 500, false), rec("b", 1, false)}, "a|b"},
		{"parts stay together", [][][]byte{rec("a", 60, false), rec("a", 60, true), rec("a", 60, true), rec("b", 60, false)}, "a a+ a+|b"},
		{"leading parts of a value begun in an earlier message", [][][]byte{rec("a", 60, true), rec("a", 60, true), rec("b", 60, false), rec("c", 1, false)}, "a+ a+|b c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := importChunks(tt.cmds, limit)
			if s := shape(got); s != tt.want {
				t.Errorf("got %s, want %s", s, tt.want)
			}
			n := 0
			for _, c := range got {
				n += len(c)
				// The bound holds for the entry as a replica proposes it
				// (header fields at their largest), unless the parts of
				// one value or a single record are over it.
				e := raftfsm.Entry{Op: raftfsm.OpImport, ReqID: math.MaxUint64, Time: math.MinInt64, Seed: math.MaxUint64, Cmds: c}
				if size := len(raftfsm.EncodeEntry(nil, &e)); len(c) > 1 && !strings.Contains(shape([][][][]byte{c}), "+") && size > limit {
					t.Errorf("chunk of %d records encodes to %d bytes, over %d", len(c), size, limit)
				}
			}
			if n != len(tt.cmds) {
				t.Errorf("%d records in chunks, %d given", n, len(tt.cmds))
			}
		})
	}
}

// unavailableTarget is a target shard leader whose Transfer always answers
// Unavailable (a leader that lost leadership with the outcome unknown).
type unavailableTarget struct {
	migratev1.UnimplementedMigrateServer
	transfers atomic.Int32
}

func (u *unavailableTarget) Transfer(context.Context, *migratev1.TransferRequest) (*migratev1.TransferResponse, error) {
	u.transfers.Add(1)
	return nil, status.Error(codes.Unavailable, "leadership lost: outcome unknown")
}

// TestTransferRetry checks which Transfer messages the source sends again
// after an unknown outcome: one that starts a value (idempotent) is
// retried; one that continues a large value begun in an earlier message
// is not (a list's part merged twice would repeat its elements), and its
// error goes back to the pass.
func TestTransferRetry(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fake := &unavailableTarget{}
	srv := grpc.NewServer()
	migratev1.RegisterMigrateServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()

	n := testNode()
	defer n.cancel()
	n.grpc = &grpcServer{n: n, lis: lis, srv: srv, conns: map[string]*grpc.ClientConn{}}
	defer func() {
		for _, c := range n.grpc.conns {
			_ = c.Close()
		}
	}()
	n.view.Store(&clusterView{leaders: map[int]Member{1: {NodeID: "n9", GRPC: lis.Addr().String(), Alive: true}}})
	imp := &remoteImporter{n: n, target: 1}
	ss := []slots.Slot{7}

	cont := []*migratev1.KeyRecord{{Key: []byte("big"), Payload: []byte("part"), Merge: true}, {Key: []byte("k"), Payload: []byte("v")}}
	if err := imp.Transfer(context.Background(), ss, 0, cont); status.Code(err) != codes.Unavailable {
		t.Fatalf("continuing message: %v, want Unavailable", err)
	}
	if got := fake.transfers.Load(); got != 1 {
		t.Fatalf("continuing message sent %d times, want once", got)
	}

	fake.transfers.Store(0)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	whole := []*migratev1.KeyRecord{{Key: []byte("big"), Payload: []byte("part0")}, {Key: []byte("big"), Payload: []byte("part1"), Merge: true}}
	if err := imp.Transfer(ctx, ss, 0, whole); status.Code(err) != codes.Unavailable {
		t.Fatalf("opening message: %v, want Unavailable once the deadline passes", err)
	}
	if got := fake.transfers.Load(); got < 2 {
		t.Fatalf("opening message sent %d times, want retries", got)
	}
}
