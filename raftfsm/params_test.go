package raftfsm

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/raft"
)

func TestParamsEncoding(t *testing.T) {
	set := [][][]byte{{[]byte("XADD"), []byte("s"), []byte("*"), []byte("f"), []byte("v")}}
	tests := []struct {
		name        string
		params      *Params
		wantVersion byte
		want        *Params // decoded
	}{
		{"none", nil, entryVersion, nil},
		{"defaults", &Params{100, 4096, 3000}, entryVersion, nil},
		{"one", &Params{10, 4096, 3000}, entryVersionParams, &Params{10, 4096, 3000}},
		{"all, zeros", &Params{0, 0, 0}, entryVersionParams, &Params{0, 0, 0}},
		{"large", &Params{1 << 62, 1 << 40, 123456}, entryVersionParams, &Params{1 << 62, 1 << 40, 123456}},
		{"negative written as 0", &Params{-3, 4096, 3000}, entryVersionParams, &Params{0, 4096, 3000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := EncodeEntry(nil, &Entry{Op: OpCommands, ReqID: 3, Time: 5, Seed: 7, Cmds: set, Params: tt.params})
			if b[0] != tt.wantVersion {
				t.Fatalf("version %d, want %d", b[0], tt.wantVersion)
			}
			e, err := DecodeEntry(b)
			if err != nil {
				t.Fatal(err)
			}
			if (e.Params == nil) != (tt.want == nil) || e.Params != nil && *e.Params != *tt.want {
				t.Fatalf("params %+v, want %+v", e.Params, tt.want)
			}
			if len(e.Cmds) != 1 || string(e.Cmds[0][0]) != "XADD" || e.ReqID != 3 || e.Seed != 7 {
				t.Fatalf("entry %+v", e)
			}
			for i := range b {
				if _, err := DecodeEntry(b[:i]); !errors.Is(err, ErrBadEntry) {
					t.Fatalf("truncated at %d of %d: err = %v", i, len(b), err)
				}
			}
		})
	}
}

// TestParamsRejected: a params section a replica cannot apply exactly is a
// malformed entry (the FSM stops on it instead of guessing).
func TestParamsRejected(t *testing.T) {
	head := EncodeEntry(nil, &Entry{Op: OpCommands, Cmds: [][][]byte{{[]byte("PING")}}})
	head[0] = entryVersionParams
	tests := []struct {
		name string
		tail []byte
	}{
		{"no section", nil},
		{"unknown id", []byte{1, 9, 5}},
		{"same id twice", []byte{2, 1, 5, 1, 6}},
		{"value over int64", []byte{1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"count beyond the bytes", []byte{5, 1, 5}},
		{"trailing byte", []byte{1, 1, 5, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := append(append([]byte(nil), head...), tt.tail...)
			if _, err := DecodeEntry(b); !errors.Is(err, ErrBadEntry) {
				t.Fatalf("err = %v, want ErrBadEntry", err)
			}
		})
	}
}

func TestStreamTrimLimit(t *testing.T) {
	for _, tt := range []struct{ entries, want int64 }{
		{0, 10_000}, {1, 100}, {100, 10_000}, {9_999, 999_900}, {10_000, 1_000_000}, {1 << 62, 1_000_000},
	} {
		if got := (&Params{StreamNodeMaxEntries: tt.entries}).streamTrimLimit(); got != tt.want {
			t.Errorf("stream-node-max-entries %d: limit %d, want %d", tt.entries, got, tt.want)
		}
	}
}

// applyWith applies one client command per entry, each stamped with p,
// through the FSM as a replica would.
func applyWith(t *testing.T, f *FSM, idx *uint64, p *Params, cmds ...[]string) []Reply {
	t.Helper()
	var out []Reply
	for _, c := range cmds {
		args := make([][]byte, len(c))
		for i, a := range c {
			args[i] = []byte(a)
		}
		*idx++
		e := &Entry{Op: OpCommands, ReqID: *idx, Time: 1_700_000_000_000 + int64(*idx), Seed: *idx, Cmds: [][][]byte{args}, Params: p}
		res, ok := f.Apply(&raft.Log{Index: *idx, Term: 1, Type: raft.LogCommand, Data: EncodeEntry(nil, e)}).(*ApplyResult)
		if !ok || len(res.Replies) != 1 {
			t.Fatalf("apply %v: %#v", c, res)
		}
		out = append(out, res.Replies[0])
	}
	return out
}

// TestParamsStreamNodes: the stamped stream-node-max-entries decides where
// nodes are cut and so what `~` trimming removes (Redis's unit/type/stream
// "XADD with LIMIT consecutive calls": 71, then 62).
func TestParamsStreamNodes(t *testing.T) {
	f := NewFSM(nil)
	var idx uint64
	p := &Params{StreamNodeMaxEntries: 10, StreamNodeMaxBytes: 4096, HLLSparseMaxBytes: 3000}
	for i := range 100 {
		applyWith(t, f, &idx, p, []string{"XADD", "s", fmt.Sprintf("%d-0", i+1), "xitem", "v"})
	}
	r := applyWith(t, f, &idx, p,
		[]string{"XADD", "s", "MAXLEN", "~", "55", "LIMIT", "30", "*", "xitem", "v"},
		[]string{"XLEN", "s"},
		[]string{"XADD", "s", "MAXLEN", "~", "55", "LIMIT", "30", "*", "xitem", "v"},
		[]string{"XLEN", "s"})
	if got := show(r[1]) + " " + show(r[3]); got != "(71) (62)" {
		t.Fatalf("XLEN after the trims: %s, want (71) (62)", got)
	}
	// The same writes without params cut nodes of 100: nothing to trim
	// within the limit of 30 entries.
	g := NewFSM(nil)
	idx = 0
	for i := range 100 {
		applyWith(t, g, &idx, nil, []string{"XADD", "s", fmt.Sprintf("%d-0", i+1), "xitem", "v"})
	}
	r = applyWith(t, g, &idx, nil, []string{"XADD", "s", "MAXLEN", "~", "55", "LIMIT", "30", "*", "xitem", "v"}, []string{"XLEN", "s"})
	if got := show(r[1]); got != "(101)" {
		t.Fatalf("XLEN with default node sizes: %s, want (101)", got)
	}
}

// TestParamsHLLSparse: the stamped hll-sparse-max-bytes decides when PFADD
// turns a HyperLogLog dense.
func TestParamsHLLSparse(t *testing.T) {
	encoding := func(p *Params) string {
		f := NewFSM(nil)
		var idx uint64
		elems := []string{"PFADD", "h"}
		for i := range 40 {
			elems = append(elems, fmt.Sprint("e", i))
		}
		applyWith(t, f, &idx, p, elems)
		return show(applyWith(t, f, &idx, p, []string{"PFDEBUG", "ENCODING", "h"})[0])
	}
	if got := encoding(nil); got != "sparse" {
		t.Fatalf("40 elements with the default 3000 bytes: %s, want sparse", got)
	}
	if got := encoding(&Params{StreamNodeMaxEntries: 100, StreamNodeMaxBytes: 4096, HLLSparseMaxBytes: 30}); got != "dense" {
		t.Fatalf("40 elements with hll-sparse-max-bytes 30: %s, want dense", got)
	}
}
