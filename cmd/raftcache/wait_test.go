package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestWait: on a shard of 3, an acknowledged write is on a majority, so
// WAIT 1 answers at once; WAIT 2 waits until the third replica has it
// (seen through gossip); a follower refuses WAIT as a Redis replica does.
func TestWait(t *testing.T) {
	dc, _ := startTestDev(t, 3, "")
	t.Cleanup(dc.close)
	ctx := context.Background()
	leader := dc.leader(t)
	c := client(t, leader, 2)
	if err := c.Set(ctx, "w", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Wait(ctx, 1, 0).Result(); err != nil || n < 1 {
		t.Fatalf("WAIT 1 0: %d, %v", n, err)
	}
	if n, err := c.Wait(ctx, 2, 20*time.Second).Result(); err != nil || n != 2 {
		t.Fatalf("WAIT 2 20000: %d, %v", n, err)
	}
	// More replicas than exist: the timeout ends it with the count.
	if n, err := c.Wait(ctx, 5, 300*time.Millisecond).Result(); err != nil || n != 2 {
		t.Fatalf("WAIT 5 300: %d, %v", n, err)
	}
	for _, bad := range [][]any{{"wait", "x", "0"}, {"wait", "1", "-1"}, {"wait", "1", "y"}} {
		if err := c.Do(ctx, bad...).Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR ") {
			t.Fatalf("%v: %v", bad, err)
		}
	}
	for _, inst := range dc.instances {
		if inst == leader {
			continue
		}
		err := client(t, inst, 2).Wait(ctx, 1, 0).Err()
		if err == nil || !strings.Contains(err.Error(), "WAIT cannot be used with replica instances") {
			t.Fatalf("WAIT on a follower: %v", err)
		}
	}
}

// TestWaitInExec: inside EXEC, WAIT answers at once with the current count.
func TestWaitInExec(t *testing.T) {
	dc, _ := startTestDev(t, 3, "")
	t.Cleanup(dc.close)
	ctx := context.Background()
	c := client(t, dc.leader(t), 2)
	pipe := c.TxPipeline()
	pipe.Set(ctx, "wx", "1", 0)
	w := pipe.Do(ctx, "wait", 5, 0) // would block for ever outside EXEC
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Int(); err != nil || n < 1 || n > 2 {
		t.Fatalf("WAIT in EXEC: %d, %v", n, err)
	}
}
