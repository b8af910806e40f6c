package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// mustBinary builds cmd/raftcache once per test binary.
func mustBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs raftcache server processes")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "raftcache-chaos-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "raftcache")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/raftcache/raftcache/cmd/raftcache").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func mustDo(t *testing.T, cl *Client, write bool, key string, args ...string) Reply {
	t.Helper()
	for try := 0; ; try++ {
		res := cl.Do(context.Background(), write, key, args...)
		if res.Outcome == OK && !res.Reply.IsError() {
			return res.Reply
		}
		if write || try > 50 {
			t.Fatalf("%v: %v %v (%v)", args, res.Outcome, res.Reply, res.Err)
		}
		time.Sleep(100 * time.Millisecond) // reads are safe to retry
	}
}

// TestDurabilityKillAll (issue #5 item 4) writes data of every type to a
// 3-shard cluster of real processes, keeps appending from concurrent
// clients, SIGKILLs every node at once, restarts them on their data dirs
// and checks that every acknowledged write is back.
func TestDurabilityKillAll(t *testing.T) {
	bin := mustBinary(t)
	ctx := context.Background()
	c, err := StartProcCluster(ctx, ProcConfig{Bin: bin, Dir: t.TempDir(), Nodes: 9,
		SnapshotThreshold: 64, TrailingLogs: 32, SnapshotInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := NewClient(ClientConfig{Seeds: c.Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	// Phase 1: acknowledged writes of every type, sequentially.
	const n = 40
	for i := 0; i < n; i++ {
		s := strconv.Itoa(i)
		mustDo(t, cl, true, "str:"+s, "SET", "str:"+s, "v"+s)
		mustDo(t, cl, true, "ttl:"+s, "SET", "ttl:"+s, "t"+s, "EX", "3600")
		mustDo(t, cl, true, "hash:"+s, "HSET", "hash:"+s, "a", s, "b", "x"+s)
		mustDo(t, cl, true, "list:"+s, "RPUSH", "list:"+s, "1", "2", s)
		mustDo(t, cl, true, "set:"+s, "SADD", "set:"+s, "m1", "m"+s)
		mustDo(t, cl, true, "zset:"+s, "ZADD", "zset:"+s, "1", "one", strconv.Itoa(100+i), "k"+s)
		for j := 0; j <= i%5; j++ {
			mustDo(t, cl, true, "ctr:"+s, "INCR", "ctr:"+s)
		}
	}

	// Phase 2: concurrent appends while every node is killed.
	type token struct {
		key     string
		outcome Outcome
	}
	var mu sync.Mutex
	tokens := map[string]token{}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wc, err := NewClient(ClientConfig{Seeds: c.Addrs(), Timeout: time.Second, Budget: time.Second})
			if err != nil {
				return
			}
			defer wc.Close()
			for i := 0; wctx.Err() == nil; i++ {
				key := fmt.Sprintf("dur:%d", (w*7+i)%12)
				tok := fmt.Sprintf("w%d.%d", w, i)
				res := wc.Do(wctx, true, key, "RPUSH", key, tok)
				if len(res.Attempts) == 0 {
					continue
				}
				mu.Lock()
				tokens[tok] = token{key, res.Outcome}
				mu.Unlock()
				if res.Outcome != OK {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	for _, p := range c.Procs {
		if err := c.Kill(p); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	stop()
	wg.Wait()
	for _, p := range c.Procs {
		if err := c.Restart(p); err != nil {
			t.Fatal(err)
		}
	}
	hctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := c.WaitHealthy(hctx); err != nil {
		t.Fatal(err)
	}

	// Everything acknowledged is back.
	for i := 0; i < n; i++ {
		s := strconv.Itoa(i)
		check := func(key string, want string, args ...string) {
			t.Helper()
			if got := mustDo(t, cl, false, key, args...).String(); got != want {
				t.Errorf("%v after restart = %s, want %s", args, got, want)
			}
		}
		check("str:"+s, "v"+s, "GET", "str:"+s)
		check("ttl:"+s, "t"+s, "GET", "ttl:"+s)
		if ttl := mustDo(t, cl, false, "ttl:"+s, "TTL", "ttl:"+s).Int; ttl < 3000 || ttl > 3600 {
			t.Errorf("TTL ttl:%s = %d after restart", s, ttl)
		}
		check("hash:"+s, "["+s+" x"+s+"]", "HMGET", "hash:"+s, "a", "b")
		check("list:"+s, "[1 2 "+s+"]", "LRANGE", "list:"+s, "0", "-1")
		check("set:"+s, "[1 1]", "SMISMEMBER", "set:"+s, "m1", "m"+s)
		check("zset:"+s, "[one k"+s+"]", "ZRANGE", "zset:"+s, "0", "-1")
		check("ctr:"+s, strconv.Itoa(i%5+1), "GET", "ctr:"+s)
	}
	final := map[string][]string{}
	acked := 0
	for tok, tk := range tokens {
		if tk.outcome == OK {
			acked++
		}
		if _, ok := final[tk.key]; !ok {
			final[tk.key] = decodeOutput("lrange", mustDo(t, cl, false, tk.key, "LRANGE", tk.key, "0", "-1")).List
		}
		n := 0
		for _, x := range final[tk.key] {
			if x == tok {
				n++
			}
		}
		switch {
		case tk.outcome == OK && n != 1:
			t.Errorf("acknowledged append %s on %s found %d times after restart", tok, tk.key, n)
		case tk.outcome == Unknown && n > 1:
			t.Errorf("unknown-outcome append %s on %s found %d times", tok, tk.key, n)
		case tk.outcome == Failed && n != 0:
			t.Errorf("failed append %s on %s found %d times", tok, tk.key, n)
		}
	}
	if acked == 0 {
		t.Fatal("no append was acknowledged before the kill")
	}
	t.Logf("%d acknowledged appends before the kill, all back; %d keys of each type", acked, n)
}

// TestRunShort is a short end-to-end chaos run: 3 processes, kills,
// pauses and partitions for 20 s, checked for linearizability and lost
// appends.
func TestRunShort(t *testing.T) {
	bin := mustBinary(t)
	out := t.TempDir()
	rep, err := Run(context.Background(), Options{Seed: 7, Duration: 20 * time.Second, Nodes: 3,
		Faults: []string{FaultKillLeader, FaultPause, FaultPartition}, OutDir: out, Bin: bin, Clients: 9})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed() {
		t.Fatalf("chaos run failed: %+v", rep)
	}
	if len(rep.Events) == 0 || rep.Counts.OK == 0 || rep.Appends.Acknowledged == 0 || rep.Leaders.Elections < 2 || rep.Converge.Keys == 0 {
		t.Fatalf("run did too little: %+v", rep)
	}
	if rep.Converge.LogHashes != 1 {
		t.Fatalf("applied-log hashes compared on %d shards, want 1: %+v", rep.Converge.LogHashes, rep.Converge)
	}
	for _, f := range []string{"history.jsonl", "attempts.jsonl", "report.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if !slices.ContainsFunc(rep.Events, func(e Event) bool { return e.Recovered }) {
		t.Fatalf("no fault recovered: %+v", rep.Events)
	}
}

// TestReplicaReadsAreCaught is the harness's self-test: clients that read
// from replicas after READONLY see stale values, and the whole pipeline
// (recording, timestamps, checker) must report the run non-linearizable.
func TestReplicaReadsAreCaught(t *testing.T) {
	bin := mustBinary(t)
	rep, err := Run(context.Background(), Options{Seed: 11, Duration: 8 * time.Second, Nodes: 3,
		OutDir: t.TempDir(), Bin: bin, Clients: 9, ReplicaReads: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Lin.Verdict != NotLinearizable || len(rep.Lin.Visualizations) == 0 {
		t.Fatalf("stale replica reads were not caught: verdict %s, %d ops", rep.Lin.Verdict, rep.Lin.Ops)
	}
	if !rep.Appends.OK() {
		t.Fatalf("appends (written to leaders) should still be intact: %s", rep.Appends.Summary())
	}
}

// TestRunDiskFaults is a short chaos run with disk faults on shard
// leaders: each broken node must exit by itself with the disk-failure
// status, the shard must take writes again, and after the restart on its
// data dir the history must stay linearizable with no lost append.
func TestRunDiskFaults(t *testing.T) {
	bin := mustBinary(t)
	rep, err := Run(context.Background(), Options{Seed: 20261204, Duration: 20 * time.Second, Nodes: 3,
		Faults: []string{FaultDiskStall, FaultDiskError}, OutDir: t.TempDir(), Bin: bin, Clients: 9})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed() {
		t.Fatalf("chaos run failed: errors %v, linearizable %s, appends %s, events %+v", rep.Errors, rep.Lin.Verdict, rep.Appends.Summary(), rep.Events)
	}
	seen := map[string]bool{}
	for _, e := range rep.Events {
		seen[e.Fault] = true
		if !e.Recovered || !strings.Contains(e.Note, "exited with status 4") {
			t.Errorf("event %+v: want a fail-stop exit and a recovered shard", e)
		}
	}
	if !seen[FaultDiskStall] || !seen[FaultDiskError] {
		t.Fatalf("faults seen %v, want both disk faults: %+v", seen, rep.Events)
	}
	for _, f := range []string{FaultDiskStall, FaultDiskError} {
		t.Logf("%s: failover %s", f, rep.ByFault[f])
	}
}
