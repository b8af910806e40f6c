package gateway

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
)

// trackBackend is a fakeBackend with the engine's tracking feed: after a
// write it hands the keys the commands touched to the server's
// InvalidateKeys, as the FSM's sink does after each applied batch. The
// pushes are queued before the writer gets its reply, so a tracking client
// that sends a command afterwards reads any invalidation before that reply.
type trackBackend struct {
	*fakeBackend
	s       atomic.Pointer[Server]
	enabled atomic.Bool
	// other, when set, is a key another client's write modifies in the
	// same batch as the next write (taken once).
	other atomic.Pointer[string]
}

func (b *trackBackend) EnableTrackingSink(on bool) { b.enabled.Store(on) }

func (b *trackBackend) Write(ctx context.Context, cmds [][][]byte) ([]raftfsm.Reply, error) {
	// With writeErr set the fake applies nothing but still reports the
	// keys: an outcome the writer cannot know (a reply lost in a failover).
	r, err := b.fakeBackend.Write(ctx, cmds)
	if !b.enabled.Load() {
		return r, err
	}
	var keys [][]byte
	all := false
	for _, c := range cmds {
		cmd := raftfsm.Lookup(c[0])
		if cmd == nil || cmd.Flags&raftfsm.FlagReadOnly != 0 {
			continue // as the FSM's feed: reads modify nothing
		}
		if cmd.Name == "flushall" || cmd.Name == "flushdb" {
			all = true
		}
		for _, i := range cmd.KeyPositions(c) {
			keys = append(keys, c[i])
		}
	}
	if k := b.other.Swap(nil); k != nil {
		keys = append(keys, []byte(*k))
	}
	b.s.Load().InvalidateKeys(keys, all)
	return r, err
}

func mustTrackServer(t *testing.T) (*Server, *trackBackend) {
	t.Helper()
	b := &trackBackend{fakeBackend: newFakeBackend()}
	s := mustServer(t, b)
	b.s.Store(s)
	return s, b
}

// mustResp3 opens a connection and switches it to RESP3.
func mustResp3(t *testing.T, s *Server) *rawConn {
	t.Helper()
	r := mustRaw(t, s)
	if got := r.do("HELLO", "3"); got[0] != '%' {
		t.Fatalf("HELLO 3 = %s", got)
	}
	return r
}

// expectNoPush checks that nothing is queued for r: its next reply is PING's.
func expectNoPush(t *testing.T, r *rawConn) {
	t.Helper()
	if got := r.do("PING"); got != "+PONG" {
		t.Fatalf("expected no invalidation, got %s", got)
	}
}

func TestTrackingDefaultMode(t *testing.T) {
	s, b := mustTrackServer(t)
	trk := mustResp3(t, s)
	w := mustRaw(t, s)

	if got := trk.do("CLIENT", "TRACKING", "ON"); got != "+OK" {
		t.Fatalf("CLIENT TRACKING ON = %s", got)
	}
	if !b.enabled.Load() {
		t.Fatal("engine recording not enabled")
	}
	if got := w.do("INFO", "clients"); !containsLine(got, "tracking_clients:1") {
		t.Fatalf("INFO clients: %s", got)
	}
	// Not read yet: a write sends nothing.
	w.do("SET", "k", "1")
	expectNoPush(t, trk)

	trk.do("GET", "k")
	trk.do("MGET", "{k}1", "{k}2")
	w.do("SET", "k", "2")
	trk.expectPush(">[$invalidate *[$k]]")
	// One-shot: a second write sends nothing until read again.
	w.do("SET", "k", "3")
	expectNoPush(t, trk)
	trk.do("GET", "k")
	w.do("MSET", "{k}2", "x", "k", "4")
	trk.expectPush(">[$invalidate *[${k}2]]", ">[$invalidate *[$k]]") // modification order
	expectNoPush(t, trk)

	// The tracking client's own write invalidates too, after its reply.
	trk.do("GET", "k")
	trk.send(cmd("SET", "k", "5"))
	trk.expectPush("+OK", ">[$invalidate *[$k]]")

	// Reads queued in MULTI and XREAD BLOCK are remembered too.
	trk.send(cmd("MULTI") + cmd("GET", "tx") + cmd("EXEC"))
	trk.expectPush("+OK", "+QUEUED", "*[_]")
	w.do("XADD", "st", "1-1", "f", "v")
	trk.do("XREAD", "BLOCK", "0", "STREAMS", "st", "0")
	w.do("SET", "tx", "1")
	trk.expectPush(">[$invalidate *[$tx]]")
	w.do("XADD", "st", "2-1", "f", "v")
	trk.expectPush(">[$invalidate *[$st]]")
	expectNoPush(t, trk)

	// A script's declared keys are remembered (EVAL runs as a write).
	trk.do("EVAL", "return redis.call('get', KEYS[1])", "1", "ev")
	w.do("SET", "ev", "1")
	trk.expectPush(">[$invalidate *[$ev]]")
	expectNoPush(t, trk)

	// FLUSHALL: a null invalidation for every tracking client.
	w.do("FLUSHALL")
	trk.expectPush(">[$invalidate _]")

	// OFF: no more messages, and the engine stops recording.
	trk.do("GET", "k")
	if got := trk.do("CLIENT", "TRACKING", "OFF"); got != "+OK" {
		t.Fatalf("OFF = %s", got)
	}
	if b.enabled.Load() {
		t.Fatal("engine recording still enabled")
	}
	b.enabled.Store(true) // feed anyway: the server must send nothing
	w.do("SET", "k", "6")
	expectNoPush(t, trk)
	if got := w.do("INFO", "clients"); !containsLine(got, "tracking_clients:0") {
		t.Fatalf("INFO clients: %s", got)
	}
}

