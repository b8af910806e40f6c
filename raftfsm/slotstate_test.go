package raftfsm

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/raftcache/raftcache/slots"
)

// slotFSM drives an FSM through raw log entries.
type slotFSM struct {
	t   *testing.T
	f   *FSM
	idx uint64
	now int64
}

func newSlotFSM(t *testing.T) *slotFSM {
	return &slotFSM{t: t, f: NewFSM(nil), now: 1_700_000_000_000}
}

func (s *slotFSM) apply(op Op, cmds ...[]string) []Reply {
	s.t.Helper()
	s.idx++
	e := &Entry{Op: op, Time: s.now, Seed: s.idx}
	for _, c := range cmds {
		var args [][]byte
		for _, a := range c {
			args = append(args, []byte(a))
		}
		e.Cmds = append(e.Cmds, args)
	}
	res := s.f.Apply(&raft.Log{Index: s.idx, Term: 1, Type: raft.LogCommand, Data: EncodeEntry(nil, e)})
	return res.(*ApplyResult).Replies
}

func (s *slotFSM) expect(want string, op Op, cmd ...string) {
	s.t.Helper()
	if got := show(s.apply(op, cmd)[0]); got != want {
		s.t.Fatalf("%v: got %q, want %q", cmd, got, want)
	}
}

// keyIn returns a key of slot sl.
func keyIn(sl slots.Slot, i int) string {
	for n := 0; ; n++ {
		k := fmt.Sprintf("k%d-%d", i, n)
		if slots.Of([]byte(k)) == sl {
			return k
		}
	}
}

func TestSlotOwnershipLifecycle(t *testing.T) {
	s := newSlotFSM(t)
	a, b := keyIn(100, 1), keyIn(100, 2)
	// Before init nothing is enforced (older logs, formation routing).
	s.expect("OK", OpCommands, "SET", a, "1")
	s.expect("OK", OpSlots, "init", "0-199", "1")
	s.expect("OK", OpSlots, "init", "0-16383", "9") // only the first init counts
	s.expect("!MOVED 300 @-1", OpCommands, "SET", keyIn(300, 1), "x")
	s.expect("1", OpCommands, "GET", a)

	// Migrating: existing keys served, missing ones ASKed, mixes TRYAGAIN.
	s.expect("OK", OpSlots, "migrate", "100", "2", "0")
	s.expect("OK", OpSlots, "migrate", "100", "2", "0") // idempotent
	s.expect("!ERR slot migrate: slot 100 is migrating", OpSlots, "migrate", "100", "3", "0")
	s.expect("(2)", OpCommands, "INCR", a)
	s.expect("!ASK 100 @2", OpCommands, "SET", b, "new")
	s.expect("!TRYAGAIN Multiple keys request during rehashing of slot", OpCommands, "MGET", a, b)
	s.expect("!ERR slot give: slot 100 still holds 1 keys", OpSlots, "give", "100", "2", "5")

	// The transfer: delete only what the target has at the sent version.
	var ver uint64
	s.f.View(func(db *DB) {
		ks, more := db.ReadSlotKeys(100, nil, 10, 0, 0, s.now)
		if len(ks) != 1 || more || string(ks[0].Key) != a {
			t.Fatalf("ReadSlotKeys = %+v, %v", ks, more)
		}
		ver = ks[0].Ver
	})
	s.expect("(0)", OpMigDel, a, strconv.FormatUint(ver+1, 10))
	s.expect("(1)", OpMigDel, a, strconv.FormatUint(ver, 10))
	s.expect("!ASK 100 @2", OpCommands, "GET", a)
	s.expect("OK", OpSlots, "give", "100", "2", "5")
	s.expect("OK", OpSlots, "give", "100", "2", "5")
	s.expect("!MOVED 100 @2", OpCommands, "GET", a)
	s.f.View(func(db *DB) {
		rs, v := db.OwnedRanges()
		if slots.FormatRanges(rs) != "0-99 101-199" || v != 1 || db.MaxSlotVersion() != 5 {
			t.Fatalf("owned %v v%d max %d", rs, v, db.MaxSlotVersion())
		}
	})
}

