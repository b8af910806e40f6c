package gateway

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/slots"
)

// readPush reads one reply, also RESP3 pushes (">N", rendered ">[...]"),
// which readReply does not know.
func (r *rawConn) readPush() string {
	r.t.Helper()
	s, err := readPushReply(r.rd)
	if err != nil {
		r.t.Fatalf("read reply: %v", err)
	}
	return s
}

func readPushReply(rd *bufio.Reader) (string, error) {
	b, err := rd.Peek(1)
	if err != nil {
		return "", err
	}
	if b[0] != '>' {
		return readReply(rd)
	}
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	n, err := strconv.Atoi(strings.TrimSuffix(line[1:], "\r\n"))
	if err != nil {
		return "", err
	}
	parts := make([]string, n)
	for i := range parts {
		if parts[i], err = readPushReply(rd); err != nil {
			return "", err
		}
	}
	return ">[" + strings.Join(parts, " ") + "]", nil
}

func (r *rawConn) expectPush(want ...string) {
	r.t.Helper()
	for _, w := range want {
		if got := r.readPush(); got != w {
			r.t.Fatalf("got %s, want %s", got, w)
		}
	}
}

// do sends one command and returns its reply.
func (r *rawConn) do(args ...string) string {
	r.t.Helper()
	r.send(cmd(args...))
	return r.readPush()
}

func TestPubSubReplyShapesRESP2(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	sub := mustRaw(t, s)
	pub := mustRaw(t, s)

	// Nothing to unsubscribe from: a nil channel and count 0.
	sub.send(cmd("UNSUBSCRIBE"))
	sub.expectPush("*[$unsubscribe $<nil> :0]")
	sub.send(cmd("PUNSUBSCRIBE"))
	sub.expectPush("*[$punsubscribe $<nil> :0]")
	// Not subscribed yet: any command runs.
	if got := sub.do("PING"); got != "+PONG" {
		t.Fatalf("PING = %s", got)
	}

	sub.send(cmd("SUBSCRIBE", "a", "b", "a"))
	sub.expectPush("*[$subscribe $a :1]", "*[$subscribe $b :2]", "*[$subscribe $a :2]")
	sub.send(cmd("PSUBSCRIBE", "n*"))
	sub.expectPush("*[$psubscribe $n* :3]")

	if got := pub.do("PUBLISH", "a", "hello"); got != ":1" {
		t.Fatalf("PUBLISH a = %s", got)
	}
	sub.expectPush("*[$message $a $hello]")
	if got := pub.do("PUBLISH", "news", "x"); got != ":1" {
		t.Fatalf("PUBLISH news = %s", got)
	}
	sub.expectPush("*[$pmessage $n* $news $x]")
	if got := pub.do("PUBLISH", "zzz", "x"); got != ":0" {
		t.Fatalf("PUBLISH zzz = %s", got)
	}

	// Subscribed mode (RESP2): only the pub/sub commands, PING, QUIT, RESET.
	if got := sub.do("PING"); got != "*[$pong $]" {
		t.Fatalf("PING = %s", got)
	}
	if got := sub.do("PING", "hi"); got != "*[$pong $hi]" {
		t.Fatalf("PING hi = %s", got)
	}
	want := "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
	if got := sub.do("GET", "k"); got != want {
		t.Fatalf("GET = %s", got)
	}
	if got := sub.do("CLIENT", "ID"); !strings.HasPrefix(got, "-ERR Can't execute 'client|id'") {
		t.Fatalf("CLIENT ID = %s", got)
	}
	if got := sub.do("NOSUCH"); !strings.HasPrefix(got, "-ERR unknown command 'NOSUCH'") {
		t.Fatalf("unknown = %s", got)
	}

	// PUBSUB (node-local).
	if got := pub.do("PUBSUB", "CHANNELS"); got != "*[$a $b]" {
		t.Fatalf("CHANNELS = %s", got)
	}
	if got := pub.do("PUBSUB", "CHANNELS", "b*"); got != "*[$b]" {
		t.Fatalf("CHANNELS b* = %s", got)
	}
	if got := pub.do("PUBSUB", "NUMSUB", "a", "zz"); got != "*[$a :1 $zz :0]" {
		t.Fatalf("NUMSUB = %s", got)
	}
	if got := pub.do("PUBSUB", "NUMSUB"); got != "*[]" {
		t.Fatalf("NUMSUB = %s", got)
	}
	if got := pub.do("PUBSUB", "NUMPAT"); got != ":1" {
		t.Fatalf("NUMPAT = %s", got)
	}
	if got := pub.do("PUBSUB", "CHANNELS", "a", "b"); got != "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP." {
		t.Fatalf("CHANNELS a b = %s", got)
	}
	if got := pub.do("PUBSUB", "NOPE"); got != "-ERR unknown subcommand 'NOPE'. Try PUBSUB HELP." {
		t.Fatalf("PUBSUB NOPE = %s", got)
	}

	// Unsubscribe from everything: one reply per channel, then patterns.
	sub.send(cmd("UNSUBSCRIBE"))
	sub.expectPush("*[$unsubscribe $a :2]", "*[$unsubscribe $b :1]")
	// Still subscribed to a pattern: still restricted.
	if got := sub.do("GET", "k"); got != want {
		t.Fatalf("GET = %s", got)
	}
	sub.send(cmd("PUNSUBSCRIBE", "n*", "other"))
	sub.expectPush("*[$punsubscribe $n* :0]", "*[$punsubscribe $other :0]")
	if got := sub.do("GET", "k"); got != "$<nil>" {
		t.Fatalf("GET after unsubscribing = %s", got)
	}
	if got := sub.do("PING"); got != "+PONG" {
		t.Fatalf("PING = %s", got)
	}
	if got := pub.do("PUBSUB", "NUMPAT"); got != ":0" {
		t.Fatalf("NUMPAT = %s", got)
	}
	if got := pub.do("PUBSUB", "CHANNELS"); got != "*[]" {
		t.Fatalf("CHANNELS = %s", got)
	}
}

