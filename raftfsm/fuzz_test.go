package raftfsm

import (
	"bytes"
	"testing"
)

// FuzzExec feeds arbitrary arguments to every engine command, in a write
// context over a database holding one key of each type: no input may panic,
// and every reply must be a well-formed Reply.
func FuzzExec(f *testing.F) {
	f.Add(uint16(0), []byte("k\x00v\x00EX\x0010"))
	f.Add(uint16(3), []byte("h\x00f\x00v"))
	f.Add(uint16(7), []byte("z\x00-inf\x00+inf\x00WITHSCORES\x00LIMIT\x000\x00-1"))
	f.Add(uint16(11), []byte("l\x00-100\x00100"))
	cmds := Commands()
	f.Fuzz(func(t *testing.T, which uint16, raw []byte) {
		cmd := cmds[int(which)%len(cmds)]
		args := [][]byte{[]byte(cmd.Name)}
		if len(raw) > 0 {
			args = append(args, bytes.Split(raw, []byte{0})...)
		}
		if len(args) > 64 {
			args = args[:64]
		}
		db := NewDB()
		c := NewCtx(db, 1_700_000_000_000, true, 1)
		for _, setup := range [][]string{
			{"SET", "s", "12"}, {"HSET", "h", "f", "v"}, {"RPUSH", "l", "a", "b"},
			{"SADD", "t", "x", "y"}, {"ZADD", "z", "1", "m", "2", "n"},
		} {
			bs := make([][]byte, len(setup))
			for i, a := range setup {
				bs[i] = []byte(a)
			}
			Exec(c, bs)
		}
		r := Exec(c, args)
		var check func(Reply, int)
		check = func(r Reply, depth int) {
			if depth > 8 {
				t.Fatalf("%s: reply nested too deep", cmd.Name)
			}
			if r.Kind > KindBool {
				t.Fatalf("%s: bad reply kind %d", cmd.Name, r.Kind)
			}
			for _, e := range r.Elems {
				check(e, depth+1)
			}
		}
		check(r, 0)
		// The database stays consistent: a snapshot of it can be read back.
		var buf bytes.Buffer
		if err := WriteSnapshot(&buf, db.keys, db.slotTab, SnapshotHeader{Keys: uint64(db.keys.Len())}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ReadSnapshot(&buf); err != nil {
			t.Fatalf("%s %q left an unreadable state: %v", cmd.Name, args, err)
		}
	})
}
