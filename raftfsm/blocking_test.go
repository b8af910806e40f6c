package raftfsm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestBlockingPopAttempts(t *testing.T) {
	d := newTestDB(t)
	steps := []struct {
		want string
		args []string
	}{
		// Nothing to pop: the timeout reply (null array).
		{"<nil>", []string{"BLPOP", "a", "b", "0"}},
		{"<nil>", []string{"BRPOP", "a", "1.5"}},
		{"(3)", []string{"RPUSH", "b", "x", "y", "z"}},
		{"[b x]", []string{"BLPOP", "a", "b", "0"}},
		{"[b z]", []string{"BRPOP", "a", "b", "0"}},
		{"[b y]", []string{"BLPOP", "b", "b", "0"}},
		{"(0)", []string{"EXISTS", "b"}},
		// Wrong type met before a list is an error; after, it is skipped.
		{"OK", []string{"SET", "s", "str"}},
		{"!" + ErrWrongType.Str, []string{"BLPOP", "a", "s", "0"}},
		{"(1)", []string{"RPUSH", "a", "1"}},
		{"[a 1]", []string{"BLPOP", "a", "s", "0"}},
		// Timeout validation happens before anything else.
		{"!ERR timeout is not a float or out of range", []string{"BLPOP", "a", "x"}},
		{"!ERR timeout is not a float or out of range", []string{"BLPOP", "a", "nan"}},
		{"!ERR timeout is not a float or out of range", []string{"BLPOP", "a", " 1"}},
		{"!ERR timeout is negative", []string{"BLPOP", "a", "-1"}},
		{"!ERR timeout is negative", []string{"BRPOP", "s", "-0.5"}},
		{"!ERR timeout is negative", []string{"BLPOP", "a", "inf"}},
		{"!ERR timeout is negative", []string{"BLPOP", "a", "0x7FFFFFFFFFFFFF"}},
		{"<nil>", []string{"BLPOP", "a", "0.001"}},
		{"<nil>", []string{"BLPOP", "a", "-0.0001"}}, // ceil(-0.1) is 0
		{"!ERR wrong number of arguments for 'blpop' command", []string{"BLPOP", "a"}},
	}
	for _, s := range steps {
		d.expect(s.want, s.args...)
	}
}

func TestBlockingMoveAttempts(t *testing.T) {
	d := newTestDB(t)
	// Nothing to move: a null bulk, as Redis replies when it may not block.
	if r := d.do("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"); r.Kind != KindNil {
		t.Fatalf("BLMOVE on empty: %v", show(r))
	}
	if r := d.do("BRPOPLPUSH", "src", "dst", "0"); r.Kind != KindNil {
		t.Fatalf("BRPOPLPUSH on empty: %v", show(r))
	}
	d.expect("(3)", "RPUSH", "src", "a", "b", "c")
	d.expect("a", "BLMOVE", "src", "dst", "LEFT", "RIGHT", "0")
	d.expect("c", "BRPOPLPUSH", "src", "dst", "1")
	d.expect("[c a]", "LRANGE", "dst", "0", "-1")
	d.expect("!ERR syntax error", "BLMOVE", "src", "dst", "UP", "RIGHT", "0")
	d.expect("!ERR syntax error", "BLMOVE", "src", "dst", "LEFT", "UP", "x") // where is checked first
	d.expect("!ERR timeout is negative", "BLMOVE", "src", "dst", "LEFT", "RIGHT", "-1")
	d.expect("!ERR timeout is not a float or out of range", "BRPOPLPUSH", "src", "dst", "abc")
	d.expect("OK", "SET", "str", "v")
	d.expect("!"+ErrWrongType.Str, "BRPOPLPUSH", "str", "dst", "0")
	d.expect("!"+ErrWrongType.Str, "BRPOPLPUSH", "src", "str", "0")
	d.expect("[b]", "LRANGE", "src", "0", "-1") // untouched by the failed move
	// Self-referential rotation.
	d.expect("b", "BRPOPLPUSH", "src", "src", "0")
	d.expect("[b]", "LRANGE", "src", "0", "-1")
}

