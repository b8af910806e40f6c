package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/raftcache/raftcache/internal/testport"
	"github.com/raftcache/raftcache/internal/testtool"
	"github.com/raftcache/raftcache/node"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// go-redis keeps pool reapers only while clients are open; memberlist's
		// and net/http's background goroutines end with their owners.
		goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"),
		// memberlist's probe of a peer can outlive Shutdown by its timeout.
		goleak.IgnoreTopFunction("github.com/hashicorp/memberlist.(*Memberlist).probeNode"),
		goleak.Cleanup(func(code int) {
			if binDir != "" {
				os.RemoveAll(binDir)
			}
			os.Exit(code)
		}),
	)
}

// freeBase finds a base port such that base..base+n-1 and their Raft,
// gossip and gRPC offsets are free on loopback.
func freeBase(t *testing.T, n int) int {
	t.Helper()
	base, err := testport.FreeBase(n, 11000, 15000, node.RaftPortOffset, node.GossipPortOffset, devGRPCOffset)
	if err != nil {
		t.Fatal(err)
	}
	return base
}

func startTestDev(t *testing.T, replicas int, dataDir string) (*devCluster, devOptions) {
	t.Helper()
	return startTestDevOn(t, replicas, dataDir, freeBase(t, replicas))
}

func startTestDevOn(t *testing.T, replicas int, dataDir string, base int) (*devCluster, devOptions) {
	t.Helper()
	o := devOptions{shards: 1, replicas: replicas, basePort: base, dataDir: dataDir, logLevel: "error"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dc, err := startDev(ctx, o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return dc, o
}

func (dc *devCluster) leader(t *testing.T) *instance {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, inst := range dc.instances {
			if inst.node.IsLeader() && inst.node.Replica().Ready() {
				return inst
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no ready leader")
	return nil
}

// follower returns an instance other than lead.
func (dc *devCluster) follower(lead *instance) *instance {
	for _, inst := range dc.instances {
		if inst != lead {
			return inst
		}
	}
	return nil
}

func client(t *testing.T, inst *instance, proto int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: inst.gw.Addr().String(), Protocol: proto, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDevEndToEnd(t *testing.T) {
	dc, _ := startTestDev(t, 3, "")
	defer dc.close()
	ctx := context.Background()
	lead := dc.leader(t)
	for _, proto := range []int{2, 3} {
		c := client(t, lead, proto)
		if err := c.Set(ctx, "greeting", "hello", 0).Err(); err != nil {
			t.Fatalf("resp%d SET: %v", proto, err)
		}
		if v, err := c.Get(ctx, "greeting").Result(); err != nil || v != "hello" {
			t.Fatalf("resp%d GET = %q, %v", proto, v, err)
		}
		if n, err := c.Incr(ctx, fmt.Sprintf("counter%d", proto)).Result(); err != nil || n != 1 {
			t.Fatalf("INCR = %d, %v", n, err)
		}
		if err := c.HSet(ctx, "h", "f", "v").Err(); err != nil {
			t.Fatal(err)
		}
		if m, err := c.HGetAll(ctx, "h").Result(); err != nil || m["f"] != "v" {
			t.Fatalf("HGETALL = %v, %v", m, err)
		}
		if err := c.LPush(ctx, "h", "x").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
			t.Fatalf("LPUSH on hash: %v", err)
		}
		// A pipeline mixing writes and reads keeps its order.
		pipe := c.Pipeline()
		set := pipe.Set(ctx, "p", "1", 0)
		incr := pipe.Incr(ctx, "p")
		get := pipe.Get(ctx, "p")
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if set.Val() != "OK" || incr.Val() != 2 || get.Val() != "2" {
			t.Fatalf("pipeline: %v %v %v", set.Val(), incr.Val(), get.Val())
		}
	}
	// Followers redirect writes with MOVED to the leader and serve reads after READONLY.
	for _, inst := range dc.instances {
		if inst == lead {
			continue
		}
		c := client(t, inst, 2)
		err := c.Set(ctx, "x", "y", 0).Err()
		if err == nil || !strings.HasPrefix(err.Error(), "MOVED ") || !strings.HasSuffix(err.Error(), lead.gw.Addr().String()) {
			t.Fatalf("write on follower: %v, want MOVED to %s", err, lead.gw.Addr())
		}
		conn := c.Conn()
		if err := conn.ReadOnly(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			v, err := conn.Get(ctx, "greeting").Result()
			if err == nil && v == "hello" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica read after READONLY: %q %v", v, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		conn.Close()
	}
}

// TestKillLeaderKeepsAcknowledgedWrites: every write the old leader
// acknowledged is readable from the new leader.
func TestKillLeaderKeepsAcknowledgedWrites(t *testing.T) {
	dc, _ := startTestDev(t, 3, "")
	defer dc.close()
	ctx := context.Background()
	lead := dc.leader(t)
	c := client(t, lead, 2)

	var mu sync.Mutex
	acked := map[string]string{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k, v := fmt.Sprintf("k%d-%d", w, i), fmt.Sprintf("v%d", i)
				if err := c.Set(ctx, k, v, 0).Err(); err == nil {
					mu.Lock()
					acked[k] = v
					mu.Unlock()
				} else if errors.Is(err, redis.ErrClosed) {
					return
				}
			}
		}(w)
	}
	time.Sleep(300 * time.Millisecond)
	killed := time.Now()
	if err := lead.kill(); err != nil {
		t.Logf("closing leader: %v", err)
	}
	close(stop)
	wg.Wait()

	var next *instance
	deadline := time.Now().Add(10 * time.Second)
	for next == nil && time.Now().Before(deadline) {
		for _, inst := range dc.instances {
			if inst != lead && inst.node.IsLeader() && inst.node.Replica().Ready() {
				next = inst
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if next == nil {
		t.Fatal("no new leader")
	}
	t.Logf("new leader %s after %v; %d acknowledged writes", next.node.ID(), time.Since(killed), len(acked))
	nc := client(t, next, 2)
	for k, v := range acked {
		got, err := nc.Get(ctx, k).Result()
		if err != nil || got != v {
			t.Fatalf("acknowledged write %s=%s lost: got %q, %v", k, v, got, err)
		}
	}
	// Remove the closed instance so dc.close does not close it twice.
	var rest []*instance
	for _, inst := range dc.instances {
		if inst != lead {
			rest = append(rest, inst)
		}
	}
	dc.instances = rest
}

// TestRestartKeepsData: a cluster restarted on its data dirs has its data.
func TestRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	dc, o := startTestDev(t, 3, dir)
	ctx := context.Background()
	c := client(t, dc.leader(t), 2)
	for i := 0; i < 200; i++ {
		if err := c.Set(ctx, fmt.Sprintf("key:%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	dc.close()

	// Raft remembers its peers' addresses: restart on the same ports.
	dc2, _ := startTestDevOn(t, 3, dir, o.basePort)
	defer dc2.close()
	c2 := client(t, dc2.leader(t), 2)
	for i := 0; i < 200; i++ {
		v, err := c2.Get(ctx, fmt.Sprintf("key:%d", i)).Int()
		if err != nil || v != i {
			t.Fatalf("key:%d after restart = %d, %v", i, v, err)
		}
	}
}

// TestRedisCLI drives the cluster with the real redis-cli, when installed.
func TestRedisCLI(t *testing.T) {
	cli := testtool.Need(t, "redis-cli")
	dc, _ := startTestDev(t, 3, "")
	defer dc.close()
	lead := dc.leader(t)
	_, port, _ := net.SplitHostPort(lead.gw.Addr().String())
	run := func(args ...string) string {
		out, err := exec.Command(cli, append([]string{"-p", port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run("SET", "cli", "works"); got != "OK" {
		t.Fatalf("SET: %q", got)
	}
	if got := run("GET", "cli"); got != "works" {
		t.Fatalf("GET: %q", got)
	}
	if got := run("INFO", "replication"); !strings.Contains(got, "role:master") {
		t.Fatalf("INFO replication: %q", got)
	}
	// The key-space scans of redis-cli: --bigkeys (SCAN, TYPE, STRLEN),
	// --memkeys (MEMORY USAGE) and --hotkeys, which needs an LFU policy
	// (OBJECT FREQ) and says so without one.
	for i := 0; i < 20; i++ {
		run("SET", fmt.Sprintf("cli:%d", i), strings.Repeat("x", i))
	}
	for i := 0; i < 30; i++ {
		run("GET", "cli") // the hot one
	}
	if got := run("--bigkeys"); !strings.Contains(got, `Biggest string found '"cli:19"' has 19 bytes`) {
		t.Fatalf("--bigkeys:\n%s", got)
	}
	if got := run("--memkeys"); !strings.Contains(got, "Biggest string found") {
		t.Fatalf("--memkeys:\n%s", got)
	}
	// Without one redis-cli exits 1 with the server's error.
	if out, _ := exec.Command(cli, "-p", port, "--hotkeys").CombinedOutput(); !strings.Contains(string(out), "LFU maxmemory policy is not selected") {
		t.Fatalf("--hotkeys without an LFU policy:\n%s", out)
	}
	run("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
	for i := 0; i < 30; i++ {
		run("GET", "cli")
	}
	// The summary lists the hottest first: "cli", read 60 times, above
	// the others' initial counter of 5.
	got := run("--hotkeys")
	first := ""
	if i := strings.Index(got, "hot key found with counter: "); i >= 0 {
		first, _, _ = strings.Cut(got[i:], "\n")
	}
	if !strings.HasSuffix(first, `keyname: "cli"`) || strings.HasPrefix(first, "hot key found with counter: 5\t") {
		t.Fatalf("--hotkeys:\n%s", got)
	}
}

// TestGracefulCloseHandsOffLeadership: closing the leader (SIGTERM path)
// first transfers leadership, and every acknowledged write survives.
func TestGracefulCloseHandsOffLeadership(t *testing.T) {
	dc, _ := startTestDev(t, 3, "")
	defer dc.close()
	ctx := context.Background()
	lead := dc.leader(t)
	c := client(t, lead, 2)
	for i := 0; i < 100; i++ {
		if err := c.Set(ctx, fmt.Sprintf("g:%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := lead.close(); err != nil {
		t.Fatal(err)
	}
	closed := time.Since(start)
	var rest []*instance
	for _, inst := range dc.instances {
		if inst != lead {
			rest = append(rest, inst)
		}
	}
	dc.instances = rest
	next := dc.leader(t)
	t.Logf("close took %v; new leader %s serving %v after close started", closed, next.node.ID(), time.Since(start))
	nc := client(t, next, 2)
	for i := 0; i < 100; i++ {
		if v, err := nc.Get(ctx, fmt.Sprintf("g:%d", i)).Int(); err != nil || v != i {
			t.Fatalf("g:%d = %d, %v", i, v, err)
		}
	}
}
