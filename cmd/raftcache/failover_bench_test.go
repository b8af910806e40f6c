package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/raftcache/raftcache/slots"
)

// Failover measurement (not a timed unit test): with RAFTCACHE_FAILOVER_RUNS=N
// set, TestFailoverDistribution kills a shard leader N times in a 3x3 cluster
// and prints the distribution of recovery times. `make failover-bench` runs it.
//
//	RAFTCACHE_FAILOVER_RUNS=30                      number of kills per mode
//	RAFTCACHE_FAILOVER_MODES=dev,process,pause      which clusters/faults (default dev,process)
//
// Modes: "dev" kills a node of an in-process dev cluster (Node.Abort: Raft
// stops, no leadership handoff); "process" SIGKILLs a real `raftcache
// server` process; "pause" SIGSTOPs one (SIGCONT after recovery). After each
// run the victim is restarted on its data dir and the cluster must be
// healthy again before the next kill.
//
// Measured per run, from the kill: "writable" = a fresh go-redis
// ClusterClient (state loaded at each attempt, few fast retries) writes one
// key in each of 64 slot buckets covering all 16384 slots; "views" = every
// surviving node's CLUSTER SLOTS names a live master for the victim's slots;
// "client" = the longest time without a successful write of a long-lived
// ClusterClient (ClusterStateReloadInterval 1 s) writing continuously (at
// least until the run stops it, if it is still stuck then).
// After recovery a pipeline writes one key in every one of the 16384 slots.
func TestFailoverDistribution(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("RAFTCACHE_FAILOVER_RUNS"))
	if runs <= 0 {
		t.Skip("set RAFTCACHE_FAILOVER_RUNS=N to measure failover times (make failover-bench)")
	}
	redis.SetLogger(quietLogger{}) // go-redis logs every refused dial to a dead node
	modes := strings.Split(os.Getenv("RAFTCACHE_FAILOVER_MODES"), ",")
	if os.Getenv("RAFTCACHE_FAILOVER_MODES") == "" {
		modes = []string{"dev", "process"}
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			var h failoverHarness
			switch mode {
			case "dev":
				h = newDevHarness(t)
			case "process", "pause":
				h = newProcHarness(t, 9, 3)
			default:
				t.Fatalf("unknown mode %q (dev, process, pause)", mode)
			}
			measureFailovers(t, h, mode, runs)
		})
	}
}

// failoverHarness is a 3x3 cluster whose nodes can be stopped and restarted.
type failoverHarness interface {
	size() int
	addr(i int) string
	kill(i int) error    // crash (dev: Abort; process: SIGKILL)
	pause(i int) error   // SIGSTOP (process harness only)
	resume(i int) error  // SIGCONT
	restart(i int) error // start again on the same data dir and ports
	close()
}

type failoverSample struct {
	writable, views, client time.Duration
	errors                  int
	flapped                 bool
}

