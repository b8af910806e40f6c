package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestConfigParamsReachReplicas: stream-node-max-entries set on the leader
// alone decides how every replica of the shard trims (Redis's replicas copy
// the master's effects; ours apply the leader's values stamped into each
// write). Followers left at the default would keep 101 entries.
func TestConfigParamsReachReplicas(t *testing.T) {
	dc, _ := startTestDev(t, 3, "")
	defer dc.close()
	ctx := context.Background()
	lead := dc.leader(t)
	c := client(t, lead, 2)
	if err := c.ConfigSet(ctx, "stream-node-max-entries", "10").Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := c.XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: fmt.Sprintf("%d-0", i+1), Values: []any{"xitem", "v"}}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Do(ctx, "XADD", "s", "MAXLEN", "~", "55", "LIMIT", "30", "*", "xitem", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.XLen(ctx, "s").Result(); err != nil || n != 71 {
		t.Fatalf("leader XLEN = %d, %v; want 71", n, err)
	}
	// Applied after the trim: a follower that has it has the trim.
	if err := c.Set(ctx, "done", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, inst := range dc.instances {
		if inst == lead {
			continue
		}
		if v, err := client(t, inst, 2).ConfigGet(ctx, "stream-node-max-entries").Result(); err != nil || v["stream-node-max-entries"] != "100" {
			t.Fatalf("%s: stream-node-max-entries %v, %v: want the default, 100", inst.node.ID(), v, err)
		}
		// A follower's local read (READONLY) once it applied the trim.
		ro := redis.NewClient(&redis.Options{Addr: inst.gw.Addr().String(), MaxRetries: -1, PoolSize: 1,
			OnConnect: func(ctx context.Context, cn *redis.Conn) error { return cn.ReadOnly(ctx).Err() }})
		deadline := time.Now().Add(10 * time.Second)
		for ro.Get(ctx, "done").Val() != "1" {
			if time.Now().After(deadline) {
				t.Fatalf("follower %s did not apply the writes", inst.node.ID())
			}
			time.Sleep(20 * time.Millisecond)
		}
		n, err := ro.XLen(ctx, "s").Result()
		ro.Close()
		if err != nil || n != 71 {
			t.Fatalf("follower %s XLEN = %d, %v; want 71 as on the leader", inst.node.ID(), n, err)
		}
	}
}
