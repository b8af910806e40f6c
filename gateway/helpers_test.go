package gateway

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeBackend is a single-node backend: a real engine behind a RWMutex,
// writes applied at once in a write context.
type fakeBackend struct {
	mu   sync.RWMutex
	db   *raftfsm.DB
	now  int64
	seed uint64

	routeMu sync.Mutex
	moved   atomic.Pointer[map[slots.Slot]string] // copy-on-write: Route is lock-free

	leader   atomic.Bool
	writes   atomic.Int64 // Write calls
	reads    atomic.Int64 // Read calls
	writeErr atomic.Pointer[error]
	panicArg string // a write with this argument panics

	pubMu     sync.Mutex
	published []string // Publish/PublishShard calls, "channel=message"

	oom atomic.Bool // OverMemory's answer

	logged [][][]byte // every command written, copied (under mu)
}

func (f *fakeBackend) OverMemory() bool { return f.oom.Load() }

func newFakeBackend() *fakeBackend {
	f := &fakeBackend{db: raftfsm.NewDB(), now: time.Now().UnixMilli()}
	f.db.SetScriptACL(ScriptACL) // as cmd wires the node's FSM
	f.moved.Store(&map[slots.Slot]string{})
	f.leader.Store(true)
	return f
}

func (f *fakeBackend) setMoved(slot slots.Slot, msg string) {
	f.routeMu.Lock()
	defer f.routeMu.Unlock()
	m := map[slots.Slot]string{slot: msg}
	for k, v := range *f.moved.Load() {
		if k != slot {
			m[k] = v
		}
	}
	f.moved.Store(&m)
}

func (f *fakeBackend) ResolveRedirect(msg string) string { return msg }

func (f *fakeBackend) Route(slot slots.Slot, write, readonly, asking bool) string {
	return (*f.moved.Load())[slot]
}

func (f *fakeBackend) Write(ctx context.Context, cmds [][][]byte) ([]raftfsm.Reply, error) {
	f.writes.Add(1)
	if p := f.writeErr.Load(); p != nil {
		return nil, *p
	}
	for _, c := range cmds {
		for _, a := range c {
			if f.panicArg != "" && string(a) == f.panicArg {
				panic("fake backend: boom")
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cmds {
		cp := make([][]byte, len(c))
		for i, a := range c {
			cp[i] = append([]byte(nil), a...)
		}
		f.logged = append(f.logged, cp)
	}
	// The same apply path as the FSM (WATCH checks included).
	f.seed++
	return raftfsm.ApplyCommands(f.db, f.now, f.seed, cmds, nil), nil
}

func (f *fakeBackend) Read(ctx context.Context, stale bool, fn func(db *raftfsm.DB, now int64)) error {
	f.reads.Add(1)
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.db, f.now)
	return nil
}

func (f *fakeBackend) IsLeader() bool { return f.leader.Load() }

// Topology: a one-node cluster owning every slot.
func (f *fakeBackend) Topology() *slots.Topology {
	id := "0123456789abcdef0123456789abcdef01234567"
	return &slots.Topology{
		Self:   id,
		Nodes:  []slots.NodeInfo{{ID: id, Name: "fake", Host: "127.0.0.1", Port: 6379, BusPort: 16379, HasShard: true, Leader: f.leader.Load(), LeaderID: id, Epoch: 1}},
		Shards: []slots.ShardInfo{{ID: 0, Slots: []slots.Range{{Start: 0, End: slots.Count - 1}}, LeaderID: id, Members: []string{id}}},
		Epoch:  1,
	}
}

// WaitKeys: the fake has no change feed; callers retry after a short wait.
func (f *fakeBackend) WaitKeys(ctx context.Context, keys [][]byte) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(5 * time.Millisecond):
		return nil
	}
}

// Publish records what would go to the other nodes (pubsub_test.go).
func (f *fakeBackend) Publish(channel, message []byte) {
	f.pubMu.Lock()
	f.published = append(f.published, string(channel)+"="+string(message))
	f.pubMu.Unlock()
}