func containsLine(info, line string) bool {
	for _, l := range splitLines(info) {
		if l == line {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' || s[i] == '\r' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func TestTrackingOptInOptOut(t *testing.T) {
	s, _ := mustTrackServer(t)
	in := mustResp3(t, s)
	out := mustResp3(t, s)
	w := mustRaw(t, s)

	expectPushReply(t, in, "+OK", "CLIENT", "TRACKING", "ON", "OPTIN")
	expectPushReply(t, out, "+OK", "CLIENT", "TRACKING", "ON", "OPTOUT")

	// OPTIN: only the command right after CLIENT CACHING yes.
	in.do("GET", "{t}a")
	expectPushReply(t, in, "+OK", "CLIENT", "CACHING", "YES")
	in.do("GET", "{t}b")
	in.do("GET", "{t}c") // caching applied to the previous command only
	// OPTOUT: every read but the one after CLIENT CACHING no.
	expectPushReply(t, out, "+OK", "CLIENT", "CACHING", "NO")
	out.do("GET", "{t}a")
	out.do("GET", "{t}b")

	w.do("MSET", "{t}a", "1", "{t}b", "1", "{t}c", "1")
	in.expectPush(">[$invalidate *[${t}b]]")
	expectNoPush(t, in)
	out.expectPush(">[$invalidate *[${t}b]]")
	expectNoPush(t, out)

	// Errors, as Redis.
	expectPushReply(t, in, "-ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.", "CLIENT", "CACHING", "NO")
	expectPushReply(t, out, "-ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.", "CLIENT", "CACHING", "YES")
	expectPushReply(t, w, "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled", "CLIENT", "CACHING", "YES")
	expectPushReply(t, in, "-ERR syntax error", "CLIENT", "CACHING", "MAYBE")
	expectPushReply(t, in, "-ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.", "CLIENT", "TRACKING", "ON", "OPTOUT")
	expectPushReply(t, w, "-ERR You can't specify both OPTIN mode and OPTOUT mode", "CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT")

	// TRACKINGINFO shows caching-yes between CACHING and the next command.
	in.send(cmd("CLIENT", "CACHING", "YES") + cmd("CLIENT", "TRACKINGINFO"))
	in.expectPush("+OK", "%{$flags ~[$on $optin $caching-yes] $redirect :0 $prefixes *[]}")
	// CLIENT commands keep the flag (Redis's resetClient); others end it.
	expectPushReply(t, in, "%{$flags ~[$on $optin $caching-yes] $redirect :0 $prefixes *[]}", "CLIENT", "TRACKINGINFO")
	expectNoPush(t, in)
	expectPushReply(t, in, "%{$flags ~[$on $optin] $redirect :0 $prefixes *[]}", "CLIENT", "TRACKINGINFO")
}

func expectPushReply(t *testing.T, r *rawConn, want string, args ...string) {
	t.Helper()
	if got := r.do(args...); got != want {
		t.Fatalf("%v = %s, want %s", args, got, want)
	}
}

func TestTrackingBcast(t *testing.T) {
	s, _ := mustTrackServer(t)
	bc := mustResp3(t, s)
	all := mustResp3(t, s)
	w := mustRaw(t, s)

	expectPushReply(t, bc, "-ERR PREFIX option requires BCAST mode to be enabled", "CLIENT", "TRACKING", "ON", "PREFIX", "a")
	expectPushReply(t, bc, "-ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap.",
		"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab", "PREFIX", "a")
	expectPushReply(t, bc, "-ERR OPTIN and OPTOUT are not compatible with BCAST", "CLIENT", "TRACKING", "ON", "BCAST", "OPTIN")
	expectPushReply(t, bc, "+OK", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "obj:")
	expectPushReply(t, bc, "-ERR Prefix 'user:1' overlaps with an existing prefix 'user:'. Prefixes for a single client must not overlap.",
		"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:1")
	expectPushReply(t, bc, "-ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.",
		"CLIENT", "TRACKING", "ON")
	expectPushReply(t, all, "+OK", "CLIENT", "TRACKING", "ON", "BCAST")
	expectPushReply(t, bc, "%{$flags ~[$on $bcast] $redirect :0 $prefixes *[$obj: $user:]}", "CLIENT", "TRACKINGINFO")

	// No read needed; one message per prefix, keys sorted.
	w.do("MSET", "user:{x}2", "x", "other{x}", "y", "user:{x}1", "z", "obj:{x}9", "w")
	bc.expectPush(">[$invalidate *[$obj:{x}9]]", ">[$invalidate *[$user:{x}1 $user:{x}2]]")
	expectNoPush(t, bc)
	all.expectPush(">[$invalidate *[$obj:{x}9 $other{x} $user:{x}1 $user:{x}2]]")
	// Not one-shot.
	w.do("SET", "user:1", "again")
	bc.expectPush(">[$invalidate *[$user:1]]")
	w.do("SET", "nomatch", "1")
	expectNoPush(t, bc)
}

func TestTrackingRedirect(t *testing.T) {
	s, _ := mustTrackServer(t)
	sub := mustRaw(t, s) // RESP2 subscriber
	r2 := mustRaw(t, s)  // RESP2 client redirecting to sub
	w := mustRaw(t, s)

	subID := sub.do("CLIENT", "ID")[1:]
	expectPushReply(t, r2, "-ERR The client ID you want redirect to does not exist", "CLIENT", "TRACKING", "ON", "REDIRECT", "999999")
	expectPushReply(t, r2, "-ERR value is not an integer or out of range", "CLIENT", "TRACKING", "ON", "REDIRECT", "x")
	expectPushReply(t, r2, "-ERR A client can only redirect to a single other client", "CLIENT", "TRACKING", "ON", "REDIRECT", subID, "REDIRECT", subID)
	expectPushReply(t, r2, "-ERR syntax error", "CLIENT", "TRACKING", "MAYBE")
	expectPushReply(t, r2, ":-1", "CLIENT", "GETREDIR")
	expectPushReply(t, r2, "*[$flags *[$off] $redirect :-1 $prefixes *[]]", "CLIENT", "TRACKINGINFO")
	expectPushReply(t, r2, "+OK", "CLIENT", "TRACKING", "ON", "REDIRECT", subID)
	expectPushReply(t, r2, ":"+subID, "CLIENT", "GETREDIR")
	expectPushReply(t, r2, "*[$flags *[$on] $redirect :"+subID+" $prefixes *[]]", "CLIENT", "TRACKINGINFO")

	// The target is not in pub/sub mode yet: Redis sends it nothing.
	r2.do("GET", "k")
	w.do("SET", "k", "1")
	expectNoPush(t, sub)

	sub.send(cmd("SUBSCRIBE", "__redis__:invalidate"))
	sub.expectPush("*[$subscribe $__redis__:invalidate :1]")
	r2.do("GET", "k")
	w.do("SET", "k", "2")
	sub.expectPush("*[$message $__redis__:invalidate *[$k]]")
	expectNoPush(t, r2)
	w.do("FLUSHALL")
	sub.expectPush("*[$message $__redis__:invalidate $<nil>]") // the tracking client's RESP2 null

	// A RESP2 client without REDIRECT is accepted (Redis 7.0) and gets
	// nothing: RESP2 has no pushes.
	plain := mustRaw(t, s)
	expectPushReply(t, plain, "+OK", "CLIENT", "TRACKING", "ON")
	plain.do("GET", "p")
	w.do("SET", "p", "1")
	expectNoPush(t, plain)

	// RESP3 client whose target disconnects: tracking-redir-broken.
	tgt := mustRaw(t, s)
	tgtID := tgt.do("CLIENT", "ID")[1:]
	r3 := mustResp3(t, s)
	expectPushReply(t, r3, "+OK", "CLIENT", "TRACKING", "ON", "REDIRECT", tgtID)
	r3.do("GET", "q")
	tgt.c.Close()
	waitGone(t, s, tgtID)
	w.do("SET", "q", "1")
	r3.expectPush(">[$tracking-redir-broken :" + tgtID + "]")
	expectPushReply(t, r3, "%{$flags ~[$on $broken_redirect] $redirect :"+tgtID+" $prefixes *[]}", "CLIENT", "TRACKINGINFO")
	if got := r3.do("CLIENT", "INFO"); !strings.Contains(got, " flags=tR ") || !strings.Contains(got, " redir="+tgtID+" ") {
		t.Fatalf("CLIENT INFO: %s", got)
	}
	if got := w.do("CLIENT", "INFO"); !strings.Contains(got, " redir=-1 ") || !strings.Contains(got, " flags=N ") {
		t.Fatalf("CLIENT INFO of a client not tracking: %s", got)
	}
}

// waitGone waits until the server has noticed that client id disconnected.
func waitGone(t *testing.T, s *Server, id string) {
	t.Helper()
	n, _ := raftfsm.ParseInt([]byte(id))
	eventually(t, func() bool { return s.lookupClient(n) == nil })
}

func TestTrackingNoloop(t *testing.T) {
	s, b := mustTrackServer(t)
	trk := mustResp3(t, s)
	bc := mustResp3(t, s)
	expectPushReply(t, trk, "+OK", "CLIENT", "TRACKING", "ON", "NOLOOP")
	expectPushReply(t, bc, "+OK", "CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP")
	expectPushReply(t, trk, "%{$flags ~[$on $noloop] $redirect :0 $prefixes *[]}", "CLIENT", "TRACKINGINFO")

	// Its own writes do not invalidate its keys; others' do.
	// (As in Redis, its own write still consumes the one-shot entry.)
	trk.do("GET", "k")
	trk.do("SET", "k", "1")
	bc.expectPush(">[$invalidate *[$k]]") // trk's write
	bc.do("SET", "k", "2")
	expectNoPush(t, trk)
	expectNoPush(t, bc) // not its own
	trk.do("GET", "k")
	bc.do("SET", "k", "3")
	trk.expectPush(">[$invalidate *[$k]]")
	expectNoPush(t, bc)
	trk.do("GET", "k")
	trk.send(cmd("SET", "k", "3") + cmd("SET", "{k}x", "1"))
	trk.expectPush("+OK", "+OK")
	expectNoPush(t, trk)
	bc.expectPush(">[$invalidate *[$k ${k}x]]") // one batch

	// Another client's write of the same key in the same batch: sent.
	trk.do("GET", "k")
	other := "k"
	b.other.Store(&other)
	trk.send(cmd("SET", "k", "4"))
	trk.expectPush("+OK", ">[$invalidate *[$k]]")
	bc.expectPush(">[$invalidate *[$k]]")
	expectNoPush(t, trk)
	expectNoPush(t, bc)

	// A failed write (outcome unknown) sends the held invalidation.
	trk.do("GET", "k")
	werr := error(respErr{text: "CLUSTERDOWN x"})
	b.writeErr.Store(&werr)
	trk.send(cmd("SET", "k", "5"))
	if got := trk.readPush(); got[0] != '-' {
		t.Fatalf("failed write: %s", got)
	}
	b.writeErr.Store(nil)
	trk.expectPush(">[$invalidate *[$k]]")
	expectNoPush(t, trk)
	bc.expectPush(">[$invalidate *[$k]]")
}

func TestTrackingReset(t *testing.T) {
	s, _ := mustTrackServer(t)
	trk := mustResp3(t, s)
	w := mustRaw(t, s)

	expectPushReply(t, trk, "+OK", "CLIENT", "TRACKING", "ON")
	trk.do("GET", "k")
	expectPushReply(t, trk, "+RESET", "RESET") // back to RESP2, tracking off
	w.do("SET", "k", "1")
	expectPushReply(t, trk, "*[$flags *[$off] $redirect :-1 $prefixes *[]]", "CLIENT", "TRACKINGINFO")
	if n := s.trackingClients(); n != 0 {
		t.Fatalf("tracking clients after RESET: %d", n)
	}

	// Disconnect forgets the client.
	other := mustResp3(t, s)
	expectPushReply(t, other, "+OK", "CLIENT", "TRACKING", "ON")
	id := other.do("CLIENT", "ID")[1:]
	other.c.Close()
	waitGone(t, s, id)
	eventually(t, func() bool { return s.trackingClients() == 0 })
}

// eventually polls cond until it holds (deadline 10 s).
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
	}
}

