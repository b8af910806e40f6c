package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/raftcache/raftcache/node"
)

// TestServerPausedLeader SIGSTOPs the leader of a 3-process shard for
// longer than the election timeout: the others elect a new leader and
// serve writes; resumed, the old leader serves neither a stale read nor
// an acknowledged write the shard lacks, and rejoins as a follower.
func TestServerPausedLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	h := newProcHarness(t, 3, 1)
	ctx := context.Background()
	if err := waitHealthy(ctx, h, -1, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	masters, err := masterAddrs(ctx, h.addr(0))
	if err != nil || len(masters) != 1 {
		t.Fatalf("masters %v: %v", masters, err)
	}
	victim := -1
	var live []string
	for i := 0; i < h.size(); i++ {
		if h.addr(i) == masters[0] {
			victim = i
		} else {
			live = append(live, h.addr(i))
		}
	}
	if victim < 0 {
		t.Fatalf("master %s unknown", masters[0])
	}
	keys := slotBucketKeys(16)
	if err := probeWritable(ctx, h.addrs(), keys); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := h.pause(victim); err != nil {
		t.Fatal(err)
	}
	d, err := waitWritable(ctx, live, keys, start, 20*time.Second)
	if err != nil {
		h.resume(victim)
		t.Fatalf("no new leader serving writes 20 s after pausing the old one: %v", err)
	}
	t.Logf("leader paused -> every slot writable through the others after %v", d)
	// Stay paused past a few election timeouts, so that the new leader has
	// committed entries the paused one never saw.
	time.Sleep(time.Second)
	checkResumedLeader(t, ctx, h, victim, h.addr(victim), 0, live)
	if err := waitHealthy(ctx, h, victim, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}

func (h *procHarness) addrs() []string {
	var out []string
	for i := 0; i < h.size(); i++ {
		out = append(out, h.addr(i))
	}
	return out
}

// TestGracefulHandoffPrefersOtherAZ: a leader shut down gracefully hands
// leadership to a replica in another AZ when there is one.
func TestGracefulHandoffPrefersOtherAZ(t *testing.T) {
	base := freeBase(t, 3)
	dir := t.TempDir()
	azs := []string{"az-a", "az-a", "az-b"} // n1 and n2 share an AZ
	var insts []*instance
	defer func() {
		for _, inst := range insts {
			if inst != nil {
				inst.close()
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		cfg := node.Config{NodeID: "n" + strconv.Itoa(i+1), AZ: azs[i], DataDir: filepath.Join(dir, strconv.Itoa(i)),
			Bind: "127.0.0.1", Port: base + i, BootstrapExpect: 3, Shards: 1, GossipLocal: true,
			Logger: slog.New(slog.DiscardHandler)}
		if i > 0 {
			cfg.Join = []string{fmt.Sprintf("127.0.0.1:%d", base+node.GossipPortOffset)}
		}
		inst, err := startInstance(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		insts = append(insts, inst)
	}
	for _, inst := range insts {
		if err := inst.node.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Make n1 the leader.
	deadline := time.Now().Add(10 * time.Second)
	for !(insts[0].node.IsLeader() && insts[0].node.Replica().Ready()) {
		for _, inst := range insts[1:] {
			if inst.node.IsLeader() {
				tctx, tcancel := context.WithTimeout(ctx, 3*time.Second)
				_ = inst.node.Replica().LeadershipTransfer(tctx, "n1")
				tcancel()
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("n1 never became leader")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Gossip must know every member's AZ before the handoff picks one.
	for len(insts[0].node.Topology().Nodes) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("n1 does not see the other members")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := insts[0].close(); err != nil {
		t.Fatal(err)
	}
	insts[0] = nil
	deadline = time.Now().Add(10 * time.Second)
	for {
		if insts[2].node.IsLeader() {
			break
		}
		if insts[1].node.IsLeader() {
			t.Fatal("leadership went to n2, in the same AZ as the old leader, while n3 (az-b) was healthy")
		}
		if time.Now().After(deadline) {
			t.Fatal("no new leader after the handoff")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