func measureFailovers(t *testing.T, h failoverHarness, mode string, runs int) {
	ctx := context.Background()
	keys := slotBucketKeys(64)
	debug := os.Getenv("RAFTCACHE_FAILOVER_DEBUG") != ""
	everySlot := keyPerSlot()
	if err := waitHealthy(ctx, h, -1, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	var samples []failoverSample
	for run := 0; run < runs; run++ {
		masters, err := masterAddrs(ctx, h.addr(0))
		if err != nil || len(masters) != 3 {
			t.Fatalf("run %d: masters %v: %v", run, masters, err)
		}
		victimAddr := masters[run%len(masters)]
		victim := -1
		for i := 0; i < h.size(); i++ {
			if h.addr(i) == victimAddr {
				victim = i
			}
		}
		if victim < 0 {
			t.Fatalf("run %d: master %s is not a node of the harness", run, victimAddr)
		}
		victimSlots, err := slotsOf(ctx, h.addr(0), victimAddr)
		if err != nil {
			t.Fatal(err)
		}
		var live []string
		for i := 0; i < h.size(); i++ {
			if i != victim {
				live = append(live, h.addr(i))
			}
		}

		// A long-lived client writing all the time.
		var killedAt atomic.Value
		killedAt.Store(time.Now().Add(time.Hour))
		lc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: live, MaxRedirects: 8, ClusterStateReloadInterval: time.Second})
		var (
			stop    = make(chan struct{})
			wg      sync.WaitGroup
			errMu   sync.Mutex
			lastOK  time.Time
			longest time.Duration // longest time without a successful write
			nErr    int
		)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				err := lc.Set(wctx, keys[i%len(keys)], i, 0).Err()
				cancel()
				now := time.Now()
				errMu.Lock()
				if err != nil {
					if nErr == 0 && debug {
						t.Logf("long-lived client: first error %v after the kill: %v", time.Since(killedAt.Load().(time.Time)).Round(time.Millisecond), err)
					}
					nErr++
				} else {
					if !lastOK.IsZero() && now.Sub(lastOK) > longest {
						longest = now.Sub(lastOK)
					}
					lastOK = now
				}
				errMu.Unlock()
				if err != nil {
					time.Sleep(5 * time.Millisecond)
				}
			}
		}()
		time.Sleep(300 * time.Millisecond)

		killed := time.Now()
		killedAt.Store(killed)
		if debug {
			t.Logf("run %d: stopping %s at %s", run, victimAddr, killed.UTC().Format("15:04:05.000"))
		}
		if mode == "pause" {
			err = h.pause(victim)
		} else {
			err = h.kill(victim)
		}
		if err != nil {
			t.Fatalf("run %d: stopping %s: %v", run, victimAddr, err)
		}
		var s failoverSample
		viewsDone := make(chan time.Duration, 1)
		go func() { viewsDone <- waitViews(ctx, live, victimAddr, victimSlots[0], killed) }()
		w, lastErr := waitWritable(ctx, live, keys, killed, 20*time.Second)
		if lastErr != nil {
			close(stop)
			wg.Wait()
			lc.Close()
			if mode == "pause" {
				_ = h.resume(victim)
			}
			t.Fatalf("run %d: not every slot writable 20 s after stopping leader %s: %v", run, victimAddr, lastErr)
		}
		s.writable = w
		s.views = <-viewsDone
		newMaster, _ := masterOf(ctx, live[0], victimSlots[0])
		if err := writeEverySlot(ctx, live, everySlot); err != nil {
			t.Fatalf("run %d: writing every slot after recovery: %v", run, err)
		}
		// Let the long-lived client run on a little, then read its record.
		time.Sleep(1500 * time.Millisecond)
		stopAt := time.Now()
		close(stop)
		wg.Wait()
		lc.Close()
		errMu.Lock()
		// A client still stuck when told to stop has stalled at least
		// until then (a write to a paused master blocks for go-redis's
		// ReadTimeout and retries).
		if stall := stopAt.Sub(lastOK); stall > longest {
			longest = stall
		}
		s.client, s.errors = longest, nErr
		errMu.Unlock()

		if mode == "pause" {
			checkResumedLeader(t, ctx, h, victim, victimAddr, victimSlots[0], live)
		} else if err := h.restart(victim); err != nil {
			t.Fatalf("run %d: restart: %v", run, err)
		}
		if err := waitHealthy(ctx, h, victim, 60*time.Second); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if now, _ := masterOf(ctx, live[0], victimSlots[0]); now != newMaster {
			s.flapped = true
			t.Logf("run %d: master of the victim's slots changed again after recovery: %s -> %s", run, newMaster, now)
		}
		t.Logf("run %2d: killed %s; writable %v, views %v, long-lived client stalled %v (%d errors); new master %s; flapped=%v",
			run, victimAddr, s.writable.Round(time.Millisecond), s.views.Round(time.Millisecond), s.client.Round(time.Millisecond), s.errors, newMaster, s.flapped)
		samples = append(samples, s)
	}
	report := func(name string, get func(failoverSample) time.Duration) {
		var d []time.Duration
		for _, s := range samples {
			d = append(d, get(s))
		}
		slices.Sort(d)
		pct := func(p float64) time.Duration {
			i := int(p*float64(len(d))+0.999999) - 1
			return d[max(0, min(i, len(d)-1))].Round(time.Millisecond)
		}
		t.Logf("%-8s %-9s n=%d min %v p50 %v p90 %v p99 %v max %v", mode, name, len(d), d[0].Round(time.Millisecond), pct(0.5), pct(0.9), pct(0.99), d[len(d)-1].Round(time.Millisecond))
	}
	report("writable", func(s failoverSample) time.Duration { return s.writable })
	report("views", func(s failoverSample) time.Duration { return s.views })
	report("client", func(s failoverSample) time.Duration { return s.client })
	flaps := 0
	for _, s := range samples {
		if s.flapped {
			flaps++
		}
	}
	t.Logf("%-8s leadership changed again after recovery (flapping) in %d of %d runs", mode, flaps, len(samples))
}

