package raftfsm

import (
	"bytes"
	"strings"
	"testing"
)

const testLib = "#!lua name=mylib\n" +
	"local function incr(keys, args) return redis.call('incrby', keys[1], args[1]) end\n" +
	"redis.register_function('myincr', incr)\n" +
	"redis.register_function{function_name='myget', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}\n"

func TestFunctions(t *testing.T) {
	d := newTestDB(t)
	steps := []struct {
		want string
		args []string
	}{
		{"!ERR Function not found", []string{"FCALL", "myincr", "1", "k", "1"}},
		{"mylib", []string{"FUNCTION", "LOAD", testLib}},
		{"!ERR Library 'mylib' already exists", []string{"FUNCTION", "LOAD", testLib}},
		{"mylib", []string{"FUNCTION", "LOAD", "REPLACE", testLib}},
		{"(5)", []string{"FCALL", "myincr", "1", "k", "5"}},
		{"(7)", []string{"FCALL", "MYINCR", "1", "k", "2"}}, // names are case-insensitive, as in Redis
		{"7", []string{"FCALL_RO", "myget", "1", "k"}},
		{"!ERR Can not execute a script with write flag using *_ro command.", []string{"FCALL_RO", "myincr", "1", "k", "1"}},
		{"!ERR Missing library metadata", []string{"FUNCTION", "LOAD", "return 1"}},
		{"!ERR Library name was not given", []string{"FUNCTION", "LOAD", "#!lua\nredis.register_function('f', function() end)"}},
		{"!ERR Engine 'js' not found", []string{"FUNCTION", "LOAD", "#!js name=x\n"}},
		{"!ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long", []string{"FUNCTION", "LOAD", "#!lua name=a-b\n"}},
		{"!ERR No functions registered", []string{"FUNCTION", "LOAD", "#!lua name=empty\nlocal x = 1"}},
		{"!ERR Function myincr already exists", []string{"FUNCTION", "LOAD", "#!lua name=other\nredis.register_function('myincr', function() return 1 end)"}},
		{"!ERR Error registering functions: *Script attempted to access nonexistent global variable 'call'*", []string{"FUNCTION", "LOAD", "#!lua name=bad\nredis.call('set', 'x', 1)"}},
		{"!ERR Error registering functions: *nonexistent global variable 'math'*", []string{"FUNCTION", "LOAD", "#!lua name=bad\nlocal x = math.random()"}},
		// The body sees only part of redis; the functions see everything.
		{"lib3", []string{"FUNCTION", "LOAD", "#!lua name=lib3\nlocal function helper() return math.floor(2.5) + #cjson.encode({}) end\nredis.register_function('f3', function() return helper() end)"}},
		{"(4)", []string{"FCALL", "f3", "0"}},
		{"OK", []string{"FUNCTION", "DELETE", "LIB3"}},
		{"!ERR Error compiling function: *", []string{"FUNCTION", "LOAD", "#!lua name=bad\nreturn ("}},
		{"lib2", []string{"FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('f2', function() return nope end)"}},
		{"!ERR user_function:2: Script attempted to access nonexistent global variable 'nope' script: *", []string{"FCALL", "f2", "0"}},
		{"OK", []string{"FUNCTION", "DELETE", "lib2"}},
		{"!ERR Library not found", []string{"FUNCTION", "DELETE", "lib2"}},
		{"[[library_name mylib engine LUA functions [[name myget description reads flags [no-writes]] [name myincr description <nil> flags []]]]]", []string{"FUNCTION", "LIST"}},
		{"[]", []string{"FUNCTION", "LIST", "LIBRARYNAME", "nomatch*"}},
		{"[running_script <nil> engines [LUA [libraries_count (1) functions_count (2)]]]", []string{"FUNCTION", "STATS"}},
		{"!NOTBUSY No scripts in execution right now.", []string{"FUNCTION", "KILL"}},
		{"OK", []string{"FLUSHALL"}}, // functions survive FLUSHALL
		{"(1)", []string{"FCALL", "myincr", "1", "k", "1"}},
		{"OK", []string{"FUNCTION", "FLUSH"}},
		{"!ERR Function not found", []string{"FCALL", "myincr", "1", "k", "1"}},
	}
	for _, s := range steps {
		got, want := show(d.do(s.args...)), s.want
		if p, ok := strings.CutSuffix(want, "*"); ok && strings.Contains(p, "*") {
			parts := strings.Split(want, "*")
			if !strings.HasPrefix(got, parts[0]) || !strings.Contains(got, parts[1]) {
				t.Fatalf("%q: got %q, want %q", s.args, got, want)
			}
		} else if ok {
			if !strings.HasPrefix(got, p) {
				t.Fatalf("%q: got %q, want prefix %q", s.args, got, p)
			}
		} else if got != want {
			t.Fatalf("%q: got %q, want %q", s.args, got, want)
		}
	}
}

func TestFunctionDumpRestore(t *testing.T) {
	d := newTestDB(t)
	d.expect("mylib", "FUNCTION", "LOAD", testLib)
	dump := d.do("FUNCTION", "DUMP")
	if dump.Kind != KindBulk {
		t.Fatalf("DUMP: %v", show(dump))
	}
	d.expect("OK", "FUNCTION", "FLUSH")
	d.expect("OK", "FUNCTION", "RESTORE", dump.Str)
	d.expect("(3)", "FCALL", "myincr", "1", "k", "3")
	d.expect("!ERR Library mylib already exists", "FUNCTION", "RESTORE", dump.Str)
	d.expect("OK", "FUNCTION", "RESTORE", dump.Str, "REPLACE")
	d.expect("OK", "FUNCTION", "RESTORE", dump.Str, "FLUSH")
	d.expect("!ERR payload version or checksum are wrong", "FUNCTION", "RESTORE", dump.Str[:len(dump.Str)-1]+"x")
}

// TestFunctionsInSnapshot: libraries are kept in snapshots (version 3) and
// loaded again on restore; the digest covers them.
func TestFunctionsInSnapshot(t *testing.T) {
	d := newTestDB(t)
	d.expect("mylib", "FUNCTION", "LOAD", testLib)
	d.expect("OK", "SET", "k", "1")
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, d.db.keys, d.db.slotTab, SnapshotHeader{Keys: 1, Libraries: libCodes(d.db.libs)}); err != nil {
		t.Fatal(err)
	}
	db, hdr, err := ReadSnapshot(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(hdr.Libraries) != 1 || digestDB(db) != digestDB(d.db) {
		t.Fatalf("restored %d libraries; digests equal: %v", len(hdr.Libraries), digestDB(db) == digestDB(d.db))
	}
	r := Exec(NewCtx(db, d.now, true, 1), [][]byte{[]byte("fcall"), []byte("myincr"), []byte("1"), []byte("k"), []byte("4")})
	if show(r) != "(5)" {
		t.Fatalf("FCALL after restore: %s", show(r))
	}
	d.expect("OK", "FUNCTION", "FLUSH")
	if digestDB(db) == digestDB(d.db) {
		t.Fatal("digest ignores the libraries")
	}
}
