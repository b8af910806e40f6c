package raftfsm

import (
	"context"
	"strings"
	"testing"
)

func TestEval(t *testing.T) {
	type step struct {
		want string // show() of the reply; a trailing '*' matches a prefix
		args []string
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"conversions Lua to Redis", []step{
			{"hello", []string{"EVAL", "return 'hello'", "0"}},
			{"(100)", []string{"EVAL", "return 100.5", "0"}},
			{"(-3)", []string{"EVAL", "return -3.9", "0"}},
			{"(1)", []string{"EVAL", "return true", "0"}},
			{"<nil>", []string{"EVAL", "return false", "0"}},
			{"<nil>", []string{"EVAL", "return nil", "0"}},
			{"fine", []string{"EVAL", "return {ok='fine'}", "0"}},
			{"!ERR this is an error", []string{"EVAL", "return {err='ERR this is an error'}", "0"}},
			{"!My Error", []string{"EVAL", "return redis.error_reply('My Error')", "0"}},
			{"PONG", []string{"EVAL", "return redis.status_reply('PONG')", "0"}},
			{"[(1) (2) (3) ciao [(1) (2)]]", []string{"EVAL", "return {1,2,3,'ciao',{1,2}}", "0"}},
			{"[(1) (2)]", []string{"EVAL", "return {1,2,nil,4}", "0"}},
			{"[]", []string{"EVAL", "return _G", "0"}},
			{"[]", []string{"EVAL", "local a = {}; setmetatable(a,{__index=function() foo() end}) return a", "0"}},
		}},
		{"KEYS and ARGV", []step{
			{"[a{t} b{t} c d]", []string{"EVAL", "return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}", "2", "a{t}", "b{t}", "c", "d"}},
			{"(0)", []string{"EVAL", "return #KEYS", "0", "x"}},
			{"!ERR Number of keys can't be greater than number of args", []string{"EVAL", "return 1", "2", "a"}},
			{"!ERR Number of keys can't be negative", []string{"EVAL", "return 1", "-1"}},
			{"!ERR value is not an integer or out of range", []string{"EVAL", "return 1", "x"}},
		}},
		{"conversions Redis to Lua", []step{
			{"OK", []string{"SET", "mykey", "myval"}},
			{"[string myval]", []string{"EVAL", "local v = redis.call('get', KEYS[1]); return {type(v), v}", "1", "mykey"}},
			{"[boolean (1)]", []string{"EVAL", "local v = redis.call('get', KEYS[1]); return {type(v), v == false}", "1", "nokey"}},
			{"[number (1)]", []string{"EVAL", "local v = redis.pcall('incr', KEYS[1]); return {type(v), v}", "1", "n"}},
			{"[table OK]", []string{"EVAL", "local v = redis.pcall('set', KEYS[1], 'x'); return {type(v), v['ok']}", "1", "k"}},
			{"[table ERR value is not an integer or out of range]", []string{"EVAL", "local v = redis.pcall('incr', KEYS[1]); return {type(v), v['err']}", "1", "mykey"}},
			{"(3)", []string{"RPUSH", "l", "a", "b", "c"}},
			{"[table a c (3)]", []string{"EVAL", "local v = redis.call('lrange', KEYS[1], 0, -1); return {type(v), v[1], v[3], #v}", "1", "l"}},
			{"1.5", []string{"EVAL", "return redis.call('incrbyfloat', KEYS[1], 1.5)", "1", "f"}},
			{"(12)", []string{"EVAL", "return redis.call('incrby', KEYS[1], 12)", "1", "i"}},
		}},
		{"errors from redis.call", []step{
			{"OK", []string{"SET", "foo", "bar"}},
			{"!WRONGTYPE Operation against a key holding the wrong kind of value script: *", []string{"EVAL", "redis.call('lpush', KEYS[1], 'v')", "1", "foo"}},
			{"!ERR Unknown Redis command called from script script: *", []string{"EVAL", "redis.call('nosuchcommand')", "0"}},
			{"!ERR Wrong number of args calling Redis command from script script: *", []string{"EVAL", "redis.call('get', 'a', 'b')", "0"}},
			{"!ERR Please specify at least one argument for this redis lib call script: *", []string{"EVAL", "return redis.call()", "0"}},
			{"!ERR Lua redis lib command arguments must be strings or integers script: *", []string{"EVAL", "return redis.call('get', {})", "0"}},
			{"!ERR This Redis command is not allowed from script script: *", []string{"EVAL", "return redis.call('blpop', 'x', 0)", "0"}},
			{"[table ERR This Redis command is not allowed from script]", []string{"EVAL", "local v = redis.pcall('eval', 'return 1', 0); return {type(v), v.err}", "0"}},
			{"ERR This Redis command is not allowed from script", []string{"EVAL", "return redis.pcall('function', 'flush').err", "0"}},
			{"ERR This Redis command is not allowed from script", []string{"EVAL", "return redis.pcall('fcall', 'f', 0).err", "0"}},
			{"caught", []string{"EVAL", "local ok = pcall(redis.call, 'incr', KEYS[1]); if not ok then return 'caught' end", "1", "foo"}},
		}},
		{"script errors", []step{
			{"!ERR Error compiling script (new function): *", []string{"EVAL", "return (", "0"}},
			{"!ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: *", []string{"EVAL", "return a", "0"}},
			{"!ERR user_script:1: Attempt to modify a readonly table script: *", []string{"EVAL", "a = 10", "0"}},
			{"!ERR user_script:1: Attempt to modify a readonly table script: *", []string{"EVAL", "redis = function() return 1 end", "0"}},
			{"!ERR user_script:1: Attempt to modify a readonly table script: *", []string{"EVAL", "_G = {}", "0"}},
			{"!ERR user_script:1: Attempt to modify a readonly table script: *", []string{"EVAL", "setmetatable(_G, {})", "0"}},
			{"!ERR user_script:1: Attempt to modify a readonly table script: *", []string{"EVAL", "getmetatable(_G).__index = {}", "0"}},
			{"!ERR user_script:1: Script attempted to access nonexistent global variable 'print' script: *", []string{"EVAL", "print('x')", "0"}},
			{"!ERR user_script:1: attempt to call a non-function object*", []string{"EVAL", "local x = nil; x()", "0"}},
			{"(3)", []string{"EVAL", "local t = {} t.x = 3 return t.x", "0"}},
			{"!ERR user_script:1: Script attempted to access nonexistent global variable 'dofile' script: *", []string{"EVAL", "return dofile", "0"}},
		}},
		{"writes stay when a script fails, as in Redis", []step{
			{"!ERR user_script:1: boom script: *", []string{"EVAL", "redis.call('set', KEYS[1], 'v'); error('boom')", "1", "w"}},
			{"v", []string{"GET", "w"}},
		}},
		{"read-only scripts", []step{
			{"OK", []string{"SET", "foo", "bar"}},
			{"!ERR Write commands are not allowed from read-only scripts. script: *", []string{"EVAL_RO", "return redis.call('del', KEYS[1])", "1", "foo"}},
			{"!ERR Write commands are not allowed from read-only scripts. script: *", []string{"EVAL", "#!lua flags=no-writes\nreturn redis.call('del', KEYS[1])", "1", "foo"}},
			{"bar", []string{"EVAL_RO", "return redis.call('get', KEYS[1])", "1", "foo"}},
			{"!ERR Unexpected flag in script shebang: bogus", []string{"EVAL", "#!lua flags=bogus\nreturn 1", "0"}},
			{"!ERR Unexpected engine in script shebang: python", []string{"EVAL", "#!python\nreturn 1", "0"}},
			{"!ERR", []string{"EVAL", "return redis.error_reply('')", "0"}},
			{"!ERR Can not run script on cluster, 'no-cluster' flag is set.", []string{"EVAL", "#!lua flags=no-cluster\nreturn 1", "0"}},
			{"!ERR user_script:2: Script attempted to access nonexistent global variable 'b' script: *", []string{"EVAL", "#!lua\nreturn b", "0"}},
		}},
		{"one slot per script", []step{
			{"!ERR Script attempted to access keys that do not hash to the same slot script: *", []string{"EVAL", "redis.call('set', 'a', 1); redis.call('set', 'b', 1)", "0"}},
			{"!ERR Script attempted to access keys that do not hash to the same slot script: *", []string{"EVAL", "return redis.call('get', 'b')", "1", "a"}},
			{"(2)", []string{"EVAL", "redis.call('set', '{u}a', 1); redis.call('set', '{u}b', 1); return redis.call('exists', '{u}a', '{u}b')", "1", "{u}x"}},
			{"(2)", []string{"EVAL", "#!lua flags=allow-cross-slot-keys\nredis.call('set', 'a', 1); return redis.call('incr', 'a') + redis.call('exists', 'b')", "0"}},
		}},
		{"redis library", []step{
			{"2ef7bde608ce5404e97d5f042f95f89f1c232871", []string{"EVAL", "return redis.sha1hex('Hello World!')", "0"}},
			{"7.0.15", []string{"EVAL", "return redis.REDIS_VERSION", "0"}},
			{"(1)", []string{"EVAL", "return redis.replicate_commands()", "0"}},
			{"[1700000000 0]", []string{"EVAL", "return redis.call('TIME')", "0"}},
			{"PONG", []string{"EVAL", "return redis.call('ping')", "0"}},
			{"!ERR user_script:1: Invalid command passed to redis.acl_check_cmd() script: *", []string{"EVAL", "return redis.acl_check_cmd('nosuch')", "0"}},
			{"(1)", []string{"EVAL", "return redis.acl_check_cmd('set', 'a', 'b')", "0"}},
			{"<nil>", []string{"EVAL", "redis.log(redis.LOG_WARNING, 'x')", "0"}},
			{"!ERR user_script:1: RESP version must be 2 or 3. script: *", []string{"EVAL", "redis.setresp(4)", "0"}},
			{"[(1) (0)]", []string{"EVAL", "redis.setresp(3); local v = redis.call('get', 'nokey'); return {1, v == nil and 0 or 1}", "0"}},
			{"(1)", []string{"HSET", "h", "f", "v"}},
			{"[f v]", []string{"EVAL", "redis.setresp(3); return redis.call('hgetall', 'h')", "0"}},
			{"[f v]", []string{"EVAL", "redis.setresp(2); return redis.call('hgetall', 'h')", "0"}},
			{"1.5", []string{"EVAL", "return {double=1.5}", "0"}},
		}},
		{"sandbox", []step{
			{"table: 0x00000001 table: 0x00000002 table: 0x00000001", []string{"EVAL", "local a, b = {}, {} return tostring(a)..' '..tostring(b)..' '..tostring(a)", "0"}},
			{"!ERR user_script:1: string.rep: result larger than 67108864 bytes script: *", []string{"EVAL", "return string.rep('x', 1e9)", "0"}},
			{"(3)", []string{"EVAL", "return #string.rep('ab', 1) + 1", "0"}},
			{"!ERR user_script:1: script stopped after 20 million Lua instructions*", []string{"EVAL", "while true do end", "0"}},
			// What one script changes, the next does not see (VMs are reused).
			{"!ERR user_script:1: Attempt to modify a readonly table script: *", []string{"EVAL", "string.len = nil", "0"}},
			{"(5)", []string{"EVAL", "rawset(string, 'len', 5) return string.len", "0"}},
			{"(3)", []string{"EVAL", "return string.len('abc') + #('x'):rep(0)", "0"}},
			{"<nil>", []string{"EVAL", "setfenv(0, {}) rawset(_G, 'leak', 1)", "0"}},
			{"[table (0)]", []string{"EVAL", "return {type(redis), rawget(_G, 'leak') and 1 or 0}", "0"}},
			{"[]", []string{"EVAL", "return getmetatable(_G)", "0"}},
			{"!ERR user_script:1: Attempt to modify a readonly table*", []string{"EVAL", "setmetatable(math, {})", "0"}},
			{"(7)", []string{"EVAL", "local t = setmetatable({}, {__index = function() return 7 end}) return t.x", "0"}},
			{"9007199254740991", []string{"EVAL", "redis.call('set', KEYS[1], 9007199254740991) return redis.call('get', KEYS[1])", "1", "n"}},
			{"0.1", []string{"EVAL", "redis.call('set', KEYS[1], 0.1) return redis.call('get', KEYS[1])", "1", "n"}},
			{"1e+21", []string{"EVAL", "redis.call('set', KEYS[1], 1e21) return redis.call('get', KEYS[1])", "1", "n"}},
			{"!ERR user_script:1: Cannot serialise, excessive nesting (2)*", []string{"EVAL", "cjson.encode_max_depth(1) return cjson.encode({{1}})", "0"}},
			{"[[(1)]]", []string{"EVAL", "return cjson.decode(cjson.encode({{1}}))", "0"}},
			{"{\"n\":nan}", []string{"EVAL", "cjson.encode_invalid_numbers(true) return cjson.encode({n=0/0})", "0"}},
			{"!ERR user_script:1: Cannot serialise number*", []string{"EVAL", "return cjson.encode({n=0/0})", "0"}},
			{"!ERR This Redis command is not allowed from script script: *", []string{"EVAL", "return redis.call('cluster', 'reset')", "0"}},
			{"(1)", []string{"EVAL", "return cjson.decode('[1]')[1]", "0"}},
			{"(15)", []string{"EVAL", "return bit.band(0xff, 0x0f)", "0"}},
			{"[a (98)]", []string{"EVAL", "return cmsgpack.unpack(cmsgpack.pack({'a', 98}))", "0"}},
			{"[(97) (1)]", []string{"EVAL", "return {string.byte('abc'), select('#', string.byte('abc'))}", "0"}},
			{"[(98) (99)]", []string{"EVAL", "return {string.byte('abc', 2, -1)}", "0"}},
			{"(0)", []string{"EVAL", "return select('#', string.byte(''))", "0"}},
			{"!ERR user_script:1: script stopped after 20 million Lua instructions*", []string{"EVAL", "while true do pcall(function() while true do end end) end", "0"}},
			{"!ERR user_script:1: script stopped after 20 million Lua instructions*", []string{"EVAL", "coroutine.wrap(function() while true do end end)()", "0"}},
			{"!ERR user_script:1: script stopped after 20 million Lua instructions*", []string{"EVAL", "local co = coroutine.create(function() while true do end end) coroutine.resume(co) return 1", "0"}},
			{"[(1) (2) done]", []string{"EVAL", "local f = coroutine.wrap(function() coroutine.yield(1) coroutine.yield(2) return 'done' end) return {f(), f(), f()}", "0"}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDB(t)
			for _, s := range tc.steps {
				got := show(d.do(s.args...))
				if p, ok := strings.CutSuffix(s.want, "*"); ok {
					if !strings.HasPrefix(got, p) {
						t.Fatalf("%q: got %q, want prefix %q", s.args, got, p)
					}
				} else if got != s.want {
					t.Fatalf("%q: got %q, want %q", s.args, got, s.want)
				}
			}
		})
	}
}

