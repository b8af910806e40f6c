package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/raftcache/raftcache/internal/procio"
)

// TestServerProcesses starts real `raftcache server` processes, as an
// operator would by hand, and checks that they form the cluster by
// themselves: 3 processes for one shard, 9 for three shards.
func TestServerProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	for _, tc := range []struct{ nodes, shards int }{{3, 1}, {9, 3}} {
		t.Run(fmt.Sprintf("%d nodes %d shards", tc.nodes, tc.shards), func(t *testing.T) {
			runProcesses(t, bin, tc.nodes, tc.shards)
		})
	}
}

var (
	binOnce sync.Once
	binDir  string // removed by TestMain
	binPath string
	binErr  error
)

// buildBinary builds the raftcache binary once per test process.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "raftcache-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "raftcache")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func runProcesses(t *testing.T, bin string, nodes, shards int) {
	pc := startProcessCluster(t, bin, nodes, shards)
	ctx := context.Background()
	addrs := pc.addrs
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer cc.Close()
	for i := 0; i < 300; i++ {
		if err := cc.Set(ctx, fmt.Sprintf("proc:%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 300; i++ {
		if v, err := cc.Get(ctx, fmt.Sprintf("proc:%d", i)).Int(); err != nil || v != i {
			t.Fatalf("proc:%d = %d, %v", i, v, err)
		}
	}
}

// processCluster is a cluster of real `raftcache server` processes on
// loopback, stopped (SIGTERM) when the test ends.
type processCluster struct {
	procs []*exec.Cmd
	addrs []string // RESP, by node
	grpc  []string // admin API, by node
}

// startProcessCluster starts nodes processes forming shards shards and
// waits until every node reports a healthy cluster.
func startProcessCluster(t *testing.T, bin string, nodes, shards int) *processCluster {
	t.Helper()
	base := freeBase(t, nodes)
	dir := t.TempDir()
	pc := &processCluster{}
	t.Cleanup(func() {
		for _, p := range pc.procs {
			_ = p.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range pc.procs {
			done := make(chan struct{})
			go func() { _ = p.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = p.Process.Kill()
				<-done
				t.Errorf("node did not stop on SIGTERM within 20 s")
			}
		}
	})
	seed := fmt.Sprintf("127.0.0.1:%d", base+20000)
	for i := 0; i < nodes; i++ {
		args := []string{"server", "--node-id", fmt.Sprintf("p%d", i+1), "--az", []string{"az-a", "az-b", "az-c"}[i%3],
			"--data-dir", filepath.Join(dir, fmt.Sprintf("p%d", i+1)), "--port", fmt.Sprint(base + i),
			"--bootstrap-expect", fmt.Sprint(nodes), "--shards", fmt.Sprint(shards), "--log-level", "error",
			"--grpc-port", fmt.Sprint(base + i + devGRPCOffset)}
		if i > 0 {
			args = append(args, "--join", seed)
		}
		p := exec.Command(bin, args...)
		p.Stdout, p.Stderr = os.Stderr, os.Stderr
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		pc.procs = append(pc.procs, p)
		pc.addrs = append(pc.addrs, fmt.Sprintf("127.0.0.1:%d", base+i))
		pc.grpc = append(pc.grpc, fmt.Sprintf("127.0.0.1:%d", base+i+devGRPCOffset))
	}
	ctx := context.Background()
	// Every node reports a healthy cluster.
	deadline := time.Now().Add(30 * time.Second)
	for _, a := range pc.addrs {
		c := redis.NewClient(&redis.Options{Addr: a, MaxRetries: -1})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, fmt.Sprintf("cluster_size:%d", shards)) {
				break
			}
			if time.Now().After(deadline) {
				c.Close()
				t.Fatalf("%s never reported a healthy cluster: %q %v", a, info, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}
	return pc
}

// writeBytes sums the bytes the server processes caused to be written to
// storage (Linux /proc/PID/io; false where unavailable).
func (pc *processCluster) writeBytes() (int64, bool) {
	var total int64
	for _, p := range pc.procs {
		n, ok := procio.WriteBytesOf(p.Process.Pid)
		if !ok {
			return 0, false
		}
		total += n
	}
	return total, true
}