func TestSlotImportSide(t *testing.T) {
	s := newSlotFSM(t)
	s.expect("OK", OpSlots, "init", "", "0")
	src := NewDB()
	k := keyIn(7, 1)
	c := NewCtx(src, s.now, true, 1)
	Exec(c, [][]byte{[]byte("SET"), []byte(k), []byte("v")})

	// Keys of a slot not importing are ignored.
	payload := string(DumpPayload(src.find([]byte(k)).val))
	s.expect("(0)", OpImport, k, "0", payload, "0")
	s.expect("!ERR slot take: slot 7 is unowned", OpSlots, "take", "7", "3")
	s.expect("OK", OpSlots, "import", "7", "1", "0")
	s.expect("(1)", OpImport, k, "0", payload, "0")
	s.expect("(0)", OpImport, k, "0", "garbage", "0")
	// After ASKING the target serves single keys, multi-key with a miss is TRYAGAIN.
	s.expect("v", OpCommands, "GET", k)
	s.expect("!TRYAGAIN Multiple keys request during rehashing of slot", OpCommands, "MGET", k, keyIn(7, 2))
	s.expect("OK", OpSlots, "take", "7", "3")
	s.expect("OK", OpCommands, "SET", keyIn(7, 2), "w")
	s.expect("[v w]", OpCommands, "MGET", k, keyIn(7, 2))

	// Aborting an import drops what arrived.
	s.expect("OK", OpSlots, "import", "8", "1", "1")
	s.expect("(1)", OpImport, keyIn(8, 1), "0", payload, "0")
	s.expect("!TRYAGAIN Slot is being moved to another shard, retry shortly", OpCommands, "GET", keyIn(8, 1))
	s.expect("OK", OpSlots, "abort", "8")
	s.f.View(func(db *DB) {
		if n := db.CountInSlot(8); n != 0 {
			t.Fatalf("slot 8 holds %d keys after abort", n)
		}
	})
}

func TestSlotTransactionIsAllOrNothing(t *testing.T) {
	s := newSlotFSM(t)
	s.expect("OK", OpSlots, "init", "0-16383", "1")
	a, b := keyIn(50, 1), keyIn(50, 2)
	s.expect("OK", OpCommands, "SET", a, "1")
	s.expect("OK", OpSlots, "migrate", "50", "1", "0")
	rs := s.apply(OpCommands, []string{WatchCheckName}, []string{"INCR", a}, []string{"SET", b, "x"})
	for i, r := range rs {
		if show(r) != "!ASK 50 @1" && show(r) != "!TRYAGAIN Multiple keys request during rehashing of slot" {
			t.Fatalf("reply %d = %q", i, show(r))
		}
	}
	s.expect("1", OpCommands, "GET", a) // the INCR did not run
}

func TestSlotCommandErrors(t *testing.T) {
	s := newSlotFSM(t)
	s.expect("!ERR slot ownership is not initialized in this shard", OpSlots, "migrate", "1", "2", "0")
	for _, tc := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"init", "0-99999", "1"}, "!ERR slot init:"},
		{[]string{"init", "0-10"}, "!ERR slot init: wrong arguments"},
		{[]string{"init", "0-10", "-1"}, "!ERR slot init: bad version"},
	} {
		if got := show(s.apply(OpSlots, tc.cmd)[0]); !strings.HasPrefix(got, tc.want) {
			t.Fatalf("%v = %q, want prefix %q", tc.cmd, got, tc.want)
		}
	}
	s.expect("OK", OpSlots, "init", "0-10", "1")
	for _, tc := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"migrate", "16384", "1", "0"}, "!ERR slot migrate: bad slot"},
		{[]string{"migrate", "x", "1", "0"}, "!ERR slot migrate: bad slot"},
		{[]string{"migrate", "5", "-3", "0"}, "!ERR slot migrate: bad shard"},
		{[]string{"migrate", "50", "1", "0"}, "!ERR slot migrate: slot 50 is unowned"},
		{[]string{"import", "50", "1", "x"}, "OK"},
		{[]string{"import", "50", "2", "0"}, "!ERR slot import: slot 50 is importing"},
		{[]string{"take", "5", "0"}, "!ERR slot take: bad version"},
		{[]string{"give", "5", "1", "2"}, "!ERR slot give: slot 5 is owned"},
		{[]string{"give", "5", "1"}, "!ERR slot give: bad version"},
		{[]string{"frob", "5"}, "!ERR unknown slot command 'frob'"},
		{[]string{"take"}, "!ERR slot take: missing slot"},
	} {
		if got := show(s.apply(OpSlots, tc.cmd)[0]); !strings.HasPrefix(got, tc.want) {
			t.Fatalf("%v = %q, want prefix %q", tc.cmd, got, tc.want)
		}
	}
}

