package gateway

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/redis/go-redis/v9"
)

// watchBackend is the fake backend applying writes like FSM.applyEntry does
// (raftfsm.ApplyCommands), so that EXEC's watch check is honoured.
type watchBackend struct{ *fakeBackend }

func newWatchBackend() *watchBackend { return &watchBackend{newFakeBackend()} }

func (w *watchBackend) Write(ctx context.Context, cmds [][][]byte) ([]raftfsm.Reply, error) {
	w.writes.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seed += uint64(len(cmds))
	return raftfsm.ApplyCommands(w.db, w.now, w.seed, cmds, nil), nil
}

// waitBlocked waits until n clients are blocked on s.
func waitBlocked(t *testing.T, s *Server, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); s.blockedClients() != n; {
		if time.Now().After(deadline) {
			t.Fatalf("blocked clients: %d, want %d", s.blockedClients(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// async sends a command on r and returns a channel with its reply.
func async(r *rawConn, req string) <-chan string {
	ch := make(chan string, 1)
	r.send(req)
	go func() {
		s, err := readReply(r.rd)
		if err != nil {
			s = "read error: " + err.Error()
		}
		ch <- s
	}()
	return ch
}

func recv(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no reply")
		return ""
	}
}

func expectRaw(t *testing.T, r *rawConn, req, want string) {
	t.Helper()
	r.send(req)
	if got := r.readReply(); got != want {
		t.Fatalf("%q: got %q, want %q", req, got, want)
	}
}

func TestBlockingPopWakes(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	a, w := mustRaw(t, s), mustRaw(t, s)

	// Data already there: served at once.
	expectRaw(t, w, cmd("RPUSH", "{t}l", "x"), ":1")
	expectRaw(t, a, cmd("BLPOP", "{t}a", "{t}l", "0"), "*[${t}l $x]")

	// Blocks until another client pushes.
	ch := async(a, cmd("BLPOP", "{t}a", "{t}b", "0"))
	waitBlocked(t, s, 1)
	expectRaw(t, w, cmd("RPUSH", "{t}other", "1"), ":1")
	expectRaw(t, w, cmd("RPUSH", "{t}b", "v1", "v2"), ":2")
	if got := recv(t, ch); got != "*[${t}b $v1]" {
		t.Fatalf("BLPOP: %s", got)
	}
	waitBlocked(t, s, 0)
	expectRaw(t, w, cmd("LRANGE", "{t}b", "0", "-1"), "*[$v2]")

	// A key of another type does not unblock; the list that follows does.
	ch = async(a, cmd("BRPOP", "k", "0"))
	waitBlocked(t, s, 1)
	expectRaw(t, w, cmd("SET", "k", "str"), "+OK")
	expectRaw(t, w, cmd("DEL", "k"), ":1")
	expectRaw(t, w, cmd("RPUSH", "k", "a", "b"), ":2")
	if got := recv(t, ch); got != "*[$k $b]" {
		t.Fatalf("BRPOP: %s", got)
	}
	// Errors are immediate.
	expectRaw(t, a, cmd("BLPOP", "k", "-1"), "-ERR timeout is negative")
	expectRaw(t, a, cmd("BLPOP", "k", "x"), "-ERR timeout is not a float or out of range")
	expectRaw(t, w, cmd("SET", "s", "v"), "+OK")
	expectRaw(t, a, cmd("BLPOP", "s", "0"), "-WRONGTYPE Operation against a key holding the wrong kind of value")
	expectRaw(t, a, cmd("BLPOP", "{t}a", "{t}b", "s", "0"), "-CROSSSLOT Keys in request don't hash to the same slot")
}

func TestBlockingTimeouts(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	a := mustRaw(t, s)
	start := time.Now()
	expectRaw(t, a, cmd("BLPOP", "nolist", "0.1"), "*<nil>")
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("BLPOP timed out after %v", d)
	}
	// BLMOVE's timeout is a null array too; inside MULTI it is a null bulk.
	expectRaw(t, a, cmd("BLMOVE", "{n}list", "{n}dst", "LEFT", "LEFT", "0.01"), "*<nil>")
	expectRaw(t, a, cmd("BZPOPMIN", "noz", "0.01"), "*<nil>")
	expectRaw(t, a, cmd("BLMPOP", "0.01", "1", "nolist", "LEFT"), "*<nil>")
	expectRaw(t, a, cmd("MULTI"), "+OK")
	expectRaw(t, a, cmd("BLMOVE", "{n}list", "{n}dst", "LEFT", "LEFT", "0"), "+QUEUED")
	expectRaw(t, a, cmd("BLPOP", "{n}list", "0"), "+QUEUED")
	expectRaw(t, a, cmd("EXEC"), "*[$<nil> *<nil>]")
	// RESP3: the null.
	a.send(cmd("HELLO", "3"))
	a.readReply()
	expectRaw(t, a, cmd("BRPOP", "nolist", "0.01"), "_")
	if s.blockedClients() != 0 {
		t.Fatal("clients still blocked")
	}
}

func TestBlockingMoveAndZpop(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	rc := newGoRedis(t, s, 2)
	w := newGoRedis(t, s, 3)
	ctx := context.Background()

	done := make(chan *redis.StringCmd, 1)
	go func() { done <- rc.BLMove(ctx, "{m}src", "{m}dst", "RIGHT", "LEFT", 5*time.Second) }()
	waitBlocked(t, s, 1)
	if err := w.RPush(ctx, "{m}src", "a", "b").Err(); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.Err() != nil || r.Val() != "b" {
		t.Fatalf("BLMOVE: %v", r)
	}
	if got := w.LRange(ctx, "{m}dst", 0, -1).Val(); len(got) != 1 || got[0] != "b" {
		t.Fatalf("dst: %v", got)
	}

	zdone := make(chan *redis.ZWithKeyCmd, 1)
	go func() { zdone <- rc.BZPopMin(ctx, 5*time.Second, "{z}1", "{z}2") }()
	waitBlocked(t, s, 1)
	if err := w.ZAdd(ctx, "{z}2", redis.Z{Score: 2.5, Member: "m"}, redis.Z{Score: 3, Member: "n"}).Err(); err != nil {
		t.Fatal(err)
	}
	r := <-zdone
	if r.Err() != nil || r.Val().Key != "{z}2" || r.Val().Member != "m" || r.Val().Score != 2.5 {
		t.Fatalf("BZPOPMIN: %v", r)
	}

	// Timeout through go-redis: redis.Nil.
	if err := rc.BLPop(ctx, time.Second, "none").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("BLPOP timeout: %v", err)
	}
}

// TestBlockingFIFO follows Redis's "BLMPOP with multiple blocked clients":
// clients are served in the order they blocked.
func TestBlockingFIFO(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	w := mustRaw(t, s)
	var rds []*rawConn
	var chs []<-chan string
	for i, req := range []string{
		cmd("BLMPOP", "0", "2", "{t}l1", "{t}l2", "LEFT", "COUNT", "1"),
		cmd("BLMPOP", "0", "2", "{t}l1", "{t}l2", "RIGHT", "COUNT", "10"),
		cmd("BLMPOP", "0", "2", "{t}l1", "{t}l2", "LEFT", "COUNT", "10"),
		cmd("BLMPOP", "0", "2", "{t}l1", "{t}l2", "RIGHT", "COUNT", "1"),
	} {
		r := mustRaw(t, s)
		rds = append(rds, r)
		chs = append(chs, async(r, req))
		waitBlocked(t, s, i+1)
	}
	expectRaw(t, w, cmd("MULTI"), "+OK")
	expectRaw(t, w, cmd("LPUSH", "{t}l1", "a", "b", "c", "d", "e"), "+QUEUED")
	expectRaw(t, w, cmd("LPUSH", "{t}l2", "1", "2", "3", "4", "5"), "+QUEUED")
	expectRaw(t, w, cmd("EXEC"), "*[:5 :5]")
	want := []string{"*[${t}l1 *[$e]]", "*[${t}l1 *[$a $b $c $d]]", "*[${t}l2 *[$5 $4 $3 $2 $1]]"}
	for i, ww := range want {
		if got := recv(t, chs[i]); got != ww {
			t.Fatalf("client %d: %s, want %s", i+1, got, ww)
		}
	}
	waitBlocked(t, s, 1)
	expectRaw(t, w, cmd("LPUSH", "{t}l2", "1", "2", "3"), ":3")
	if got := recv(t, chs[3]); got != "*[${t}l2 *[$1]]" {
		t.Fatalf("client 4: %s", got)
	}
}

// TestBlockingChain follows Redis's "Linked LMOVEs": the pusher's reply
// goes out once the clients it woke (and those they woke) are served.
func TestBlockingChain(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	r1, r2, w := mustRaw(t, s), mustRaw(t, s), mustRaw(t, s)
	c1 := async(r1, cmd("BLMOVE", "{t}1", "{t}2", "RIGHT", "LEFT", "0"))
	waitBlocked(t, s, 1)
	c2 := async(r2, cmd("BLMOVE", "{t}2", "{t}3", "LEFT", "RIGHT", "0"))
	waitBlocked(t, s, 2)
	expectRaw(t, w, cmd("RPUSH", "{t}1", "foo"), ":1")
	expectRaw(t, w, cmd("LRANGE", "{t}1", "0", "-1"), "*[]")
	expectRaw(t, w, cmd("LRANGE", "{t}2", "0", "-1"), "*[]")
	expectRaw(t, w, cmd("LRANGE", "{t}3", "0", "-1"), "*[$foo]")
	if recv(t, c1) != "$foo" || recv(t, c2) != "$foo" {
		t.Fatal("chained BLMOVE replies")
	}

	// Circular BRPOPLPUSH: the element comes back to where it was pushed.
	c1 = async(r1, cmd("BRPOPLPUSH", "{t}c1", "{t}c2", "0"))
	waitBlocked(t, s, 1)
	c2 = async(r2, cmd("BRPOPLPUSH", "{t}c2", "{t}c1", "0"))
	waitBlocked(t, s, 2)
	expectRaw(t, w, cmd("RPUSH", "{t}c1", "foo"), ":1")
	expectRaw(t, w, cmd("LRANGE", "{t}c1", "0", "-1"), "*[$foo]")
	expectRaw(t, w, cmd("LRANGE", "{t}c2", "0", "-1"), "*[]")
	if recv(t, c1) != "$foo" || recv(t, c2) != "$foo" {
		t.Fatal("circular BRPOPLPUSH replies")
	}

	// BRPOPLPUSH with a wrong-type destination fails when woken and leaves
	// the element to the next client.
	expectRaw(t, w, cmd("SET", "{t}bad", "x"), "+OK")
	c1 = async(r1, cmd("BRPOPLPUSH", "{t}src", "{t}bad", "0"))
	waitBlocked(t, s, 1)
	c2 = async(r2, cmd("BRPOPLPUSH", "{t}src", "{t}good", "0"))
	waitBlocked(t, s, 2)
	expectRaw(t, w, cmd("LPUSH", "{t}src", "foo"), ":1")
	if got := recv(t, c1); got != "-WRONGTYPE Operation against a key holding the wrong kind of value" {
		t.Fatalf("first client: %s", got)
	}
	if got := recv(t, c2); got != "$foo" {
		t.Fatalf("second client: %s", got)
	}
}

func TestBlockingDisconnectAndClose(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	r := mustRaw(t, s)
	r.send(cmd("BLPOP", "k", "0"))
	waitBlocked(t, s, 1)
	r.c.Close()
	waitBlocked(t, s, 0)

	// CLIENT KILL unblocks too.
	r = mustRaw(t, s)
	r.send(cmd("CLIENT", "ID"))
	id := r.readReply()[1:]
	r.send(cmd("BZPOPMAX", "z", "0"))
	waitBlocked(t, s, 1)
	k := mustRaw(t, s)
	expectRaw(t, k, cmd("CLIENT", "KILL", "ID", id), ":1")
	waitBlocked(t, s, 0)

	// Server.Close returns with a client blocked forever (goleak checks
	// that nothing is left behind).
	s2, err := New(Config{Addr: "127.0.0.1:0", Backend: newWatchBackend()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start(); err != nil {
		t.Fatal(err)
	}
	r2 := mustRaw(t, s2)
	r2.send(cmd("BLPOP", "k", "0"))
	waitBlocked(t, s2, 1)
	closed := make(chan error, 1)
	go func() { closed <- s2.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs with a blocked client")
	}
	if s2.blockedClients() != 0 {
		t.Fatal("blocked client left after Close")
	}
}

func TestWatch(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	a, w := mustRaw(t, s), mustRaw(t, s)

	// Not modified: EXEC runs.
	expectRaw(t, a, cmd("SET", "x", "30"), "+OK")
	expectRaw(t, a, cmd("WATCH", "x", "{x}missing"), "+OK")
	expectRaw(t, a, cmd("MULTI"), "+OK")
	expectRaw(t, a, cmd("INCR", "x"), "+QUEUED")
	expectRaw(t, a, cmd("EXEC"), "*[:31]")

	// Modified by another client: EXEC aborts and applies nothing.
	expectRaw(t, a, cmd("WATCH", "x"), "+OK")
	expectRaw(t, w, cmd("SET", "x", "40"), "+OK")
	expectRaw(t, a, cmd("MULTI"), "+OK")
	expectRaw(t, a, cmd("INCR", "x"), "+QUEUED")
	expectRaw(t, a, cmd("EXEC"), "*<nil>")
	expectRaw(t, a, cmd("GET", "x"), "$40")

	// After a failed EXEC the key is no longer watched.
	expectRaw(t, w, cmd("SET", "x", "41"), "+OK")
	expectRaw(t, a, cmd("MULTI"), "+OK")
	expectRaw(t, a, cmd("PING"), "+QUEUED")
	expectRaw(t, a, cmd("EXEC"), "*[+PONG]")

	// A transaction of gateway commands only still honours WATCH.
	expectRaw(t, a, cmd("WATCH", "x"), "+OK")
	expectRaw(t, w, cmd("SET", "x", "42"), "+OK")
	expectRaw(t, a, cmd("MULTI"), "+OK")
	expectRaw(t, a, cmd("PING"), "+QUEUED")
	expectRaw(t, a, cmd("EXEC"), "*<nil>")

	// A missing watched key that gets created counts as modified; a
	// missing key that stays missing does not (FLUSHALL included).
	expectRaw(t, a, cmd("WATCH", "new"), "+OK")
	expectRaw(t, w, cmd("FLUSHALL"), "+OK")
	expectRaw(t, a, cmd("MULTI"), "+OK")
	expectRaw(t, a, cmd("PING"), "+QUEUED")
	expectRaw(t, a, cmd("EXEC"), "*[+PONG]")
	expectRaw(t, a, cmd("WATCH", "new"), "+OK")
	expectRaw(t, w, cmd("RPUSH", "new", "1"), ":1")
	expectRaw(t, a, cmd("MULTI"), "+OK")
	expectRaw(t, a, cmd("GET", "other"), "+QUEUED")
	expectRaw(t, a, cmd("EXEC"), "*<nil>")

	// FLUSHALL touches existing watched keys; EXPIRE too.
	expectRaw(t, a, cmd("WATCH", "new"), "+OK")
	expectRaw(t, w, cmd("FLUSHALL"), "+OK")
	expectRaw(t, a, cmd("MULTI"), "+OK")
	expectRaw(t, a, cmd("PING"), "+QUEUED")
	expectRaw(t, a, cmd("EXEC"), "*<nil>")
	expectRaw(t, w, cmd("SET", "x", "1"), "+OK")
	expectRaw(t, a, cmd("WATCH", "x"), "+OK")
	expectRaw(t, w, cmd("EXPIRE", "x", "100"), ":1")
	expectRaw(t, a, cmd("MULTI"), "+OK")
	expectRaw(t, a, cmd("PING"), "+QUEUED")
	expectRaw(t, a, cmd("EXEC"), "*<nil>")

	// UNWATCH, DISCARD and RESET forget the keys.
	for _, clear := range [][]string{{"UNWATCH"}, {"MULTI", "DISCARD"}, {"RESET"}} {
		expectRaw(t, a, cmd("WATCH", "x"), "+OK")
		expectRaw(t, w, cmd("INCR", "x"), ":2")
		for _, c := range clear {
			a.send(cmd(c))
			a.readReply()
		}
		expectRaw(t, a, cmd("MULTI"), "+OK")
		expectRaw(t, a, cmd("SET", "x", "1"), "+QUEUED")
		expectRaw(t, a, cmd("EXEC"), "*[+OK]")
	}

	// Errors.
	expectRaw(t, a, cmd("WATCH", "a", "b"), "-CROSSSLOT Keys in request don't hash to the same slot")
	expectRaw(t, a, cmd("MULTI"), "+OK")
	expectRaw(t, a, cmd("WATCH", "x"), "-ERR WATCH inside MULTI is not allowed")
	expectRaw(t, a, cmd("DISCARD"), "+OK")
	expectRaw(t, a, cmd("UNWATCH"), "+OK")

	// RESP3 null for an aborted EXEC.
	a.send(cmd("HELLO", "3"))
	a.readReply()
	expectRaw(t, a, cmd("WATCH", "x"), "+OK")
	expectRaw(t, w, cmd("SET", "x", "2"), "+OK")
	expectRaw(t, a, cmd("MULTI"), "+OK")
	expectRaw(t, a, cmd("SET", "x", "3"), "+QUEUED")
	expectRaw(t, a, cmd("EXEC"), "_")
	expectRaw(t, a, cmd("GET", "x"), "$2")
}

func TestWatchGoRedis(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	rc, other := newGoRedis(t, s, 2), newGoRedis(t, s, 2)
	ctx := context.Background()
	rc.Set(ctx, "{w}k", "1", 0)
	incr := func(interfere bool) error {
		return rc.Watch(ctx, func(tx *redis.Tx) error {
			n, err := tx.Get(ctx, "{w}k").Int()
			if err != nil {
				return err
			}
			if interfere {
				other.Set(ctx, "{w}k", "100", 0)
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "{w}k", n+1, 0)
				return nil
			})
			return err
		}, "{w}k")
	}
	if err := incr(false); err != nil {
		t.Fatal(err)
	}
	if err := incr(true); !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("interfered transaction: %v", err)
	}
	if v := rc.Get(ctx, "{w}k").Val(); v != "100" {
		t.Fatalf("k = %s", v)
	}
}