// TestEvalDeterministic runs the same script on two databases with the same
// entry seed and time: random numbers and results must match (replicas).
func TestEvalDeterministic(t *testing.T) {
	script := []byte(`local out = {}
for i = 1, 5 do out[#out+1] = math.random(1000000) end
local t = {z=1, a=2, m=3}
for k in pairs(t) do out[#out+1] = k end
redis.call('set', KEYS[1], table.concat(out, ','))
return redis.call('get', KEYS[1])`)
	run := func(seed uint64) string {
		db := NewDB()
		r := Exec(NewCtx(db, 1_700_000_000_000, true, seed), [][]byte{[]byte("eval"), script, []byte("1"), []byte("k")})
		return show(r)
	}
	a, b, c := run(9), run(9), run(10)
	if a != b {
		t.Fatalf("same seed, different results: %q vs %q", a, b)
	}
	if a == c {
		t.Fatalf("different seeds gave the same random numbers: %q", a)
	}
	if !strings.HasSuffix(a, ",z,a,m") {
		t.Fatalf("pairs order %q: want insertion order z,a,m", a)
	}
}

func TestEvalKeys(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []int
	}{
		{[]string{"eval", "s", "0"}, nil},
		{[]string{"eval", "s", "2", "a", "b", "c"}, []int{3, 4}},
		{[]string{"eval", "s", "3", "a"}, nil},
		{[]string{"eval", "s", "x", "a"}, nil},
	} {
		bs := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			bs[i] = []byte(a)
		}
		got := EvalKeys(bs)
		if len(got) != len(tc.want) {
			t.Fatalf("%q: got %v, want %v", tc.args, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("%q: got %v, want %v", tc.args, got, tc.want)
			}
		}
	}
}