// checkResumedLeader resumes a paused old leader and checks that it serves
// neither a stale read nor an acknowledged write that the majority lacks.
func checkResumedLeader(t *testing.T, ctx context.Context, h failoverHarness, victim int, victimAddr string, slot slots.Slot, live []string) {
	t.Helper()
	key := keyInSlot(slot)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: live})
	defer cc.Close()
	val := strconv.FormatInt(time.Now().UnixNano(), 10)
	if err := cc.Set(ctx, key, val, 0).Err(); err != nil {
		t.Fatalf("write through the new leader: %v", err)
	}
	if err := h.resume(victim); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: victimAddr, MaxRetries: -1})
	defer c.Close()
	got, err := c.Get(ctx, key).Result()
	if err == nil && got != val {
		t.Fatalf("resumed old leader served a stale read: %q, want %q", got, val)
	}
	werr := c.Set(ctx, key+":stale", "x", 0).Err()
	if werr == nil {
		if v, err := cc.Get(ctx, key+":stale").Result(); err != nil || v != "x" {
			t.Fatalf("resumed old leader acknowledged a write the cluster does not have: %q %v", v, err)
		}
	}
	t.Logf("resumed old leader: GET -> %v %v; SET -> %v", got, err, werr)
}

// waitWritable starts a probe (probeWritable) every 50 ms, each on its own,
// so that one probe stuck on a dead or paused node does not delay the
// next, and returns when the first one succeeds, measured from start.
func waitWritable(ctx context.Context, addrs, keys []string, start time.Time, limit time.Duration) (time.Duration, error) {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		lastErr error
	)
	defer wg.Wait() // after cancel (deferred calls run last-in first-out)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan time.Duration, 1)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for time.Since(start) < limit {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := probeWritable(ctx, addrs, keys); err != nil {
				mu.Lock()
				lastErr = err
				mu.Unlock()
				return
			}
			select {
			case done <- time.Since(start):
			default:
			}
		}()
		select {
		case d := <-done:
			return d, nil
		case <-tick.C:
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return 0, fmt.Errorf("last probe error: %w", lastErr)
}

// probeWritable writes every key through a fresh cluster client.
func probeWritable(ctx context.Context, addrs, keys []string) error {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRedirects: 2, MaxRetries: 1,
		MinRetryBackoff: time.Millisecond, MaxRetryBackoff: 20 * time.Millisecond,
		// go-redis retries a refused dial 5 times 100 ms apart by default:
		// the probe measures the cluster, not that backoff.
		DialerRetries: 1, DialerRetryTimeout: time.Millisecond,
		DialTimeout: 300 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second})
	defer c.Close()
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	cmds, err := c.Pipelined(cctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Set(cctx, k, "1", 0)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, cmd := range cmds {
		if cmd.Err() != nil {
			return cmd.Err()
		}
	}
	return nil
}

func writeEverySlot(ctx context.Context, addrs, keys []string) error {
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRedirects: 8})
	defer c.Close()
	for i := 0; i < 3; i++ {
		cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Set(ctx, k, "s", 0)
			}
			return nil
		})
		if err == nil {
			return nil
		}
		for _, cmd := range cmds {
			if cmd.Err() != nil {
				err = fmt.Errorf("%s: %w", cmd.Args()[1], cmd.Err())
				break
			}
		}
		if i == 2 {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil
}

// waitViews returns how long after start every node's CLUSTER SLOTS named a
// master other than old for slot.
func waitViews(ctx context.Context, addrs []string, old string, slot slots.Slot, start time.Time) time.Duration {
	pending := slices.Clone(addrs)
	for len(pending) > 0 && time.Since(start) < 20*time.Second {
		var still []string
		for _, a := range pending {
			if m, err := masterOf(ctx, a, slot); err != nil || m == "" || m == old {
				still = append(still, a)
			}
		}
		pending = still
		if len(pending) > 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	return time.Since(start)
}

func clusterSlots(ctx context.Context, addr string) ([]redis.ClusterSlot, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond, ReadTimeout: time.Second})
	defer c.Close()
	return c.ClusterSlots(ctx).Result()
}

// masterOf returns the master address addr's CLUSTER SLOTS gives for slot.
func masterOf(ctx context.Context, addr string, slot slots.Slot) (string, error) {
	ss, err := clusterSlots(ctx, addr)
	if err != nil {
		return "", err
	}
	for _, s := range ss {
		if int(slot) >= s.Start && int(slot) <= s.End && len(s.Nodes) > 0 {
			return s.Nodes[0].Addr, nil
		}
	}
	return "", nil
}