func TestBlockingXread(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	a, w := mustRaw(t, s), mustRaw(t, s)
	expectRaw(t, w, cmd("XADD", "st", "1-0", "f", "v"), "$1-0")

	// Without BLOCK, and with data past the ID, XREAD answers at once.
	expectRaw(t, a, cmd("XREAD", "STREAMS", "st", "$"), "*<nil>")
	expectRaw(t, a, cmd("XREAD", "BLOCK", "0", "STREAMS", "st", "0"), "*[*[$st *[*[$1-0 *[$f $v]]]]]")

	// $ means the last ID when the command came: a later XADD serves it.
	ch := async(a, cmd("XREAD", "BLOCK", "0", "STREAMS", "st", "$"))
	waitBlocked(t, s, 1)
	expectRaw(t, w, cmd("XADD", "st", "2-0", "g", "w"), "$2-0")
	if got := recv(t, ch); got != "*[*[$st *[*[$2-0 *[$g $w]]]]]" {
		t.Fatalf("XREAD BLOCK: %s", got)
	}
	start := time.Now()
	expectRaw(t, a, cmd("XREAD", "BLOCK", "50", "STREAMS", "st", "$"), "*<nil>")
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("XREAD BLOCK timed out after %v", d)
	}

	// XREADGROUP: new entries wake the consumer; a destroyed group or a
	// deleted key releases it with Redis's errors.
	expectRaw(t, w, cmd("XGROUP", "CREATE", "st", "g", "$"), "+OK")
	ch = async(a, cmd("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "st", ">"))
	waitBlocked(t, s, 1)
	expectRaw(t, w, cmd("XADD", "st", "3-0", "h", "x"), "$3-0")
	if got := recv(t, ch); got != "*[*[$st *[*[$3-0 *[$h $x]]]]]" {
		t.Fatalf("XREADGROUP BLOCK: %s", got)
	}
	ch = async(a, cmd("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "st", ">"))
	waitBlocked(t, s, 1)
	expectRaw(t, w, cmd("XGROUP", "DESTROY", "st", "g"), ":1")
	if got := recv(t, ch); got != "-NOGROUP the consumer group this client was blocked on no longer exists" {
		t.Fatalf("XREADGROUP after DESTROY: %s", got)
	}
	expectRaw(t, w, cmd("XGROUP", "CREATE", "st", "g", "$"), "+OK")
	ch = async(a, cmd("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "st", ">"))
	waitBlocked(t, s, 1)
	expectRaw(t, w, cmd("DEL", "st"), ":1")
	if got := recv(t, ch); got != "-UNBLOCKED the stream key no longer exists" {
		t.Fatalf("XREADGROUP after DEL: %s", got)
	}
}
