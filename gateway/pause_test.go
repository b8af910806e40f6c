package gateway

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/redis/go-redis/v9"
)

// TestClientPause follows Redis's unit/pause: WRITE holds writes, scripts
// that may write, PUBLISH and PFCOUNT and a transaction holding a write,
// not reads, read-only scripts or syntax errors; ALL holds everything;
// UNPAUSE and the timeout release the held clients in order.
func TestClientPause(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	ctx := context.Background()
	newClient := func() *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: 2, ReadTimeout: -1})
		t.Cleanup(func() { c.Close() })
		return c
	}
	admin := newClient()
	blocked := func(n int) {
		t.Helper()
		testwait.Eventually(t, 5*time.Second, func() error {
			if got := s.blockedClients(); got != n {
				return fmt.Errorf("blocked_clients %d, want %d", got, n)
			}
			return nil
		})
	}
	if err := admin.Do(ctx, "client", "pause", "100", "sometimes").Err(); err == nil || !strings.Contains(err.Error(), "mode must be WRITE or ALL") {
		t.Fatalf("bad mode: %v", err)
	}
	if err := admin.Do(ctx, "client", "pause", "-1").Err(); err == nil || !strings.Contains(err.Error(), "timeout is negative") {
		t.Fatalf("negative timeout: %v", err)
	}
	if err := admin.Do(ctx, "client", "pause", "soon").Err(); err == nil || !strings.Contains(err.Error(), "not an integer") {
		t.Fatalf("bad timeout: %v", err)
	}

	admin.Set(ctx, "foo", "bar", 0)
	admin.PFAdd(ctx, "hll", "a")
	lib := "#!lua name=p\nredis.register_function{function_name='ro', callback=function() return 'hi' end, flags={'no-writes'}}"
	if err := admin.FunctionLoad(ctx, lib).Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "client", "pause", "60000", "write").Err(); err != nil {
		t.Fatal(err)
	}
	// Not held: reads, read-only scripts, a read transaction, syntax errors.
	rc := newClient()
	if v, err := rc.Get(ctx, "foo").Result(); err != nil || v != "bar" {
		t.Fatalf("GET under WRITE pause: %q %v", v, err)
	}
	if v, err := rc.Eval(ctx, "#!lua flags=no-writes\nreturn 7", nil).Result(); err != nil || v != int64(7) {
		t.Fatalf("no-writes EVAL under WRITE pause: %v %v", v, err)
	}
	if v, err := rc.FCall(ctx, "ro", nil).Result(); err != nil || v != "hi" {
		t.Fatalf("no-writes FCALL under WRITE pause: %v %v", v, err)
	}
	tx := rc.TxPipeline()
	tx.Get(ctx, "foo")
	if _, err := tx.Exec(ctx); err != nil {
		t.Fatalf("read EXEC under WRITE pause: %v", err)
	}
	if err := rc.Do(ctx, "set", "foo").Err(); err == nil || !strings.Contains(err.Error(), "wrong number of arguments") {
		t.Fatalf("syntax error under pause: %v", err)
	}
	blocked(0)
	// Held: a write, PFCOUNT, PUBLISH, a script, a write transaction.
	type result struct {
		name string
		err  error
	}
	done := make(chan result, 5)
	run := func(name string, fn func(c *redis.Client) error) {
		c := newClient()
		go func() { done <- result{name, fn(c)} }()
	}
	run("set", func(c *redis.Client) error { return c.Set(ctx, "foo", "baz", 0).Err() })
	run("pfcount", func(c *redis.Client) error { return c.PFCount(ctx, "hll").Err() })
	run("publish", func(c *redis.Client) error { return c.Publish(ctx, "ch", "m").Err() })
	run("eval", func(c *redis.Client) error { return c.Eval(ctx, "return 1", nil).Err() })
	run("exec", func(c *redis.Client) error {
		_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error { p.Incr(ctx, "n"); return nil })
		return err
	})
	blocked(5)
	select {
	case r := <-done:
		t.Fatalf("%s answered during the pause (%v)", r.name, r.err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := admin.Do(ctx, "client", "unpause").Err(); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if r := <-done; r.err != nil {
			t.Fatalf("%s after UNPAUSE: %v", r.name, r.err)
		}
	}
	blocked(0)

	// ALL holds reads too, until the pause times out.
	if err := admin.Do(ctx, "client", "pause", "300", "all").Err(); err != nil {
		t.Fatal(err)
	}
	run("get", func(c *redis.Client) error { return c.Get(ctx, "foo").Err() })
	blocked(1)
	if r := <-done; r.err != nil {
		t.Fatalf("GET after the ALL pause timed out: %v", r.err)
	}
	blocked(0)
}
