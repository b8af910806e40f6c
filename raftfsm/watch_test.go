package raftfsm

import (
	"testing"

	"github.com/hashicorp/raft"
)

func TestKeyVersion(t *testing.T) {
	d := newTestDB(t)
	ver := func(k string) uint64 { return d.db.KeyVersion([]byte(k), d.now) }
	if ver("k") != 0 {
		t.Fatal("absent key has a version")
	}
	d.do("SET", "k", "v")
	d.do("SET", "other", "v")
	v1 := ver("k")
	if v1 == 0 {
		t.Fatal("live key has version 0")
	}
	changes := []struct {
		name string
		args []string
	}{
		{"overwrite with the same value", []string{"SET", "k", "v"}},
		{"append", []string{"APPEND", "k", "x"}},
		{"expire", []string{"EXPIRE", "k", "100"}},
		{"persist", []string{"PERSIST", "k"}},
		{"type change", []string{"DEL", "k"}},
		{"list push", []string{"RPUSH", "k", "a", "b"}},
		{"list pop", []string{"LPOP", "k"}},
		{"rename onto", []string{"RENAME", "other", "k"}},
	}
	prev := v1
	for _, c := range changes {
		d.do(c.args...)
		if c.args[0] == "DEL" {
			if ver("k") != 0 {
				t.Fatal("deleted key has a version")
			}
			continue
		}
		v := ver("k")
		if v == 0 || v == prev {
			t.Fatalf("%s: version %d -> %d", c.name, prev, v)
		}
		prev = v
	}
	// Reads and writes on other keys leave it alone.
	d.do("SET", "unrelated", "1")
	d.do("INCR", "unrelated")
	d.read("GET", "k")
	d.do("EXISTS", "k")
	if ver("k") != prev {
		t.Fatal("version changed without a write on the key")
	}
	// Deleted then recreated: never the old version again.
	d.do("DEL", "k")
	d.do("SET", "k", "v")
	if v := ver("k"); v == 0 || v == prev || v == v1 {
		t.Fatalf("recreated key reuses version %d", v)
	}
	// Expiry: the version becomes 0 once the key is logically expired.
	d.do("SET", "e", "1", "PX", "100")
	if ver("e") == 0 {
		t.Fatal("key with TTL has version 0")
	}
	d.advance(100)
	if ver("e") != 0 {
		t.Fatal("expired key has a version")
	}
	// Flush.
	d.do("FLUSHALL")
	if ver("k") != 0 || ver("unrelated") != 0 {
		t.Fatal("flushed keys have versions")
	}
}

func TestKeyVersionSnapshotCopy(t *testing.T) {
	// A write on an entry shared with a live snapshot copies it; the copy
	// must carry a new version too.
	f := NewFSM(nil)
	f.Apply(cmdLog(1, 1, []string{"RPUSH", "l", "a", "b"}))
	var v1 uint64
	f.View(func(db *DB) { v1 = db.KeyVersion([]byte("l"), 1) })
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	f.Apply(cmdLog(2, 1, []string{"LPOP", "l"}))
	var v2 uint64
	f.View(func(db *DB) { v2 = db.KeyVersion([]byte("l"), 1) })
	if v2 == 0 || v2 == v1 {
		t.Fatalf("version after copy-on-write: %d -> %d", v1, v2)
	}
}

func watchEntry(idx uint64, now int64, keys []string, vers []uint64, cmds ...[]string) *raft.Log {
	var bk [][]byte
	for _, k := range keys {
		bk = append(bk, []byte(k))
	}
	e := &Entry{Op: OpCommands, ReqID: idx, Time: now, Seed: idx, Cmds: [][][]byte{WatchCheck(bk, vers)}}
	for _, c := range cmds {
		var args [][]byte
		for _, a := range c {
			args = append(args, []byte(a))
		}
		e.Cmds = append(e.Cmds, args)
	}
	return &raft.Log{Index: idx, Term: 1, Type: raft.LogCommand, Data: EncodeEntry(nil, e)}
}