// BenchmarkEval measures one small script run (state setup included), the
// cost a rate limiter pays per call on every replica.
func BenchmarkEval(b *testing.B) {
	db := NewDB()
	args := [][]byte{[]byte("eval"), []byte("local n = redis.call('incr', KEYS[1]); if n == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end; return n"), []byte("1"), []byte("rl"), []byte("1000")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if r := Exec(NewCtx(db, 1_700_000_000_000, true, uint64(i)), args); r.Kind == KindError {
			b.Fatal(r.Str)
		}
	}
}

// TestEvalWakesWaiters: the change feed sees the keys a script wrote, not
// only the ones it declared.
func TestEvalWakesWaiters(t *testing.T) {
	f := NewFSM(nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := startWait(t, f, ctx, "q")
	f.Apply(cmdLog(1, 1_700_000_000_000, []string{"EVAL", "return redis.call('get', 'q')", "0"}))
	expectWoken(t, ch, false)
	f.Apply(cmdLog(2, 1_700_000_000_000, []string{"EVAL", "redis.call('rpush', 'q', 'job')", "0"}))
	expectWoken(t, ch, true)
}

// FuzzEval runs arbitrary script text twice, on two databases in the same
// state with the same entry seed, as two replicas would: nothing may panic,
// and both runs must leave the same reply and the same data.
func FuzzEval(f *testing.F) {
	for _, s := range []string{
		"return redis.call('incr', KEYS[1])",
		"local t = {} for i = 1, 10 do t[#t+1] = math.random(100) end return t",
		"for k, v in pairs({a=1, b=2, c=3}) do redis.call('hset', KEYS[1], k, v) end return redis.call('hgetall', KEYS[1])",
		"return cjson.encode(cjson.decode(ARGV[1]))",
		"return tostring({}) .. tostring(print)",
		"while true do end",
		"return redis.pcall('lpush', KEYS[1])",
	} {
		f.Add(s, "k", `{"a":[1,2,{"b":null}]}`)
	}
	f.Fuzz(func(t *testing.T, script, key, arg string) {
		run := func() (string, uint64) {
			db := NewDB()
			c := NewCtx(db, 1_700_000_000_000, true, 5)
			Exec(c, [][]byte{[]byte("rpush"), []byte(key), []byte("a"), []byte("b")})
			r := Exec(NewCtx(db, 1_700_000_000_001, true, 6), [][]byte{[]byte("eval"), []byte(script), []byte("1"), []byte(key), []byte(arg)})
			return show(r), digestDB(db)
		}
		r1, d1 := run()
		r2, d2 := run()
		// A reply may name a table by its run-local id; addresses never.
		if r1 != r2 || d1 != d2 {
			t.Fatalf("script %q: runs differ: %q vs %q (digests %x %x)", script, r1, r2, d1, d2)
		}
	})
}
