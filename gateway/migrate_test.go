package gateway

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/redistest"
	"github.com/raftcache/raftcache/slots"
)

// migDo sends one command and returns its rendered reply.
func (r *rawConn) migDo(args ...string) string {
	r.t.Helper()
	r.send(cmd(args...))
	return r.readReply()
}

func migPort(s *Server) string {
	return strconv.Itoa(s.Addr().(*net.TCPAddr).Port)
}

func dialRawAddr(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t: t, c: c, rd: bufio.NewReader(c)}
}

func migExpect(t *testing.T, r *rawConn, want string, args ...string) {
	t.Helper()
	if got := r.migDo(args...); got != want {
		t.Fatalf("%v: got %q, want %q", args, got, want)
	}
}

// migPTTLOK checks that key has a TTL in (0, max] ms.
func migPTTLOK(t *testing.T, r *rawConn, key string, max int64) {
	t.Helper()
	got := r.migDo("PTTL", key)
	n, err := strconv.ParseInt(strings.TrimPrefix(got, ":"), 10, 64)
	if err != nil || n <= 0 || n > max {
		t.Fatalf("PTTL %s = %q, want in (0, %d]", key, got, max)
	}
}

func TestMigrateBetweenGateways(t *testing.T) {
	a, b := mustServer(t, newFakeBackend()), mustServer(t, newFakeBackend())
	ra, rb := mustRaw(t, a), mustRaw(t, b)
	port := migPort(b)

	migExpect(t, ra, "+OK", "SET", "s", "hello")
	migExpect(t, ra, ":2", "HSET", "h", "f1", "v1", "f2", "v2")
	migExpect(t, ra, ":2", "ZADD", "z", "1.5", "a", "2", "b")
	migExpect(t, ra, ":1", "PEXPIRE", "z", "100000")

	for _, k := range []string{"s", "h", "z"} {
		migExpect(t, ra, "+OK", "MIGRATE", "127.0.0.1", port, k, "0", "5000")
		migExpect(t, ra, ":0", "EXISTS", k)
	}
	migExpect(t, rb, "$hello", "GET", "s")
	migExpect(t, rb, "*[$f1 $v1 $f2 $v2]", "HGETALL", "h")
	migExpect(t, rb, "*[$a $1.5 $b $2]", "ZRANGE", "z", "0", "-1", "WITHSCORES")
	migPTTLOK(t, rb, "z", 100000)
	migExpect(t, rb, ":-1", "PTTL", "s")

	// One cached connection to b.
	if info := ra.migDo("INFO", "stats"); !strings.Contains(info, "migrate_cached_sockets:1\r\n") {
		t.Fatalf("INFO stats: %q", info)
	}

	// COPY keeps the source; without REPLACE the target refuses.
	migExpect(t, ra, "+OK", "SET", "s", "second")
	migExpect(t, ra, "-ERR Target instance replied with error: BUSYKEY Target key name already exists.",
		"MIGRATE", "127.0.0.1", port, "s", "0", "5000", "COPY")
	migExpect(t, ra, "$second", "GET", "s")
	migExpect(t, ra, "+OK", "MIGRATE", "127.0.0.1", port, "s", "0", "5000", "COPY", "REPLACE")
	migExpect(t, ra, "$second", "GET", "s")
	migExpect(t, rb, "$second", "GET", "s")
	// BUSYKEY without COPY keeps the source too.
	migExpect(t, rb, "+OK", "SET", "s", "third-on-b")
	migExpect(t, ra, "-ERR Target instance replied with error: BUSYKEY Target key name already exists.",
		"MIGRATE", "127.0.0.1", port, "s", "0", "5000")
	migExpect(t, ra, "$second", "GET", "s")
	migExpect(t, ra, "+OK", "MIGRATE", "127.0.0.1", port, "s", "0", "5000", "replace")
	migExpect(t, ra, ":0", "EXISTS", "s")
	migExpect(t, rb, "$second", "GET", "s")

	migExpect(t, ra, "+NOKEY", "MIGRATE", "127.0.0.1", port, "nosuchkey", "0", "5000")

	// KEYS form: missing keys are skipped, the others moved.
	migExpect(t, ra, "+OK", "MSET", "{t}a", "1", "{t}b", "2")
	migExpect(t, ra, "+OK", "MIGRATE", "127.0.0.1", port, "", "0", "5000", "KEYS", "{t}a", "{t}missing", "{t}b")
	migExpect(t, ra, ":0", "EXISTS", "{t}a", "{t}b")
	migExpect(t, rb, "*[$1 $2]", "MGET", "{t}a", "{t}b")
	migExpect(t, ra, "+NOKEY", "MIGRATE", "127.0.0.1", port, "", "0", "5000", "KEYS", "{t}a", "{t}b")

	// Partial success: the acknowledged key is deleted, the refused one kept.
	migExpect(t, ra, "+OK", "MSET", "{u}a", "1", "{u}b", "2")
	migExpect(t, rb, "+OK", "SET", "{u}b", "on-b")
	migExpect(t, ra, "-ERR Target instance replied with error: BUSYKEY Target key name already exists.",
		"MIGRATE", "127.0.0.1", port, "", "0", "5000", "KEYS", "{u}a", "{u}b")
	migExpect(t, ra, ":0", "EXISTS", "{u}a")
	migExpect(t, ra, "$2", "GET", "{u}b")
	migExpect(t, rb, "$1", "GET", "{u}a")

	// AUTH goes first; the target's AUTH error is reported. As in Redis the
	// pipelined RESTORE still ran on the target, but the source keeps the key.
	migExpect(t, ra, "+OK", "SET", "k", "v")
	migExpect(t, ra, "-ERR Target instance replied with error: ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
		"MIGRATE", "127.0.0.1", port, "k", "0", "5000", "AUTH", "pw")
	migExpect(t, ra, "$v", "GET", "k")
	migExpect(t, rb, ":1", "DEL", "k")
	migExpect(t, ra, "+OK", "MIGRATE", "127.0.0.1", port, "k", "0", "5000", "AUTH2", "default", "pw")
	migExpect(t, rb, "$v", "GET", "k")
	// A cluster-mode target refuses any db but 0.
	migExpect(t, ra, "+OK", "SET", "k", "v")
	migExpect(t, ra, "-ERR Target instance replied with error: ERR SELECT is not allowed in cluster mode",
		"MIGRATE", "127.0.0.1", port, "k", "3", "5000", "REPLACE")
	migExpect(t, ra, "+OK", "MIGRATE", "127.0.0.1", port, "k", "0", "5000", "REPLACE")
}