func TestWatchCheckInApply(t *testing.T) {
	now := int64(1_700_000_000_000)
	// Two replicas apply the same log, one restored from a snapshot midway:
	// the check must decide the same on both.
	a := NewFSM(nil)
	a.Apply(cmdLog(1, now, []string{"SET", "x", "1"}))
	a.Apply(cmdLog(2, now, []string{"SET", "y", "1", "PX", "50"}))
	version := func(f *FSM, k string, at int64) uint64 {
		var v uint64
		f.View(func(db *DB) { v = db.KeyVersion([]byte(k), at) })
		return v
	}
	vx, vy, vz := version(a, "x", now), version(a, "y", now), version(a, "z", now)

	logs := []*raft.Log{
		// Unchanged: applied.
		watchEntry(3, now, []string{"x", "y", "z"}, []uint64{vx, vy, vz}, []string{"INCR", "x"}, []string{"GET", "x"}),
		// x changed by the previous entry: aborted, nothing applied.
		watchEntry(4, now, []string{"x"}, []uint64{vx}, []string{"INCR", "x"}),
		// y expired by the entry's time: counts as modified.
		watchEntry(5, now+50, []string{"y"}, []uint64{vy}, []string{"SET", "w", "1"}),
		// z was absent and still is: applied.
		watchEntry(6, now+50, []string{"z", "y"}, []uint64{0, 0}, []string{"SET", "w", "2"}),
	}
	want := [][]string{
		{"OK", "(2)", "2"},
		{"<nil>", "<nil>"},
		{"<nil>", "<nil>"},
		{"OK", "OK"},
	}
	for i, l := range logs {
		res := a.Apply(l).(*ApplyResult)
		var got []string
		for _, r := range res.Replies {
			got = append(got, show(r))
		}
		if !deepEqual(got, want[i]) {
			t.Fatalf("entry %d: %v, want %v", l.Index, got, want[i])
		}
		if WatchAborted(res.Replies) != (want[i][0] == "<nil>") {
			t.Fatalf("entry %d: WatchAborted wrong", l.Index)
		}
	}
	var x, w string
	a.View(func(db *DB) {
		c := NewCtx(db, now+50, false, 0)
		x = show(Exec(c, [][]byte{[]byte("GET"), []byte("x")}))
		w = show(Exec(c, [][]byte{[]byte("GET"), []byte("w")}))
	})
	if x != "2" || w != "2" {
		t.Fatalf("x=%s w=%s", x, w)
	}

	// A malformed check aborts.
	bad := &Entry{Op: OpCommands, Time: now, Cmds: [][][]byte{{[]byte(WatchCheckName), []byte("x")}, {[]byte("SET"), []byte("x"), []byte("9")}}}
	res := a.Apply(&raft.Log{Index: 7, Type: raft.LogCommand, Data: EncodeEntry(nil, bad)}).(*ApplyResult)
	if !WatchAborted(res.Replies) {
		t.Fatal("malformed check applied")
	}
	// The check is only honoured first; elsewhere it is an unknown command.
	mid := &Entry{Op: OpCommands, Time: now, Cmds: [][][]byte{{[]byte("GET"), []byte("x")}, {[]byte(WatchCheckName)}}}
	res = a.Apply(&raft.Log{Index: 8, Type: raft.LogCommand, Data: EncodeEntry(nil, mid)}).(*ApplyResult)
	if res.Replies[1].Kind != KindError {
		t.Fatalf("check in second place: %s", show(res.Replies[1]))
	}
}

func TestWatchVersionsDeterministic(t *testing.T) {
	// Versions depend on the log only: two replicas applying the same log
	// in different batchings agree on every key's version.
	logs := randomLog(7, 400)
	a, b := NewFSM(nil), NewFSM(nil)
	applyAll(a, logs, 1)
	applyAll(b, logs, 13)
	now := int64(1_700_000_000_000)
	a.View(func(dba *DB) {
		b.View(func(dbb *DB) {
			c := NewCtx(dba, now, false, 0)
			c.EachKey(func(k string, _ Value) bool {
				if va, vb := dba.KeyVersion([]byte(k), 0), dbb.KeyVersion([]byte(k), 0); va != vb {
					t.Fatalf("key %s: versions %d and %d", k, va, vb)
				}
				return true
			})
		})
	})
}

func TestApplyCommandsDefaultExec(t *testing.T) {
	db := NewDB()
	cmds := [][][]byte{{[]byte("SET"), []byte("a"), []byte("1")}, {[]byte("INCR"), []byte("a")}}
	out := ApplyCommands(db, 1, 1, cmds, nil)
	if show(out[0]) != "OK" || show(out[1]) != "(2)" {
		t.Fatalf("replies %v", out)
	}
	v := db.KeyVersion([]byte("a"), 1)
	out = ApplyCommands(db, 1, 3, [][][]byte{WatchCheck([][]byte{[]byte("a")}, []uint64{v + 1}), cmds[1]}, nil)
	if !WatchAborted(out) || len(out) != 2 || out[1].Kind != KindNilArray {
		t.Fatalf("stale check: %v", out)
	}
	out = ApplyCommands(db, 1, 3, [][][]byte{WatchCheck([][]byte{[]byte("a")}, []uint64{v}), cmds[1]}, nil)
	if WatchAborted(out) || show(out[1]) != "(3)" {
		t.Fatalf("fresh check: %v", out)
	}
}
