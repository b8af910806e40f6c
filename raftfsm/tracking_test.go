package raftfsm

import (
	"bytes"
	"io"
	"slices"
	"sort"
	"testing"

	"github.com/hashicorp/raft"
)

// trackingCall is one call of the tracking sink.
type trackingCall struct {
	keys []string
	all  bool
}

func recordTracking(f *FSM) *[]trackingCall {
	var calls []trackingCall
	f.SetTrackingSink(func(keys [][]byte, all bool) {
		c := trackingCall{all: all}
		for _, k := range keys {
			c.keys = append(c.keys, string(k))
		}
		sort.Strings(c.keys)
		c.keys = slices.Compact(c.keys)
		calls = append(calls, c)
	})
	return &calls
}

func entryLog(idx uint64, e *Entry) *raft.Log {
	return &raft.Log{Index: idx, Type: raft.LogCommand, Data: EncodeEntry(nil, e)}
}

func TestTrackingSink(t *testing.T) {
	f := NewFSM(nil)
	calls := recordTracking(f)
	now := int64(1_700_000_000_000)
	last := func(t *testing.T) trackingCall {
		t.Helper()
		if len(*calls) == 0 {
			t.Fatal("sink not called")
		}
		c := (*calls)[len(*calls)-1]
		*calls = (*calls)[:0]
		return c
	}

	// Installed but not enabled: nothing is recorded or delivered.
	f.Apply(cmdLog(1, now, []string{"SET", "a", "1"}))
	if len(*calls) != 0 {
		t.Fatalf("disabled sink called: %v", *calls)
	}
	f.EnableTrackingSink(true)

	idx := uint64(1)
	next := func() uint64 { idx++; return idx }
	cases := []struct {
		name string
		log  *raft.Log
		want []string
		all  bool
	}{
		{"writes", cmdLog(next(), now, []string{"SET", "a", "2"}, []string{"MSET", "b", "1", "c", "2"}), []string{"a", "b", "c"}, false},
		{"script", cmdLog(next(), now, []string{"EVAL", "redis.call('set', '{d}undeclared', 'v') return 1", "1", "{d}declared"}), []string{"{d}declared", "{d}undeclared"}, false},
		{"expire", entryLog(next(), &Entry{Op: OpExpire, Time: now, Cmds: [][][]byte{{[]byte("e1"), []byte("e2")}}}), []string{"e1", "e2"}, false},
		{"evict", entryLog(next(), &Entry{Op: OpEvict, Time: now, Cmds: [][][]byte{{[]byte("a")}}}), []string{"a"}, false},
		{"migdel", entryLog(next(), &Entry{Op: OpMigDel, Time: now, Cmds: [][][]byte{{[]byte("b"), []byte("1")}}}), []string{"b"}, false},
		{"reads are not modifications", cmdLog(next(), now, []string{"XREAD", "BLOCK", "0", "STREAMS", "s", "0"}, []string{"SET", "w", "1"}), []string{"w"}, false},
		{"flushall", cmdLog(next(), now, []string{"FLUSHALL"}), nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.Apply(tc.log)
			c := last(t)
			if c.all != tc.all || !slices.Equal(c.keys, tc.want) {
				t.Fatalf("sink got keys %q all=%v, want %q all=%v", c.keys, c.all, tc.want, tc.all)
			}
		})
	}

	t.Run("restore", func(t *testing.T) {
		src := NewFSM(nil)
		src.Apply(cmdLog(1, now, []string{"SET", "k", "v"}))
		data := snapshotBytes(t, src)
		if err := f.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
			// The snapshot is older than what f applied: use a fresh FSM.
			f = NewFSM(nil)
			calls = recordTracking(f)
			f.EnableTrackingSink(true)
			if err := f.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
				t.Fatal(err)
			}
		}
		if c := last(t); !c.all {
			t.Fatalf("restore: sink got %+v, want all", c)
		}
	})

	t.Run("disabled again", func(t *testing.T) {
		f.EnableTrackingSink(false)
		f.Apply(cmdLog(f.AppliedIndex()+1, now, []string{"SET", "z", "1"}))
		if len(*calls) != 0 {
			t.Fatalf("disabled sink called: %v", *calls)
		}
		f.SetTrackingSink(nil)
		f.EnableTrackingSink(true)
		f.Apply(cmdLog(f.AppliedIndex()+1, now, []string{"SET", "z", "2"}))
	})
}
