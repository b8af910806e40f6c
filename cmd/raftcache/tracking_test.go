package main

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/push"
)

// rawResp3 is a raw RESP3 connection read line by line.
type rawResp3 struct {
	t    *testing.T
	conn net.Conn
	rd   *bufio.Reader
}

func dialResp3(t *testing.T, inst *instance) *rawResp3 {
	t.Helper()
	conn, err := net.Dial("tcp", inst.gw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	r := &rawResp3{t: t, conn: conn, rd: bufio.NewReader(conn)}
	r.send("HELLO 3")
	r.send("PING")
	r.until("+PONG")
	return r
}

func (r *rawResp3) send(line string) {
	r.t.Helper()
	if _, err := r.conn.Write([]byte(line + "\r\n")); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawResp3) line() string {
	r.t.Helper()
	l, err := r.rd.ReadString('\n')
	if err != nil {
		r.t.Fatal(err)
	}
	return strings.TrimRight(l, "\r\n")
}

// until skips lines up to one equal to want.
func (r *rawResp3) until(want string) {
	r.t.Helper()
	for r.line() != want {
	}
}

// expect reads len(want) lines and compares them.
func (r *rawResp3) expect(want ...string) {
	r.t.Helper()
	for _, w := range want {
		if got := r.line(); got != w {
			r.t.Fatalf("got %q, want %q", got, w)
		}
	}
}

// pushRecorder records go-redis "invalidate" push notifications.
type pushRecorder struct {
	mu   sync.Mutex
	seen [][]interface{}
}

func (p *pushRecorder) HandlePushNotification(ctx context.Context, _ push.NotificationHandlerContext, n []interface{}) error {
	p.mu.Lock()
	p.seen = append(p.seen, n)
	p.mu.Unlock()
	return nil
}

func (p *pushRecorder) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen)
}

// TestClientTrackingAcrossReplicas: clients tracking a key on the leader
// (go-redis RESP3 and a raw RESP3 connection) and on a follower (READONLY)
// are all invalidated by a write made through another client, because every
// replica applies the write and feeds its own gateway.
func TestClientTrackingAcrossReplicas(t *testing.T) {
	dc, _ := startTestDev(t, 3, "")
	t.Cleanup(dc.close)
	ctx := context.Background()
	lead := dc.leader(t)
	follower := dc.follower(lead)
	w := client(t, lead, 2)
	if err := w.Set(ctx, "tk", "v1", 0).Err(); err != nil {
		t.Fatal(err)
	}

	// go-redis, RESP3, one connection so that tracking covers its reads.
	gr := redis.NewClient(&redis.Options{Addr: lead.gw.Addr().String(), Protocol: 3, PoolSize: 1, MaxRetries: -1})
	t.Cleanup(func() { gr.Close() })
	rec := &pushRecorder{}
	if err := gr.RegisterPushNotificationHandler("invalidate", rec, false); err != nil {
		t.Fatal(err)
	}
	if err := gr.Do(ctx, "CLIENT", "TRACKING", "ON").Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := gr.Get(ctx, "tk").Result(); err != nil || v != "v1" {
		t.Fatalf("go-redis GET: %q %v", v, err)
	}

	lr := dialResp3(t, lead)
	lr.send("CLIENT TRACKING ON")
	lr.expect("+OK")
	lr.send("GET tk")
	lr.expect("$2", "v1")

	// The follower serves the read once it has applied the SET.
	fr := dialResp3(t, follower)
	fr.send("READONLY")
	fr.expect("+OK")
	for deadline := time.Now().Add(10 * time.Second); ; {
		fr.send("GET tk")
		if l := fr.line(); l == "$2" {
			fr.expect("v1")
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("follower GET: %q", l)
		}
		time.Sleep(10 * time.Millisecond)
	}
	fr.send("CLIENT TRACKING ON")
	fr.expect("+OK")
	fr.send("GET tk")
	fr.expect("$2", "v1")

	if err := w.Set(ctx, "tk", "v2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	inval := []string{">2", "$10", "invalidate", "*1", "$2", "tk"}
	lr.expect(inval...)
	fr.expect(inval...)
	// go-redis handles pushes as it reads replies: ping until it has.
	for deadline := time.Now().Add(10 * time.Second); rec.count() == 0; time.Sleep(10 * time.Millisecond) {
		if err := gr.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("go-redis got no invalidate push")
		}
	}
	rec.mu.Lock()
	n := rec.seen[0]
	rec.mu.Unlock()
	if len(n) != 2 || n[0] != "invalidate" {
		t.Fatalf("go-redis push: %#v", n)
	}
	if keys, ok := n[1].([]interface{}); !ok || len(keys) != 1 || keys[0] != "tk" {
		t.Fatalf("go-redis push keys: %#v", n[1])
	}

	// NOLOOP through the real log: its own write sends nothing, another
	// client's write does.
	nl := dialResp3(t, lead)
	nl.send("CLIENT TRACKING ON NOLOOP")
	nl.expect("+OK")
	nl.send("GET tk")
	nl.expect("$2", "v2")
	nl.send("SET tk v3")
	nl.expect("+OK")
	nl.send("GET tk")
	nl.expect("$2", "v3")
	nl.send("PING")
	nl.expect("+PONG")
	lr.send("PING") // lr did not read tk again: no message either
	lr.expect("+PONG")
	if err := w.Set(ctx, "tk", "v4", 0).Err(); err != nil {
		t.Fatal(err)
	}
	nl.expect(inval...)
}