func TestPubSubRESP3Pushes(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	sub := mustRaw(t, s)
	pub := mustRaw(t, s)
	if got := sub.do("HELLO", "3"); !strings.HasPrefix(got, "%{") {
		t.Fatalf("HELLO 3 = %s", got)
	}
	sub.send(cmd("UNSUBSCRIBE"))
	sub.expectPush(">[$unsubscribe _ :0]")
	sub.send(cmd("SUBSCRIBE", "c"))
	sub.expectPush(">[$subscribe $c :1]")
	sub.send(cmd("PSUBSCRIBE", "c*"))
	sub.expectPush(">[$psubscribe $c* :2]")
	// RESP3: every command is allowed while subscribed; PING is normal.
	if got := sub.do("SET", "k", "v"); got != "+OK" {
		t.Fatalf("SET = %s", got)
	}
	if got := sub.do("GET", "k"); got != "$v" {
		t.Fatalf("GET = %s", got)
	}
	if got := sub.do("PING"); got != "+PONG" {
		t.Fatalf("PING = %s", got)
	}
	if got := pub.do("PUBLISH", "c", "m"); got != ":2" {
		t.Fatalf("PUBLISH = %s", got)
	}
	sub.expectPush(">[$message $c $m]", ">[$pmessage $c* $c $m]")
	// Back to RESP2 while subscribed: the restriction applies again.
	if got := sub.do("HELLO", "2"); !strings.HasPrefix(got, "*[") {
		t.Fatalf("HELLO 2 = %s", got)
	}
	if got := sub.do("GET", "k"); !strings.HasPrefix(got, "-ERR Can't execute 'get'") {
		t.Fatalf("GET = %s", got)
	}
	if got := pub.do("PUBLISH", "c", "m2"); got != ":2" {
		t.Fatalf("PUBLISH = %s", got)
	}
	sub.expectPush("*[$message $c $m2]", "*[$pmessage $c* $c $m2]")
}

