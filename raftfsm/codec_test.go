package raftfsm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestEntryRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		e    Entry
	}{
		{"empty", Entry{Op: OpNoop}},
		{"commands", Entry{Op: OpCommands, ReqID: 1 << 62, Time: 1_700_000_000_123, Seed: 99,
			Cmds: [][][]byte{{[]byte("SET"), []byte("k"), []byte("v")}, {[]byte("INCR"), []byte("n")}}}},
		{"negative time", Entry{Op: OpExpire, Time: -5, Cmds: [][][]byte{{[]byte("a"), []byte(""), []byte("c")}}}},
		{"binary args", Entry{Op: OpCommands, Cmds: [][][]byte{{[]byte("SET"), {0, 1, 2, 255}, bytes.Repeat([]byte("x"), 70000)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := EncodeEntry(nil, &tt.e)
			got, err := DecodeEntry(b)
			if err != nil {
				t.Fatal(err)
			}
			if got.Op != tt.e.Op || got.ReqID != tt.e.ReqID || got.Time != tt.e.Time || got.Seed != tt.e.Seed || len(got.Cmds) != len(tt.e.Cmds) {
				t.Fatalf("header mismatch: %+v vs %+v", got, tt.e)
			}
			for i := range got.Cmds {
				if len(got.Cmds[i]) != len(tt.e.Cmds[i]) {
					t.Fatalf("cmd %d arg count", i)
				}
				for j := range got.Cmds[i] {
					if !bytes.Equal(got.Cmds[i][j], tt.e.Cmds[i][j]) {
						t.Fatalf("cmd %d arg %d differs", i, j)
					}
				}
			}
		})
	}
}

func TestDecodeEntryRejectsGarbage(t *testing.T) {
	good := EncodeEntry(nil, &Entry{Op: OpCommands, Cmds: [][][]byte{{[]byte("SET"), []byte("k"), []byte("v")}}})
	for i := 0; i < len(good); i++ {
		if _, err := DecodeEntry(good[:i]); !errors.Is(err, ErrBadEntry) {
			t.Fatalf("truncated at %d: err = %v", i, err)
		}
	}
	if _, err := DecodeEntry(append(append([]byte(nil), good...), 0)); err == nil {
		t.Fatal("trailing byte accepted")
	}
	// A huge declared count must not allocate: it is bounded by the input.
	huge := []byte{entryVersion, byte(OpCommands), 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}
	if _, err := DecodeEntry(huge); err == nil {
		t.Fatal("absurd command count accepted")
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(EncodeEntry(nil, &Entry{Op: OpCommands, ReqID: 7, Time: 1, Seed: 2, Cmds: [][][]byte{{[]byte("SET"), []byte("a"), []byte("b")}}}))
	f.Add(EncodeEntry(nil, &Entry{Op: OpExpire, Cmds: [][][]byte{{[]byte("a")}}}))
	f.Add(EncodeEntry(nil, &Entry{Op: OpCommands, Cmds: [][][]byte{{[]byte("XADD")}}, Params: &Params{StreamNodeMaxEntries: 10, HLLSparseMaxBytes: 3000}}))
	f.Add([]byte{1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEntry(b)
		if err != nil {
			return
		}
		// decode(encode(x)) == x for anything that decodes.
		again, err := DecodeEntry(EncodeEntry(nil, e))
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !bytes.Equal(EncodeEntry(nil, again), EncodeEntry(nil, e)) {
			t.Fatal("round trip differs")
		}
	})
}

func TestUvarintLen(t *testing.T) {
	for _, x := range []uint64{0, 1, 127, 128, 16383, 16384, 1<<21 - 1, 1 << 21, 1<<63 - 1, 1<<64 - 1} {
		if got, want := uvarintLen(x), len(binary.AppendUvarint(nil, x)); got != want {
			t.Errorf("uvarintLen(%d) = %d, want %d", x, got, want)
		}
	}
}

// TestEntrySize: EncodeEntry sizes its buffer by entrySize before
// writing, so the estimate must never be short (append would then grow
// the buffer, copying a slot move's 16 KiB import entry) and should not
// be far over.
func TestEntrySize(t *testing.T) {
	big := bytes.Repeat([]byte("v"), 16<<10)
	p := DefaultParams
	p.StreamNodeMaxEntries, p.StreamNodeMaxBytes, p.HLLSparseMaxBytes = 1<<62, 1<<62, 1<<62
	small := DefaultParams
	small.HLLSparseMaxBytes = 1
	for _, e := range []*Entry{
		{Op: OpNoop},
		{Op: OpImport, ReqID: 1<<64 - 1, Time: -1 << 63, Seed: 1<<64 - 1, Cmds: [][][]byte{{[]byte("k"), []byte("0"), big, []byte("0")}, {big}}},
		{Op: OpCommands, ReqID: 7, Time: 1_700_000_000_123, Cmds: [][][]byte{{[]byte("SET"), []byte("k"), []byte("v")}}},
		{Op: OpCommands, Cmds: [][][]byte{{[]byte("SET"), []byte("k"), big[:200]}}, Params: &p},
		{Op: OpCommands, Cmds: [][][]byte{{}, {[]byte("")}}, Params: &small},
	} {
		n := len(EncodeEntry(nil, e))
		est := entrySize(e, e.Params != nil && *e.Params != DefaultParams)
		if est < n || est > n+100 {
			t.Errorf("op %d: entrySize %d for an encoding of %d bytes", e.Op, est, n)
		}
	}
}