// TestTrackingTableMaxKeys: lowering tracking-table-max-keys forgets keys
// until the table fits, invalidating each forgotten key once for the
// clients that read it (as if modified), in passes of bounded effort; INFO
// reports the table's size.
func TestTrackingTableMaxKeys(t *testing.T) {
	s, _ := mustTrackServer(t)
	trk := mustResp3(t, s)
	w := mustRaw(t, s)
	if got := w.do("CONFIG", "GET", "tracking-table-max-keys"); got != "*[$tracking-table-max-keys $1000000]" {
		t.Fatalf("default = %s", got)
	}
	if got := w.do("CONFIG", "SET", "tracking-table-max-keys", "-1"); !strings.HasPrefix(got, "-ERR CONFIG SET failed") {
		t.Fatalf("negative limit = %s", got)
	}
	trk.do("CLIENT", "TRACKING", "ON")
	const n = 250 // more than two passes' effort (100, then 200)
	for i := range n {
		trk.do("GET", "key"+strconv.Itoa(i))
	}
	trk.do("GET", "key0") // read twice: still one key, one item
	bc := mustResp3(t, s)
	bc.do("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a:", "PREFIX", "b:")
	info := w.do("INFO", "stats")
	for _, line := range []string{"tracking_total_keys:250", "tracking_total_items:250", "tracking_total_prefixes:2"} {
		if !containsLine(info, line) {
			t.Fatalf("INFO stats lacks %s: %s", line, info)
		}
	}
	if got := w.do("CONFIG", "SET", "tracking-table-max-keys", "1"); got != "+OK" {
		t.Fatalf("CONFIG SET = %s", got)
	}
	seen := map[string]bool{}
	for range n - 1 {
		got := trk.readPush()
		k, ok := strings.CutPrefix(got, ">[$invalidate *[$")
		if !ok || seen[k] {
			t.Fatalf("push %d = %s (seen before: %v)", len(seen), got, seen[k])
		}
		seen[k] = true
	}
	expectNoPush(t, trk) // exactly n-1: one key stays remembered
	expectNoPush(t, bc)
	info = w.do("INFO", "stats")
	if !containsLine(info, "tracking_total_keys:1") || !containsLine(info, "tracking_total_items:1") {
		t.Fatalf("INFO stats after the limit: %s", info)
	}
	// 0 removes the bound.
	w.do("CONFIG", "SET", "tracking-table-max-keys", "0")
	for i := range 5 {
		trk.do("GET", "more"+strconv.Itoa(i))
	}
	expectNoPush(t, trk)
	if info = w.do("INFO", "stats"); !containsLine(info, "tracking_total_keys:6") {
		t.Fatalf("INFO stats without a bound: %s", info)
	}
}
