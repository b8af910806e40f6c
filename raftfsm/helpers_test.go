package raftfsm

import (
	"fmt"
	"reflect"
	"testing"
)

// testDB runs commands against a fresh database as if they were applied
// from the log at a fixed, adjustable time.
type testDB struct {
	t    *testing.T
	db   *DB
	now  int64
	seed uint64
}

func newTestDB(t *testing.T) *testDB {
	t.Helper()
	return &testDB{t: t, db: NewDB(), now: 1_700_000_000_000, seed: 42}
}

// do runs one command (write context: lazy expiry applies) and returns its reply.
func (d *testDB) do(args ...string) Reply {
	d.t.Helper()
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	d.seed++
	return Exec(NewCtx(d.db, d.now, true, d.seed), bs)
}

// read runs a read-only command in a read context (no lazy deletion).
func (d *testDB) read(args ...string) Reply {
	d.t.Helper()
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	return Exec(NewCtx(d.db, d.now, false, 7), bs)
}

// advance moves the clock forward by ms milliseconds.
func (d *testDB) advance(ms int64) { d.now += ms }

// show renders a reply compactly for comparisons in table tests:
// status "OK", error "ERR ...", int "(5)", bulk "foo", nil "<nil>",
// arrays "[a b (1)]", doubles "1.5".
func show(r Reply) string {
	switch r.Kind {
	case KindStatus, KindBulk, KindVerbatim:
		return r.Str
	case KindError:
		return "!" + r.Str
	case KindInt, KindBool:
		return fmt.Sprintf("(%d)", r.Int)
	case KindNil, KindNilArray:
		return "<nil>"
	case KindDouble:
		return FormatDouble(r.F)
	case KindArray, KindMap, KindSet:
		s := "["
		for i, e := range r.Elems {
			if i > 0 {
				s += " "
			}
			s += show(e)
		}
		return s + "]"
	}
	return "?"
}

// expect runs args and fails unless show(reply) == want.
func (d *testDB) expect(want string, args ...string) {
	d.t.Helper()
	if got := show(d.do(args...)); got != want {
		d.t.Fatalf("%v: got %q, want %q", args, got, want)
	}
}

func deepEqual(a, b any) bool { return reflect.DeepEqual(a, b) }
