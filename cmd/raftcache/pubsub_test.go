package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestPubSubAcrossNodes: PUBLISH on one node reaches subscribers (channel
// and pattern) on every other node, in publish order.
func TestPubSubAcrossNodes(t *testing.T) {
	dc := startTestCluster(t)
	addrs := dc.addrs()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := func(addr string) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() { c.Close() })
		return c
	}
	sub7 := client(addrs[7]).Subscribe(ctx, "news")
	defer sub7.Close()
	if _, err := sub7.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	psub3 := client(addrs[3]).PSubscribe(ctx, "ne*")
	defer psub3.Close()
	if _, err := psub3.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	pub := client(addrs[1])
	// PUBLISH's reply counts this node's receivers only (as Redis Cluster).
	if n, err := pub.Publish(ctx, "news", "first").Result(); err != nil || n != 0 {
		t.Fatalf("PUBLISH = %d, %v", n, err)
	}
	m, err := sub7.ReceiveMessage(ctx)
	if err != nil || m.Channel != "news" || m.Payload != "first" {
		t.Fatalf("node 7 got %v, %v", m, err)
	}
	m, err = psub3.ReceiveMessage(ctx)
	if err != nil || m.Pattern != "ne*" || m.Channel != "news" || m.Payload != "first" {
		t.Fatalf("node 3 got %v, %v", m, err)
	}
	// Order of one publisher's messages is kept across nodes.
	const n = 300
	for i := 0; i < n; i++ {
		if err := pub.Publish(ctx, "news", strconv.Itoa(i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, ps := range []*redis.PubSub{sub7, psub3} {
		for i := 0; i < n; i++ {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if m.Payload != strconv.Itoa(i) {
				t.Fatalf("message %d = %q", i, m.Payload)
			}
		}
	}
	// Every node delivers: a subscriber on each node, one publish.
	var subs []*redis.PubSub
	for _, a := range addrs {
		ps := client(a).Subscribe(ctx, "all")
		defer ps.Close()
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, ps)
	}
	if n, err := client(addrs[4]).Publish(ctx, "all", "hi").Result(); err != nil || n != 1 {
		t.Fatalf("PUBLISH all = %d, %v", n, err)
	}
	for i, ps := range subs {
		m, err := ps.ReceiveMessage(ctx)
		if err != nil || m.Payload != "hi" {
			t.Fatalf("node %d: %v, %v", i, m, err)
		}
	}
}

// TestPubSubShardedAcrossNodes: SPUBLISH is routed to the channel's shard
// and reaches SSUBSCRIBE clients on that shard's nodes.
func TestPubSubShardedAcrossNodes(t *testing.T) {
	dc := startTestCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cc := clusterClient(t, dc, nil)
	ps := cc.SSubscribe(ctx, "orders")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cc.SPublish(ctx, "orders", "o1").Err(); err != nil {
		t.Fatal(err)
	}
	m, err := ps.ReceiveMessage(ctx)
	if err != nil || m.Channel != "orders" || m.Payload != "o1" {
		t.Fatalf("got %v, %v", m, err)
	}
}

// TestPubSubFromScripts: a script's PUBLISH reaches a subscriber on every
// node exactly once (replicas of the script's shard deliver what they
// apply, its leader sends to the other shards); SPUBLISH stays in the
// channel's shard. The reply is 0 on every replica.
func TestPubSubFromScripts(t *testing.T) {
	dc := startTestCluster(t)
	addrs := dc.addrs()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var subs []*redis.PubSub
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		t.Cleanup(func() { c.Close() })
		ps := c.Subscribe(ctx, "jobs")
		defer ps.Close()
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		subs = append(subs, ps)
	}
	cc := clusterClient(t, dc, nil)
	const script = "redis.call('rpush', KEYS[1], ARGV[1]) return redis.call('publish', 'jobs', ARGV[1])"
	for _, msg := range []string{"m1", "m2"} {
		if n, err := cc.Eval(ctx, script, []string{"queue"}, msg).Int64(); err != nil || n != 0 {
			t.Fatalf("EVAL = %d, %v", n, err)
		}
	}
	// The second message follows the first with nothing in between: no
	// node delivered m1 twice.
	for i, ps := range subs {
		for _, want := range []string{"m1", "m2"} {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil || m.Channel != "jobs" || m.Payload != want {
				t.Fatalf("node %d: got %v, %v; want %s", i, m, err, want)
			}
		}
	}
	if err := cc.EvalRO(ctx, "return redis.call('publish', 'jobs', 'x')", []string{"queue"}).Err(); err == nil {
		t.Fatal("PUBLISH from EVAL_RO accepted")
	}

	ss := cc.SSubscribe(ctx, "{queue}events")
	defer ss.Close()
	if _, err := ss.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cc.Eval(ctx, "return redis.call('spublish', '{queue}events', 'done')", []string{"queue"}).Err(); err != nil {
		t.Fatal(err)
	}
	m, err := ss.ReceiveMessage(ctx)
	if err != nil || m.Channel != "{queue}events" || m.Payload != "done" {
		t.Fatalf("SPUBLISH from a script: %v, %v", m, err)
	}
	err = cc.Eval(ctx, "return redis.call('spublish', 'other', 'x')", []string{"queue"}).Err()
	if err == nil || !strings.Contains(err.Error(), "same slot") {
		t.Fatalf("SPUBLISH to another slot: %v", err)
	}
}