func TestMigrateErrors(t *testing.T) {
	fb := newFakeBackend()
	a := mustServer(t, fb)
	ra := mustRaw(t, a)
	migExpect(t, ra, "+OK", "SET", "k", "v")
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"-ERR wrong number of arguments for 'migrate' command", []string{"MIGRATE", "h", "1", "k", "0"}},
		{"-ERR When using MIGRATE KEYS option, the key argument must be set to the empty string",
			[]string{"MIGRATE", "h", "1", "k", "0", "10", "KEYS", "a"}},
		{"-ERR syntax error", []string{"MIGRATE", "h", "1", "k", "0", "10", "AUTH"}},
		{"-ERR syntax error", []string{"MIGRATE", "h", "1", "k", "0", "10", "AUTH2", "user"}},
		{"-ERR syntax error", []string{"MIGRATE", "h", "1", "k", "0", "10", "FOO"}},
		{"-ERR value is not an integer or out of range", []string{"MIGRATE", "h", "1", "k", "0", "x"}},
		{"-ERR value is not an integer or out of range", []string{"MIGRATE", "h", "1", "k", "x", "10"}},
		{"-CROSSSLOT Keys in request don't hash to the same slot",
			[]string{"MIGRATE", "h", "1", "", "0", "10", "KEYS", "a", "b"}},
		{"+NOKEY", []string{"MIGRATE", "h", "1", "missing", "0", "10"}},
	} {
		migExpect(t, ra, tc.want, tc.args...)
	}
	// Keys served elsewhere are redirected before anything else.
	fb.setMoved(slots.Of([]byte("k")), "MOVED 12539 10.0.0.1:7001")
	migExpect(t, ra, "-MOVED 12539 10.0.0.1:7001", "MIGRATE", "h", "1", "k", "0", "10", "FOO")
	for _, tc := range []struct {
		args []string
		want []int
	}{
		{[]string{"MIGRATE", "h", "1", "k", "0", "10"}, []int{3}},
		{[]string{"MIGRATE", "h", "1", "", "0", "10", "AUTH2", "keys", "p", "KEYS", "a", "b"}, []int{10, 11}},
		{[]string{"MIGRATE", "h", "1", "k", "0", "10", "KEYS", "a"}, nil},
		{[]string{"MIGRATE", "h", "1", "", "0", "10", "COPY", "KEYS"}, nil},
	} {
		args := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			args[i] = []byte(a)
		}
		if got := migrateKeys(args); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("migrateKeys(%v) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestMigrateUnreachable(t *testing.T) {
	a := mustServer(t, newFakeBackend())
	ra := mustRaw(t, a)
	migExpect(t, ra, "+OK", "SET", "k", "v")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	// Nothing listens: Redis's non-blocking connect reports the refusal
	// only when writing.
	migExpect(t, ra, "-IOERR error or timeout writing to target instance", "MIGRATE", "127.0.0.1", dead, "k", "0", "1000")
	migExpect(t, ra, "-IOERR error or timeout writing to target instance", "MIGRATE", "127.0.0.1", "notaport", "k", "0", "1000")
	// Errors connect(2) reports at once, or resolution errors.
	migExpect(t, ra, "-IOERR error or timeout connecting to the client", "MIGRATE", "127.0.0.1", "-1", "k", "0", "1000")
	migExpect(t, ra, "-IOERR error or timeout connecting to the client", "MIGRATE", "not a host", "1", "k", "0", "1000")

	// A target that accepts and never answers: the read times out.
	silent := newMigTarget(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	start := time.Now()
	migExpect(t, ra, "-IOERR error or timeout reading to target instance", "MIGRATE", "127.0.0.1", silent.port, "k", "0", "300")
	if d := time.Since(start); d < 250*time.Millisecond || d > 3*time.Second {
		t.Fatalf("timed out after %v, want about 300ms", d)
	}
	migExpect(t, ra, "$v", "GET", "k")

	// A target that hangs up at once: one retry on a new connection, then
	// the read error.
	closer := newMigTarget(t, func(c net.Conn) {})
	migExpect(t, ra, "-IOERR error or timeout reading to target instance", "MIGRATE", "127.0.0.1", closer.port, "k", "0", "1000")
	if n := closer.accepted(); n != 2 {
		t.Fatalf("target saw %d connections, want 2 (one retry)", n)
	}
	migExpect(t, ra, "$v", "GET", "k")
}

// migTarget is a TCP listener running serve on each connection.
type migTarget struct {
	ln    net.Listener
	port  string
	mu    sync.Mutex
	n     int
	conns []net.Conn
	wg    sync.WaitGroup
}

func newMigTarget(t *testing.T, serve func(net.Conn)) *migTarget {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &migTarget{ln: ln, port: strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			m.mu.Lock()
			m.n++
			m.conns = append(m.conns, c)
			m.mu.Unlock()
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				defer c.Close()
				serve(c) // returns at the latest when cleanup closes c
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		m.mu.Lock()
		for _, c := range m.conns {
			c.Close()
		}
		m.mu.Unlock()
		m.wg.Wait()
	})
	return m
}

