package raftfsm

import (
	"sort"
	"strings"
	"testing"
)

func TestSetCommands(t *testing.T) {
	wrong := "!" + ErrWrongType.Str
	tests := []struct {
		name  string
		steps []hsStep
	}{
		{"sadd srem smembers", []hsStep{
			{"(3)", []string{"SADD", "s", "a", "b", "c"}},
			{"(1)", []string{"sadd", "s", "a", "d", "d"}},
			{"[a b c d]", []string{"SMEMBERS", "s"}},
			{"[]", []string{"SMEMBERS", "nokey"}},
			{"(4)", []string{"SCARD", "s"}},
			{"(0)", []string{"SCARD", "nokey"}},
			{"(2)", []string{"SREM", "s", "a", "zz", "b"}},
			{"(0)", []string{"SREM", "nokey", "a"}},
			{"(2)", []string{"SREM", "s", "c", "d", "e"}},
			{"(0)", []string{"t.exists", "s"}},
		}},
		{"sismember smismember", []hsStep{
			{"(2)", []string{"SADD", "s", "a", "b"}},
			{"(1)", []string{"SISMEMBER", "s", "a"}},
			{"(0)", []string{"SISMEMBER", "s", "z"}},
			{"(0)", []string{"SISMEMBER", "nokey", "z"}},
			{"[(1) (0) (1)]", []string{"SMISMEMBER", "s", "a", "z", "b"}},
			{"[(0) (0)]", []string{"SMISMEMBER", "nokey", "a", "b"}},
		}},
		{"wrongtype", []hsStep{
			{"", []string{"t.setstr", "str", "x"}},
			{"(1)", []string{"SADD", "s", "a"}},
			{wrong, []string{"SADD", "str", "a"}},
			{wrong, []string{"SREM", "str", "a"}},
			{wrong, []string{"SMEMBERS", "str"}},
			{wrong, []string{"SISMEMBER", "str", "a"}},
			{wrong, []string{"SMISMEMBER", "str", "a"}},
			{wrong, []string{"SCARD", "str"}},
			{wrong, []string{"SPOP", "str"}},
			{wrong, []string{"SPOP", "str", "0"}},
			{wrong, []string{"SRANDMEMBER", "str"}},
			{wrong, []string{"SRANDMEMBER", "str", "3"}},
			{wrong, []string{"SINTER", "nokey", "str"}},
			{wrong, []string{"SINTER", "s", "str"}},
			{wrong, []string{"SUNION", "nokey", "str"}},
			{wrong, []string{"SDIFF", "nokey", "str"}},
			{wrong, []string{"SDIFF", "str", "nokey"}},
			{wrong, []string{"SINTERSTORE", "d", "nokey", "str"}},
			{wrong, []string{"SUNIONSTORE", "d", "s", "str"}},
			{wrong, []string{"SDIFFSTORE", "d", "s", "str"}},
			{wrong, []string{"SINTERCARD", "2", "nokey", "str"}},
			{wrong, []string{"SSCAN", "str", "0"}},
			{wrong, []string{"SMOVE", "str", "s", "a"}},
			{wrong, []string{"SMOVE", "s", "str", "a"}},
			{"(0)", []string{"SMOVE", "nokey", "str", "a"}},
			{"[a]", []string{"SMEMBERS", "s"}},
		}},
		{"spop", []hsStep{
			{"<nil>", []string{"SPOP", "nokey"}},
			{"[]", []string{"SPOP", "nokey", "3"}},
			{"(1)", []string{"SADD", "s", "only"}},
			{"!ERR value is out of range, must be positive", []string{"SPOP", "s", "-1"}},
			{"!ERR value is not an integer or out of range", []string{"SPOP", "s", "x"}},
			{"!ERR syntax error", []string{"SPOP", "s", "1", "2"}},
			{"[]", []string{"SPOP", "s", "0"}},
			{"only", []string{"SPOP", "s"}},
			{"(0)", []string{"t.exists", "s"}},
			{"(3)", []string{"SADD", "s", "a", "b", "c"}},
			{"[a b c]", []string{"SPOP", "s", "10"}},
			{"(0)", []string{"t.exists", "s"}},
		}},
		{"srandmember", []hsStep{
			{"<nil>", []string{"SRANDMEMBER", "nokey"}},
			{"[]", []string{"SRANDMEMBER", "nokey", "3"}},
			{"(3)", []string{"SADD", "s", "a", "b", "c"}},
			{"[]", []string{"SRANDMEMBER", "s", "0"}},
			{"[a b c]", []string{"SRANDMEMBER", "s", "3"}},
			{"[a b c]", []string{"SRANDMEMBER", "s", "100"}},
			{"!ERR syntax error", []string{"SRANDMEMBER", "s", "1", "2"}},
			{"!ERR value is not an integer or out of range", []string{"SRANDMEMBER", "s", "x"}},
			{"!ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807", []string{"SRANDMEMBER", "s", "-9223372036854775808"}},
			{"!ERR value is out of range", []string{"SRANDMEMBER", "s", "-100000000"}},
		}},
		{"sinter sunion sdiff", []hsStep{
			{"(4)", []string{"SADD", "s1", "a", "b", "c", "d"}},
			{"(3)", []string{"SADD", "s2", "c", "d", "e"}},
			{"(2)", []string{"SADD", "s3", "d", "c"}},
			{"[d c]", []string{"SINTER", "s1", "s2", "s3"}}, // walks the smallest set, s3
			{"[c d]", []string{"SINTER", "s1", "s2"}},
			{"[]", []string{"SINTER", "s1", "nokey"}},
			{"[a b c d]", []string{"SINTER", "s1", "s1"}},
			{"[a b c d e]", []string{"SUNION", "s1", "nokey", "s2", "s3"}},
			{"[]", []string{"SUNION", "nokey"}},
			{"[a b]", []string{"SDIFF", "s1", "s2"}},
			{"[a b c d]", []string{"SDIFF", "s1", "nokey"}},
			{"[]", []string{"SDIFF", "nokey", "s1"}},
			{"[]", []string{"SDIFF", "s1", "s1"}},
			{"[e]", []string{"SDIFF", "s2", "s1", "nokey"}},
		}},
		{"store variants", []hsStep{
			{"(4)", []string{"SADD", "s1", "a", "b", "c", "d"}},
			{"(3)", []string{"SADD", "s2", "c", "d", "e"}},
			{"", []string{"t.setstr", "dst", "old"}},
			{"(2)", []string{"SINTERSTORE", "dst", "s1", "s2"}},
			{"[c d]", []string{"SMEMBERS", "dst"}},
			{"(5)", []string{"SUNIONSTORE", "dst", "s1", "s2"}},
			{"[a b c d e]", []string{"SMEMBERS", "dst"}},
			{"(2)", []string{"SDIFFSTORE", "dst", "s1", "s2"}},
			{"[a b]", []string{"SMEMBERS", "dst"}},
			{"(0)", []string{"SINTERSTORE", "dst", "s1", "nokey"}},
			{"(0)", []string{"t.exists", "dst"}},
			{"(2)", []string{"SDIFFSTORE", "dst", "s1", "s2"}},
			{"(0)", []string{"SDIFFSTORE", "dst", "s1", "s1"}},
			{"(0)", []string{"t.exists", "dst"}},
			{"(0)", []string{"SUNIONSTORE", "dst", "nokey"}},
			{"(0)", []string{"t.exists", "dst"}},
			// The destination may be one of the sources.
			{"(5)", []string{"SUNIONSTORE", "s1", "s1", "s2"}},
			{"[a b c d e]", []string{"SMEMBERS", "s1"}},
		}},
		{"sintercard", []hsStep{
			{"(4)", []string{"SADD", "s1", "a", "b", "c", "d"}},
			{"(3)", []string{"SADD", "s2", "c", "d", "e"}},
			{"(2)", []string{"SINTERCARD", "2", "s1", "s2"}},
			{"(1)", []string{"SINTERCARD", "2", "s1", "s2", "LIMIT", "1"}},
			{"(2)", []string{"SINTERCARD", "2", "s1", "s2", "limit", "0"}},
			{"(2)", []string{"SINTERCARD", "2", "s1", "s2", "LIMIT", "10"}},
			{"(4)", []string{"SINTERCARD", "1", "s1"}},
			{"(0)", []string{"SINTERCARD", "2", "s1", "nokey"}},
			{"!ERR numkeys should be greater than 0", []string{"SINTERCARD", "0", "s1"}},
			{"!ERR numkeys should be greater than 0", []string{"SINTERCARD", "a", "s1"}},
			{"!ERR Number of keys can't be greater than number of args", []string{"SINTERCARD", "2", "s1"}},
			{"!ERR syntax error", []string{"SINTERCARD", "1", "s1", "s2"}},
			{"!ERR syntax error", []string{"SINTERCARD", "1", "s1", "LIMIT"}},
			{"!ERR LIMIT can't be negative", []string{"SINTERCARD", "1", "s1", "LIMIT", "-1"}},
			{"!ERR LIMIT can't be negative", []string{"SINTERCARD", "1", "s1", "LIMIT", "a"}},
			{"!ERR wrong number of arguments for 'sintercard' command", []string{"SINTERCARD", "1"}},
		}},
		{"smove", []hsStep{
			{"(2)", []string{"SADD", "src", "a", "b"}},
			{"(1)", []string{"SADD", "dst", "x"}},
			{"(0)", []string{"SMOVE", "src", "dst", "zz"}},
			{"(1)", []string{"SMOVE", "src", "dst", "a"}},
			{"[x a]", []string{"SMEMBERS", "dst"}},
			{"(1)", []string{"SMOVE", "src", "src", "b"}},
			{"(0)", []string{"SMOVE", "src", "src", "zz"}},
			{"(1)", []string{"SMOVE", "src", "new", "b"}},
			{"(0)", []string{"t.exists", "src"}},
			{"[b]", []string{"SMEMBERS", "new"}},
			{"(1)", []string{"SADD", "src", "x"}},
			{"(1)", []string{"SMOVE", "src", "dst", "x"}}, // already in dst
			{"[x a]", []string{"SMEMBERS", "dst"}},
		}},
		{"sscan", []hsStep{
			{"[0 []]", []string{"SSCAN", "nokey", "0"}},
			{"[0 []]", []string{"SSCAN", "nokey", "0", "BAD"}},
			{"!ERR invalid cursor", []string{"SSCAN", "nokey", "x"}},
			{"(3)", []string{"SADD", "s", "a1", "b1", "a2"}},
			{"[0 [a2 b1 a1]]", []string{"SSCAN", "s", "0"}},
			{"[0 [a2 a1]]", []string{"SSCAN", "s", "0", "match", "a*"}},
			{"[2 [a2 b1]]", []string{"SSCAN", "s", "0", "COUNT", "2"}},
			{"[0 [a1]]", []string{"SSCAN", "s", "2", "COUNT", "2"}},
			{"!ERR syntax error", []string{"SSCAN", "s", "0", "COUNT", "-1"}},
			{"!ERR syntax error", []string{"SSCAN", "s", "0", "FOO", "bar"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { hsRunSteps(t, tt.steps) })
	}
}

func TestSetRandom(t *testing.T) {
	d := newTestDB(t)
	args := []string{"SADD", "s"}
	for i := 0; i < 100; i++ {
		args = append(args, "m"+FormatInt(int64(i)))
	}
	d.expect("(100)", args...)
	member := func(s string) bool { return strings.HasPrefix(s, "m") }
	for _, n := range []string{"1", "10", "33", "34", "90", "99"} {
		r := d.read("SRANDMEMBER", "s", n)
		seen := map[string]bool{}
		for _, e := range r.Elems {
			if !member(e.Str) || seen[e.Str] {
				t.Fatalf("count %s: bad or repeated member %q", n, e.Str)
			}
			seen[e.Str] = true
		}
		if want, _ := ParseInt([]byte(n)); len(seen) != int(want) {
			t.Fatalf("count %s: got %d members", n, len(seen))
		}
	}
	if r := d.read("SRANDMEMBER", "s", "-500"); len(r.Elems) != 500 {
		t.Fatalf("count -500: got %d", len(r.Elems))
	}
	// SPOP with a count removes exactly the members it returns.
	popped := d.do("SPOP", "s", "40")
	if popped.Kind != KindSet || len(popped.Elems) != 40 {
		t.Fatalf("SPOP 40: %s", show(popped))
	}
	for _, e := range popped.Elems {
		if got := show(d.read("SISMEMBER", "s", e.Str)); got != "(0)" {
			t.Fatalf("popped %q still a member", e.Str)
		}
	}
	d.expect("(60)", "SCARD", "s")
	// Large count relative to size (Redis's "case 3") still pops distinct members.
	popped = d.do("SPOP", "s", "55")
	seen := map[string]bool{}
	for _, e := range popped.Elems {
		if seen[e.Str] {
			t.Fatalf("SPOP returned %q twice", e.Str)
		}
		seen[e.Str] = true
	}
	d.expect("(5)", "SCARD", "s")
}

// setDictKeys lists a set's members in dict order.
func setDictKeys(t *testing.T, d *testDB, key string) []string {
	t.Helper()
	v := NewCtx(d.db, d.now, false, 0).Get([]byte(key))
	s, ok := v.(*setValue)
	if !ok {
		t.Fatalf("%s is not a set", key)
	}
	out := make([]string, s.d.Len())
	for i := range out {
		out[i], _ = s.d.At(i)
	}
	return out
}

// TestSetDeterminism replays the same writes on two fresh databases: with
// the same per-entry seeds they must pop the same members and leave every
// set with the same members in the same dict order.
func TestSetDeterminism(t *testing.T) {
	script := [][]string{
		{"SADD", "a"}, {"SADD", "b"},
	}
	for i := 0; i < 200; i++ {
		script[0] = append(script[0], "x"+FormatInt(int64(i)))
		if i%3 == 0 {
			script[1] = append(script[1], "x"+FormatInt(int64(i)))
		}
	}
	script = append(script,
		[]string{"SPOP", "a"},
		[]string{"SPOP", "a", "7"},
		[]string{"SREM", "a", "x10", "x11", "x12"},
		[]string{"SPOP", "a", "150"},
		[]string{"SPOP", "b", "3"},
		[]string{"SINTERSTORE", "i", "a", "b"},
		[]string{"SUNIONSTORE", "u", "b", "a"},
		[]string{"SDIFFSTORE", "df", "b", "a"},
		[]string{"SMOVE", "b", "a", "x0"},
		[]string{"SPOP", "u", "5"},
	)
	run := func() ([]string, map[string][]string) {
		d := newTestDB(t)
		var replies []string
		for _, args := range script {
			replies = append(replies, show(d.do(args...)))
		}
		state := map[string][]string{}
		for _, k := range []string{"a", "b", "i", "u", "df"} {
			if NewCtx(d.db, d.now, false, 0).Exists([]byte(k)) {
				state[k] = setDictKeys(t, d, k)
			}
		}
		return replies, state
	}
	r1, s1 := run()
	r2, s2 := run()
	if !deepEqual(r1, r2) {
		t.Fatalf("replies differ:\n%v\n%v", r1, r2)
	}
	if !deepEqual(s1, s2) {
		t.Fatalf("dict order differs:\n%v\n%v", s1, s2)
	}
	if len(s1["u"]) == 0 || len(s1["df"]) == 0 {
		t.Fatalf("script did not exercise the stores: %v", s1)
	}
	// Different seeds must be able to choose differently (the PRNG is used).
	d := newTestDB(t)
	d.seed = 1000
	var other []string
	for _, args := range script {
		other = append(other, show(d.do(args...)))
	}
	if deepEqual(other, r1) {
		t.Fatal("SPOP ignores the entry seed")
	}
}

func TestSetCommandTable(t *testing.T) {
	want := map[string]string{
		"sadd": "-3 write denyoom fast 1/1/1", "srem": "-3 write fast 1/1/1",
		"smembers": "2 readonly 1/1/1", "sismember": "3 readonly fast 1/1/1",
		"smismember": "-3 readonly fast 1/1/1", "scard": "2 readonly fast 1/1/1",
		"spop": "-2 write fast 1/1/1", "srandmember": "-2 readonly 1/1/1",
		"smove": "4 write fast 1/2/1", "sinter": "-2 readonly 1/-1/1",
		"sunion": "-2 readonly 1/-1/1", "sdiff": "-2 readonly 1/-1/1",
		"sinterstore": "-3 write denyoom 1/-1/1", "sunionstore": "-3 write denyoom 1/-1/1",
		"sdiffstore": "-3 write denyoom 1/-1/1", "sintercard": "-3 readonly movablekeys 0/0/0",
		"sscan": "-3 readonly 1/1/1",
	}
	var names []string
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		cmd := Lookup([]byte(n))
		if cmd == nil {
			t.Fatalf("%s not registered", n)
		}
		got := FormatInt(int64(cmd.Arity)) + " " + strings.Join(cmd.Flags.Names(), " ") + " " +
			FormatInt(int64(cmd.First)) + "/" + FormatInt(int64(cmd.Last)) + "/" + FormatInt(int64(cmd.Step))
		if got != want[n] {
			t.Errorf("%s: got %q, want %q", n, got, want[n])
		}
	}
	keys := Lookup([]byte("sintercard")).KeyPositions
	for _, tt := range []struct {
		args []string
		want []int
	}{
		{[]string{"sintercard", "2", "a", "b", "LIMIT", "1"}, []int{2, 3}},
		{[]string{"sintercard", "1", "a"}, []int{2}},
		{[]string{"sintercard", "3", "a", "b"}, nil},
		{[]string{"sintercard", "0", "a"}, nil},
		{[]string{"sintercard", "x", "a"}, nil},
	} {
		bs := make([][]byte, len(tt.args))
		for i, a := range tt.args {
			bs[i] = []byte(a)
		}
		if got := keys(bs); !deepEqual(got, tt.want) {
			t.Errorf("keys(%v) = %v, want %v", tt.args, got, tt.want)
		}
	}
}