func (f *fakeBackend) PublishShard(channel, message []byte) {
	f.pubMu.Lock()
	f.published = append(f.published, "shard:"+string(channel)+"="+string(message))
	f.pubMu.Unlock()
}

func (f *fakeBackend) InfoSection(name string) []string {
	switch name {
	case "cluster":
		return []string{"cluster_state:ok"}
	case "replication":
		return []string{"connected_slaves:0"}
	}
	return nil
}

// respErr is a node-style error carrying its RESP text.
type respErr struct{ text string }

func (e respErr) Error() string { return e.text }
func (e respErr) RESPError(slot int) string {
	return strings.ReplaceAll(e.text, "{slot}", strconv.Itoa(slot))
}

// mustServer starts a gateway on 127.0.0.1:0 over b and closes it at the end.
func mustServer(t testing.TB, b Backend, opts ...func(*Config)) *Server {
	t.Helper()
	cfg := Config{Addr: "127.0.0.1:0", Backend: b, NodeID: strings.Repeat("a", 40), Port: 7000,
		RunID: strings.Repeat("b", 40), Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// rawConn is a plain TCP client for protocol-level tests.
type rawConn struct {
	t  testing.TB
	c  net.Conn
	rd *bufio.Reader
}

func mustRaw(t testing.TB, s *Server) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, c: c, rd: bufio.NewReader(c)}
}

func (r *rawConn) send(s string) {
	r.t.Helper()
	if _, err := r.c.Write([]byte(s)); err != nil {
		r.t.Fatal(err)
	}
}

// cmd encodes args as a RESP array.
func cmd(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// readReply reads one reply and renders it compactly: "+OK", "-ERR x",
// ":1", "$foo", "$<nil>", "*[...]", "%{k v}", "~[...]", "_", ",1.5", "#t",
// "=txt:...".
func (r *rawConn) readReply() string {
	r.t.Helper()
	s, err := readReply(r.rd)
	if err != nil {
		r.t.Fatalf("read reply: %v", err)
	}
	return s
}

func readReply(rd *bufio.Reader) (string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(line, "\r\n") || len(line) < 3 {
		return "", fmt.Errorf("bad line %q", line)
	}
	line = line[:len(line)-2]
	switch line[0] {
	case '+', '-', ':', '_', ',', '#':
		return line, nil
	case '$', '=':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", err
		}
		if n < 0 {
			return "$<nil>", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return "", err
		}
		return string(line[0]) + string(buf[:n]), nil
	case '*', '%', '~':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", err
		}
		if n < 0 {
			return "*<nil>", nil
		}
		if line[0] == '%' {
			n *= 2
		}
		parts := make([]string, n)
		for i := range parts {
			if parts[i], err = readReply(rd); err != nil {
				return "", err
			}
		}
		open, close := "*[", "]"
		if line[0] == '%' {
			open, close = "%{", "}"
		} else if line[0] == '~' {
			open = "~["
		}
		return open + strings.Join(parts, " ") + close, nil
	}
	return "", errors.New("unknown reply type " + line)
}

// expectClosed waits for the server to close the connection.
func (r *rawConn) expectClosed() {
	r.t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := r.rd.Read(buf)
	if err == nil {
		r.t.Fatalf("connection still open, read %q", buf[:n])
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		r.t.Fatalf("connection not closed by the server")
	}
}

// step is a command to send and the reply to expect, as readReply renders
// it; a trailing "*" matches any rest.
type step struct{ send, want string }

// sendSteps runs steps on r (runSteps, each named by its command).
func sendSteps(t *testing.T, r *rawConn, steps []step) {
	t.Helper()
	named := make([]aclStep, len(steps))
	for i, st := range steps {
		named[i] = aclStep{name: fmt.Sprintf("%q", st.send), req: st.send, want: st.want}
	}
	runSteps(t, r, named)
}
