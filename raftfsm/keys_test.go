package raftfsm

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// These tests store values through the Ctx API rather than SET/HSET so that
// they depend on keys.go and the lead's files only.

func (d *testDB) ctx() *Ctx { return NewCtx(d.db, d.now, true, 1) }

func (d *testDB) setStr(key, val string) { d.ctx().Set([]byte(key), newStr([]byte(val))) }

// setStrPX stores a string that expires ms milliseconds from now.
func (d *testDB) setStrPX(key, val string, ms int64) {
	d.ctx().SetWithExpire([]byte(key), newStr([]byte(val)), d.now+ms)
}

func (d *testDB) setHash(key string, kv ...string) {
	h := newHash(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		h.d.Set(kv[i], kv[i+1])
	}
	d.ctx().Set([]byte(key), h)
}

func (d *testDB) setSet(key string, members ...string) {
	s := newSet(len(members))
	for _, m := range members {
		s.d.Set(m, struct{}{})
	}
	d.ctx().Set([]byte(key), s)
}

// getStr returns key's string value, or "<nil>".
func (d *testDB) getStr(key string) string {
	v := NewCtx(d.db, d.now, false, 1).Get([]byte(key))
	if v == nil {
		return "<nil>"
	}
	if s, ok := v.(*strValue); ok {
		return s.String()
	}
	return "<" + v.Type() + ">"
}

// kstep is one step of a scripted test: run args and compare, or (when
// args is nil) move the clock by adv milliseconds.
type kstep struct {
	args []string
	want string
	adv  int64
}

func run(args ...string) []string { return args }

func runSteps(t *testing.T, d *testDB, steps []kstep) {
	t.Helper()
	for i, s := range steps {
		if s.args == nil {
			d.advance(s.adv)
			continue
		}
		var got string
		if cmd := Lookup([]byte(s.args[0])); cmd != nil && cmd.Flags&FlagReadOnly != 0 {
			got = show(d.read(s.args...))
		} else {
			got = show(d.do(s.args...))
		}
		if got != s.want {
			t.Fatalf("step %d %v: got %q, want %q", i, s.args, got, s.want)
		}
	}
}

