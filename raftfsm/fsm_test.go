package raftfsm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

// randomLog builds a deterministic pseudo-random log of mixed commands over
// every data type, including expiry and random choices (SPOP).
func randomLog(seed uint64, n int) []*raft.Log {
	r := rand.New(rand.NewPCG(seed, seed))
	now := int64(1_700_000_000_000)
	var logs []*raft.Log
	key := func(prefix string) []byte { return []byte(fmt.Sprintf("%s%d", prefix, r.IntN(20))) }
	val := func() []byte { return []byte(fmt.Sprintf("v%d", r.IntN(1000))) }
	for i := 0; i < n; i++ {
		now += int64(r.IntN(50))
		var cmds [][][]byte
		for j := 0; j < 1+r.IntN(4); j++ {
			var c [][]byte
			switch r.IntN(12) {
			case 0:
				c = [][]byte{[]byte("SET"), key("s"), val()}
			case 1:
				c = [][]byte{[]byte("SET"), key("s"), val(), []byte("PX"), []byte(fmt.Sprint(1 + r.IntN(200)))}
			case 2:
				c = [][]byte{[]byte("INCRBY"), key("n"), []byte(fmt.Sprint(r.IntN(10)))}
			case 3:
				c = [][]byte{[]byte("HSET"), key("h"), val(), val()}
			case 4:
				c = [][]byte{[]byte("RPUSH"), key("l"), val(), val()}
			case 5:
				c = [][]byte{[]byte("LPOP"), key("l")}
			case 6:
				c = [][]byte{[]byte("SADD"), key("t"), val(), val(), val()}
			case 7:
				c = [][]byte{[]byte("SPOP"), key("t")}
			case 8:
				c = [][]byte{[]byte("ZADD"), key("z"), []byte(fmt.Sprint(r.IntN(100))), val()}
			case 9:
				c = [][]byte{[]byte("DEL"), key("s")}
			case 10:
				c = [][]byte{[]byte("APPEND"), key("s"), val()}
			case 11:
				c = [][]byte{[]byte("HDEL"), key("h"), val()}
			}
			cmds = append(cmds, c)
		}
		e := &Entry{Op: OpCommands, ReqID: uint64(i + 1), Time: now, Seed: r.Uint64(), Cmds: cmds}
		logs = append(logs, &raft.Log{Index: uint64(i + 1), Term: 1, Type: raft.LogCommand, Data: EncodeEntry(nil, e)})
	}
	return logs
}

func applyAll(f *FSM, logs []*raft.Log, batch int) {
	for i := 0; i < len(logs); i += batch {
		end := min(i+batch, len(logs))
		f.ApplyBatch(logs[i:end])
	}
}

// TestDeterminism: two FSMs fed the same log (in different batchings) reach
// identical state digests and identical snapshot bytes.
func TestDeterminism(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		logs := randomLog(seed, 2000)
		a, b := NewFSM(nil), NewFSM(nil)
		applyAll(a, logs, 1)
		applyAll(b, logs, 64)
		if a.Digest() != b.Digest() {
			t.Fatalf("seed %d: digests differ", seed)
		}
		if !bytes.Equal(snapshotBytes(t, a), snapshotBytes(t, b)) {
			t.Fatalf("seed %d: snapshot bytes differ", seed)
		}
		if a.AppliedIndex() != uint64(len(logs)) {
			t.Fatalf("applied index %d", a.AppliedIndex())
		}
	}
}

type memSink struct {
	bytes.Buffer
	cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Close() error  { return nil }

func snapshotBytes(t *testing.T, f *FSM) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	return sink.Bytes()
}

// TestSnapshotRestoreReplay: restore a snapshot taken midway, replay the
// rest of the log, and reach the same state as applying everything.
func TestSnapshotRestoreReplay(t *testing.T) {
	logs := randomLog(99, 3000)
	full := NewFSM(nil)
	applyAll(full, logs, 16)

	half := NewFSM(nil)
	applyAll(half, logs[:1500], 16)
	snap := snapshotBytes(t, half)

	restored := NewFSM(nil)
	if err := restored.Restore(io.NopCloser(bytes.NewReader(snap))); err != nil {
		t.Fatal(err)
	}
	if restored.AppliedIndex() != 1500 || restored.Digest() != half.Digest() {
		t.Fatalf("restore: index %d, digest equal %v", restored.AppliedIndex(), restored.Digest() == half.Digest())
	}
	// Snapshot, restore, snapshot gives the same bytes again.
	if !bytes.Equal(snapshotBytes(t, restored), snap) {
		t.Fatal("snapshot of a restored FSM differs")
	}
	applyAll(restored, logs[1500:], 16)
	if restored.Digest() != full.Digest() {
		t.Fatal("replay after restore diverged")
	}
}