func (m *migTarget) accepted() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n
}

func TestMigrateCachedSocket(t *testing.T) {
	old := migrateSocketTTL
	migrateSocketTTL = 300 * time.Millisecond
	t.Cleanup(func() { migrateSocketTTL = old })
	a, b := mustServer(t, newFakeBackend()), mustServer(t, newFakeBackend())
	ra, rb := mustRaw(t, a), mustRaw(t, b)
	port := migPort(b)
	migExpect(t, ra, "+OK", "MSET", "{k}1", "1", "{k}2", "2", "{k}3", "3")
	migExpect(t, ra, "+OK", "MIGRATE", "127.0.0.1", port, "{k}1", "0", "5000")
	// The target drops the cached connection: the next MIGRATE retries on
	// a new one transparently.
	if got := rb.migDo("CLIENT", "KILL", "TYPE", "normal"); got != ":1" {
		t.Fatalf("CLIENT KILL: %q", got)
	}
	migExpect(t, ra, "+OK", "MIGRATE", "127.0.0.1", port, "{k}2", "0", "5000")
	migExpect(t, rb, "*[$1 $2]", "MGET", "{k}1", "{k}2")
	if info := ra.migDo("INFO", "stats"); !strings.Contains(info, "migrate_cached_sockets:1\r\n") {
		t.Fatalf("INFO stats: %q", info)
	}
	// Idle connections are closed after the TTL.
	deadline := time.Now().Add(5 * time.Second)
	for {
		info := ra.migDo("INFO", "stats")
		if strings.Contains(info, "migrate_cached_sockets:0\r\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cached socket not released: %q", info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	migExpect(t, ra, "+OK", "MIGRATE", "127.0.0.1", port, "{k}3", "0", "5000")
}

func TestMigrateShutdown(t *testing.T) {
	a := mustServer(t, newFakeBackend())
	ra := mustRaw(t, a)
	migExpect(t, ra, "+OK", "SET", "k", "v")
	got := make(chan struct{})
	silent := newMigTarget(t, func(c net.Conn) {
		_, _ = c.Read(make([]byte, 1<<16))
		close(got)
		_, _ = io.Copy(io.Discard, c) // until torn down
	})
	ra.send(cmd("MIGRATE", "127.0.0.1", silent.port, "k", "0", "60000"))
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("target got nothing")
	}
	start := time.Now()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Close took %v with a MIGRATE in flight", d)
	}
}