func TestKeysBasic(t *testing.T) {
	tests := []struct {
		name  string
		setup func(d *testDB)
		steps []kstep
	}{
		{"del counts live keys", func(d *testDB) { d.setStr("a", "1"); d.setStr("b", "2") }, []kstep{
			{args: run("DEL", "a", "b", "c", "a"), want: "(2)"},
			{args: run("EXISTS", "a", "b"), want: "(0)"},
			{args: run("DEL", "a"), want: "(0)"},
		}},
		{"unlink", func(d *testDB) { d.setStr("a", "1") }, []kstep{
			{args: run("UNLINK", "a", "x"), want: "(1)"},
			{args: run("TYPE", "a"), want: "none"},
		}},
		{"exists counts repeats", func(d *testDB) { d.setStr("a", "1") }, []kstep{
			{args: run("EXISTS", "a", "a", "b", "a"), want: "(3)"},
			{args: run("TOUCH", "a", "b", "a"), want: "(2)"},
		}},
		{"type", func(d *testDB) { d.setStr("s", "v"); d.setHash("h", "f", "v"); d.setSet("z", "m") }, []kstep{
			{args: run("TYPE", "s"), want: "string"},
			{args: run("TYPE", "h"), want: "hash"},
			{args: run("TYPE", "z"), want: "set"},
			{args: run("TYPE", "nope"), want: "none"},
		}},
		{"expired keys are gone", func(d *testDB) { d.setStrPX("a", "1", 100); d.setStr("b", "2") }, []kstep{
			{args: run("EXISTS", "a"), want: "(1)"},
			{adv: 100},
			{args: run("EXISTS", "a", "b"), want: "(1)"},
			{args: run("TYPE", "a"), want: "none"},
			{args: run("DEL", "a"), want: "(0)"},
		}},
		{"arity", nil, []kstep{
			{args: run("DEL"), want: "!ERR wrong number of arguments for 'del' command"},
			{args: run("TYPE", "a", "b"), want: "!ERR wrong number of arguments for 'type' command"},
			{args: run("RENAME", "a"), want: "!ERR wrong number of arguments for 'rename' command"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDB(t)
			if tc.setup != nil {
				tc.setup(d)
			}
			runSteps(t, d, tc.steps)
		})
	}
}

func TestKeysExpire(t *testing.T) {
	const now = 1_700_000_000_000 // newTestDB's clock
	nowS := strconv.FormatInt(now/1000, 10)
	tests := []struct {
		name  string
		setup func(d *testDB)
		steps []kstep
	}{
		{"expire then lazy expiry", func(d *testDB) { d.setStr("k", "v") }, []kstep{
			{args: run("EXPIRE", "k", "10"), want: "(1)"},
			{args: run("TTL", "k"), want: "(10)"},
			{args: run("PTTL", "k"), want: "(10000)"},
			{adv: 4400},
			{args: run("TTL", "k"), want: "(6)"}, // 5600 ms rounds to 6
			{args: run("PTTL", "k"), want: "(5600)"},
			{adv: 5599},
			{args: run("PTTL", "k"), want: "(1)"},
			{args: run("TTL", "k"), want: "(0)"},
			{adv: 1},
			{args: run("TTL", "k"), want: "(-2)"},
			{args: run("EXISTS", "k"), want: "(0)"},
			{args: run("EXPIRE", "k", "10"), want: "(0)"},
		}},
		{"pexpire and absolute forms", func(d *testDB) { d.setStr("k", "v") }, []kstep{
			{args: run("PEXPIRE", "k", "1500"), want: "(1)"},
			{args: run("PEXPIRETIME", "k"), want: fmt.Sprintf("(%d)", now+1500)},
			{args: run("EXPIRETIME", "k"), want: fmt.Sprintf("(%d)", (now+1500+500)/1000)},
			{args: run("EXPIREAT", "k", strconv.FormatInt(now/1000+100, 10)), want: "(1)"},
			{args: run("TTL", "k"), want: "(100)"},
			{args: run("PEXPIREAT", "k", strconv.FormatInt(now+250, 10)), want: "(1)"},
			{args: run("PTTL", "k"), want: "(250)"},
			{args: run("pexpiretime", "k"), want: fmt.Sprintf("(%d)", now+250)},
		}},
		{"no ttl and missing key", func(d *testDB) { d.setStr("k", "v") }, []kstep{
			{args: run("TTL", "k"), want: "(-1)"},
			{args: run("PTTL", "k"), want: "(-1)"},
			{args: run("EXPIRETIME", "k"), want: "(-1)"},
			{args: run("PEXPIRETIME", "k"), want: "(-1)"},
			{args: run("TTL", "x"), want: "(-2)"},
			{args: run("PTTL", "x"), want: "(-2)"},
			{args: run("EXPIRETIME", "x"), want: "(-2)"},
			{args: run("PEXPIRETIME", "x"), want: "(-2)"},
		}},
		{"past time deletes", func(d *testDB) { d.setStr("a", "v"); d.setStr("b", "v"); d.setStr("c", "v") }, []kstep{
			{args: run("EXPIRE", "a", "-10"), want: "(1)"},
			{args: run("EXISTS", "a"), want: "(0)"},
			{args: run("PEXPIRE", "b", "0"), want: "(1)"},
			{args: run("EXISTS", "b"), want: "(0)"},
			{args: run("EXPIREAT", "c", nowS), want: "(1)"}, // exactly now is the past
			{args: run("EXISTS", "c"), want: "(0)"},
			{args: run("DBSIZE"), want: "(0)"},
		}},
		{"pexpireat zero and big negative delete", func(d *testDB) { d.setStr("a", "v"); d.setStr("b", "v") }, []kstep{
			{args: run("PEXPIREAT", "a", "0"), want: "(1)"},
			{args: run("TTL", "a"), want: "(-2)"},
			{args: run("PEXPIREAT", "b", "-9223372036854770000"), want: "(1)"},
			{args: run("TTL", "b"), want: "(-2)"},
		}},
		{"big values", func(d *testDB) { d.setStr("foo", "bar") }, []kstep{
			{args: run("EXPIRE", "foo", "9223370399119966"), want: "!ERR invalid expire time in 'expire' command"},
			{args: run("EXPIRE", "foo", "9223372036854776"), want: "!ERR invalid expire time in 'expire' command"},
			{args: run("EXPIRE", "foo", "10000000000000000"), want: "!ERR invalid expire time in 'expire' command"},
			{args: run("EXPIRE", "foo", "18446744073709561"), want: "!ERR invalid expire time in 'expire' command"},
			{args: run("EXPIRE", "foo", "-9223372036854776"), want: "!ERR invalid expire time in 'expire' command"},
			{args: run("EXPIRE", "foo", "-9999999999999999"), want: "!ERR invalid expire time in 'expire' command"},
			{args: run("PEXPIRE", "foo", "9223372036854770000"), want: "!ERR invalid expire time in 'pexpire' command"},
			{args: run("EXPIREAT", "foo", "9223372036854776"), want: "!ERR invalid expire time in 'expireat' command"},
			{args: run("TTL", "foo"), want: "(-1)"},
			{args: run("PEXPIREAT", "foo", "9223372036854770000"), want: "(1)"},
			{args: run("PEXPIRETIME", "foo"), want: "(9223372036854770000)"},
		}},
		{"bad arguments", func(d *testDB) { d.setStr("foo", "bar") }, []kstep{
			{args: run("EXPIRE", "foo", ""), want: "!ERR value is not an integer or out of range"},
			{args: run("EXPIRE", "foo", "1.5"), want: "!ERR value is not an integer or out of range"},
			{args: run("EXPIRE", "foo", "10", "AB"), want: "!ERR Unsupported option AB"},
			{args: run("EXPIRE", "foo", "10", "XX", "AB"), want: "!ERR Unsupported option AB"},
			{args: run("EXPIRE", "foo", "10", "LT", "GT"), want: "!ERR GT and LT options at the same time are not compatible"},
			{args: run("EXPIRE", "foo", "10", "NX", "GT"), want: "!ERR NX and XX, GT or LT options at the same time are not compatible"},
			{args: run("EXPIRE", "foo", "10", "NX", "LT"), want: "!ERR NX and XX, GT or LT options at the same time are not compatible"},
			{args: run("EXPIRE", "foo", "10", "NX", "XX"), want: "!ERR NX and XX, GT or LT options at the same time are not compatible"},
			// Options are checked before the time.
			{args: run("EXPIRE", "foo", "x", "ZZ"), want: "!ERR Unsupported option ZZ"},
			{args: run("EXPIRE", "nokey", "10", "NX", "XX"), want: "!ERR NX and XX, GT or LT options at the same time are not compatible"},
			{args: run("TTL", "foo"), want: "(-1)"},
		}},
		{"persist", func(d *testDB) { d.setStrPX("v", "1", 5000); d.setStr("p", "1") }, []kstep{
			{args: run("PERSIST", "v"), want: "(1)"},
			{args: run("TTL", "v"), want: "(-1)"},
			{args: run("PERSIST", "v"), want: "(0)"},
			{args: run("PERSIST", "p"), want: "(0)"},
			{args: run("PERSIST", "missing"), want: "(0)"},
			{adv: 10000},
			{args: run("EXISTS", "v"), want: "(1)"},
		}},
		{"expire on an expired key does not resurrect it", func(d *testDB) { d.setStrPX("k", "v", 10) }, []kstep{
			{adv: 10},
			{args: run("EXPIRE", "k", "100"), want: "(0)"},
			{args: run("PERSIST", "k"), want: "(0)"},
			{args: run("EXISTS", "k"), want: "(0)"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDB(t)
			if tc.setup != nil {
				tc.setup(d)
			}
			runSteps(t, d, tc.steps)
		})
	}
}

// TestKeysExpireOptions follows tests/unit/expire.tcl's NX/XX/GT/LT cases.
func TestKeysExpireOptions(t *testing.T) {
	tests := []struct {
		name    string
		ttl     int64 // existing TTL in seconds, 0 = none
		args    []string
		want    string
		wantTTL string
	}{
		{"NX with ttl", 100, run("200", "NX"), "(0)", "(100)"},
		{"NX without ttl", 0, run("200", "NX"), "(1)", "(200)"},
		{"XX with ttl", 100, run("200", "XX"), "(1)", "(200)"},
		{"XX without ttl", 0, run("200", "XX"), "(0)", "(-1)"},
		{"GT with lower ttl", 100, run("200", "GT"), "(1)", "(200)"},
		{"GT with higher ttl", 200, run("100", "GT"), "(0)", "(200)"},
		{"GT with equal ttl", 200, run("200", "gt"), "(0)", "(200)"},
		{"GT without ttl", 0, run("200", "GT"), "(0)", "(-1)"},
		{"LT with higher ttl", 100, run("200", "LT"), "(0)", "(100)"},
		{"LT with lower ttl", 200, run("100", "LT"), "(1)", "(100)"},
		{"LT with equal ttl", 200, run("200", "lt"), "(0)", "(200)"},
		{"LT without ttl", 0, run("100", "LT"), "(1)", "(100)"},
		{"LT XX with ttl", 200, run("100", "LT", "XX"), "(1)", "(100)"},
		{"LT XX without ttl", 0, run("200", "LT", "XX"), "(0)", "(-1)"},
		{"GT XX with ttl", 100, run("200", "XX", "GT"), "(1)", "(200)"},
		{"negative LT with ttl", 100, run("-10", "LT"), "(1)", "(-2)"},
		{"negative LT without ttl", 0, run("-10", "LT"), "(1)", "(-2)"},
		{"negative GT without ttl", 0, run("-10", "GT"), "(0)", "(-1)"},
		{"repeated option", 0, run("100", "nx", "NX"), "(1)", "(100)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDB(t)
			if tc.ttl > 0 {
				d.setStrPX("foo", "bar", tc.ttl*1000)
			} else {
				d.setStr("foo", "bar")
			}
			d.expect(tc.want, append([]string{"EXPIRE", "foo"}, tc.args...)...)
			if got := show(d.read("TTL", "foo")); got != tc.wantTTL {
				t.Fatalf("TTL: got %s, want %s", got, tc.wantTTL)
			}
		})
	}
	t.Run("missing key", func(t *testing.T) {
		d := newTestDB(t)
		for _, opt := range []string{"NX", "XX", "GT", "LT"} {
			d.expect("(0)", "EXPIRE", "none", "100", opt)
		}
	})
	t.Run("pexpire GT in ms", func(t *testing.T) {
		d := newTestDB(t)
		d.setStrPX("foo", "bar", 1000)
		d.expect("(0)", "PEXPIRE", "foo", "1000", "GT")
		d.expect("(1)", "PEXPIRE", "foo", "1001", "GT")
		d.expect("(1001)", "PTTL", "foo")
	})
}

func TestKeysRename(t *testing.T) {
	tests := []struct {
		name  string
		setup func(d *testDB)
		steps []kstep
	}{
		{"rename moves value", func(d *testDB) { d.setStr("a", "1") }, []kstep{
			{args: run("RENAME", "a", "b"), want: "OK"},
			{args: run("EXISTS", "a"), want: "(0)"},
			{args: run("TYPE", "b"), want: "string"},
		}},
		{"rename overwrites and keeps source ttl", func(d *testDB) { d.setStrPX("a", "1", 5000); d.setStr("b", "2") }, []kstep{
			{args: run("RENAME", "a", "b"), want: "OK"},
			{args: run("PTTL", "b"), want: "(5000)"},
			{adv: 5000},
			{args: run("EXISTS", "b"), want: "(0)"},
		}},
		{"rename clears destination ttl", func(d *testDB) { d.setStr("a", "1"); d.setStrPX("b", "2", 5000) }, []kstep{
			{args: run("RENAME", "a", "b"), want: "OK"},
			{args: run("TTL", "b"), want: "(-1)"},
		}},
		{"rename missing", nil, []kstep{
			{args: run("RENAME", "a", "b"), want: "!ERR no such key"},
			{args: run("RENAME", "a", "a"), want: "!ERR no such key"},
			{args: run("RENAMENX", "a", "b"), want: "!ERR no such key"},
		}},
		{"rename same key", func(d *testDB) { d.setStrPX("a", "1", 3000) }, []kstep{
			{args: run("RENAME", "a", "a"), want: "OK"},
			{args: run("RENAMENX", "a", "a"), want: "(0)"},
			{args: run("PTTL", "a"), want: "(3000)"},
		}},
		{"rename expired source", func(d *testDB) { d.setStrPX("a", "1", 10) }, []kstep{
			{adv: 10},
			{args: run("RENAME", "a", "b"), want: "!ERR no such key"},
		}},
		{"renamenx", func(d *testDB) { d.setStr("a", "1"); d.setStr("b", "2") }, []kstep{
			{args: run("RENAMENX", "a", "b"), want: "(0)"},
			{args: run("RENAMENX", "a", "c"), want: "(1)"},
			{args: run("EXISTS", "a", "b", "c"), want: "(2)"},
		}},
		{"renamenx onto expired key", func(d *testDB) { d.setStr("a", "1"); d.setStrPX("b", "2", 10) }, []kstep{
			{adv: 10},
			{args: run("RENAMENX", "a", "b"), want: "(1)"},
			{args: run("TTL", "b"), want: "(-1)"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDB(t)
			if tc.setup != nil {
				tc.setup(d)
			}
			runSteps(t, d, tc.steps)
		})
	}
	t.Run("value moves", func(t *testing.T) {
		d := newTestDB(t)
		d.setStr("{t}a", "hello")
		d.expect("OK", "RENAME", "{t}a", "{t}b")
		if got := d.getStr("{t}b"); got != "hello" {
			t.Fatalf("got %q", got)
		}
		if n := d.db.Len(); n != 1 {
			t.Fatalf("Len %d", n)
		}
	})
}

func TestKeysCopy(t *testing.T) {
	tests := []struct {
		name  string
		setup func(d *testDB)
		steps []kstep
	}{
		{"copy string keeps ttl", func(d *testDB) { d.setStrPX("a", "v", 4000) }, []kstep{
			{args: run("COPY", "a", "b"), want: "(1)"},
			{args: run("PTTL", "b"), want: "(4000)"},
			{args: run("TYPE", "b"), want: "string"},
		}},
		{"copy without and with replace", func(d *testDB) { d.setStr("a", "1"); d.setStrPX("b", "2", 1000) }, []kstep{
			{args: run("COPY", "a", "b"), want: "(0)"},
			{args: run("COPY", "a", "b", "REPLACE"), want: "(1)"},
			{args: run("TTL", "b"), want: "(-1)"},
		}},
		{"copy missing", nil, []kstep{
			{args: run("COPY", "a", "b"), want: "(0)"},
		}},
		{"copy onto expired key", func(d *testDB) { d.setStr("a", "1"); d.setStrPX("b", "2", 10) }, []kstep{
			{adv: 10},
			{args: run("COPY", "a", "b"), want: "(1)"},
		}},
		{"copy errors", func(d *testDB) { d.setStr("a", "1") }, []kstep{
			{args: run("COPY", "a", "a"), want: "!ERR source and destination objects are the same"},
			{args: run("COPY", "a", "b", "DB", "1"), want: "!ERR Copying to another database is not allowed in cluster mode"},
			{args: run("COPY", "a", "b", "DB", "16"), want: "!ERR DB index is out of range"},
			{args: run("COPY", "a", "b", "DB", "-1"), want: "!ERR DB index is out of range"},
			{args: run("COPY", "a", "b", "DB", "x"), want: "!ERR value is not an integer or out of range"},
			{args: run("COPY", "a", "b", "DB", "4294967296"), want: "!ERR value is not an integer or out of range"},
			{args: run("COPY", "a", "b", "DB"), want: "!ERR syntax error"},
			{args: run("COPY", "a", "b", "FOO"), want: "!ERR syntax error"},
			{args: run("COPY", "a", "a", "DB", "0"), want: "!ERR source and destination objects are the same"},
			{args: run("COPY", "a", "b", "db", "0", "replace"), want: "(1)"},
		}},
		{"move", func(d *testDB) { d.setStr("a", "1") }, []kstep{
			{args: run("MOVE", "a", "1"), want: "!ERR MOVE is not allowed in cluster mode"},
			{args: run("EXISTS", "a"), want: "(1)"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDB(t)
			if tc.setup != nil {
				tc.setup(d)
			}
			runSteps(t, d, tc.steps)
		})
	}

	t.Run("deep copy is independent", func(t *testing.T) {
		d := newTestDB(t)
		d.setHash("h", "f1", "v1", "f2", "v2")
		d.setSet("s", "1", "2")
		d.setStr("str", "orig")
		d.expect("(1)", "COPY", "h", "h2")
		d.expect("(1)", "COPY", "s", "s2")
		d.expect("(1)", "COPY", "str", "str2")

		// Mutate the sources as a write command would.
		c := d.ctx()
		c.GetMut([]byte("h")).(*hashValue).d.Set("f1", "changed")
		c.GetMut([]byte("h")).(*hashValue).d.Set("f3", "new")
		c.GetMut([]byte("s")).(*setValue).d.Delete([]byte("1"))
		c.Set([]byte("str"), newStr([]byte("other")))

		h2 := c.Get([]byte("h2")).(*hashValue)
		if v, _ := h2.d.Get("f1"); v != "v1" || h2.d.Len() != 2 {
			t.Fatalf("copy changed with source: f1=%q len=%d", v, h2.d.Len())
		}
		if s2 := c.Get([]byte("s2")).(*setValue); s2.d.Len() != 2 || !s2.d.Has([]byte("1")) {
			t.Fatalf("set copy changed with source")
		}
		if got := d.getStr("str2"); got != "orig" {
			t.Fatalf("string copy: %q", got)
		}
		// And the other way round.
		c.GetMut([]byte("h2")).(*hashValue).d.Delete([]byte("f2"))
		if h := c.Get([]byte("h")).(*hashValue); h.d.Len() != 3 {
			t.Fatalf("source changed with copy: len=%d", h.d.Len())
		}
	})
}

func TestKeysScan(t *testing.T) {
	t.Run("full iteration with deletes", func(t *testing.T) {
		d := newTestDB(t)
		const n = 1000
		for i := 0; i < n; i++ {
			d.setStr(fmt.Sprintf("key:%d", i), "v")
		}
		seen := map[string]int{}
		cursor := "0"
		deleted := map[string]bool{}
		for calls := 0; ; calls++ {
			if calls > n {
				t.Fatal("SCAN does not terminate")
			}
			r := d.read("SCAN", cursor, "COUNT", "17")
			if r.Kind != KindArray || len(r.Elems) != 2 || r.Elems[0].Kind != KindBulk || r.Elems[1].Kind != KindArray {
				t.Fatalf("bad reply shape %s", show(r))
			}
			for _, k := range r.Elems[1].Elems {
				seen[k.Str]++
				if deleted[k.Str] {
					t.Fatalf("deleted key %s returned", k.Str)
				}
			}
			// Delete a few keys between calls: every 7th key.
			for j := calls; j < n; j += 97 {
				k := fmt.Sprintf("key:%d", j)
				if j%7 == 0 && !deleted[k] {
					d.expect("(1)", "DEL", k)
					deleted[k] = true
				}
			}
			cursor = r.Elems[0].Str
			if cursor == "0" {
				break
			}
		}
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("key:%d", i)
			if !deleted[k] && seen[k] == 0 {
				t.Fatalf("key %s present throughout was never returned", k)
			}
		}
	})

	t.Run("match type and expired keys", func(t *testing.T) {
		d := newTestDB(t)
		for i := 0; i < 50; i++ {
			d.setStr(fmt.Sprintf("s%d", i), "v")
			d.setHash(fmt.Sprintf("h%d", i), "f", "v")
		}
		d.setStrPX("s-expiring", "v", 10)
		d.advance(10)
		collect := func(opts ...string) []string {
			var out []string
			cursor := "0"
			for {
				r := d.read(append([]string{"SCAN", cursor}, opts...)...)
				if r.IsError() {
					t.Fatalf("%v: %s", opts, r.Str)
				}
				for _, k := range r.Elems[1].Elems {
					out = append(out, k.Str)
				}
				if cursor = r.Elems[0].Str; cursor == "0" {
					return out
				}
			}
		}
		if got := collect(); len(got) != 100 {
			t.Fatalf("plain scan returned %d keys", len(got))
		}
		if got := collect("MATCH", "s1*"); len(got) != 11 {
			t.Fatalf("MATCH s1*: %v", got)
		}
		if got := collect("TYPE", "HASH", "COUNT", "5"); len(got) != 50 || got[0][0] != 'h' {
			t.Fatalf("TYPE hash: %d keys", len(got))
		}
		if got := collect("type", "hash", "match", "h4?"); len(got) != 10 {
			t.Fatalf("TYPE+MATCH: %v", got)
		}
		if got := collect("TYPE", "zset"); len(got) != 0 {
			t.Fatalf("TYPE zset: %v", got)
		}
		if got := collect("COUNT", "100000"); len(got) != 100 {
			t.Fatalf("big COUNT: %d", len(got))
		}
		r := d.read("SCAN", "0", "COUNT", "1000")
		if r.Elems[0].Str != "0" {
			t.Fatalf("one call covering all keys must end with cursor 0, got %s", r.Elems[0].Str)
		}
	})

	tests := []struct {
		args []string
		want string
	}{
		{run("SCAN", "x"), "!ERR invalid cursor"},
		{run("SCAN", " 1"), "!ERR invalid cursor"},
		{run("SCAN", "1 "), "!ERR invalid cursor"},
		{run("SCAN", "+"), "!ERR invalid cursor"},
		{run("SCAN", "18446744073709551616"), "!ERR invalid cursor"},
		{run("SCAN", "0", "COUNT", "0"), "!ERR syntax error"},
		{run("SCAN", "0", "COUNT", "-1"), "!ERR syntax error"},
		{run("SCAN", "0", "COUNT", "x"), "!ERR value is not an integer or out of range"},
		{run("SCAN", "0", "COUNT"), "!ERR syntax error"},
		{run("SCAN", "0", "MATCH"), "!ERR syntax error"},
		{run("SCAN", "0", "FOO", "bar"), "!ERR syntax error"},
		{run("SCAN", "0"), "[0 []]"},
		{run("SCAN", ""), "[0 []]"},
		{run("SCAN", "18446744073709551615"), "[0 []]"},
		{run("SCAN", "-1"), "[0 []]"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			d := newTestDB(t)
			if got := show(d.read(tc.args...)); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestKeysParseCursor(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"", 0, true}, {"123", 123, true}, {"+5", 5, true},
		{"-1", 1<<64 - 1, true}, {"18446744073709551615", 1<<64 - 1, true},
		{"18446744073709551616", 0, false}, {"-", 0, false}, {"1a", 0, false},
		{"\t1", 0, false}, {"0x10", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseCursor([]byte(tc.in))
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseCursor(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestKeysKeysDBSizeFlush(t *testing.T) {
	d := newTestDB(t)
	d.expect("(0)", "DBSIZE")
	d.expect("[]", "KEYS", "*")
	d.expect("<nil>", "RANDOMKEY")
	for _, k := range []string{"foo_a", "foo_b", "foo_c", "key_x", "key_y", "key_z"} {
		d.setStr(k, "v")
	}
	d.setStrPX("foo_expiring", "v", 10)
	d.expect("(7)", "DBSIZE")
	d.advance(10)

	keys := func(pattern string) string {
		r := d.read("KEYS", pattern)
		var ks []string
		for _, e := range r.Elems {
			ks = append(ks, e.Str)
		}
		sortStrings(ks)
		return strings.Join(ks, " ")
	}
	if got := keys("foo*"); got != "foo_a foo_b foo_c" {
		t.Fatalf("KEYS foo*: %q", got)
	}
	if got := keys("*"); got != "foo_a foo_b foo_c key_x key_y key_z" {
		t.Fatalf("KEYS *: %q", got)
	}
	if got := keys("key_[xy]"); got != "key_x key_y" {
		t.Fatalf("KEYS key_[xy]: %q", got)
	}
	if got := keys("nomatch*"); got != "" {
		t.Fatalf("KEYS nomatch*: %q", got)
	}

	for _, args := range [][]string{{"FLUSHDB", "now"}, {"FLUSHALL", "SYNC", "ASYNC"}, {"FLUSHALL", "x"}} {
		d.expect("!ERR syntax error", args...)
	}
	d.expect("(7)", "DBSIZE") // the expired key counts until it is removed
	d.expect("OK", "FLUSHALL")
	d.expect("(0)", "DBSIZE")
	d.setStr("a", "1")
	d.expect("OK", "FLUSHDB", "async")
	d.expect("(0)", "DBSIZE")
	d.setStr("a", "1")
	d.expect("OK", "flushall", "sync")
	d.expect("OK", "FLUSHDB", "SYNC")
	d.expect("[]", "KEYS", "*")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestKeysRandomKey(t *testing.T) {
	build := func() *testDB {
		d := newTestDB(t)
		for i := 0; i < 100; i++ {
			d.setStr(fmt.Sprintf("k%d", i), "v")
		}
		return d
	}
	a, b := build(), build()
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		ra, rb := show(a.do("RANDOMKEY")), show(b.do("RANDOMKEY"))
		if ra != rb {
			t.Fatalf("same seeds, different keys: %s vs %s", ra, rb)
		}
		if !strings.HasPrefix(ra, "k") {
			t.Fatalf("RANDOMKEY: %s", ra)
		}
		seen[ra] = true
	}
	if len(seen) < 10 {
		t.Fatalf("RANDOMKEY looks stuck: %d distinct keys", len(seen))
	}

	// Only expired keys left but one: that one is always returned.
	d := newTestDB(t)
	for i := 0; i < 50; i++ {
		d.setStrPX(fmt.Sprintf("e%d", i), "v", 10)
	}
	d.setStr("live", "v")
	d.advance(10)
	for i := 0; i < 5; i++ {
		if got := show(d.read("RANDOMKEY")); got != "live" {
			t.Fatalf("RANDOMKEY with expired keys: %s", got)
		}
	}
	d.do("DEL", "live")
	if got := show(d.read("RANDOMKEY")); got != "<nil>" {
		t.Fatalf("RANDOMKEY with only expired keys: %s", got)
	}
}

func TestKeysObject(t *testing.T) {
	d := newTestDB(t)
	d.setStr("int", "12345")
	d.setStr("bigint", "-9223372036854775808")
	d.setStr("notint", "012")
	d.setStr("small", "hello")
	d.setStr("s44", strings.Repeat("x", 44))
	d.setStr("s45", strings.Repeat("x", 45))
	d.setStr("shared", "42")
	d.setHash("hsmall", "f", "v")
	d.setHash("hbigval", "f", strings.Repeat("v", 65))
	var many []string
	for i := 0; i < 129; i++ {
		many = append(many, fmt.Sprintf("f%d", i), "v")
	}
	d.setHash("hmany", many...)
	d.setSet("sint", "1", "2", "-3")
	d.setSet("sstr", "1", "a")

	tests := []struct {
		args []string
		want string
	}{
		{run("OBJECT", "ENCODING", "int"), "int"},
		{run("OBJECT", "ENCODING", "bigint"), "int"},
		{run("OBJECT", "ENCODING", "notint"), "embstr"},
		{run("OBJECT", "ENCODING", "small"), "embstr"},
		{run("OBJECT", "ENCODING", "s44"), "embstr"},
		{run("OBJECT", "ENCODING", "s45"), "raw"},
		{run("OBJECT", "ENCODING", "hsmall"), "listpack"},
		{run("OBJECT", "ENCODING", "hbigval"), "hashtable"},
		{run("OBJECT", "ENCODING", "hmany"), "hashtable"},
		{run("OBJECT", "ENCODING", "sint"), "intset"},
		{run("OBJECT", "ENCODING", "sstr"), "hashtable"},
		{run("object", "encoding", "missing"), "<nil>"},
		{run("OBJECT", "REFCOUNT", "small"), "(1)"},
		{run("OBJECT", "REFCOUNT", "int"), "(1)"},
		{run("OBJECT", "REFCOUNT", "shared"), "(2147483647)"},
		{run("OBJECT", "REFCOUNT", "missing"), "<nil>"},
		{run("OBJECT", "IDLETIME", "small"), "(0)"},
		{run("OBJECT", "IDLETIME", "missing"), "<nil>"},
		{run("OBJECT", "FREQ", "small"), "!ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."},
		{run("OBJECT", "FREQ", "missing"), "<nil>"},
		{run("OBJECT", "foo", "k"), "!ERR unknown subcommand 'foo'. Try OBJECT HELP."},
		{run("object", "foo\r\nbar"), "!ERR unknown subcommand 'foo  bar'. Try OBJECT HELP."},
		{run("OBJECT", "ENCODING"), "!ERR wrong number of arguments for 'object|encoding' command"},
		{run("OBJECT", "Encoding", "a", "b"), "!ERR wrong number of arguments for 'object|encoding' command"},
		{run("OBJECT", "HELP", "x"), "!ERR wrong number of arguments for 'object|help' command"},
		{run("OBJECT"), "!ERR wrong number of arguments for 'object' command"},
	}
	for _, tc := range tests {
		if got := show(d.read(tc.args...)); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.args, got, tc.want)
		}
	}
	help := d.read("OBJECT", "help")
	if len(help.Elems) != 15 || help.Elems[0].Str != "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:" ||
		help.Elems[14].Str != "    Prints this help." {
		t.Fatalf("OBJECT HELP: %s", show(help))
	}
}

func TestKeysCommandTable(t *testing.T) {
	tests := []struct {
		name  string
		arity int
		flags Flag
		keys  []int // positions for the sample args
		args  []string
	}{
		{"del", -2, FlagWrite, []int{1, 2}, run("del", "a", "b")},
		{"unlink", -2, FlagWrite | FlagFast, []int{1}, run("unlink", "a")},
		{"exists", -2, FlagReadOnly | FlagFast, []int{1, 2}, run("exists", "a", "b")},
		{"expire", -3, FlagWrite | FlagFast, []int{1}, run("expire", "a", "1", "NX")},
		{"ttl", 2, FlagReadOnly | FlagFast, []int{1}, run("ttl", "a")},
		{"rename", 3, FlagWrite, []int{1, 2}, run("rename", "a", "b")},
		{"copy", -3, FlagWrite | FlagDenyOOM, []int{1, 2}, run("copy", "a", "b", "REPLACE")},
		{"scan", -2, FlagReadOnly, nil, run("scan", "0")},
		{"keys", 2, FlagReadOnly, nil, run("keys", "*")},
		{"randomkey", 1, FlagReadOnly | FlagRandom, nil, run("randomkey")},
		{"dbsize", 1, FlagReadOnly | FlagFast, nil, run("dbsize")},
		{"flushall", -1, FlagWrite | FlagNoKeys, nil, run("flushall", "async")},
		{"flushdb", -1, FlagWrite | FlagNoKeys, nil, run("flushdb")},
		{"object", -2, FlagReadOnly, []int{2}, run("object", "encoding", "k")},
		{"object", -2, FlagReadOnly, nil, run("object", "help")},
	}
	for _, tc := range tests {
		cmd := Lookup([]byte(tc.name))
		if cmd == nil {
			t.Fatalf("%s not registered", tc.name)
		}
		if cmd.Arity != tc.arity || cmd.Flags != tc.flags {
			t.Errorf("%s: arity %d flags %v, want %d %v", tc.name, cmd.Arity, cmd.Flags.Names(), tc.arity, tc.flags.Names())
		}
		bs := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			bs[i] = []byte(a)
		}
		if got := cmd.KeyPositions(bs); !deepEqual(got, tc.keys) {
			t.Errorf("%v: keys %v, want %v", tc.args, got, tc.keys)
		}
	}
}

// TestKeysSnapshotIsolation changes keys while a snapshot generation shares
// their entries: the entries and values the snapshot sees must not change.
func TestKeysSnapshotIsolation(t *testing.T) {
	d := newTestDB(t)
	d.setHash("h", "f", "v")
	d.setStrPX("e", "v", 5000)
	d.setStr("p", "v")
	oldH := d.db.find([]byte("h")).val.(*hashValue)
	oldE := d.db.find([]byte("e"))
	// Simulate a live snapshot the way DB.own sees one.
	d.db.gen++
	d.db.liveSnaps.Add(1)
	defer d.db.liveSnaps.Add(-1)

	d.expect("OK", "RENAME", "h", "h2")
	d.ctx().GetMut([]byte("h2")).(*hashValue).d.Set("f", "changed")
	if v, _ := oldH.d.Get("f"); v != "v" {
		t.Fatalf("renamed value still shared with the snapshot: f=%q", v)
	}
	d.expect("(1)", "EXPIRE", "e", "100")
	d.expect("(1)", "PEXPIRE", "p", "100")
	if oldE.exp != d.now+5000 {
		t.Fatalf("snapshot entry's TTL changed: %d", oldE.exp)
	}
	d.expect("(100)", "TTL", "e")
}

// TestKeysOtherTypes covers OBJECT ENCODING and COPY for types whose files
// belong to other parts of the engine; it skips when they are absent.
func TestKeysOtherTypes(t *testing.T) {
	t.Run("list", func(t *testing.T) {
		if Lookup([]byte("rpush")) == nil || Lookup([]byte("lrange")) == nil {
			t.Skip("lists not registered")
		}
		d := newTestDB(t)
		d.expect("(3)", "RPUSH", "l", "a", "b", "c")
		d.expect("quicklist", "OBJECT", "ENCODING", "l")
		d.expect("list", "TYPE", "l")
		d.expect("(1)", "COPY", "l", "l2")
		d.expect("(4)", "RPUSH", "l", "d")
		d.expect("[a b c]", "LRANGE", "l2", "0", "-1")
		d.expect("(4)", "RPUSH", "l2", "x")
		d.expect("[a b c d]", "LRANGE", "l", "0", "-1")
	})
	t.Run("zset", func(t *testing.T) {
		if Lookup([]byte("zadd")) == nil || Lookup([]byte("zrange")) == nil {
			t.Skip("zsets not registered")
		}
		d := newTestDB(t)
		d.expect("(2)", "ZADD", "z", "1", "a", "2", "b")
		d.expect("listpack", "OBJECT", "ENCODING", "z")
		d.expect("zset", "TYPE", "z")
		d.expect("(1)", "COPY", "z", "z2")
		d.expect("(1)", "ZADD", "z", "3", "c")
		d.expect("[a b]", "ZRANGE", "z2", "0", "-1")
		d.expect("(1)", "ZADD", "z", "1", strings.Repeat("m", 65))
		d.expect("skiplist", "OBJECT", "ENCODING", "z")
		d.expect("listpack", "OBJECT", "ENCODING", "z2")
	})
}

// TestKeyspaceStats: keyspace_hits and keyspace_misses count the lookups
// Redis makes with lookupKeyRead (and OBJECT's), not the ones writes make
// before they change a key (lookupKeyWrite): the deltas below are what
// redis-server 7.0.15 reports for the same commands.
func TestKeyspaceStats(t *testing.T) {
	d := newTestDB(t)
	d.do("SET", "str", "v")
	d.do("ZADD", "zs", "1", "a")
	checkStatDeltas(t, d, []statStep{
		{[]string{"ZADD", "newz", "1", "a"}, false, 0, 0},
		{[]string{"ZADD", "zs", "2", "b"}, false, 0, 0},
		{[]string{"SMOVE", "s1", "s2", "x"}, false, 0, 0},
		{[]string{"ZREMRANGEBYSCORE", "nz", "0", "1"}, false, 0, 0},
		{[]string{"XGROUP", "CREATE", "nostream", "g", "$"}, false, 0, 0},
		{[]string{"INCR", "counter"}, false, 0, 0},
		{[]string{"ZSCORE", "nz", "a"}, true, 0, 1},
		{[]string{"ZSCORE", "zs", "a"}, true, 1, 0},
		{[]string{"OBJECT", "ENCODING", "nokey"}, true, 0, 1},
		{[]string{"GET", "str"}, true, 1, 0},
		{[]string{"GET", "nokey"}, true, 0, 1},
	})
}

// TestKeyspaceStatsOfWrites runs a sequence of writes (and TOUCH) and
// compares each command's keyspace_hits and keyspace_misses deltas with
// what redis-server 7.0.15 reported for the same sequence: a write counts
// only the keys Redis looks up with lookupKeyRead (SUNIONSTORE's sources,
// GETDEL, SET ... GET, GETEX, COPY's source, SORT's key...).
func TestKeyspaceStatsOfWrites(t *testing.T) {
	d := newTestDB(t)
	checkStatDeltas(t, d, []statStep{
		{[]string{"LPUSH", "l", "a"}, false, 0, 0},
		{[]string{"HSET", "h", "f", "v"}, false, 0, 0},
		{[]string{"SADD", "s", "a"}, false, 0, 0},
		{[]string{"APPEND", "str", "x"}, false, 0, 0},
		{[]string{"SETRANGE", "sr", "0", "x"}, false, 0, 0},
		{[]string{"EXPIRE", "str", "100"}, false, 0, 0},
		{[]string{"DEL", "nokey"}, false, 0, 0},
		{[]string{"RENAME", "str", "str2"}, false, 0, 0},
		{[]string{"INCRBY", "c", "2"}, false, 0, 0},
		{[]string{"LPOP", "nol"}, false, 0, 0},
		{[]string{"RPOPLPUSH", "nol", "l2"}, false, 0, 0},
		{[]string{"SUNIONSTORE", "d", "s", "nos"}, false, 1, 1},
		{[]string{"GETDEL", "nokey"}, false, 0, 1},
		{[]string{"SET", "str3", "v", "GET"}, false, 0, 1},
		{[]string{"HINCRBY", "h", "n", "1"}, false, 0, 0},
		{[]string{"SINTERSTORE", "d2", "s", "nos"}, false, 1, 1},
		{[]string{"ZUNIONSTORE", "d3", "1", "nz"}, false, 0, 1},
		{[]string{"PFADD", "p", "a"}, false, 0, 0},
		{[]string{"PFMERGE", "p2", "p", "nop"}, false, 1, 2},
		{[]string{"SETBIT", "b", "1", "1"}, false, 0, 0},
		{[]string{"BITOP", "AND", "d4", "b", "nob"}, false, 1, 1},
		{[]string{"LMOVE", "l", "l3", "LEFT", "LEFT"}, false, 0, 0},
		{[]string{"COPY", "s", "s9"}, false, 1, 0},
		{[]string{"PERSIST", "str2"}, false, 0, 0},
		{[]string{"GETEX", "str2", "PX", "100000"}, false, 1, 0},
		{[]string{"GETSET", "str2", "v"}, false, 1, 0},
		{[]string{"HDEL", "h", "f"}, false, 0, 0},
		{[]string{"SREM", "s", "a"}, false, 0, 0},
		{[]string{"LINSERT", "l", "BEFORE", "a", "b"}, false, 0, 0},
		{[]string{"LSET", "l", "0", "z"}, false, 0, 0},
		{[]string{"RPUSHX", "nol", "a"}, false, 0, 0},
		{[]string{"ZINCRBY", "zz", "1", "m"}, false, 0, 0},
		{[]string{"SPOP", "s"}, false, 0, 0},
		{[]string{"EXPIREAT", "str2", "99999999999"}, false, 0, 0},
		{[]string{"TOUCH", "str2", "nokey"}, true, 1, 1},
		{[]string{"UNLINK", "nokey"}, false, 0, 0},
		{[]string{"SETNX", "str2", "v"}, false, 0, 0},
		{[]string{"MSETNX", "a1", "1", "a2", "2"}, false, 0, 0},
		{[]string{"GEOADD", "g", "1", "1", "m"}, false, 0, 0},
		{[]string{"XADD", "xs", "*", "f", "v"}, false, 0, 0},
		{[]string{"SORT", "l", "STORE", "d5"}, false, 0, 1},
	})
}

// statStep is a command and the keyspace hit and miss deltas it must give;
// read runs it as a read (outside the log), else as an applied write.
type statStep struct {
	cmd          []string
	read         bool
	hits, misses int64
}

// checkStatDeltas runs steps in order and checks each one's deltas.
func checkStatDeltas(t *testing.T, d *testDB, steps []statStep) {
	t.Helper()
	for _, st := range steps {
		h0, m0 := d.db.Stats.Hits.Load(), d.db.Stats.Misses.Load()
		if st.read {
			d.read(st.cmd...)
		} else {
			d.do(st.cmd...)
		}
		if h, m := d.db.Stats.Hits.Load()-h0, d.db.Stats.Misses.Load()-m0; h != st.hits || m != st.misses {
			t.Errorf("%q: keyspace hits +%d, misses +%d; want (redis-server) +%d, +%d", st.cmd, h, m, st.hits, st.misses)
		}
	}
}

// TestLookupNoTouch: TTL, PTTL, TYPE and EXISTS leave a key's access time
// alone (Redis's LOOKUP_NOTOUCH), GET and TOUCH update it (unit/
// introspection-2's "TTL, TYPE and EXISTS do not alter the last access
// time of a key").
func TestLookupNoTouch(t *testing.T) {
	d := newTestDB(t)
	d.db.tracking.Store(TrackLRU)
	d.do("SET", "foo", "bar")
	d.advance(3000)
	for _, cmd := range [][]string{{"TTL", "foo"}, {"PTTL", "foo"}, {"TYPE", "foo"}, {"EXISTS", "foo"}, {"EXPIRETIME", "foo"}} {
		d.read(cmd...)
	}
	if r := show(d.read("OBJECT", "IDLETIME", "foo")); r != "(3)" {
		t.Fatalf("OBJECT IDLETIME after TTL, TYPE, EXISTS = %s, want (3)", r)
	}
	d.read("TOUCH", "foo")
	if r := show(d.read("OBJECT", "IDLETIME", "foo")); r != "(0)" {
		t.Fatalf("OBJECT IDLETIME after TOUCH = %s, want (0)", r)
	}
	d.advance(2000)
	d.read("GET", "foo")
	if r := show(d.read("OBJECT", "IDLETIME", "foo")); r != "(0)" {
		t.Fatalf("OBJECT IDLETIME after GET = %s, want (0)", r)
	}
}
