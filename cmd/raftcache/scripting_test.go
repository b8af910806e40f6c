package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestClusterScripts runs Lua scripts through go-redis's ClusterClient on a
// 2-shard x 3-replica cluster: SCRIPT LOAD reaches every node, EVALSHA
// routes by key, and a script that draws random numbers leaves the same
// value on every replica (it runs on each of them from the log).
func TestClusterScripts(t *testing.T) {
	dc := startReshardCluster(t, 2, 0)
	ctx := context.Background()
	c := clusterClient(t, dc, nil)

	incr := redis.NewScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`)
	if err := incr.Load(ctx, c).Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		k := fmt.Sprintf("counter:%d", i)
		for j := 1; j <= 2; j++ {
			n, err := incr.EvalSha(ctx, c, []string{k}, 5).Int()
			if err != nil || n != 5*j {
				t.Fatalf("EVALSHA %s = %d, %v", k, n, err)
			}
		}
	}
	exists, err := incr.Exists(ctx, c).Result()
	if err != nil || !exists[0] {
		t.Fatalf("SCRIPT EXISTS on every node: %v %v", exists, err)
	}

	// Nondeterministic-looking scripts are deterministic per log entry.
	random := redis.NewScript(`
local v = tostring(math.random(1000000000)) .. ':' .. tostring({}) .. ':' .. redis.call('TIME')[1]
redis.call('SET', KEYS[1], v)
return v`)
	keys := make([]string, 40)
	want := make(map[string]string)
	for i := range keys {
		keys[i] = fmt.Sprintf("rnd:%d", i)
		v, err := random.Run(ctx, c, []string{keys[i]}).Text()
		if err != nil {
			t.Fatalf("%s: %v", keys[i], err)
		}
		want[keys[i]] = v
	}
	if want[keys[0]] == want[keys[1]] {
		t.Fatalf("two runs drew the same numbers: %q", want[keys[0]])
	}
	checkReplicas(t, dc, want)

	// A script bound to one slot cannot reach another shard's keys.
	err = c.Eval(ctx, `return redis.call('GET', 'elsewhere')`, []string{"here"}).Err()
	if err == nil || !strings.Contains(err.Error(), "do not hash to the same slot") {
		t.Fatalf("cross-slot access: %v", err)
	}
	// EVAL_RO is served by a replica after READONLY. (RouteRandomly, not
	// RouteByLatency: go-redis v9.23's latency probe starts before the node
	// client is set up, a data race inside go-redis that -race reports.)
	ro := clusterClient(t, dc, &redis.ClusterOptions{ReadOnly: true, RouteRandomly: true})
	if n, err := ro.EvalRO(ctx, `return redis.call('GET', KEYS[1])`, []string{"counter:7"}).Int(); err != nil || n != 10 {
		t.Fatalf("EVAL_RO = %d, %v", n, err)
	}

	// Redis 7 functions: loaded on every shard (each keeps its libraries in
	// its log and snapshots), called by key.
	lib := "#!lua name=counters\nredis.register_function('bump', function(keys, args) return redis.call('INCRBY', keys[1], args[1]) end)"
	err = c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		return m.FunctionLoad(ctx, lib).Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		k := fmt.Sprintf("fn:%d", i)
		if n, err := c.FCall(ctx, "bump", []string{k}, 3).Int(); err != nil || n != 3 {
			t.Fatalf("FCALL bump %s = %d, %v", k, n, err)
		}
	}
	libs, err := c.FunctionList(ctx, redis.FunctionListQuery{}).Result()
	if err != nil || len(libs) != 1 || libs[0].Name != "counters" || len(libs[0].Functions) != 1 {
		t.Fatalf("FUNCTION LIST = %+v, %v", libs, err)
	}

	// A script that pushes to a list wakes a client blocked on it, even
	// when the script did not declare the key.
	m, err := c.MasterForKey(ctx, "queue")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []string, 1)
	go func() {
		v, _ := c.BLPop(ctx, 10*time.Second, "queue").Result()
		got <- v
	}()
	time.Sleep(200 * time.Millisecond)
	if err := m.Eval(ctx, `return redis.call('RPUSH', 'queue', 'job1')`, nil).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-got:
		if len(v) != 2 || v[1] != "job1" {
			t.Fatalf("BLPOP = %v", v)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("BLPOP not woken by a script's RPUSH")
	}
}

// checkReplicas waits until every node serves want ("<absent>": no key)
// from its own replica (READONLY); a key of another shard (MOVED) is
// skipped on that node.
func checkReplicas(t *testing.T, dc *devCluster, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	for _, inst := range dc.instances {
		rc := redis.NewClient(&redis.Options{Addr: inst.gw.Addr().String(), MaxRetries: -1})
		conn := rc.Conn()
		if err := conn.ReadOnly(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for k, w := range want {
			for {
				v, err := conn.Get(ctx, k).Result()
				if err != nil && strings.HasPrefix(err.Error(), "MOVED") {
					break // another shard's key
				}
				if err == redis.Nil {
					v, err = "<absent>", nil
				}
				if err == nil && v == w {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s on %s: %q, %v; want %q", k, inst.node.ID(), v, err, w)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		conn.Close()
		rc.Close()
	}
}

// TestMonitorScriptCalls: MONITOR shows a script's commands as Redis's
// "[0 lua]" lines, after the EVAL that ran them.
func TestMonitorScriptCalls(t *testing.T) {
	dc, _ := startTestDev(t, 1, "")
	t.Cleanup(dc.close)
	inst := dc.leader(t)
	conn, err := net.Dial("tcp", inst.gw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	rd := bufio.NewReader(conn)
	line := func() string {
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimRight(l, "\r\n")
	}
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	if got := line(); got != "+OK" {
		t.Fatalf("MONITOR: %q", got)
	}
	c := client(t, inst, 2)
	if err := c.Eval(context.Background(), "return redis.call('set', KEYS[1], ARGV[1])", []string{"mk"}, "mv").Err(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"eval"`, `[0 lua] "set" "mk" "mv"`} {
		for {
			l := line()
			if strings.Contains(l, `"client"`) || strings.Contains(l, `"hello"`) {
				continue // the client's handshake
			}
			if !strings.Contains(l, want) {
				t.Fatalf("monitor line %q, want it to contain %s; next %q", l, want, line())
			}
			break
		}
	}
}
