package raftfsm

import (
	"testing"
)

// sortStep is one command and its expected rendering. With noCluster the
// command runs through sortGeneric with cluster mode off, to cover the
// BY/GET pattern semantics that cluster mode refuses.
type sortStep struct {
	want      string
	args      []string
	noCluster bool
}

func (d *testDB) sortNoCluster(readonly bool, args ...string) Reply {
	d.t.Helper()
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	d.seed++
	return sortGeneric(NewCtx(d.db, d.now, true, d.seed), bs, readonly, false)
}

func runSortSteps(t *testing.T, steps []sortStep) {
	t.Helper()
	d := newTestDB(t)
	for _, s := range steps {
		var r Reply
		if s.noCluster {
			r = d.sortNoCluster(EqFold([]byte(s.args[0]), "sort_ro"), s.args...)
		} else {
			r = d.do(s.args...)
		}
		if got := show(r); s.want != "*" && got != s.want {
			t.Fatalf("%v: got %q, want %q", s.args, got, s.want)
		}
	}
}

func TestSortCommands(t *testing.T) {
	wrong := "!" + ErrWrongType.Str
	tests := []struct {
		name  string
		steps []sortStep
	}{
		{"numeric list", []sortStep{
			{"(5)", []string{"RPUSH", "l", "3", "1", "10", "-2.5", "1e1"}, false},
			{"[-2.5 1 3 10 1e1]", []string{"SORT", "l"}, false},
			{"[1e1 10 3 1 -2.5]", []string{"SORT", "l", "DESC"}, false},
			{"[-2.5 1 3 10 1e1]", []string{"sort", "l", "desc", "asc"}, false},
			{"[-2.5 1 3 10 1e1]", []string{"SORT_RO", "l"}, false},
		}},
		{"alpha", []sortStep{
			{"(5)", []string{"RPUSH", "l", "b", "a", "B", "10", "9"}, false},
			{"!ERR One or more scores can't be converted into double", []string{"SORT", "l"}, false},
			{"[10 9 B a b]", []string{"SORT", "l", "ALPHA"}, false},
			{"[b a B 9 10]", []string{"SORT", "l", "ALPHA", "DESC"}, false},
			{"[B a]", []string{"SORT", "l", "ALPHA", "LIMIT", "2", "2"}, false},
		}},
		{"score conversion", []sortStep{
			{"(6)", []string{"RPUSH", "l", " 2", "", "inf", "-inf", "0x10", "1.5"}, false},
			{"[-inf  1.5  2 0x10 inf]", []string{"SORT", "l"}, false},
			{"(1)", []string{"RPUSH", "m", "nan"}, false},
			{"!ERR One or more scores can't be converted into double", []string{"SORT", "m"}, false},
			{"(1)", []string{"RPUSH", "o", "1e400"}, false},
			{"!ERR One or more scores can't be converted into double", []string{"SORT", "o"}, false},
			{"(1)", []string{"RPUSH", "p", "2 "}, false},
			{"!ERR One or more scores can't be converted into double", []string{"SORT", "p"}, false},
			{"!ERR One or more scores can't be converted into double", []string{"SORT", "p", "STORE", "dst"}, false},
			{"(0)", []string{"EXISTS", "dst"}, false},
		}},
		{"equal scores order by bytes", []sortStep{
			{"(4)", []string{"RPUSH", "l", "1.0", "1", "01", "1e0"}, false},
			{"[01 1 1.0 1e0]", []string{"SORT", "l"}, false},
			{"[1e0 1.0 1 01]", []string{"SORT", "l", "DESC"}, false},
		}},
		{"limit", []sortStep{
			{"(5)", []string{"RPUSH", "l", "5", "4", "3", "2", "1"}, false},
			{"[1 2]", []string{"SORT", "l", "LIMIT", "0", "2"}, false},
			{"[4 5]", []string{"SORT", "l", "LIMIT", "3", "10"}, false},
			{"[]", []string{"SORT", "l", "LIMIT", "5", "10"}, false},
			{"[]", []string{"SORT", "l", "LIMIT", "1", "0"}, false},
			{"[1 2 3 4 5]", []string{"SORT", "l", "LIMIT", "-10", "-1"}, false},
			{"[3 4 5]", []string{"SORT", "l", "LIMIT", "2", "-5"}, false},
			{"[1]", []string{"SORT", "l", "LIMIT", "-10", "1"}, false},
			{"[5 4]", []string{"SORT", "l", "LIMIT", "0", "2", "DESC"}, false},
			{"[1 2 3 4 5]", []string{"SORT", "l", "LIMIT", "0", "9223372036854775807"}, false},
			{"!ERR value is not an integer or out of range", []string{"SORT", "l", "LIMIT", "x", "1"}, false},
			{"!ERR value is not an integer or out of range", []string{"SORT", "l", "LIMIT", "0", "1.5"}, false},
			{"!ERR syntax error", []string{"SORT", "l", "LIMIT", "0"}, false},
			{"[]", []string{"SORT", "nokey", "LIMIT", "0", "5"}, false},
		}},
		{"set and zset", []sortStep{
			{"(4)", []string{"SADD", "s", "3", "1", "2", "10"}, false},
			{"[1 2 3 10]", []string{"SORT", "s"}, false},
			{"[1 10 2 3]", []string{"SORT", "s", "ALPHA"}, false},
			{"[3 1 2 10]", []string{"SORT", "s", "BY", "nosort"}, false}, // dict order
			{"(4)", []string{"ZADD", "z", "1", "c", "2", "a", "3", "d", "4", "b"}, false},
			{"[a b c d]", []string{"SORT", "z", "ALPHA"}, false},
			{"[d c b a]", []string{"SORT", "z", "ALPHA", "DESC"}, false},
			{"!ERR One or more scores can't be converted into double", []string{"SORT", "z"}, false},
		}},
		{"nosort", []sortStep{
			{"(5)", []string{"ZADD", "z", "1", "a", "5", "b", "2", "c", "10", "d", "3", "e"}, false},
			{"[a c e b d]", []string{"SORT", "z", "BY", "nosort", "ASC"}, false},
			{"[d b e c a]", []string{"SORT", "z", "BY", "nosort", "DESC"}, false},
			{"[a]", []string{"SORT", "z", "BY", "nosort", "ASC", "LIMIT", "0", "1"}, false},
			{"[d]", []string{"SORT", "z", "BY", "nosort", "DESC", "LIMIT", "0", "1"}, false},
			{"[a c]", []string{"SORT", "z", "BY", "nosort", "LIMIT", "0", "2"}, false},
			{"[d b]", []string{"SORT", "z", "BY", "nosort", "DESC", "LIMIT", "0", "2"}, false},
			{"[e b]", []string{"SORT", "z", "BY", "nosort", "LIMIT", "2", "2"}, false},
			{"[e c]", []string{"SORT", "z", "BY", "nosort", "DESC", "LIMIT", "2", "2"}, false},
			{"[]", []string{"SORT", "z", "BY", "nosort", "LIMIT", "5", "10"}, false},
			{"[a c e b d]", []string{"SORT", "z", "BY", "nosort", "LIMIT", "-10", "100"}, false},
			{"(5)", []string{"RPUSH", "l", "5", "3", "4", "1", "2"}, false},
			{"[5 3 4 1 2]", []string{"SORT", "l", "BY", "nosort"}, false},
			{"[2 1 4 3 5]", []string{"SORT", "l", "BY", "nosort", "DESC"}, false},
			{"[3 4 1]", []string{"SORT", "l", "BY", "nosort", "LIMIT", "1", "3"}, false},
			{"[1 4 3]", []string{"SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "3"}, false},
			{"(5)", []string{"SORT", "l", "BY", "nosort", "STORE", "dst"}, false},
			{"[5 3 4 1 2]", []string{"LRANGE", "dst", "0", "-1"}, false},
			{"(3)", []string{"SORT", "l", "BY", "nosort", "LIMIT", "0", "3", "STORE", "dst"}, false},
			{"[5 3 4]", []string{"LRANGE", "dst", "0", "-1"}, false},
			{"[5 3 4 1 2]", []string{"SORT_RO", "l", "BY", "nosort"}, false},
		}},
		{"store", []sortStep{
			{"(3)", []string{"RPUSH", "l", "c", "a", "b"}, false},
			{"OK", []string{"SET", "dst", "old"}, false},
			{"(1)", []string{"PEXPIRE", "dst", "100000"}, false},
			{"(3)", []string{"SORT", "l", "ALPHA", "STORE", "dst"}, false},
			{"[a b c]", []string{"LRANGE", "dst", "0", "-1"}, false},
			{"(-1)", []string{"TTL", "dst"}, false},
			{"(1)", []string{"SORT", "l", "ALPHA", "LIMIT", "2", "5", "store", "dst"}, false},
			{"[c]", []string{"LRANGE", "dst", "0", "-1"}, false},
			// Numeric conversion fails even when LIMIT selects nothing.
			{"!ERR One or more scores can't be converted into double", []string{"SORT", "l", "LIMIT", "0", "0", "STORE", "dst"}, false},
			{"(0)", []string{"SORT", "l", "ALPHA", "LIMIT", "0", "0", "STORE", "dst"}, false},
			{"(0)", []string{"EXISTS", "dst"}, false},
			{"(0)", []string{"SORT", "nokey", "STORE", "dst"}, false},
			{"(0)", []string{"EXISTS", "dst"}, false},
			// Storing onto the source key itself.
			{"(3)", []string{"SORT", "l", "ALPHA", "DESC", "STORE", "l"}, false},
			{"[c b a]", []string{"LRANGE", "l", "0", "-1"}, false},
			// The last STORE wins.
			{"(3)", []string{"SORT", "l", "ALPHA", "STORE", "x", "STORE", "y"}, false},
			{"(0)", []string{"EXISTS", "x"}, false},
			{"[a b c]", []string{"LRANGE", "y", "0", "-1"}, false},
			// A set with BY nosort is sorted alphabetically when stored.
			{"(4)", []string{"SADD", "s", "b", "10", "a", "9"}, false},
			{"(4)", []string{"SORT", "s", "BY", "nosort", "STORE", "dst"}, false},
			{"[10 9 a b]", []string{"LRANGE", "dst", "0", "-1"}, false},
			{"(2)", []string{"SORT", "s", "BY", "nosort", "LIMIT", "1", "2", "STORE", "dst"}, false},
			{"[9 a]", []string{"LRANGE", "dst", "0", "-1"}, false},
		}},
		{"errors", []sortStep{
			{"(1)", []string{"RPUSH", "l", "1"}, false},
			{"!ERR syntax error", []string{"SORT", "l", "FOO"}, false},
			{"!ERR syntax error", []string{"SORT", "l", "BY"}, false},
			{"!ERR syntax error", []string{"SORT", "l", "STORE"}, false},
			{"!ERR syntax error", []string{"SORT_RO", "l", "STORE", "dst"}, false},
			{"!ERR syntax error", []string{"SORT_RO", "l", "GET"}, false},
			{"!ERR wrong number of arguments for 'sort' command", []string{"SORT"}, false},
			{"!ERR wrong number of arguments for 'sort_ro' command", []string{"SORT_RO"}, false},
			{"!ERR BY option of SORT denied in Cluster mode.", []string{"SORT", "l", "BY", "w_*"}, false},
			{"!ERR BY option of SORT denied in Cluster mode.", []string{"SORT_RO", "l", "BY", "h_*->f"}, false},
			{"!ERR GET option of SORT denied in Cluster mode.", []string{"SORT", "l", "GET", "#"}, false},
			{"!ERR GET option of SORT denied in Cluster mode.", []string{"SORT_RO", "l", "GET", "k_*"}, false},
			// Options are parsed left to right: the first bad one is reported.
			{"!ERR syntax error", []string{"SORT", "l", "FOO", "GET", "#"}, false},
			{"!ERR GET option of SORT denied in Cluster mode.", []string{"SORT", "l", "GET", "#", "FOO"}, false},
			// Syntax is checked before the type.
			{"OK", []string{"SET", "str", "x"}, false},
			{"!ERR syntax error", []string{"SORT", "str", "FOO"}, false},
			{wrong, []string{"SORT", "str"}, false},
			{wrong, []string{"SORT_RO", "str"}, false},
			{wrong, []string{"SORT", "str", "STORE", "dst"}, false},
			{"(1)", []string{"HSET", "h", "f", "v"}, false},
			{wrong, []string{"SORT", "h", "ALPHA"}, false},
			{"[]", []string{"SORT", "nokey"}, false},
			{"[]", []string{"SORT_RO", "nokey", "ALPHA", "DESC"}, false},
		}},
		{"patterns outside cluster mode", []sortStep{
			{"(3)", []string{"RPUSH", "l", "a", "b", "c"}, false},
			{"OK", []string{"MSET", "w_a", "3", "w_b", "1", "w_c", "2", "v_a", "A", "v_c", "C"}, false},
			{"[b c a]", []string{"SORT", "l", "BY", "w_*"}, true},
			{"[a c b]", []string{"SORT", "l", "BY", "w_*", "DESC"}, true},
			{"[c a]", []string{"SORT", "l", "BY", "w_*", "LIMIT", "1", "2"}, true},
			{"[<nil> b C c A a]", []string{"SORT", "l", "BY", "w_*", "GET", "v_*", "GET", "#"}, true},
			{"(6)", []string{"SORT", "l", "BY", "w_*", "GET", "v_*", "GET", "#", "STORE", "dst"}, true},
			{"[ b C c A a]", []string{"LRANGE", "dst", "0", "-1"}, false},
			{"(2)", []string{"HSET", "h_a", "f", "z", "g", "3"}, false},
			{"(2)", []string{"HSET", "h_b", "f", "y", "g", "1"}, false},
			// Missing weights sort first with ALPHA, as 0 numerically.
			{"[c b a]", []string{"SORT", "l", "BY", "h_*->f", "ALPHA"}, true},
			{"[c b a]", []string{"SORT", "l", "BY", "h_*->g"}, true},
			{"[z y <nil>]", []string{"SORT", "l", "GET", "h_*->f", "ALPHA"}, true},
			// "->" with no field name is part of the key name; GET on a
			// constant pattern or a non-string key gives nil.
			{"OK", []string{"SET", "k_a->", "x"}, false},
			{"[x <nil> <nil>]", []string{"SORT", "l", "GET", "k_*->", "ALPHA"}, true},
			{"[<nil> <nil> <nil>]", []string{"SORT", "l", "GET", "const", "ALPHA"}, true},
			{"[<nil> <nil> <nil>]", []string{"SORT", "l", "GET", "h_*", "ALPHA"}, true},
			{"[<nil> <nil> <nil>]", []string{"SORT", "l", "GET", "w_*->f", "ALPHA"}, true},
			{"OK", []string{"SET", "w_b", "x"}, false},
			{"!ERR One or more scores can't be converted into double", []string{"SORT", "l", "BY", "w_*"}, true},
			{"[c a b]", []string{"SORT_RO", "l", "BY", "w_*", "ALPHA"}, true},
			{"!ERR syntax error", []string{"SORT_RO", "l", "STORE", "x"}, true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runSortSteps(t, tc.steps) })
	}
}

func TestSortKeys(t *testing.T) {
	tests := []struct {
		args []string
		want []int
	}{
		{[]string{"sort", "k"}, []int{1}},
		{[]string{"sort", "k", "STORE", "d"}, []int{1, 3}},
		{[]string{"sort", "k", "store", "d", "limit", "0", "1", "STORE", "e"}, []int{1, 8}},
		{[]string{"sort", "k", "GET", "store", "BY", "store"}, []int{1}},
		{[]string{"sort", "k", "LIMIT", "store", "x"}, []int{1}},
		{[]string{"sort", "k", "STORE"}, []int{1}},
	}
	for _, tc := range tests {
		bs := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			bs[i] = []byte(a)
		}
		if got := Lookup([]byte("sort")).KeyPositions(bs); !deepEqual(got, tc.want) {
			t.Errorf("%v: got %v, want %v", tc.args, got, tc.want)
		}
	}
	ro := Lookup([]byte("SORT_RO"))
	if got := ro.KeyPositions([][]byte{[]byte("sort_ro"), []byte("k"), []byte("ALPHA")}); !deepEqual(got, []int{1}) {
		t.Errorf("sort_ro keys: %v", got)
	}
	s := Lookup([]byte("sort"))
	if s.Flags != FlagWrite|FlagDenyOOM|FlagMovableKeys || s.Arity != -2 {
		t.Errorf("sort flags %v arity %d", s.Flags.Names(), s.Arity)
	}
	if ro.Flags != FlagReadOnly|FlagMovableKeys || ro.Arity != -2 {
		t.Errorf("sort_ro flags %v arity %d", ro.Flags.Names(), ro.Arity)
	}
}

// TestSortDeterminism builds the same data on two databases through
// different histories (so sets and zsets have different dict orders) and
// checks that every sort, stored or not, gives the same result.
func TestSortDeterminism(t *testing.T) {
	a, b := newTestDB(t), newTestDB(t)
	members := []string{"5", "3", "3.0", "03", "1e0", "1", "10", "-1", "x1", "9"}
	for i := range members {
		a.do("SADD", "s", members[i])
		b.do("SADD", "s", members[len(members)-1-i])
		a.do("RPUSH", "l", members[i])
		b.do("RPUSH", "l", members[i])
		a.do("ZADD", "z", "1", members[i])
		b.do("ZADD", "z", "1", members[len(members)-1-i])
	}
	// Delete and re-add so the dicts' internal orders differ further.
	a.do("SREM", "s", "5")
	a.do("SADD", "s", "5")
	b.do("ZREM", "z", "3")
	b.do("ZADD", "z", "1", "3")
	// Guard: the histories must really give different set orders.
	if show(a.do("SORT", "s", "BY", "nosort")) == show(b.do("SORT", "s", "BY", "nosort")) {
		t.Fatal("sets have the same dict order: the test proves nothing")
	}
	cmds := [][]string{
		{"SORT", "s", "ALPHA"},
		{"SORT", "s", "ALPHA", "DESC", "LIMIT", "2", "5"},
		{"SORT", "z", "ALPHA"},
		{"SORT", "z", "BY", "nosort"},
		{"SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "4"},
		{"SORT", "s", "BY", "nosort", "STORE", "d1"},
		{"SORT", "z", "ALPHA", "STORE", "d2"},
		{"SORT", "l", "ALPHA", "STORE", "d3"},
	}
	for _, cmd := range cmds {
		ra, rb := show(a.do(cmd...)), show(b.do(cmd...))
		if ra != rb {
			t.Errorf("%v: %q vs %q", cmd, ra, rb)
		}
	}
	for _, k := range []string{"d1", "d2", "d3"} {
		ra, rb := show(a.do("LRANGE", k, "0", "-1")), show(b.do("LRANGE", k, "0", "-1"))
		if ra != rb {
			t.Errorf("%s: %q vs %q", k, ra, rb)
		}
	}
	// Numeric sorts with equal scores: remove the non-numeric member.
	a.do("SREM", "s", "x1")
	b.do("SREM", "s", "x1")
	for _, cmd := range [][]string{{"SORT", "s"}, {"SORT", "s", "DESC"}, {"SORT", "s", "STORE", "d4"}} {
		ra, rb := show(a.do(cmd...)), show(b.do(cmd...))
		if ra != rb {
			t.Errorf("%v: %q vs %q", cmd, ra, rb)
		}
	}
	if got := show(a.do("SORT", "s")); got != "[-1 1 1e0 03 3 3.0 5 9 10]" {
		t.Errorf("numeric set sort: %q", got)
	}
}