func TestSlotTableInSnapshot(t *testing.T) {
	s := newSlotFSM(t)
	s.expect("OK", OpSlots, "init", "0-8191", "1")
	s.expect("OK", OpCommands, "SET", keyIn(10, 1), "v")
	s.expect("OK", OpSlots, "migrate", "10", "4", "1")
	s.expect("OK", OpSlots, "import", "9000", "3", "0")
	snap, err := s.f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	// A change after the snapshot must not leak into it.
	s.expect("OK", OpSlots, "abort", "10")
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	f2 := NewFSM(nil)
	if err := f2.Restore(io.NopCloser(bytes.NewReader(sink.Bytes()))); err != nil {
		t.Fatal(err)
	}
	f2.View(func(db *DB) {
		if !db.SlotsInitialized() {
			t.Fatal("restored table not initialized")
		}
		if si := db.Slot(10); si.State != SlotMigrating || si.Peer != 4 || !si.Frozen || si.Ver != 1 {
			t.Fatalf("slot 10 = %+v", si)
		}
		if si := db.Slot(9000); si.State != SlotImporting || si.Peer != 3 {
			t.Fatalf("slot 9000 = %+v", si)
		}
		if si := db.Slot(9001); si.State != SlotUnowned {
			t.Fatalf("slot 9001 = %+v", si)
		}
	})
}

func TestSplitValueMergesBack(t *testing.T) {
	d := newTestDB(t)
	for i := 0; i < 3000; i++ {
		f := strconv.Itoa(i)
		d.do("HSET", "h", f, strings.Repeat("v", 20)+f)
		d.do("SADD", "s", f)
		d.do("ZADD", "z", f, "m"+f)
		d.do("RPUSH", "l", "e"+f)
	}
	for _, key := range []string{"h", "s", "z", "l"} {
		v := d.db.find([]byte(key)).val
		parts := splitValue(v, 4096)
		if len(parts) < 3 {
			t.Fatalf("%s: %d parts, want several", key, len(parts))
		}
		dst := newTestDB(t)
		for i, p := range parts {
			merge := "0"
			if i > 0 {
				merge = "1"
			}
			cmds := [][][]byte{{[]byte(key), []byte("0"), p, []byte(merge)}}
			if r := applyImport(dst.db, dst.now, cmds, decodeImport(cmds)); r.Int != 1 {
				t.Fatalf("%s part %d: import = %v", key, i, show(r))
			}
		}
		if got, want := DumpPayload(dst.db.find([]byte(key)).val), DumpPayload(v); !bytes.Equal(got, want) {
			t.Fatalf("%s: merged value differs from the original", key)
		}
	}
}

// FuzzSlotEntries applies arbitrary ownership, import and delete entries
// (ops 4-6) to a shard holding keys: they must be answered, never panic,
// and leave a snapshot that restores.
func FuzzSlotEntries(f *testing.F) {
	f.Add(byte(OpSlots), "migrate", "100", "2", "0")
	f.Add(byte(OpSlots), "give", "100", "2", "9")
	f.Add(byte(OpSlots), "abort", "100", "", "")
	f.Add(byte(OpImport), "k", "0", "\x00\x01a\x0a\x00", "1")
	f.Add(byte(OpMigDel), "k", "1", "", "")
	f.Fuzz(func(t *testing.T, op byte, a, b, c, d string) {
		s := newSlotFSM(t)
		s.apply(OpSlots, []string{"init", "0-8191", "1"})
		s.apply(OpCommands, []string{"SET", keyIn(100, 1), "v"}, []string{"RPUSH", keyIn(100, 2), "x", "y"})
		s.apply(OpSlots, []string{"import", "9000", "1", "0"})
		o := Op(op%3) + OpSlots
		var args []string
		for _, x := range []string{a, b, c, d} {
			if x != "" {
				args = append(args, x)
			}
		}
		s.apply(o, args)
		if _, _, err := ReadSnapshot(bytes.NewReader(snapshotBytes(t, s.f))); err != nil {
			t.Fatalf("snapshot after %v %q: %v", o, args, err)
		}
	})
}

func TestReadSlotKeysBatches(t *testing.T) {
	d := newTestDB(t)
	var keys []string
	for i := 0; i < 40; i++ {
		k := keyIn(300, i)
		keys = append(keys, k)
		d.do("SET", k, strings.Repeat("x", 1000))
	}
	// By count, then by bytes (at least one key per batch), never losing or
	// repeating a key across batches.
	for _, limit := range []struct{ keys, bytes int }{{7, 0}, {1000, 3500}, {1000, 1}} {
		seen := map[string]bool{}
		var after []byte
		for batches := 0; ; batches++ {
			ks, more := d.db.ReadSlotKeys(300, after, limit.keys, 0, limit.bytes, d.now)
			if len(ks) == 0 || batches > 100 {
				t.Fatalf("limit %+v: empty batch or no end", limit)
			}
			for _, k := range ks {
				if seen[string(k.Key)] {
					t.Fatalf("limit %+v: %s twice", limit, k.Key)
				}
				seen[string(k.Key)] = true
			}
			after = ks[len(ks)-1].Key
			if !more {
				break
			}
		}
		if len(seen) != len(keys) {
			t.Fatalf("limit %+v: %d of %d keys read", limit, len(seen), len(keys))
		}
	}
}
