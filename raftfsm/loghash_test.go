package raftfsm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

// TestAppliedLogHash: the hash depends on the entries applied, not on
// batching or on a snapshot restore in between, and tells apart a replica
// that applied one different entry at the same index.
func TestAppliedLogHash(t *testing.T) {
	logs := randomLog(7, 1000)
	whole := NewFSM(nil)
	applyAll(whole, logs, 1)
	want := whole.AppliedLogHash()
	if want.Index != 1000 || !want.Known || want.Hash == 0 {
		t.Fatalf("hash after 1000 entries: %+v", want)
	}

	batched := NewFSM(nil)
	applyAll(batched, logs, 64)
	if got := batched.AppliedLogHash(); got != want {
		t.Fatalf("batched %+v, want %+v", got, want)
	}

	half := NewFSM(nil)
	applyAll(half, logs[:400], 16)
	restored := NewFSM(nil)
	if err := restored.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, half)))); err != nil {
		t.Fatal(err)
	}
	if got, h := restored.AppliedLogHash(), half.AppliedLogHash(); got != h {
		t.Fatalf("restored %+v, snapshot taken at %+v", got, h)
	}
	applyAll(restored, logs[400:], 16)
	if got := restored.AppliedLogHash(); got != want {
		t.Fatalf("restored then replayed %+v, want %+v", got, want)
	}

	// One entry replaced by another at the same index (a stale entry of an
	// older term, as in shard's TestCommitClampStaleSuffix).
	other := append([]*raft.Log(nil), logs...)
	swapped := *other[500]
	swapped.Term = 0
	other[500] = &swapped
	diverged := NewFSM(nil)
	applyAll(diverged, other, 16)
	if got := diverged.AppliedLogHash(); got.Index != want.Index || got.Hash == want.Hash {
		t.Fatalf("a different entry at 501 left the hash %+v (want differs from %x)", got, want.Hash)
	}
}

// TestLogHashOldSnapshot: a version 3 snapshot (no hash) restores with the
// hash marked unknown.
func TestLogHashOldSnapshot(t *testing.T) {
	f := NewFSM(nil)
	applyAll(f, randomLog(3, 50), 8)
	snap := snapshotBytes(t, f)
	v3 := rewriteAsV3(t, snap)
	r := NewFSM(nil)
	if err := r.Restore(io.NopCloser(bytes.NewReader(v3))); err != nil {
		t.Fatal(err)
	}
	if got := r.AppliedLogHash(); got.Known || got.Index != 50 || r.Digest() != f.Digest() {
		t.Fatalf("v3 restore: %+v, digest equal %v", got, r.Digest() == f.Digest())
	}
}

// rewriteAsV3 writes snapshot bytes again in the version 3 layout: the
// same without the 9 hash bytes after the library list.
func rewriteAsV3(t *testing.T, snap []byte) []byte {
	t.Helper()
	db, hdr, err := ReadSnapshot(bytes.NewReader(snap))
	if err != nil {
		t.Fatal(err)
	}
	if len(hdr.Libraries) != 0 {
		t.Fatal("test snapshot has libraries")
	}
	pre := append([]byte(nil), snapMagic...)
	pre = binary.AppendUvarint(pre, hdr.Index)
	pre = binary.AppendVarint(pre, hdr.LastTime)
	pre = binary.AppendUvarint(pre, hdr.Keys)
	pre = appendSlotTable(pre, db.slotTab)
	pre = binary.AppendUvarint(pre, 0)
	if !bytes.HasPrefix(snap, pre) {
		t.Fatal("unexpected header layout")
	}
	out := append([]byte(nil), snapMagicV3...)
	out = append(out, snap[len(snapMagic):len(pre)]...)
	out = append(out, snap[len(pre)+9:len(snap)-4]...)
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, crcTable))
}

// TestHashMarks: with SetHashLogEvery(n) the FSM logs the hash at every
// index n divides, as AppliedLogHash reports it there.
func TestHashMarks(t *testing.T) {
	var buf bytes.Buffer
	f := NewFSM(slog.New(slog.NewTextHandler(&buf, nil)))
	f.SetHashLogEvery(4)
	logs := randomLog(11, 10)
	var want []string
	for i, l := range logs {
		f.ApplyBatch([]*raft.Log{l})
		if (i+1)%4 == 0 {
			want = append(want, fmt.Sprintf(`msg=%q index=%d term=1 hash=%016x`, HashMarkMsg, l.Index, f.AppliedLogHash().Hash))
		}
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d marks logged, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Fatalf("mark %d: %q, want it to contain %q", i, lines[i], w)
		}
	}
}