// ---- interoperability with a real redis-server -----------------------------

func startRedisServer(t *testing.T) string { return redistest.Start(t, "") }

// migFill creates one key of each type (and a TTL) on r.
func migFill(t *testing.T, r *rawConn, p string) {
	t.Helper()
	migExpect(t, r, "+OK", "SET", p+"s", "hello world")
	migExpect(t, r, "+OK", "SET", p+"i", "12345")
	migExpect(t, r, ":3", "HSET", p+"h", "f1", "v1", "f2", "v2", "n", "7")
	migExpect(t, r, ":3", "ZADD", p+"z", "1.5", "a", "-2", "b", "1e300", "c")
	migExpect(t, r, ":1", "PEXPIRE", p+"z", "100000")
	migExpect(t, r, ":4", "RPUSH", p+"l", "x", "1", "y", strings.Repeat("L", 100))
	migExpect(t, r, ":3", "SADD", p+"si", "1", "2", "3")
	migExpect(t, r, ":2", "SADD", p+"ss", "m1", "m2")
}

func migCheck(t *testing.T, r *rawConn, p string) {
	t.Helper()
	migExpect(t, r, "$hello world", "GET", p+"s")
	migExpect(t, r, "$12345", "GET", p+"i")
	migExpect(t, r, "*[$f1 $v1 $f2 $v2 $n $7]", "HGETALL", p+"h")
	migExpect(t, r, "*[$b $-2 $a $1.5 $c $1.0000000000000001e+300]", "ZRANGE", p+"z", "0", "-1", "WITHSCORES")
	migPTTLOK(t, r, p+"z", 100000)
	migExpect(t, r, ":-1", "PTTL", p+"s")
	migExpect(t, r, "*[$x $1 $y $"+strings.Repeat("L", 100)+"]", "LRANGE", p+"l", "0", "-1")
	migExpect(t, r, "*[$1 $2 $3]", "SORT", p+"si")
	migExpect(t, r, "*[$m1 $m2]", "SORT", p+"ss", "ALPHA")
}