func masterAddrs(ctx context.Context, addr string) ([]string, error) {
	ss, err := clusterSlots(ctx, addr)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range ss {
		if len(s.Nodes) > 0 && !slices.Contains(out, s.Nodes[0].Addr) {
			out = append(out, s.Nodes[0].Addr)
		}
	}
	slices.Sort(out)
	return out, nil
}

func slotsOf(ctx context.Context, addr, master string) ([]slots.Slot, error) {
	ss, err := clusterSlots(ctx, addr)
	if err != nil {
		return nil, err
	}
	var out []slots.Slot
	for _, s := range ss {
		if len(s.Nodes) > 0 && s.Nodes[0].Addr == master {
			out = append(out, slots.Slot(s.Start), slots.Slot(s.End))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s serves no slot according to %s", master, addr)
	}
	return out, nil
}

// waitHealthy waits until every node answers, reports cluster_state:ok,
// knows every node alive, and (when restarted >= 0) the restarted node
// follows a leader again and has applied what that leader committed.
func waitHealthy(ctx context.Context, h failoverHarness, restarted int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var last string
	for time.Now().Before(deadline) {
		ok := true
		for i := 0; i < h.size() && ok; i++ {
			c := redis.NewClient(&redis.Options{Addr: h.addr(i), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
			info, err := c.ClusterInfo(ctx).Result()
			nodes, err2 := c.ClusterNodes(ctx).Result()
			repl, err3 := c.Info(ctx, "replication").Result()
			c.Close()
			switch {
			case errors.Join(err, err2, err3) != nil:
				ok, last = false, fmt.Sprintf("%s: %v", h.addr(i), errors.Join(err, err2, err3))
			case !strings.Contains(info, "cluster_state:ok"):
				ok, last = false, h.addr(i)+": "+info
			case strings.Count(nodes, "\n") != h.size() || strings.Contains(nodes, "fail"):
				ok, last = false, h.addr(i)+" nodes:\n"+nodes
			case i == restarted && !strings.Contains(repl, "master_link_status:up") && !strings.Contains(repl, "role:master"):
				ok, last = false, h.addr(i)+": "+repl
			case i == restarted && strings.Contains(repl, "role:slave"):
				// Caught up: it applied what its leader had committed, so
				// the next kill does not leave the shard waiting for it.
				master := infoField(repl, "master_host") + ":" + infoField(repl, "master_port")
				mc := redis.NewClient(&redis.Options{Addr: master, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
				mrepl, err := mc.Info(ctx, "replication").Result()
				mc.Close()
				applied, _ := strconv.ParseUint(infoField(repl, "raft_applied_index"), 10, 64)
				commit, _ := strconv.ParseUint(infoField(mrepl, "raft_commit_index"), 10, 64)
				if err != nil || commit == 0 || applied+10 < commit {
					ok, last = false, fmt.Sprintf("%s applied %d, its leader %s committed %d (%v)", h.addr(i), applied, master, commit, err)
				}
			}
		}
		if ok {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("cluster not healthy after %v: %s", limit, last)
}

// slotBucketKeys returns one key in each of n equal slot buckets.
func slotBucketKeys(n int) []string {
	keys := make([]string, n)
	found := 0
	for i := 0; found < n; i++ {
		k := "fo:" + strconv.Itoa(i)
		b := int(slots.OfString(k)) * n / slots.Count
		if keys[b] == "" {
			keys[b] = k
			found++
		}
	}
	return keys
}

func keyPerSlot() []string {
	keys := make([]string, slots.Count)
	found := 0
	for i := 0; found < slots.Count; i++ {
		k := "every:" + strconv.Itoa(i)
		if s := slots.OfString(k); keys[s] == "" {
			keys[s] = k
			found++
		}
	}
	return keys
}

// keyInSlot returns a hash-tagged key of slot s: key+"x" is in s too.
func keyInSlot(s slots.Slot) string {
	for i := 0; ; i++ {
		k := "{paused:" + strconv.Itoa(i) + "}"
		if slots.OfString(k) == s {
			return k
		}
	}
}

// devHarness: the in-process dev cluster.
type devHarness struct {
	t    *testing.T
	dc   *devCluster
	live []*instance // nil while killed
}

func newDevHarness(t *testing.T) *devHarness {
	o := devOptions{shards: 3, replicas: 3, basePort: freeBase(t, 9), logLevel: "error", dataDir: t.TempDir()}
	var logOut io.Writer = io.Discard
	if lvl := os.Getenv("RAFTCACHE_FAILOVER_LOG"); lvl != "" {
		o.logLevel, logOut = lvl, os.Stderr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dc, err := startDev(ctx, o, logOut)
	if err != nil {
		t.Fatal(err)
	}
	h := &devHarness{t: t, dc: dc, live: slices.Clone(dc.instances)}
	// A restarted node (the seed n1 too) rejoins through the others.
	for i := range dc.configs {
		dc.configs[i].Join = nil
		for j, c := range dc.configs {
			if j != i {
				dc.configs[i].Join = append(dc.configs[i].Join, hostPortStr(c.Bind, c.Port+20000))
			}
		}
	}
	t.Cleanup(h.close)
	return h
}

func (h *devHarness) size() int { return len(h.dc.configs) }
func (h *devHarness) addr(i int) string {
	return hostPortStr(h.dc.configs[i].Bind, h.dc.configs[i].Port)
}
func (h *devHarness) kill(i int) error {
	err := h.live[i].kill()
	h.live[i] = nil
	return err
}
func (h *devHarness) pause(int) error  { return errors.New("dev harness cannot pause a node") }
func (h *devHarness) resume(int) error { return errors.New("dev harness cannot pause a node") }
func (h *devHarness) restart(i int) error {
	inst, err := startInstance(context.Background(), h.dc.configs[i])
	if err != nil {
		return err
	}
	h.live[i] = inst
	return nil
}
func (h *devHarness) close() {
	for i := len(h.live) - 1; i >= 0; i-- {
		if h.live[i] != nil {
			_ = h.live[i].close()
			h.live[i] = nil
		}
	}
	h.dc.instances = nil
	h.dc.close()
}

// procHarness: real `raftcache server` processes.
type procHarness struct {
	t     *testing.T
	bin   string
	base  int
	args  [][]string
	procs []*exec.Cmd
}

func newProcHarness(t *testing.T, nodes, shards int) *procHarness {
	h := &procHarness{t: t, bin: buildBinary(t), base: freeBase(t, nodes)}
	dir := t.TempDir()
	var seeds []string
	for i := 0; i < nodes; i++ {
		seeds = append(seeds, fmt.Sprintf("127.0.0.1:%d", h.base+i+20000))
	}
	for i := 0; i < nodes; i++ {
		var join []string
		for j, s := range seeds {
			if j != i {
				join = append(join, s)
			}
		}
		h.args = append(h.args, []string{"server", "--node-id", fmt.Sprintf("p%d", i+1), "--az", devAZs[i%3],
			"--data-dir", filepath.Join(dir, fmt.Sprintf("p%d", i+1)), "--port", strconv.Itoa(h.base + i),
			"--bootstrap-expect", strconv.Itoa(nodes), "--shards", strconv.Itoa(shards), "--log-level", "error",
			"--join", strings.Join(join, ",")})
		h.procs = append(h.procs, nil)
	}
	t.Cleanup(h.close)
	for i := range h.args {
		if err := h.restart(i); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h *procHarness) size() int         { return len(h.args) }
func (h *procHarness) addr(i int) string { return fmt.Sprintf("127.0.0.1:%d", h.base+i) }
func (h *procHarness) restart(i int) error {
	p := exec.Command(h.bin, h.args[i]...)
	p.Stdout, p.Stderr = os.Stderr, os.Stderr
	if err := p.Start(); err != nil {
		return err
	}
	h.procs[i] = p
	return nil
}
func (h *procHarness) kill(i int) error {
	p := h.procs[i]
	h.procs[i] = nil
	if err := p.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	_ = p.Wait()
	return nil
}
func (h *procHarness) pause(i int) error  { return h.procs[i].Process.Signal(syscall.SIGSTOP) }
func (h *procHarness) resume(i int) error { return h.procs[i].Process.Signal(syscall.SIGCONT) }
func (h *procHarness) close() {
	for _, p := range h.procs {
		if p != nil {
			_ = p.Process.Signal(syscall.SIGCONT)
			_ = p.Process.Signal(syscall.SIGTERM)
		}
	}
	for i, p := range h.procs {
		if p == nil {
			continue
		}
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = p.Process.Kill()
			<-done
			h.t.Errorf("node %d did not stop on SIGTERM within 20 s", i)
		}
		h.procs[i] = nil
	}
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// infoField returns the value of "name:value" in an INFO reply.
func infoField(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}
