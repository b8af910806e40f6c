package raftfsm

import (
	"fmt"
	"strings"
	"testing"
)

// listStep is one command and the rendered reply it must give.
type listStep struct {
	want string
	args []string
}

func lstep(want string, args ...string) listStep { return listStep{want, args} }

func runListSteps(t *testing.T, steps []listStep) {
	t.Helper()
	d := newTestDB(t)
	for _, st := range steps {
		switch st.args[0] {
		case "?exists", "?type":
			// Checked on the keyspace directly, so these tests do not
			// depend on the generic commands of other files.
			got := "(0)"
			v := NewCtx(d.db, d.now, false, 0).Get([]byte(st.args[1]))
			if st.args[0] == "?type" {
				got = "none"
				if v != nil {
					got = v.Type()
				}
			} else if v != nil {
				got = "(1)"
			}
			if got != st.want {
				t.Fatalf("%v: got %q, want %q", st.args, got, st.want)
			}
		default:
			d.expect(st.want, st.args...)
		}
	}
}

const listWrongType = "!WRONGTYPE Operation against a key holding the wrong kind of value"

func TestListCommands(t *testing.T) {
	cases := []struct {
		name  string
		steps []listStep
	}{
		{"push and range", []listStep{
			lstep("(3)", "RPUSH", "l", "a", "b", "c"),
			lstep("(5)", "LPUSH", "l", "y", "x"),
			lstep("[x y a b c]", "LRANGE", "l", "0", "-1"),
			lstep("(5)", "LLEN", "l"),
			lstep("(0)", "LLEN", "nokey"),
			lstep("list", "?type", "l"),
		}},
		{"pushx", []listStep{
			lstep("(0)", "LPUSHX", "l", "a"),
			lstep("(0)", "RPUSHX", "l", "a"),
			lstep("(0)", "?exists", "l"),
			lstep("(1)", "RPUSH", "l", "m"),
			lstep("(3)", "LPUSHX", "l", "b", "a"),
			lstep("(5)", "RPUSHX", "l", "y", "z"),
			lstep("[a b m y z]", "LRANGE", "l", "0", "-1"),
		}},
		{"lpop rpop single", []listStep{
			lstep("<nil>", "LPOP", "l"),
			lstep("<nil>", "RPOP", "l"),
			lstep("(3)", "RPUSH", "l", "a", "b", "c"),
			lstep("a", "LPOP", "l"),
			lstep("c", "RPOP", "l"),
			lstep("b", "LPOP", "l"),
			lstep("(0)", "?exists", "l"),
		}},
		{"pop with count", []listStep{
			lstep("<nil>", "LPOP", "l", "2"),
			lstep("<nil>", "RPOP", "l", "0"),
			lstep("(5)", "RPUSH", "l", "a", "b", "c", "d", "e"),
			lstep("[]", "LPOP", "l", "0"),
			lstep("[a b]", "LPOP", "l", "2"),
			lstep("[e d]", "RPOP", "l", "2"),
			lstep("[c]", "RPOP", "l", "9223372036854775807"),
			lstep("(0)", "?exists", "l"),
			lstep("!ERR value is out of range, must be positive", "LPOP", "l", "-1"),
			lstep("!ERR value is out of range, must be positive", "RPOP", "l", "abc"),
			lstep("!ERR wrong number of arguments for 'lpop' command", "LPOP", "l", "1", "1"),
			lstep("!ERR wrong number of arguments for 'rpop' command", "RPOP", "l", "1", "1"),
		}},
		{"lrange indices", []listStep{
			lstep("(5)", "RPUSH", "l", "0", "1", "2", "3", "4"),
			lstep("[1 2 3]", "LRANGE", "l", "1", "3"),
			lstep("[3 4]", "LRANGE", "l", "-2", "-1"),
			lstep("[0 1 2 3 4]", "LRANGE", "l", "-100", "100"),
			lstep("[]", "LRANGE", "l", "3", "1"),
			lstep("[]", "LRANGE", "l", "5", "10"),
			lstep("[]", "LRANGE", "l", "0", "-6"),
			lstep("[0]", "LRANGE", "l", "-9223372036854775808", "-5"),
			lstep("[4]", "LRANGE", "l", "-1", "9223372036854775807"),
			lstep("[]", "LRANGE", "nokey", "0", "-1"),
			lstep("!ERR value is not an integer or out of range", "LRANGE", "l", "a", "1"),
			lstep("!ERR value is not an integer or out of range", "LRANGE", "nokey", "0", "1.5"),
		}},
		{"lindex", []listStep{
			lstep("(3)", "RPUSH", "l", "a", "b", "c"),
			lstep("a", "LINDEX", "l", "0"),
			lstep("c", "LINDEX", "l", "2"),
			lstep("c", "LINDEX", "l", "-1"),
			lstep("a", "LINDEX", "l", "-3"),
			lstep("<nil>", "LINDEX", "l", "3"),
			lstep("<nil>", "LINDEX", "l", "-4"),
			lstep("<nil>", "LINDEX", "l", "-9223372036854775808"),
			lstep("<nil>", "LINDEX", "nokey", "0"),
			lstep("<nil>", "LINDEX", "nokey", "x"), // key checked before the index
			lstep("!ERR value is not an integer or out of range", "LINDEX", "l", "x"),
		}},
		{"lset", []listStep{
			lstep("!ERR no such key", "LSET", "l", "0", "x"),
			lstep("(3)", "RPUSH", "l", "a", "b", "c"),
			lstep("OK", "LSET", "l", "0", "A"),
			lstep("OK", "LSET", "l", "-1", "C"),
			lstep("[A b C]", "LRANGE", "l", "0", "-1"),
			lstep("!ERR index out of range", "LSET", "l", "3", "x"),
			lstep("!ERR index out of range", "LSET", "l", "-4", "x"),
			lstep("!ERR value is not an integer or out of range", "LSET", "l", "z", "x"),
		}},
		{"linsert", []listStep{
			lstep("(0)", "LINSERT", "l", "BEFORE", "a", "x"),
			lstep("(3)", "RPUSH", "l", "a", "b", "c"),
			lstep("(4)", "LINSERT", "l", "before", "a", "0"),
			lstep("(5)", "LINSERT", "l", "AFTER", "c", "d"),
			lstep("(6)", "LINSERT", "l", "after", "b", "bb"),
			lstep("(7)", "LINSERT", "l", "Before", "b", "ab"),
			lstep("[0 a ab b bb c d]", "LRANGE", "l", "0", "-1"),
			lstep("(-1)", "LINSERT", "l", "BEFORE", "zz", "x"),
			lstep("!ERR syntax error", "LINSERT", "l", "MIDDLE", "a", "x"),
			lstep("!ERR syntax error", "LINSERT", "nokey", "MIDDLE", "a", "x"),
		}},
		{"lrem", []listStep{
			lstep("(0)", "LREM", "l", "0", "a"),
			lstep("(8)", "RPUSH", "l", "a", "b", "a", "c", "a", "d", "a", "e"),
			lstep("(2)", "LREM", "l", "2", "a"),
			lstep("[b c a d a e]", "LRANGE", "l", "0", "-1"),
			lstep("(1)", "LREM", "l", "-1", "a"),
			lstep("[b c a d e]", "LRANGE", "l", "0", "-1"),
			lstep("(0)", "LREM", "l", "0", "zz"),
			lstep("(1)", "LREM", "l", "0", "a"),
			lstep("[b c d e]", "LRANGE", "l", "0", "-1"),
			lstep("(1)", "LREM", "l", "-9223372036854775808", "b"),
			lstep("(1)", "LREM", "l", "9223372036854775807", "c"),
			lstep("(1)", "LREM", "l", "5", "d"),
			lstep("(1)", "LREM", "l", "-5", "e"),
			lstep("(0)", "?exists", "l"),
			lstep("!ERR value is not an integer or out of range", "LREM", "l", "x", "a"),
		}},
		{"lrem negative keeps order", []listStep{
			lstep("(7)", "RPUSH", "l", "x", "a", "y", "a", "z", "a", "w"),
			lstep("(2)", "LREM", "l", "-2", "a"),
			lstep("[x a y z w]", "LRANGE", "l", "0", "-1"),
		}},
		{"ltrim", []listStep{
			lstep("OK", "LTRIM", "l", "0", "1"),
			lstep("(5)", "RPUSH", "l", "0", "1", "2", "3", "4"),
			lstep("OK", "LTRIM", "l", "1", "-2"),
			lstep("[1 2 3]", "LRANGE", "l", "0", "-1"),
			lstep("OK", "LTRIM", "l", "-100", "100"),
			lstep("[1 2 3]", "LRANGE", "l", "0", "-1"),
			lstep("OK", "LTRIM", "l", "0", "0"),
			lstep("[1]", "LRANGE", "l", "0", "-1"),
			lstep("OK", "LTRIM", "l", "1", "0"),
			lstep("(0)", "?exists", "l"),
			lstep("(2)", "RPUSH", "l", "a", "b"),
			lstep("OK", "LTRIM", "l", "5", "10"),
			lstep("(0)", "?exists", "l"),
			lstep("!ERR value is not an integer or out of range", "LTRIM", "l", "0", "x"),
		}},
		{"lmove between lists", []listStep{
			lstep("<nil>", "LMOVE", "src", "dst", "LEFT", "RIGHT"),
			lstep("(0)", "?exists", "dst"),
			lstep("(3)", "RPUSH", "src", "a", "b", "c"),
			lstep("a", "LMOVE", "src", "dst", "LEFT", "RIGHT"),
			lstep("c", "LMOVE", "src", "dst", "right", "left"),
			lstep("[c a]", "LRANGE", "dst", "0", "-1"),
			lstep("b", "LMOVE", "src", "dst", "left", "left"),
			lstep("(0)", "?exists", "src"),
			lstep("[b c a]", "LRANGE", "dst", "0", "-1"),
			lstep("a", "RPOPLPUSH", "dst", "other"),
			lstep("[a]", "LRANGE", "other", "0", "-1"),
			lstep("<nil>", "RPOPLPUSH", "nokey", "other"),
			lstep("!ERR syntax error", "LMOVE", "dst", "other", "UP", "LEFT"),
			lstep("!ERR syntax error", "LMOVE", "dst", "other", "LEFT", "DOWN"),
		}},
		{"lmove same list rotates", []listStep{
			lstep("(3)", "RPUSH", "l", "a", "b", "c"),
			lstep("c", "RPOPLPUSH", "l", "l"),
			lstep("[c a b]", "LRANGE", "l", "0", "-1"),
			lstep("c", "LMOVE", "l", "l", "LEFT", "RIGHT"),
			lstep("[a b c]", "LRANGE", "l", "0", "-1"),
			lstep("a", "LMOVE", "l", "l", "LEFT", "LEFT"),
			lstep("[a b c]", "LRANGE", "l", "0", "-1"),
			lstep("(1)", "RPUSH", "one", "x"),
			lstep("x", "RPOPLPUSH", "one", "one"),
			lstep("x", "LMOVE", "one", "one", "RIGHT", "RIGHT"),
			lstep("[x]", "LRANGE", "one", "0", "-1"),
		}},
		{"lmpop", []listStep{
			lstep("<nil>", "LMPOP", "2", "a", "b", "LEFT"),
			lstep("(3)", "RPUSH", "b", "1", "2", "3"),
			lstep("[b [1]]", "LMPOP", "2", "a", "b", "LEFT"),
			lstep("[b [3 2]]", "LMPOP", "2", "a", "b", "RIGHT", "COUNT", "10"),
			lstep("(0)", "?exists", "b"),
			lstep("(2)", "RPUSH", "a", "x", "y"),
			lstep("(1)", "RPUSH", "b", "z"),
			lstep("[a [x y]]", "LMPOP", "2", "a", "b", "left", "count", "2"),
			lstep("!ERR numkeys should be greater than 0", "LMPOP", "0", "a", "LEFT"),
			lstep("!ERR numkeys should be greater than 0", "LMPOP", "x", "a", "LEFT"),
			lstep("!ERR numkeys should be greater than 0", "LMPOP", "-1", "a", "LEFT"),
			lstep("!ERR syntax error", "LMPOP", "1", "a", "bad"),
			lstep("!ERR syntax error", "LMPOP", "1", "a", "LEFT", "bar"),
			lstep("!ERR syntax error", "LMPOP", "1", "a", "RIGHT", "LEFT"),
			lstep("!ERR syntax error", "LMPOP", "1", "a", "COUNT"),
			lstep("!ERR syntax error", "LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "2"),
			lstep("!ERR syntax error", "LMPOP", "9223372036854775807", "a", "LEFT"),
			lstep("!ERR syntax error", "LMPOP", "2", "a", "LEFT"),
			lstep("!ERR count should be greater than 0", "LMPOP", "1", "a", "LEFT", "COUNT", "0"),
			lstep("!ERR count should be greater than 0", "LMPOP", "1", "a", "LEFT", "COUNT", "a"),
			lstep("!ERR count should be greater than 0", "LMPOP", "1", "a", "LEFT", "COUNT", "-1"),
			lstep("!ERR wrong number of arguments for 'lmpop' command", "LMPOP", "1", "a"),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runListSteps(t, tc.steps) })
	}
}

func TestListLPOS(t *testing.T) {
	runListSteps(t, []listStep{
		lstep("<nil>", "LPOS", "nokey", "c"),
		lstep("[]", "LPOS", "nokey", "c", "COUNT", "0", "RANK", "2"),
		lstep("(8)", "RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"),
		lstep("(0)", "LPOS", "l", "a"),
		lstep("(2)", "LPOS", "l", "c"),
		lstep("(2)", "LPOS", "l", "c", "RANK", "1"),
		lstep("(6)", "LPOS", "l", "c", "RANK", "2"),
		lstep("<nil>", "LPOS", "l", "c", "RANK", "4"),
		lstep("(7)", "LPOS", "l", "c", "RANK", "-1"),
		lstep("(6)", "LPOS", "l", "c", "RANK", "-2"),
		lstep("[(2) (6) (7)]", "LPOS", "l", "c", "COUNT", "0"),
		lstep("[(2)]", "LPOS", "l", "c", "COUNT", "1"),
		lstep("[(2) (6)]", "LPOS", "l", "c", "COUNT", "2"),
		lstep("[(2) (6) (7)]", "LPOS", "l", "c", "COUNT", "100"),
		lstep("[(6) (7)]", "LPOS", "l", "c", "COUNT", "0", "RANK", "2"),
		lstep("[(7) (6)]", "LPOS", "l", "c", "COUNT", "2", "RANK", "-1"),
		lstep("[]", "LPOS", "l", "x", "COUNT", "2", "RANK", "-1"),
		lstep("<nil>", "LPOS", "l", "x", "RANK", "-1"),
		lstep("[(0)]", "LPOS", "l", "a", "COUNT", "0", "MAXLEN", "1"),
		lstep("[]", "LPOS", "l", "c", "COUNT", "0", "MAXLEN", "1"),
		lstep("[(2)]", "LPOS", "l", "c", "COUNT", "0", "MAXLEN", "3"),
		lstep("[(7) (6)]", "LPOS", "l", "c", "COUNT", "0", "MAXLEN", "3", "RANK", "-1"),
		lstep("[(6)]", "LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7", "RANK", "2"),
		lstep("<nil>", "LPOS", "l", "c", "MAXLEN", "2"),
		lstep("[]", "LPOS", "l", "b", "COUNT", "10", "RANK", "5"),
		lstep("<nil>", "LPOS", "l", "c", "RANK", "-9"),
		lstep("!ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
			"LPOS", "l", "c", "RANK", "0"),
		lstep("!ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
			"LPOS", "l", "c", "RANK", "-9223372036854775808"),
		lstep("!ERR value is not an integer or out of range", "LPOS", "l", "c", "RANK", "x"),
		lstep("!ERR COUNT can't be negative", "LPOS", "l", "c", "COUNT", "-1"),
		lstep("!ERR COUNT can't be negative", "LPOS", "l", "c", "COUNT", "x"),
		lstep("!ERR MAXLEN can't be negative", "LPOS", "l", "c", "MAXLEN", "-1"),
		lstep("!ERR syntax error", "LPOS", "l", "c", "RANK"),
		lstep("!ERR syntax error", "LPOS", "l", "c", "FOO", "1"),
		lstep("!ERR syntax error", "LPOS", "nokey", "c", "FOO", "1"),
	})
}

func TestListWrongType(t *testing.T) {
	d := newTestDB(t)
	NewCtx(d.db, d.now, true, 0).Set([]byte("str"), newStr([]byte("v")))
	d.expect("(1)", "RPUSH", "l", "a")
	for _, args := range [][]string{
		{"LPUSH", "str", "a"}, {"RPUSH", "str", "a"}, {"LPUSHX", "str", "a"}, {"RPUSHX", "str", "a"},
		{"LPOP", "str"}, {"RPOP", "str"}, {"LPOP", "str", "2"}, {"LLEN", "str"},
		{"LRANGE", "str", "0", "-1"}, {"LINDEX", "str", "0"}, {"LSET", "str", "0", "x"},
		{"LINSERT", "str", "BEFORE", "a", "b"}, {"LREM", "str", "0", "a"}, {"LTRIM", "str", "0", "1"},
		{"LPOS", "str", "a"}, {"LMOVE", "str", "l", "LEFT", "LEFT"}, {"LMOVE", "l", "str", "LEFT", "LEFT"},
		{"RPOPLPUSH", "str", "l"}, {"RPOPLPUSH", "l", "str"}, {"LMPOP", "2", "nokey", "str", "LEFT"},
	} {
		if got := show(d.do(args...)); got != listWrongType {
			t.Errorf("%v: got %q, want WRONGTYPE", args, got)
		}
	}
	// A failed LMOVE/RPOPLPUSH into a wrong-type destination leaves the source intact.
	d.expect("[a]", "LRANGE", "l", "0", "-1")
	if v, ok := NewCtx(d.db, d.now, false, 0).Get([]byte("str")).(*strValue); !ok || v.String() != "v" {
		t.Fatalf("string key changed: %v", v)
	}
	// LMPOP stops at the first non-empty list before reaching the wrong type.
	d.expect("[l [a]]", "LMPOP", "2", "l", "str", "LEFT")
}

// TestListKeepsTTL checks that mutating a list keeps its expiry and that
// expired lists are invisible.
func TestListKeepsTTL(t *testing.T) {
	d := newTestDB(t)
	d.expect("(2)", "RPUSH", "l", "a", "b")
	if !NewCtx(d.db, d.now, true, 0).SetExpiry([]byte("l"), d.now+1000) {
		t.Fatal("SetExpiry failed")
	}
	d.expect("(3)", "RPUSH", "l", "c")
	d.expect("a", "LMOVE", "l", "l", "LEFT", "RIGHT")
	if at, ok := NewCtx(d.db, d.now, false, 0).Expiry([]byte("l")); !ok || at != d.now+1000 {
		t.Fatalf("expiry %d, %v after list writes", at, ok)
	}
	d.advance(1000)
	d.expect("(0)", "LLEN", "l")
	d.expect("<nil>", "LPOP", "l")
}

func TestListValueRing(t *testing.T) {
	// Compare the ring buffer against a plain slice through a mixed
	// sequence of operations that wraps around and resizes the buffer.
	l := newList()
	var ref []string
	check := func(step int) {
		t.Helper()
		if l.Len() != len(ref) {
			t.Fatalf("step %d: len %d, want %d", step, l.Len(), len(ref))
		}
		for i := range ref {
			if l.Index(i) != ref[i] {
				t.Fatalf("step %d: index %d = %q, want %q", step, i, l.Index(i), ref[i])
			}
		}
		var got []string
		l.Each(func(s string) bool { got = append(got, s); return true })
		if strings.Join(got, ",") != strings.Join(ref, ",") {
			t.Fatalf("step %d: Each %v, want %v", step, got, ref)
		}
	}
	x := uint32(12345)
	next := func() uint32 { x = x*1664525 + 1013904223; return x >> 8 }
	for step := 0; step < 5000; step++ {
		v := fmt.Sprint(step)
		switch op := next() % 8; {
		case op == 0 || op == 1:
			l.PushBack(v)
			ref = append(ref, v)
		case op == 2 || op == 3:
			l.PushFront(v)
			ref = append([]string{v}, ref...)
		case op == 4 && len(ref) > 0:
			if got := l.PopFront(); got != ref[0] {
				t.Fatalf("PopFront %q want %q", got, ref[0])
			}
			ref = ref[1:]
		case op == 5 && len(ref) > 0:
			if got := l.PopBack(); got != ref[len(ref)-1] {
				t.Fatalf("PopBack %q want %q", got, ref[len(ref)-1])
			}
			ref = ref[:len(ref)-1]
		case op == 6:
			i := int(next()) % (len(ref) + 1)
			l.Insert(i, v)
			ref = append(ref[:i], append([]string{v}, ref[i:]...)...)
		case op == 7 && len(ref) > 2 && next()%4 == 0:
			l.Trim(1, 1)
			ref = ref[1 : len(ref)-1]
		case op == 7 && next()%8 == 0:
			// Drop elements ending in 3, as LREM does.
			l.filter(func(_ int, s string) bool { return !strings.HasSuffix(s, "3") })
			kept := ref[:0]
			for _, s := range ref {
				if !strings.HasSuffix(s, "3") {
					kept = append(kept, s)
				}
			}
			ref = kept
		}
		check(step)
	}
	// Drain to exercise shrinking.
	for len(ref) > 0 {
		l.PopFront()
		ref = ref[1:]
	}
	check(-1)
	if l.buf != nil {
		t.Fatalf("empty list keeps a buffer of %d", len(l.buf))
	}
}

func TestListEachStops(t *testing.T) {
	l := newList()
	for _, v := range []string{"a", "b", "c"} {
		l.PushBack(v)
	}
	var got []string
	l.Each(func(s string) bool { got = append(got, s); return s != "b" })
	if strings.Join(got, "") != "ab" {
		t.Fatalf("Each visited %v", got)
	}
}

func TestListClone(t *testing.T) {
	l := newList()
	for i := 0; i < 20; i++ {
		l.PushFront(fmt.Sprint(i)) // wraps around the buffer
	}
	c := l.Clone().(*listValue)
	if c.Type() != "list" || c.Len() != 20 {
		t.Fatalf("clone type %q len %d", c.Type(), c.Len())
	}
	for i := 0; i < 20; i++ {
		if c.Index(i) != l.Index(i) {
			t.Fatalf("clone index %d = %q, want %q", i, c.Index(i), l.Index(i))
		}
	}
	c.setAt(0, "changed")
	c.PushBack("new")
	c.PopFront()
	l.PopBack()
	if l.Index(0) != "19" || l.Len() != 19 || c.Len() != 20 || c.Index(19) != "new" {
		t.Fatalf("clone not independent: l[0]=%q len %d, c len %d", l.Index(0), l.Len(), c.Len())
	}
	if e := newList().Clone().(*listValue); e.Len() != 0 {
		t.Fatalf("empty clone has %d elements", e.Len())
	}
}

// TestListSnapshotIsolation mutates a list while a snapshot generation
// shares it: the engine clones it, and the old value must not change.
func TestListSnapshotIsolation(t *testing.T) {
	d := newTestDB(t)
	d.expect("(3)", "RPUSH", "l", "a", "b", "c")
	old := d.db.find([]byte("l")).val.(*listValue)
	// Simulate a live snapshot the way DB.own sees one.
	d.db.gen++
	d.db.liveSnaps.Add(1)
	defer d.db.liveSnaps.Add(-1)
	d.expect("a", "LPOP", "l")
	d.expect("OK", "LSET", "l", "0", "B")
	d.expect("c", "RPOPLPUSH", "l", "l")
	if old.Len() != 3 || old.Index(0) != "a" || old.Index(1) != "b" {
		t.Fatalf("shared list was mutated: len %d", old.Len())
	}
	d.expect("[c B]", "LRANGE", "l", "0", "-1")
}

func TestListLargeCounts(t *testing.T) {
	// Huge user-supplied counts and indices must not allocate by size.
	d := newTestDB(t)
	d.expect("(2)", "RPUSH", "l", "a", "b")
	d.expect("[a b]", "LRANGE", "l", "0", "9223372036854775807")
	d.expect("[(0)]", "LPOS", "l", "a", "COUNT", "9223372036854775807", "MAXLEN", "9223372036854775807")
	d.expect("OK", "LTRIM", "l", "-9223372036854775808", "9223372036854775807")
	d.expect("[b a]", "RPOP", "l", "9223372036854775807")
}

func TestListCommandTable(t *testing.T) {
	for _, name := range []string{"lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange",
		"lindex", "lset", "linsert", "lrem", "ltrim", "lpos", "lmove", "rpoplpush", "lmpop"} {
		if Lookup([]byte(name)) == nil {
			t.Errorf("%s not registered", name)
		}
	}
	cmd := Lookup([]byte("lmpop"))
	if got := cmd.KeyPositions(listArgs("lmpop", "2", "a", "b", "LEFT")); !deepEqual(got, []int{2, 3}) {
		t.Errorf("lmpop keys %v", got)
	}
	if got := cmd.KeyPositions(listArgs("lmpop", "5", "a", "LEFT")); got != nil {
		t.Errorf("lmpop bad numkeys keys %v", got)
	}
	if got := Lookup([]byte("lmove")).KeyPositions(listArgs("lmove", "a", "b", "LEFT", "RIGHT")); !deepEqual(got, []int{1, 2}) {
		t.Errorf("lmove keys %v", got)
	}
}

func listArgs(args ...string) [][]byte {
	out := make([][]byte, len(args))
	for i, a := range args {
		out[i] = []byte(a)
	}
	return out
}