var migTypes = []string{"s", "i", "h", "z", "l", "si", "ss"}

func TestMigrateInteropRedis(t *testing.T) {
	rport := startRedisServer(t)
	rr := dialRawAddr(t, "127.0.0.1:"+rport)
	a := mustServer(t, newFakeBackend())
	ra := mustRaw(t, a)
	ours := migPort(a)

	// Ours -> redis-server, one key at a time and with KEYS.
	migFill(t, ra, "{o}")
	for _, k := range migTypes[:4] {
		migExpect(t, ra, "+OK", "MIGRATE", "127.0.0.1", rport, "{o}"+k, "0", "5000")
	}
	keys := []string{"MIGRATE", "127.0.0.1", rport, "", "0", "5000", "KEYS"}
	for _, k := range migTypes[4:] {
		keys = append(keys, "{o}"+k)
	}
	migExpect(t, ra, "+OK", keys...)
	migExpect(t, ra, ":0", "EXISTS", "{o}s", "{o}h", "{o}z", "{o}l", "{o}si", "{o}ss")
	migCheck(t, rr, "{o}")

	// redis-server -> ours (it sends SELECT 0 and plain RESTORE).
	migFill(t, rr, "{r}")
	for _, k := range migTypes[:4] {
		migExpect(t, rr, "+OK", "MIGRATE", "127.0.0.1", ours, "{r}"+k, "0", "5000")
	}
	keys = []string{"MIGRATE", "127.0.0.1", ours, "", "0", "5000", "KEYS"}
	for _, k := range migTypes[4:] {
		keys = append(keys, "{r}"+k)
	}
	migExpect(t, rr, "+OK", keys...)
	migExpect(t, rr, ":0", "EXISTS", "{r}s", "{r}h", "{r}z", "{r}l", "{r}si", "{r}ss")
	migCheck(t, ra, "{r}")

	// Both directions agree on BUSYKEY, COPY and REPLACE.
	migExpect(t, ra, "+OK", "SET", "{b}k", "ours")
	migExpect(t, rr, "+OK", "SET", "{b}k", "theirs")
	busy := "-ERR Target instance replied with error: BUSYKEY Target key name already exists."
	migExpect(t, ra, busy, "MIGRATE", "127.0.0.1", rport, "{b}k", "0", "5000")
	migExpect(t, rr, busy, "MIGRATE", "127.0.0.1", ours, "{b}k", "0", "5000")
	migExpect(t, ra, "+OK", "MIGRATE", "127.0.0.1", rport, "{b}k", "0", "5000", "COPY", "REPLACE")
	migExpect(t, rr, "$ours", "GET", "{b}k")
	migExpect(t, ra, "$ours", "GET", "{b}k")

	// redis-server to a db other than 0 works; to our cluster-mode server it
	// is refused by SELECT.
	migExpect(t, ra, "+OK", "MIGRATE", "127.0.0.1", rport, "{b}k", "5", "5000")
	migExpect(t, rr, "+OK", "SELECT", "5")
	migExpect(t, rr, "$ours", "GET", "{b}k")
	migExpect(t, rr, "-ERR Target instance replied with error: ERR SELECT is not allowed in cluster mode",
		"MIGRATE", "127.0.0.1", ours, "{b}k", "3", "5000")
	migExpect(t, rr, "+OK", "SELECT", "0")
}