// TestRestoreRefusesOlderSnapshot: a snapshot older than what the FSM has
// applied is refused and changes nothing; an equal or newer one restores.
func TestRestoreRefusesOlderSnapshot(t *testing.T) {
	logs := randomLog(5, 1000)
	f := NewFSM(nil)
	applyAll(f, logs[:400], 8)
	old := snapshotBytes(t, f)
	applyAll(f, logs[400:], 8)
	want := f.Digest()
	err := f.Restore(io.NopCloser(bytes.NewReader(old)))
	if err == nil || !strings.Contains(err.Error(), "older than the applied index") {
		t.Fatalf("restore of an older snapshot: %v, want a refusal", err)
	}
	if f.AppliedIndex() != 1000 || f.Digest() != want {
		t.Fatalf("refused restore changed the FSM: index %d, digest equal %v", f.AppliedIndex(), f.Digest() == want)
	}
	same := snapshotBytes(t, f)
	if err := f.Restore(io.NopCloser(bytes.NewReader(same))); err != nil || f.Digest() != want {
		t.Fatalf("restore of a snapshot at the applied index: %v", err)
	}
	fresh := NewFSM(nil)
	if err := fresh.Restore(io.NopCloser(bytes.NewReader(old))); err != nil || fresh.AppliedIndex() != 400 {
		t.Fatalf("restore into a fresh FSM: %v, index %d", err, fresh.AppliedIndex())
	}
	// Reset (a node leaving its shard) goes back to nothing on purpose.
	f.Reset()
	if f.AppliedIndex() != 0 || f.Digest() != NewFSM(nil).Digest() {
		t.Fatalf("after Reset: index %d, empty %v", f.AppliedIndex(), f.Digest() == NewFSM(nil).Digest())
	}
}

// TestSnapshotIsFrozen: writes applied after Snapshot() do not leak into the
// persisted view (copy-on-write per key and per value).
func TestSnapshotIsFrozen(t *testing.T) {
	logs := randomLog(7, 1000)
	f := NewFSM(nil)
	applyAll(f, logs[:500], 8)
	want := f.Digest()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	applyAll(f, logs[500:], 8) // mutate in place while the snapshot is live
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	g := NewFSM(nil)
	if err := g.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if g.Digest() != want {
		t.Fatal("snapshot saw writes applied after it was taken")
	}
}

func TestRestoreRejectsCorruption(t *testing.T) {
	f := NewFSM(nil)
	applyAll(f, randomLog(3, 200), 8)
	snap := snapshotBytes(t, f)
	for _, i := range []int{0, 3, len(snap) / 2, len(snap) - 1} {
		bad := append([]byte(nil), snap...)
		bad[i] ^= 0x40
		if err := NewFSM(nil).Restore(io.NopCloser(bytes.NewReader(bad))); err == nil {
			t.Fatalf("corruption at byte %d accepted", i)
		}
	}
	if err := NewFSM(nil).Restore(io.NopCloser(bytes.NewReader(snap[:len(snap)-2]))); err == nil {
		t.Fatal("truncated snapshot accepted")
	}
}

func TestActiveExpiryEntry(t *testing.T) {
	f := NewFSM(nil)
	set := &Entry{Op: OpCommands, Time: 1000, Cmds: [][][]byte{{[]byte("SET"), []byte("a"), []byte("1"), []byte("PX"), []byte("10")}, {[]byte("SET"), []byte("b"), []byte("2")}}}
	f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: EncodeEntry(nil, set)})
	var expired []string
	f.View(func(db *DB) { expired = db.ExpiredKeys(1010, 10) })
	if len(expired) != 1 || expired[0] != "a" {
		t.Fatalf("expired keys = %v", expired)
	}
	exp := &Entry{Op: OpExpire, Time: 1010, Cmds: [][][]byte{{[]byte("a"), []byte("b")}}}
	f.Apply(&raft.Log{Index: 2, Type: raft.LogCommand, Data: EncodeEntry(nil, exp)})
	f.View(func(db *DB) {
		if db.Len() != 1 || db.ExpiresCount() != 0 {
			t.Fatalf("after expiry: %d keys, %d with ttl", db.Len(), db.ExpiresCount())
		}
	})
}

func TestApplyPanicsOnCorruptEntry(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("corrupt entry applied silently")
		}
	}()
	NewFSM(nil).Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: []byte{9, 9, 9}})
}

// TestScanSnapshot: a streamed scan yields every key with its expiry and a
// DUMP payload equal to DUMP's, and rejects a damaged snapshot.
func TestScanSnapshot(t *testing.T) {
	f := NewFSM(nil)
	applyAll(f, randomLog(7, 2000), 16)
	snap := snapshotBytes(t, f)
	n := 0
	hdr, err := ScanSnapshot(bytes.NewReader(snap), func(key []byte, exp int64, dump []byte) error {
		n++
		var ok bool
		f.View(func(db *DB) {
			e := db.find(key)
			ok = e != nil && e.exp == exp && bytes.Equal(DumpPayload(e.val), dump)
		})
		if !ok {
			return fmt.Errorf("key %q: expiry %d or payload differ from the FSM's", key, exp)
		}
		if _, err := DecodePayload(dump); err != nil {
			return fmt.Errorf("key %q: %v", key, err)
		}
		return nil
	})
	var keys int
	f.View(func(db *DB) { keys = db.Len() })
	if err != nil || n != keys || hdr.Keys != uint64(keys) || hdr.Index != f.AppliedIndex() || keys == 0 {
		t.Fatalf("scan: %v, %d keys seen, header %+v; the FSM has %d keys at index %d", err, n, hdr, keys, f.AppliedIndex())
	}
	bad := append([]byte(nil), snap...)
	bad[len(bad)/2] ^= 0x40
	if _, err := ScanSnapshot(bytes.NewReader(bad), nil); err == nil {
		t.Fatal("a damaged snapshot scanned without error")
	}
	stop := errors.New("stop")
	if _, err := ScanSnapshot(bytes.NewReader(snap), func([]byte, int64, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("fn's error: got %v", err)
	}
}