func TestPubSubGoRedis(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			b := newFakeBackend()
			s := mustServer(t, b)
			rc := newGoRedis(t, s, proto)
			ctx := context.Background()
			ps := rc.Subscribe(ctx, "ch1", "ch2")
			defer ps.Close()
			if _, err := ps.Receive(ctx); err != nil { // first confirmation
				t.Fatal(err)
			}
			if err := ps.PSubscribe(ctx, "p.*"); err != nil {
				t.Fatal(err)
			}
			// Wait until both subscriptions are registered.
			waitFor(t, func() bool {
				n, _ := rc.PubSubNumPat(ctx).Result()
				m, _ := rc.PubSubNumSub(ctx, "ch2").Result()
				return n == 1 && m["ch2"] == 1
			})
			if n, err := rc.Publish(ctx, "ch2", "hello").Result(); err != nil || n != 1 {
				t.Fatalf("PUBLISH = %d, %v", n, err)
			}
			if n, err := rc.Publish(ctx, "p.x", "world").Result(); err != nil || n != 1 {
				t.Fatalf("PUBLISH = %d, %v", n, err)
			}
			ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			var got []string
			for len(got) < 2 {
				m, err := ps.ReceiveMessage(ctx2)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, m.Pattern+"|"+m.Channel+"|"+m.Payload)
			}
			if got[0] != "|ch2|hello" || got[1] != "p.*|p.x|world" {
				t.Fatalf("messages = %q", got)
			}
			// Ordering: one publisher, one channel.
			for i := 0; i < 500; i++ {
				if err := rc.Publish(ctx, "ch1", strconv.Itoa(i)).Err(); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 500; i++ {
				m, err := ps.ReceiveMessage(ctx2)
				if err != nil {
					t.Fatal(err)
				}
				if m.Channel != "ch1" || m.Payload != strconv.Itoa(i) {
					t.Fatalf("message %d = %s %s", i, m.Channel, m.Payload)
				}
			}
			// go-redis's health check PINGs a subscribed connection.
			if err := ps.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			if err := ps.Unsubscribe(ctx); err != nil {
				t.Fatal(err)
			}
			if err := ps.PUnsubscribe(ctx); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool {
				n, _ := rc.PubSubNumPat(ctx).Result()
				ch, _ := rc.PubSubChannels(ctx, "*").Result()
				return n == 0 && len(ch) == 0
			})
			// Every PUBLISH went to the other nodes too.
			b.pubMu.Lock()
			n := len(b.published)
			first := b.published[0]
			b.pubMu.Unlock()
			if n != 502 || first != "ch2=hello" {
				t.Fatalf("backend saw %d publishes, first %q", n, first)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPubSubDeliverRemote(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	sub := mustRaw(t, s)
	sub.send(cmd("SUBSCRIBE", "x"))
	sub.expectPush("*[$subscribe $x :1]")
	sub.send(cmd("SSUBSCRIBE", "x"))
	sub.expectPush("*[$ssubscribe $x :1]")
	s.DeliverRemote(false, []byte("x"), []byte("from-afar"))
	sub.expectPush("*[$message $x $from-afar]")
	s.DeliverRemote(true, []byte("x"), []byte("sharded"))
	sub.expectPush("*[$smessage $x $sharded]")
}

func TestPubSubDisconnectCleanup(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	pub := mustRaw(t, s)
	for i := 0; i < 5; i++ {
		sub := mustRaw(t, s)
		sub.send(cmd("SUBSCRIBE", "a", "b"))
		sub.expectPush("*[$subscribe $a :1]", "*[$subscribe $b :2]")
		sub.send(cmd("PSUBSCRIBE", "*"))
		sub.expectPush("*[$psubscribe $* :3]")
		sub.send(cmd("SSUBSCRIBE", "s"))
		sub.expectPush("*[$ssubscribe $s :1]")
		sub.c.Close()
	}
	waitFor(t, func() bool {
		return pub.do("PUBSUB", "NUMSUB", "a", "b") == "*[$a :0 $b :0]" && pub.do("PUBSUB", "NUMPAT") == ":0" &&
			pub.do("PUBSUB", "SHARDNUMSUB", "s") == "*[$s :0]"
	})
	if got := pub.do("PUBLISH", "a", "x"); got != ":0" {
		t.Fatalf("PUBLISH = %s", got)
	}
}

func TestPubSubResetAndQuit(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	pub := mustRaw(t, s)
	sub := mustRaw(t, s)
	sub.send(cmd("SUBSCRIBE", "a"))
	sub.expectPush("*[$subscribe $a :1]")
	if got := sub.do("RESET"); got != "+RESET" {
		t.Fatalf("RESET = %s", got)
	}
	if got := pub.do("PUBSUB", "NUMSUB", "a"); got != "*[$a :0]" {
		t.Fatalf("NUMSUB after RESET = %s", got)
	}
	if got := sub.do("GET", "k"); got != "$<nil>" {
		t.Fatalf("GET after RESET = %s", got)
	}
	sub.send(cmd("SUBSCRIBE", "a"))
	sub.expectPush("*[$subscribe $a :1]")
	// QUIT's +OK is written (through the push sink) before the close.
	sub.send(cmd("PUBLISH", "a", "self") + cmd("QUIT"))
	sub.expectPush("-ERR Can't execute 'publish': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
	sub.expectPush("+OK")
	sub.expectClosed()
	waitFor(t, func() bool { return pub.do("PUBSUB", "NUMSUB", "a") == "*[$a :0]" })
}

// A pipeline's replies come before messages published meanwhile: the
// SUBSCRIBE confirmation always precedes the first message.
func TestPubSubConfirmationFirst(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	pubc := newGoRedis(t, s, 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			_ = pubc.Publish(ctx, "hot", "m").Err()
		}
	}()
	defer func() { cancel(); <-done }()
	for i := 0; i < 20; i++ {
		sub := mustRaw(t, s)
		sub.send(cmd("PING") + cmd("SUBSCRIBE", "hot"))
		sub.expectPush("+PONG", "*[$subscribe $hot :1]", "*[$message $hot $m]")
		sub.c.Close()
	}
}

func TestPubSubSlowSubscriberDisconnected(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	s.pubsub.limit.Store(256 << 10)
	slow := mustRaw(t, s)
	slow.send(cmd("SUBSCRIBE", "big"))
	slow.expectPush("*[$subscribe $big :1]")
	// The slow subscriber never reads again. The publisher must not block:
	// once the kernel buffers and the 256 KiB limit are full, the
	// subscriber is disconnected.
	pub := newGoRedis(t, s, 2)
	ctx := context.Background()
	payload := strings.Repeat("x", 64<<10)
	start := time.Now()
	dropped := false
	for i := 0; i < 4000; i++ {
		n, err := pub.Publish(ctx, "big", payload).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			dropped = true
			break
		}
	}
	if !dropped {
		t.Fatal("slow subscriber still subscribed after 256 MB")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("publisher took %v", d)
	}
	// The connection is closed (what was already buffered may be read).
	_ = slow.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1<<20)
	for {
		if _, err := slow.rd.Read(buf); err != nil {
			if strings.Contains(err.Error(), "timeout") {
				t.Fatal("slow subscriber not disconnected")
			}
			break
		}
	}
}