// TestMigrateErrorParity runs the same erroneous MIGRATEs on redis-server and
// on ours and compares the replies.
func TestMigrateErrorParity(t *testing.T) {
	rport := startRedisServer(t)
	rr := dialRawAddr(t, "127.0.0.1:"+rport)
	a := mustServer(t, newFakeBackend())
	ra := mustRaw(t, a)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	for _, r := range []*rawConn{ra, rr} {
		migExpect(t, r, "+OK", "SET", "k", "v")
	}
	for _, args := range [][]string{
		{"MIGRATE", "127.0.0.1", dead, "k", "0"},
		{"MIGRATE", "127.0.0.1", dead, "k", "0", "10", "KEYS", "a"},
		{"MIGRATE", "127.0.0.1", dead, "k", "0", "10", "AUTH"},
		{"MIGRATE", "127.0.0.1", dead, "k", "0", "10", "AUTH2", "u"},
		{"MIGRATE", "127.0.0.1", dead, "k", "0", "10", "copy", "bogus"},
		{"MIGRATE", "127.0.0.1", dead, "k", "0", "1x"},
		{"MIGRATE", "127.0.0.1", dead, "k", "y", "10"},
		{"MIGRATE", "127.0.0.1", dead, "missing", "0", "10"},
		{"MIGRATE", "127.0.0.1", dead, "", "0", "10", "KEYS", "{m}1", "{m}2"},
		{"MIGRATE", "127.0.0.1", "notaport", "k", "0", "1000"},
		{"MIGRATE", "127.0.0.1", "-1", "k", "0", "1000"},
		{"MIGRATE", "127.0.0.1", "70000", "k", "0", "1000"},
		{"MIGRATE", "127.0.0.1", dead, "k", "0", "1000"},
		{"MIGRATE", "127.0.0.1", dead, "", "0", "1000", "REPLACE", "KEYS", "k"},
	} {
		want := rr.migDo(args...)
		if got := ra.migDo(args...); got != want {
			t.Errorf("%v: ours %q, redis-server %q", args, got, want)
		}
	}
}

// TestMigrateConcurrentWrite: a key rewritten while its MIGRATE waits for the
// target is not deleted by it. Also checks what is sent for db 0 (no SELECT).
func TestMigrateConcurrentWrite(t *testing.T) {
	a := mustServer(t, newFakeBackend())
	ra := mustRaw(t, a)
	migExpect(t, ra, "+OK", "SET", "k", "old")
	aAddr := a.Addr().String()
	sent := make(chan string, 1)
	target := newMigTarget(t, func(c net.Conn) {
		rd := bufio.NewReader(c)
		var got []byte
		for !strings.Contains(string(got), "RESTORE-ASKING") || !strings.HasSuffix(string(got), "\r\n") {
			line, err := rd.ReadBytes('\n')
			if err != nil {
				return
			}
			got = append(got, line...)
		}
		// Then the key, the TTL and (at least the start of) the payload.
		for range 6 {
			line, err := rd.ReadBytes('\n')
			if err != nil {
				return
			}
			got = append(got, line...)
		}
		sent <- string(got)
		if w, err := net.Dial("tcp", aAddr); err == nil {
			_, _ = w.Write([]byte(cmd("SET", "k", "new")))
			_, _ = bufio.NewReader(w).ReadString('\n')
			w.Close()
		}
		_, _ = c.Write([]byte("+OK\r\n"))
		_, _ = io.Copy(io.Discard, c)
	})
	migExpect(t, ra, "+OK", "MIGRATE", "127.0.0.1", target.port, "k", "0", "5000")
	got := <-sent
	if want := "*4\r\n$14\r\nRESTORE-ASKING\r\n$1\r\nk\r\n$1\r\n0\r\n$"; !strings.HasPrefix(got, want) {
		t.Fatalf("sent %q, want prefix %q", got, want)
	}
	migExpect(t, ra, "$new", "GET", "k")
}
