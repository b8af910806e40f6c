package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// infoInt reads one numeric field of INFO section from c.
func infoInt(t *testing.T, c *redis.Client, section, field string) int64 {
	t.Helper()
	s, err := c.Info(context.Background(), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseInt(infoField(s, field), 10, 64)
	if err != nil {
		t.Fatalf("INFO %s %s: %v", section, field, err)
	}
	return n
}

// TestMaxMemory: on a 3-replica shard, allkeys-lru keeps the keyspace
// under maxmemory while writes go on, keeps the keys that are being read,
// and leaves the replicas identical; noeviction answers OOM to writes.
func TestMaxMemory(t *testing.T) {
	dc, _ := startTestDev(t, 3, "")
	defer dc.close()
	ctx := context.Background()
	// About 265 keys of 1 KB: 300,000 bytes when an entry was estimated at
	// 96 bytes of overhead, 313,000 since the hash index made it 144.
	const limit = 313_000
	for _, inst := range dc.instances {
		c := client(t, inst, 2)
		if err := c.ConfigSet(ctx, "maxmemory", strconv.Itoa(limit)).Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
			t.Fatal(err)
		}
	}
	lead := client(t, dc.leader(t), 2)
	// A replica's subscriber sees the evictions as keyspace events: every
	// replica applies them from the log.
	var follower *instance
	for _, inst := range dc.instances {
		if inst != dc.leader(t) {
			follower = inst
			break
		}
	}
	fc := client(t, follower, 2)
	if err := fc.ConfigSet(ctx, "notify-keyspace-events", "Ee").Err(); err != nil {
		t.Fatal(err)
	}
	sub := fc.Subscribe(ctx, "__keyevent@0__:evicted")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	val := strings.Repeat("x", 1000)
	hot := make([]string, 50)
	for i := range hot {
		hot[i] = fmt.Sprintf("hot:%d", i)
		if err := lead.Set(ctx, hot[i], val, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// 2,000 cold keys (about 2 MB, seven times the limit); the hot ones are
	// read between batches, as a cache's working set is.
	for b := 0; b < 40; b++ {
		pipe := lead.Pipeline()
		for i := 0; i < 50; i++ {
			pipe.Set(ctx, fmt.Sprintf("cold:%d", b*50+i), val, 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
		for _, k := range hot {
			lead.Get(ctx, k)
		}
		time.Sleep(20 * time.Millisecond) // the hot reads and the next batch get distinct access times
	}
	deadline := time.Now().Add(10 * time.Second)
	for infoInt(t, lead, "memory", "used_memory_dataset") > limit {
		if time.Now().After(deadline) {
			t.Fatalf("used_memory_dataset %d still over maxmemory %d", infoInt(t, lead, "memory", "used_memory_dataset"), limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	evicted := infoInt(t, lead, "stats", "evicted_keys")
	n, _ := lead.DBSize(ctx).Result()
	if evicted < 1500 || n > 300 {
		t.Fatalf("evicted %d keys, %d left: want most of the 2,050 gone", evicted, n)
	}
	// Every eviction reached the replica's subscriber, naming a cold key
	// (or one of the few hot ones allkeys-lru may pick).
	msgs := sub.Channel()
	for got := int64(0); got < evicted; got++ {
		select {
		case m := <-msgs:
			if !strings.HasPrefix(m.Payload, "cold:") && !strings.HasPrefix(m.Payload, "hot:") {
				t.Fatalf("evicted event for %q", m.Payload)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d evicted events on the replica, INFO says %d evictions", got, evicted)
		}
	}
	kept := 0
	for _, k := range hot {
		if lead.Exists(ctx, k).Val() == 1 {
			kept++
		}
	}
	t.Logf("allkeys-lru kept %d of 50 hot keys; %d evicted", kept, evicted)
	if kept < 45 {
		t.Fatalf("allkeys-lru kept %d of 50 keys that were being read", kept)
	}
	// The replicas deleted the same keys (eviction goes through the log).
	leader := dc.leader(t).node.FSM()
	applied, want := leader.AppliedIndex(), leader.Digest()
	for _, inst := range dc.instances {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := inst.node.FSM().WaitApplied(wctx, applied)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if got := inst.node.FSM().Digest(); got != want {
			t.Fatalf("replica %s differs from the leader after eviction", inst.node.ID())
		}
	}

	// noeviction: writes that may grow memory are refused, reads and
	// deletes are not.
	for _, inst := range dc.instances {
		if err := client(t, inst, 2).ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
			t.Fatal(err)
		}
		if err := client(t, inst, 2).ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
			t.Fatal(err)
		}
	}
	err := lead.Set(ctx, "more", "v", 0).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "OOM command not allowed") {
		t.Fatalf("SET over maxmemory with noeviction: %v", err)
	}
	if err := lead.Eval(ctx, "return redis.call('set', KEYS[1], 'v')", []string{"more"}).Err(); err == nil || !strings.HasPrefix(err.Error(), "OOM") {
		t.Fatalf("EVAL over maxmemory: %v", err)
	}
	if err := lead.Get(ctx, hot[0]).Err(); err != nil && err != redis.Nil {
		t.Fatalf("GET over maxmemory: %v", err)
	}
	if err := lead.Del(ctx, hot[0]).Err(); err != nil {
		t.Fatalf("DEL over maxmemory: %v", err)
	}
}