func TestPubSubSharded(t *testing.T) {
	b := newFakeBackend()
	s := mustServer(t, b)
	sub := mustRaw(t, s)
	pub := mustRaw(t, s)
	sub.send(cmd("SUNSUBSCRIBE"))
	sub.expectPush("*[$sunsubscribe $<nil> :0]")
	sub.send(cmd("SSUBSCRIBE", "{u}a", "{u}b"))
	sub.expectPush("*[$ssubscribe ${u}a :1]", "*[$ssubscribe ${u}b :2]")
	if got := sub.do("SSUBSCRIBE", "a", "b"); got != "-CROSSSLOT Keys in request don't hash to the same slot" {
		t.Fatalf("cross-slot SSUBSCRIBE = %s", got)
	}
	// Shard subscriptions count separately and ignore patterns.
	sub.send(cmd("PSUBSCRIBE", "*"))
	sub.expectPush("*[$psubscribe $* :1]")
	if got := pub.do("SPUBLISH", "{u}a", "hi"); got != ":1" {
		t.Fatalf("SPUBLISH = %s", got)
	}
	sub.expectPush("*[$smessage ${u}a $hi]")
	if got := pub.do("PUBSUB", "SHARDCHANNELS"); got != "*[${u}a ${u}b]" {
		t.Fatalf("SHARDCHANNELS = %s", got)
	}
	if got := pub.do("PUBSUB", "SHARDNUMSUB", "{u}a", "x"); got != "*[${u}a :1 $x :0]" {
		t.Fatalf("SHARDNUMSUB = %s", got)
	}
	if got := pub.do("PUBSUB", "CHANNELS"); got != "*[]" {
		t.Fatalf("CHANNELS = %s", got)
	}
	// A slot owned elsewhere is redirected like a key.
	b.setMoved(slots.Of([]byte("elsewhere")), fmt.Sprintf("MOVED %d 127.0.0.1:7002", slots.Of([]byte("elsewhere"))))
	want := fmt.Sprintf("-MOVED %d 127.0.0.1:7002", slots.Of([]byte("elsewhere")))
	if got := pub.do("SPUBLISH", "elsewhere", "x"); got != want {
		t.Fatalf("SPUBLISH moved = %s", got)
	}
	if got := sub.do("SSUBSCRIBE", "elsewhere"); got != want {
		t.Fatalf("SSUBSCRIBE moved = %s", got)
	}
	sub.send(cmd("SUNSUBSCRIBE"))
	sub.expectPush("*[$sunsubscribe ${u}a :1]", "*[$sunsubscribe ${u}b :0]")
	b.pubMu.Lock()
	defer b.pubMu.Unlock()
	if len(b.published) != 1 || b.published[0] != "shard:{u}a=hi" {
		t.Fatalf("backend saw %q", b.published)
	}
}

// Subscribe confirmations are pushed like messages: Redis 7.0 sends them
// even under CLIENT REPLY OFF, in RESP2 and RESP3.
func TestSubscribeConfirmationsIgnoreReplyOff(t *testing.T) {
	for _, tc := range []struct{ proto, head string }{{"2", "*3"}, {"3", ">3"}} {
		s := mustServer(t, newFakeBackend())
		r := mustRaw(t, s)
		r.send(cmd("HELLO", tc.proto))
		_ = r.readReply()
		r.send(cmd("CLIENT", "REPLY", "OFF"))
		r.send(cmd("SUBSCRIBE", "ch"))
		// 3 elements: "*3" (">3" in RESP3), "$9", "subscribe", ...
		var lines []string
		for i := 0; i < 3; i++ {
			line, err := r.rd.ReadString('\n')
			if err != nil {
				t.Fatalf("RESP%s: reading the confirmation: %v (got %q)", tc.proto, err, lines)
			}
			lines = append(lines, strings.TrimSpace(line))
		}
		if lines[0] != tc.head || lines[2] != "subscribe" {
			t.Fatalf("RESP%s: subscribe confirmation under REPLY OFF: %q", tc.proto, lines)
		}
	}
}
