package raftfsm

import (
	"sort"
	"strings"
	"testing"
)

// hsStep is one command and the rendered reply it must produce. Two
// pseudo commands keep these tests independent of other types' files:
// "t.exists key" and "t.setstr key value".
type hsStep struct {
	want string
	args []string
}

func hsRunSteps(t *testing.T, steps []hsStep) {
	t.Helper()
	d := newTestDB(t)
	for _, s := range steps {
		switch s.args[0] {
		case "t.exists":
			got := show(Int(0))
			if NewCtx(d.db, d.now, false, 0).Exists([]byte(s.args[1])) {
				got = show(Int(1))
			}
			if got != s.want {
				t.Fatalf("%v: got %q, want %q", s.args, got, s.want)
			}
		case "t.setstr":
			NewCtx(d.db, d.now, true, 0).Set([]byte(s.args[1]), newStr([]byte(s.args[2])))
		default:
			d.expect(s.want, s.args...)
		}
	}
}

func TestHashCommands(t *testing.T) {
	wrong := "!" + ErrWrongType.Str
	tests := []struct {
		name  string
		steps []hsStep
	}{
		{"hset hget", []hsStep{
			{"(2)", []string{"HSET", "h", "a", "1", "b", "2"}},
			{"(1)", []string{"hset", "h", "a", "10", "c", "3"}},
			{"10", []string{"HGET", "h", "a"}},
			{"<nil>", []string{"HGET", "h", "zz"}},
			{"<nil>", []string{"HGET", "nokey", "a"}},
			{"[a 10 b 2 c 3]", []string{"HGETALL", "h"}},
			{"(3)", []string{"HLEN", "h"}},
			{"(0)", []string{"HLEN", "nokey"}},
			{"!ERR wrong number of arguments for 'hset' command", []string{"HSET", "h", "a", "1", "b"}},
			{"!ERR wrong number of arguments for 'hmset' command", []string{"HMSET", "h", "a", "1", "b"}},
			{"!ERR wrong number of arguments for 'hset' command", []string{"HSET", "h", "a"}},
		}},
		{"hmset hmget", []hsStep{
			{"OK", []string{"HMSET", "h", "f1", "v1", "f2", "v2"}},
			{"[v1 <nil> v2]", []string{"HMGET", "h", "f1", "nope", "f2"}},
			{"[<nil> <nil>]", []string{"HMGET", "nokey", "a", "b"}},
			{"", []string{"t.setstr", "s", "x"}},
			{wrong, []string{"HMGET", "s", "a"}},
		}},
		{"hkeys hvals hgetall empty", []hsStep{
			{"[]", []string{"HKEYS", "nokey"}},
			{"[]", []string{"HVALS", "nokey"}},
			{"[]", []string{"HGETALL", "nokey"}},
			{"(2)", []string{"HSET", "h", "x", "1", "y", "2"}},
			{"[x y]", []string{"HKEYS", "h"}},
			{"[1 2]", []string{"HVALS", "h"}},
		}},
		{"hdel removes empty key", []hsStep{
			{"(2)", []string{"HSET", "h", "a", "1", "b", "2"}},
			{"(0)", []string{"HDEL", "h", "zz"}},
			{"(1)", []string{"HDEL", "h", "a", "a"}},
			{"(1)", []string{"HDEL", "h", "b", "c"}},
			{"(0)", []string{"t.exists", "h"}},
			{"(0)", []string{"HDEL", "h", "b"}},
		}},
		{"hsetnx hexists hstrlen", []hsStep{
			{"(1)", []string{"HSETNX", "h", "a", "hello"}},
			{"(0)", []string{"HSETNX", "h", "a", "other"}},
			{"hello", []string{"HGET", "h", "a"}},
			{"(1)", []string{"HEXISTS", "h", "a"}},
			{"(0)", []string{"HEXISTS", "h", "b"}},
			{"(0)", []string{"HEXISTS", "nokey", "b"}},
			{"(5)", []string{"HSTRLEN", "h", "a"}},
			{"(0)", []string{"HSTRLEN", "h", "b"}},
			{"(0)", []string{"HSTRLEN", "nokey", "b"}},
		}},
		{"hincrby", []hsStep{
			{"(5)", []string{"HINCRBY", "h", "n", "5"}},
			{"(2)", []string{"HINCRBY", "h", "n", "-3"}},
			{"!ERR value is not an integer or out of range", []string{"HINCRBY", "h", "n", "x"}},
			{"!ERR value is not an integer or out of range", []string{"HINCRBY", "nokey", "n", "1.5"}},
			{"(0)", []string{"t.exists", "nokey"}},
			{"(1)", []string{"HSET", "h", "s", "abc"}},
			{"!ERR hash value is not an integer", []string{"HINCRBY", "h", "s", "1"}},
			{"(1)", []string{"HSET", "h", "big", "9223372036854775806"}},
			{"(9223372036854775807)", []string{"HINCRBY", "h", "big", "1"}},
			{"!ERR increment or decrement would overflow", []string{"HINCRBY", "h", "big", "1"}},
			{"(1)", []string{"HSET", "h", "neg", "-9223372036854775484"}},
			{"(-9223372036854775485)", []string{"HINCRBY", "h", "neg", "-1"}},
			{"!ERR increment or decrement would overflow", []string{"HINCRBY", "h", "neg", "-9223372036854775000"}},
		}},
		{"hincrbyfloat", []hsStep{
			{"10.5", []string{"HINCRBYFLOAT", "h", "f", "10.5"}},
			{"10.6", []string{"HINCRBYFLOAT", "h", "f", "0.1"}},
			{"10.6", []string{"HGET", "h", "f"}},
			{"0.1", []string{"HINCRBYFLOAT", "h", "p", "0.1"}},
			{"0.3", []string{"HINCRBYFLOAT", "h", "p", "0.2"}},
			{"5000", []string{"HINCRBYFLOAT", "h", "g", "5.0e3"}},
			{"0", []string{"HINCRBYFLOAT", "h", "z", "-0"}},
			{"(1)", []string{"HSET", "h", "i", "17"}},
			{"17.5", []string{"HINCRBYFLOAT", "h", "i", "0.5"}},
			{"!ERR value is not a valid float", []string{"HINCRBYFLOAT", "h", "f", "abc"}},
			{"!ERR value is NaN or Infinity", []string{"HINCRBYFLOAT", "h", "f", "+inf"}},
			{"(1)", []string{"HSET", "h", "s", "abc"}},
			{"!ERR hash value is not a float", []string{"HINCRBYFLOAT", "h", "s", "1"}},
			{"(1)", []string{"HSET", "h", "m", "1.1e4932"}},
			{"!ERR increment would produce NaN or Infinity", []string{"HINCRBYFLOAT", "h", "m", "1e4931"}},
			{"(1)", []string{"HSET", "h", "m2", "1e4933"}},
			{"!ERR hash value is not a float", []string{"HINCRBYFLOAT", "h", "m2", "1"}},
		}},
		{"wrongtype", []hsStep{
			{"", []string{"t.setstr", "s", "x"}},
			{wrong, []string{"HSET", "s", "a", "1"}},
			{wrong, []string{"HMSET", "s", "a", "1"}},
			{wrong, []string{"HSETNX", "s", "a", "1"}},
			{wrong, []string{"HGET", "s", "a"}},
			{wrong, []string{"HGETALL", "s"}},
			{wrong, []string{"HKEYS", "s"}},
			{wrong, []string{"HVALS", "s"}},
			{wrong, []string{"HDEL", "s", "a"}},
			{wrong, []string{"HEXISTS", "s", "a"}},
			{wrong, []string{"HLEN", "s"}},
			{wrong, []string{"HSTRLEN", "s", "a"}},
			{wrong, []string{"HINCRBY", "s", "a", "1"}},
			{wrong, []string{"HINCRBYFLOAT", "s", "a", "1"}},
			{wrong, []string{"HSCAN", "s", "0"}},
			{wrong, []string{"HRANDFIELD", "s"}},
			{wrong, []string{"HRANDFIELD", "s", "2"}},
		}},
		{"hscan", []hsStep{
			{"[0 []]", []string{"HSCAN", "nokey", "0"}},
			{"[0 []]", []string{"HSCAN", "nokey", "0", "COUNT", "0"}},
			{"!ERR invalid cursor", []string{"HSCAN", "nokey", "abc"}},
			{"!ERR invalid cursor", []string{"HSCAN", "nokey", " 1"}},
			{"(3)", []string{"HSET", "h", "a1", "1", "b1", "2", "a2", "3"}},
			{"[0 [a2 3 b1 2 a1 1]]", []string{"HSCAN", "h", "0"}},
			{"[0 [a2 3 a1 1]]", []string{"HSCAN", "h", "0", "MATCH", "a*"}},
			{"[2 [a2 3 b1 2]]", []string{"HSCAN", "h", "0", "COUNT", "2"}},
			{"[0 [a1 1]]", []string{"HSCAN", "h", "2", "COUNT", "2"}},
			{"!ERR syntax error", []string{"HSCAN", "h", "0", "COUNT", "0"}},
			{"!ERR value is not an integer or out of range", []string{"HSCAN", "h", "0", "COUNT", "x"}},
			{"!ERR syntax error", []string{"HSCAN", "h", "0", "TYPE", "string"}},
			{"!ERR syntax error", []string{"HSCAN", "h", "0", "MATCH"}},
		}},
		{"hrandfield errors", []hsStep{
			{"(3)", []string{"HSET", "h", "a", "1", "b", "2", "c", "3"}},
			{"<nil>", []string{"HRANDFIELD", "nokey"}},
			{"[]", []string{"HRANDFIELD", "nokey", "5"}},
			{"[]", []string{"HRANDFIELD", "h", "0"}},
			{"!ERR syntax error", []string{"HRANDFIELD", "h", "1", "foo"}},
			{"!ERR syntax error", []string{"HRANDFIELD", "h", "1", "withvalues", "x"}},
			{"!ERR value is not an integer or out of range", []string{"HRANDFIELD", "h", "x"}},
			{"!ERR value is out of range", []string{"HRANDFIELD", "h", "-9223372036854770000", "withvalues"}},
			{"!ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807", []string{"HRANDFIELD", "h", "-9223372036854775808", "withvalues"}},
			{"!ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807", []string{"HRANDFIELD", "h", "-9223372036854775808"}},
			{"[a b c]", []string{"HRANDFIELD", "h", "10"}},
			{"[a 1 b 2 c 3]", []string{"HRANDFIELD", "h", "3", "WITHVALUES"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { hsRunSteps(t, tt.steps) })
	}
}

func TestHashRandField(t *testing.T) {
	d := newTestDB(t)
	vals := map[string]string{}
	args := []string{"HSET", "h"}
	for i := 0; i < 50; i++ {
		f := "f" + FormatInt(int64(i))
		vals[f] = "v" + FormatInt(int64(i))
		args = append(args, f, vals[f])
	}
	d.expect("(50)", args...)

	single := d.read("HRANDFIELD", "h")
	if _, ok := vals[single.Str]; single.Kind != KindBulk || !ok {
		t.Fatalf("HRANDFIELD h: got %s", show(single))
	}
	// Positive counts: distinct fields, both sampling strategies.
	for _, n := range []string{"1", "5", "20", "40", "49", "50"} {
		r := d.read("HRANDFIELD", "h", n)
		seen := map[string]bool{}
		for _, e := range r.Elems {
			if _, ok := vals[e.Str]; !ok || seen[e.Str] {
				t.Fatalf("count %s: bad or repeated field %q in %s", n, e.Str, show(r))
			}
			seen[e.Str] = true
		}
		if want, _ := ParseInt([]byte(n)); len(r.Elems) != int(want) {
			t.Fatalf("count %s: got %d fields", n, len(r.Elems))
		}
	}
	// Negative counts allow repeats and return exactly -count items.
	r := d.read("HRANDFIELD", "h", "-200")
	if len(r.Elems) != 200 {
		t.Fatalf("count -200: got %d", len(r.Elems))
	}
	// WITHVALUES pairs each field with its own value.
	for _, n := range []string{"-30", "7", "45"} {
		r := d.read("HRANDFIELD", "h", n, "withvalues")
		if r.Int != PairsMarker || len(r.Elems)%2 != 0 {
			t.Fatalf("count %s: not a pairs reply: %s", n, show(r))
		}
		for i := 0; i < len(r.Elems); i += 2 {
			if vals[r.Elems[i].Str] != r.Elems[i+1].Str {
				t.Fatalf("count %s: bad pair %s %s", n, show(r.Elems[i]), show(r.Elems[i+1]))
			}
		}
	}
	// The huge-negative-count guard refuses instead of allocating.
	if got := show(d.read("HRANDFIELD", "h", "-100000000")); got != "!ERR value is out of range" {
		t.Fatalf("huge negative count: %s", got)
	}
}

func TestHashScanFull(t *testing.T) {
	d := newTestDB(t)
	args := []string{"HSET", "h"}
	for i := 0; i < 300; i++ {
		args = append(args, "k"+FormatInt(int64(i)), FormatInt(int64(i)))
	}
	d.do(args...)
	got := map[string]string{}
	cursor := "0"
	for iter := 0; ; iter++ {
		r := d.read("HSCAN", "h", cursor, "COUNT", "17")
		cursor = r.Elems[0].Str
		kv := r.Elems[1].Elems
		for i := 0; i < len(kv); i += 2 {
			got[kv[i].Str] = kv[i+1].Str
		}
		if cursor == "0" {
			break
		}
		if iter > 100 {
			t.Fatal("HSCAN does not terminate")
		}
	}
	if len(got) != 300 || got["k123"] != "123" {
		t.Fatalf("HSCAN returned %d fields", len(got))
	}
}

func TestHashLongDouble(t *testing.T) {
	// Expected texts are what Redis 7.0 on x86-64 (80-bit long double) replies.
	for _, tt := range []struct {
		start, incr, want string
	}{
		{"0.1", "0.2", "0.3"},
		{"10.5", "0.1", "10.6"},
		{"0", "1e-20", "0"},
		{"5", "-5", "0"},
		{"-0", "-0", "0"},
		{"1", "3.0e3", "3001"},
		{"17179869184", "17179869184", "34359738368"},
		{"1e21", "1", "1000000000000000000000"},
		{"0x10", "0.5", "16.5"},
	} {
		a, ok1 := hsParseLongDouble([]byte(tt.start))
		b, ok2 := hsParseLongDouble([]byte(tt.incr))
		if !ok1 || !ok2 {
			t.Fatalf("parse %q/%q failed", tt.start, tt.incr)
		}
		if got := hsFormatLongDouble(a.Add(a, b)); got != tt.want {
			t.Errorf("%s + %s = %q, want %q", tt.start, tt.incr, got, tt.want)
		}
	}
	for _, bad := range []string{"", " 1", "1 ", "abc", "nan", "NaN", "1_000", "0b101", "1e5000", "1\x002", "+-1", "0o7", "-0b1", "0x", "1e", "--1", "1.2.3"} {
		if _, ok := hsParseLongDouble([]byte(bad)); ok {
			t.Errorf("hsParseLongDouble(%q) accepted", bad)
		}
	}
	for _, good := range []string{"inf", "-Infinity", "1e400", "010.5", ".5", "5.", "-3e-2", "0x1p-2", "+7"} {
		if _, ok := hsParseLongDouble([]byte(good)); !ok {
			t.Errorf("hsParseLongDouble(%q) rejected", good)
		}
	}
}

func TestHashParseCursor(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"", 0, true}, {"42", 42, true}, {"+7", 7, true},
		{"-1", ^uint64(0), true}, {"18446744073709551615", ^uint64(0), true},
		{"18446744073709551616", 0, false}, {" 1", 0, false}, {"1 ", 0, false},
		{"abc", 0, false}, {"-", 0, false}, {"+", 0, false},
	} {
		got, ok := hsParseCursor([]byte(tt.in))
		if got != tt.want || ok != tt.ok {
			t.Errorf("hsParseCursor(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestHashCommandTable(t *testing.T) {
	want := map[string]string{
		"hset": "-4 write denyoom fast", "hmset": "-4 write denyoom fast", "hsetnx": "4 write denyoom fast",
		"hget": "3 readonly fast", "hmget": "-3 readonly fast", "hgetall": "2 readonly",
		"hkeys": "2 readonly", "hvals": "2 readonly", "hdel": "-3 write fast",
		"hexists": "3 readonly fast", "hlen": "2 readonly fast", "hstrlen": "3 readonly fast",
		"hincrby": "4 write denyoom fast", "hincrbyfloat": "4 write denyoom fast",
		"hscan": "-3 readonly", "hrandfield": "-2 readonly",
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
		got := FormatInt(int64(cmd.Arity)) + " " + strings.Join(cmd.Flags.Names(), " ")
		if got != want[n] || cmd.First != 1 || cmd.Last != 1 || cmd.Step != 1 {
			t.Errorf("%s: got %q %d/%d/%d, want %q 1/1/1", n, got, cmd.First, cmd.Last, cmd.Step, want[n])
		}
	}
}