func TestBlockingMpopAttempts(t *testing.T) {
	d := newTestDB(t)
	steps := []struct {
		want string
		args []string
	}{
		{"<nil>", []string{"BLMPOP", "0", "2", "a", "b", "LEFT"}},
		{"(5)", []string{"RPUSH", "b", "1", "2", "3", "4", "5"}},
		{"[b [1]]", []string{"BLMPOP", "0", "2", "a", "b", "LEFT"}},
		{"[b [5 4]]", []string{"BLMPOP", "0.1", "2", "a", "b", "RIGHT", "COUNT", "2"}},
		{"[b [2 3]]", []string{"BLMPOP", "0", "1", "b", "LEFT", "COUNT", "10"}},
		{"(0)", []string{"EXISTS", "b"}},
		// Argument errors come before timeout errors.
		{"!ERR numkeys should be greater than 0", []string{"BLMPOP", "-1", "0", "a", "LEFT"}},
		{"!ERR numkeys should be greater than 0", []string{"BLMPOP", "0", "x", "a", "LEFT"}},
		{"!ERR syntax error", []string{"BLMPOP", "-1", "5", "a", "LEFT"}},
		{"!ERR syntax error", []string{"BLMPOP", "-1", "1", "a", "UP"}},
		{"!ERR count should be greater than 0", []string{"BLMPOP", "-1", "1", "a", "LEFT", "COUNT", "0"}},
		{"!ERR syntax error", []string{"BLMPOP", "0", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"}},
		{"!ERR timeout is negative", []string{"BLMPOP", "-1", "1", "a", "LEFT"}},
		{"!ERR timeout is not a float or out of range", []string{"BLMPOP", "z", "1", "a", "LEFT"}},
		{"!ERR numkeys should be greater than 0", []string{"BLMPOP", "0", "99999999999999999999", "a", "LEFT"}},
		{"OK", []string{"SET", "s", "v"}},
		{"!" + ErrWrongType.Str, []string{"BLMPOP", "0", "1", "s", "LEFT"}},
		// Sorted sets.
		{"<nil>", []string{"BZMPOP", "0", "1", "z", "MIN"}},
		{"(3)", []string{"ZADD", "z", "1", "a", "2", "b", "3", "c"}},
		{"[z [[a 1]]]", []string{"BZMPOP", "0", "1", "z", "MIN"}},
		{"[z [[c 3] [b 2]]]", []string{"BZMPOP", "0", "2", "y", "z", "MAX", "COUNT", "5"}},
		{"!ERR syntax error", []string{"BZMPOP", "0", "1", "z", "LEFT"}},
		{"!ERR timeout is negative", []string{"BZMPOP", "-2", "1", "z", "MIN"}},
		{"!" + ErrWrongType.Str, []string{"BZMPOP", "0", "1", "s", "MIN"}},
	}
	for _, s := range steps {
		d.expect(s.want, s.args...)
	}
}

func TestBlockingZpopAttempts(t *testing.T) {
	d := newTestDB(t)
	d.expect("<nil>", "BZPOPMIN", "z", "0")
	d.expect("(3)", "ZADD", "z", "1", "a", "2.5", "b", "3", "c")
	r := d.do("BZPOPMIN", "y", "z", "0")
	if r.Kind != KindArray || len(r.Elems) != 3 || r.Elems[2].Kind != KindDouble || r.Int != 0 {
		t.Fatalf("BZPOPMIN reply shape: %+v", r)
	}
	if show(r) != "[z a 1]" {
		t.Fatalf("BZPOPMIN = %s", show(r))
	}
	d.expect("[z c 3]", "BZPOPMAX", "z", "1")
	d.expect("[z b 2.5]", "BZPOPMAX", "z", "1")
	d.expect("(0)", "EXISTS", "z")
	d.expect("<nil>", "BZPOPMAX", "z", "0")
	d.expect("OK", "SET", "s", "v")
	d.expect("!"+ErrWrongType.Str, "BZPOPMIN", "s", "z", "0")
	d.expect("!ERR timeout is negative", "BZPOPMIN", "s", "-1")
}

func TestBlockingHelpers(t *testing.T) {
	d := newTestDB(t)
	b := func(ss ...string) [][]byte {
		out := make([][]byte, len(ss))
		for i, s := range ss {
			out[i] = []byte(s)
		}
		return out
	}
	str := func(bs [][]byte) []string {
		var out []string
		for _, x := range bs {
			out = append(out, string(x))
		}
		return out
	}
	keys := []struct {
		args []string
		want []string
	}{
		{[]string{"blpop", "a", "b", "0"}, []string{"a", "b"}},
		{[]string{"BZPOPMAX", "z", "1"}, []string{"z"}},
		{[]string{"blmove", "s", "d", "left", "left", "0"}, []string{"s"}},
		{[]string{"brpoplpush", "s", "d", "0"}, []string{"s"}},
		{[]string{"blmpop", "0", "2", "x", "y", "left"}, []string{"x", "y"}},
		{[]string{"bzmpop", "0", "9", "x", "min"}, nil},
	}
	for _, k := range keys {
		if got := str(BlockingKeys(b(k.args...))); !deepEqual(got, k.want) {
			t.Errorf("BlockingKeys(%v) = %v, want %v", k.args, got, k.want)
		}
	}
	tm := []struct {
		args []string
		ms   int64
		ok   bool
	}{
		{[]string{"blpop", "a", "0"}, 0, true},
		{[]string{"blpop", "a", "0.0011"}, 2, true},
		{[]string{"blmove", "s", "d", "left", "left", "2"}, 2000, true},
		{[]string{"blmpop", "1.5", "1", "x", "left"}, 1500, true},
		{[]string{"brpoplpush", "s", "d", "-1"}, 0, false},
	}
	for _, c := range tm {
		ms, ok := BlockingTimeout(b(c.args...))
		if ms != c.ms || ok != c.ok {
			t.Errorf("BlockingTimeout(%v) = %d %v, want %d %v", c.args, ms, ok, c.ms, c.ok)
		}
	}
	d.do("SET", "s", "v")
	d.do("ZADD", "z", "1", "m")
	d.do("RPUSH", "l", "x")
	d.do("RPUSH", "exp", "x")
	d.do("PEXPIRE", "exp", "10")
	d.advance(10)
	ready := []struct {
		args []string
		want bool
	}{
		{[]string{"blpop", "s", "0"}, false}, // another type keeps the client blocked
		{[]string{"blpop", "s", "l", "0"}, true},
		{[]string{"blpop", "z", "0"}, false},
		{[]string{"bzpopmin", "z", "0"}, true},
		{[]string{"bzpopmin", "l", "0"}, false},
		{[]string{"blpop", "exp", "0"}, false}, // expired
		{[]string{"blmove", "l", "s", "left", "left", "0"}, true},
		{[]string{"bzmpop", "0", "2", "q", "z", "min"}, true},
	}
	for _, r := range ready {
		if got := BlockingReady(d.db, d.now, b(r.args...)); got != r.want {
			t.Errorf("BlockingReady(%v) = %v, want %v", r.args, got, r.want)
		}
	}
}

// ---- WaitKeys -------------------------------------------------------------------

func cmdLog(idx uint64, now int64, cmds ...[]string) *raft.Log {
	e := &Entry{Op: OpCommands, ReqID: idx, Time: now, Seed: idx}
	for _, c := range cmds {
		var args [][]byte
		for _, a := range c {
			args = append(args, []byte(a))
		}
		e.Cmds = append(e.Cmds, args)
	}
	return &raft.Log{Index: idx, Term: 1, Type: raft.LogCommand, Data: EncodeEntry(nil, e)}
}

// startWait runs WaitKeys in a goroutine and waits until it is registered.
func startWait(t *testing.T, f *FSM, ctx context.Context, keys ...string) <-chan error {
	t.Helper()
	before := f.Waiters()
	var bk [][]byte
	for _, k := range keys {
		bk = append(bk, []byte(k))
	}
	ch := make(chan error, 1)
	go func() { ch <- f.WaitKeys(ctx, bk) }()
	for deadline := time.Now().Add(5 * time.Second); f.Waiters() == before; {
		if time.Now().After(deadline) {
			t.Fatal("waiter never registered")
		}
		runtime.Gosched()
	}
	return ch
}

func expectWoken(t *testing.T, ch <-chan error, want bool) {
	t.Helper()
	wait := 20 * time.Millisecond
	if want {
		wait = 5 * time.Second
	}
	select {
	case err := <-ch:
		if !want {
			t.Fatalf("woken unexpectedly: %v", err)
		}
		if err != nil {
			t.Fatalf("WaitKeys: %v", err)
		}
	case <-time.After(wait):
		if want {
			t.Fatal("not woken")
		}
	}
}

func TestWaitKeys(t *testing.T) {
	f := NewFSM(nil)
	now := int64(1_700_000_000_000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// A write on another key does not wake; one on a waited key does.
	ch := startWait(t, f, ctx, "a", "b")
	f.Apply(cmdLog(1, now, []string{"RPUSH", "other", "x"}))
	expectWoken(t, ch, false)
	f.Apply(cmdLog(2, now, []string{"SET", "x", "1"}, []string{"RPUSH", "b", "x"}))
	expectWoken(t, ch, true)
	if n := f.Waiters(); n != 0 {
		t.Fatalf("waiters after wake: %d", n)
	}

	// Movable keys (LMPOP) and failed commands still count as touching.
	ch = startWait(t, f, ctx, "m")
	f.Apply(cmdLog(3, now, []string{"LMPOP", "2", "q", "m", "LEFT"}))
	expectWoken(t, ch, true)

	// FLUSHALL wakes everyone.
	ch = startWait(t, f, ctx, "nothing-writes-me")
	f.Apply(cmdLog(4, now, []string{"FLUSHALL"}))
	expectWoken(t, ch, true)

	// Active expiry entries wake the listed keys.
	ch = startWait(t, f, ctx, "e")
	e := &Entry{Op: OpExpire, Time: now, Cmds: [][][]byte{{[]byte("e"), []byte("f")}}}
	f.Apply(&raft.Log{Index: 5, Type: raft.LogCommand, Data: EncodeEntry(nil, e)})
	expectWoken(t, ch, true)

	// A batch wakes once, after it is applied.
	ch = startWait(t, f, ctx, "k")
	f.ApplyBatch([]*raft.Log{cmdLog(6, now, []string{"RPUSH", "k", "1"}), cmdLog(7, now, []string{"RPUSH", "k", "2"})})
	expectWoken(t, ch, true)
	var llen int64
	f.View(func(db *DB) { llen = Exec(NewCtx(db, now, false, 0), [][]byte{[]byte("LLEN"), []byte("k")}).Int })
	if llen != 2 {
		t.Fatalf("LLEN after batch = %d", llen)
	}
}

func TestWaitKeysCancel(t *testing.T) {
	f := NewFSM(nil)
	ctx, cancel := context.WithCancel(context.Background())
	ch := startWait(t, f, ctx, "a")
	ch2 := startWait(t, f, ctx, "a", "b")
	cancel()
	for _, c := range []<-chan error{ch, ch2} {
		select {
		case err := <-c:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("WaitKeys after cancel: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("WaitKeys ignored cancel")
		}
	}
	if n := f.Waiters(); n != 0 {
		t.Fatalf("waiters after cancel: %d", n)
	}
	f.kw.mu.Lock()
	left := len(f.kw.byKey) + len(f.kw.all)
	f.kw.mu.Unlock()
	if left != 0 {
		t.Fatalf("registrations left: %d", left)
	}
	// A context already done returns at once.
	if err := f.WaitKeys(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitKeys on done ctx: %v", err)
	}
	// Deadline.
	tctx, tcancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer tcancel()
	if err := f.WaitKeys(tctx, [][]byte{[]byte("a")}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitKeys timeout: %v", err)
	}
}

func TestWaitKeysRestoreWakes(t *testing.T) {
	src := NewFSM(nil)
	src.Apply(cmdLog(1, 1, []string{"SET", "k", "v"}))
	data := snapshotBytes(t, src)
	f := NewFSM(nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := startWait(t, f, ctx, "x")
	if err := f.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	expectWoken(t, ch, true)
}
