package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/raftcache/raftcache/node"
)

// runHealthCmd runs `raftcache health args...` as main would and returns
// the exit code, stdout and stderr.
func runHealthCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	start := time.Now()
	code := run(append([]string{"health"}, args...), &out, &errOut)
	// Sanity bound against hangs only; the probe's own timeout is shorter.
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("health %v took %v", args, d)
	}
	return code, out.String(), errOut.String()
}

func wantUnhealthy(t *testing.T, code int, stdout, stderr string, reason string) {
	t.Helper()
	if code != 1 {
		t.Fatalf("exit %d, want 1 (stdout %q, stderr %q)", code, stdout, stderr)
	}
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Fatalf("stderr is not one line: %q", stderr)
	}
	if !strings.Contains(stderr, "unhealthy") || !strings.Contains(stderr, reason) {
		t.Fatalf("stderr %q does not give the reason %q", stderr, reason)
	}
}

func TestHealthDevCluster(t *testing.T) {
	dc, _ := startTestDev(t, 3, "")
	defer dc.close()
	addr := dc.instances[1].gw.Addr().String()
	for _, args := range [][]string{{"--addr", addr}, {"--addr", addr, "--require-cluster", "--timeout", "5s"}} {
		code, out, errOut := runHealthCmd(t, args...)
		if code != 0 || !strings.HasPrefix(out, "healthy: "+addr) || errOut != "" {
			t.Fatalf("health %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
		if strings.Contains(strings.Join(args, " "), "--require-cluster") && !strings.Contains(out, "cluster_state:ok") {
			t.Fatalf("health %v: stdout %q lacks the cluster state", args, out)
		}
	}

	// Two of the shard's three replicas crash: the survivor still answers
	// PING, but it cannot serve its slots, so --require-cluster fails.
	survivor := dc.instances[0]
	for _, inst := range dc.instances[1:] {
		if err := inst.kill(); err != nil {
			t.Fatal(err)
		}
	}
	dc.instances = dc.instances[:1]
	addr = survivor.gw.Addr().String()
	if code, out, errOut := runHealthCmd(t, "--addr", addr); code != 0 {
		t.Fatalf("PING-only health of a live node without quorum: exit %d, %q %q", code, out, errOut)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, out, errOut := runHealthCmd(t, "--addr", addr, "--require-cluster")
		if code == 1 {
			wantUnhealthy(t, code, out, errOut, "cluster_state:fail")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health --require-cluster still %d (%q) 20 s after the shard lost its quorum", code, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestHealthClosedPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	code, out, errOut := runHealthCmd(t, "--addr", addr, "--timeout", "3s")
	wantUnhealthy(t, code, out, errOut, "connection refused")
	if out != "" {
		t.Fatalf("stdout %q on failure", out)
	}
}

// fakeRESP serves every connection with fn until the test ends.
func fakeRESP(t *testing.T, fn func(c net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); fn(c) }()
		}
	}()
	t.Cleanup(func() { l.Close(); wg.Wait() })
	return l.Addr().String()
}

// replyAfterRequest reads one request, then writes reply.
func replyAfterRequest(replies ...string) func(c net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 512)
		for _, r := range replies {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Read(buf); err != nil {
				return
			}
			if _, err := io.WriteString(c, r); err != nil {
				return
			}
		}
	}
}

func TestHealthBadServers(t *testing.T) {
	info := func(state string) string {
		body := fmt.Sprintf("cluster_state:%s\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:5461\r\n", state)
		return fmt.Sprintf("$%d\r\n%s\r\n", len(body), body)
	}
	for _, tc := range []struct {
		name    string
		replies []string
		args    []string
		reason  string
	}{
		{"error reply", []string{"-LOADING loading the dataset in memory\r\n"}, nil, "LOADING"},
		{"not PONG", []string{"+NOPE\r\n"}, nil, `PING answered "NOPE"`},
		{"not RESP", []string{"HTTP/1.1 400 Bad Request\r\n"}, nil, "not a RESP reply"},
		{"closes after reading", []string{""}, nil, "closed by the server"},
		{"huge bulk", []string{"$99999999999\r\n"}, nil, "bad bulk length"},
		{"cluster fail", []string{"+PONG\r\n", info("fail")}, []string{"--require-cluster"}, "cluster_state:fail (slots assigned 16384, served 5461)"},
		{"cluster error", []string{"+PONG\r\n", "-ERR This instance has cluster support disabled\r\n"}, []string{"--require-cluster"}, "cluster support disabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeRESP(t, replyAfterRequest(tc.replies...))
			code, out, errOut := runHealthCmd(t, append([]string{"--addr", addr, "--timeout", "5s"}, tc.args...)...)
			wantUnhealthy(t, code, out, errOut, tc.reason)
		})
	}
	t.Run("cluster ok", func(t *testing.T) {
		addr := fakeRESP(t, replyAfterRequest("+PONG\r\n", info("ok")))
		if code, out, errOut := runHealthCmd(t, "--addr", addr, "--require-cluster"); code != 0 {
			t.Fatalf("exit %d, %q %q", code, out, errOut)
		}
	})
	t.Run("silent server times out", func(t *testing.T) {
		hold := make(chan struct{})
		addr := fakeRESP(t, func(c net.Conn) {
			select {
			case <-hold:
			case <-time.After(10 * time.Second):
			}
		})
		defer close(hold)
		start := time.Now()
		code, out, errOut := runHealthCmd(t, "--addr", addr, "--timeout", "300ms")
		wantUnhealthy(t, code, out, errOut, "PING")
		if !strings.Contains(errOut, "deadline exceeded") && !strings.Contains(errOut, "timeout") {
			t.Fatalf("stderr %q does not say it timed out", errOut)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("a 300ms probe took %v", d)
		}
	})
}

func TestHealthBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--timeout", "0s"},
		{"--timeout", "-1s"},
		{"--addr", "no-port"},
		{"extra"},
		{"--no-such-flag"},
	} {
		code, out, errOut := runHealthCmd(t, args...)
		if code != 1 || out != "" || errOut == "" {
			t.Fatalf("health %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// TestAnnounceAddress: with Config.Announce, MOVED and the CLUSTER commands
// name the announced address, while the nodes still talk to each other
// (and serve) on their own addresses.
func TestAnnounceAddress(t *testing.T) {
	base := freeBase(t, 3)
	dir := t.TempDir()
	announce := func(i int) string { return fmt.Sprintf("192.0.2.%d:%d", 10+i, 7100+i) }
	var insts []*instance
	defer func() {
		for _, inst := range insts {
			_ = inst.close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		cfg := node.Config{
			NodeID: fmt.Sprintf("a%d", i+1), AZ: devAZs[i], DataDir: filepath.Join(dir, fmt.Sprint(i)),
			Bind: "127.0.0.1", Port: base + i, Announce: announce(i), BootstrapExpect: 3, Shards: 1,
			Logger: newLogger(io.Discard, "error"), GossipLocal: true,
		}
		if i > 0 {
			cfg.Join = []string{fmt.Sprintf("127.0.0.1:%d", base+node.GossipPortOffset)}
		}
		inst, err := startInstance(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		insts = append(insts, inst)
	}
	var leader, follower *instance
	for leader == nil || follower == nil {
		if ctx.Err() != nil {
			t.Fatal("no leader")
		}
		leader, follower = nil, nil
		for _, inst := range insts {
			if !inst.node.ClusterReady() {
				continue
			}
			if inst.node.IsLeader() && inst.node.Replica().Ready() {
				leader = inst
			} else if !inst.node.IsLeader() {
				follower = inst
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	leaderAnnounce := leader.node.RESPAddr()
	c := redis.NewClient(&redis.Options{Addr: follower.gw.Addr().String(), MaxRetries: -1})
	defer c.Close()
	err := c.Set(ctx, "k", "v", 0).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "MOVED ") || !strings.HasSuffix(err.Error(), " "+leaderAnnounce) {
		t.Fatalf("SET on a follower: %v, want MOVED to %s", err, leaderAnnounce)
	}
	slotsInfo, err := c.ClusterSlots(ctx).Result()
	if err != nil || len(slotsInfo) != 1 || len(slotsInfo[0].Nodes) != 3 {
		t.Fatalf("CLUSTER SLOTS: %v %v", slotsInfo, err)
	}
	if got := slotsInfo[0].Nodes[0].Addr; got != leaderAnnounce {
		t.Fatalf("CLUSTER SLOTS master %s, want %s", got, leaderAnnounce)
	}
	nodes, err := c.ClusterNodes(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if !strings.Contains(nodes, announce(i)+"@") {
			t.Fatalf("CLUSTER NODES lacks %s:\n%s", announce(i), nodes)
		}
	}
	if strings.Contains(nodes, fmt.Sprintf("127.0.0.1:%d", base)) {
		t.Fatalf("CLUSTER NODES names a listen address instead of the announced one:\n%s", nodes)
	}
	// The leader itself serves on its real address.
	lc := redis.NewClient(&redis.Options{Addr: leader.gw.Addr().String(), MaxRetries: -1})
	defer lc.Close()
	if err := lc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
}
