package node

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestGossipConvergence runs many memberlist members in one process on
// loopback and measures how long a slot-claim change made by one member
// takes to reach every member. RAFTCACHE_GOSSIP_N sets the size (default 30
// so that the suite stays fast under -race; the figures for 120 members in
// docs/ARCHITECTURE.md come from RAFTCACHE_GOSSIP_N=120).
func TestGossipConvergence(t *testing.T) {
	n := 30
	if s := os.Getenv("RAFTCACHE_GOSSIP_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	logger := slog.New(slog.DiscardHandler)
	var gs []*gossip
	defer func() {
		var wg sync.WaitGroup
		for _, g := range gs {
			wg.Add(1)
			go func() { defer wg.Done(); g.close() }()
		}
		wg.Wait()
	}()
	for i := 0; i < n; i++ {
		cfg := &Config{Bind: "127.0.0.1", Advertise: "127.0.0.1", GossipPort: 0, GossipLocal: true, Logger: logger}
		self := Member{NodeID: fmt.Sprintf("g%03d", i), AZ: []string{"az-a", "az-b", "az-c"}[i%3], RESP: "127.0.0.1:1", Raft: "127.0.0.1:2", Shard: i / 3, Alive: true}
		g, err := newGossip(cfg, self)
		if err != nil {
			t.Fatal(err)
		}
		gs = append(gs, g)
		if i > 0 {
			// Join any earlier member; retry, a loaded machine times out.
			var err error
			for try := 0; try < 5; try++ {
				if err = g.join([]string{gs[try%i].ml.LocalNode().Address()}); err == nil {
					break
				}
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	waitAll(t, gs, 60*time.Second, func(g *gossip) bool {
		ms, _ := g.snapshot()
		return len(ms) == n
	})
	t.Logf("%d members: full membership everywhere after %v", n, time.Since(start))

	// One shard leader publishes a new slot claim.
	m := gs[n/2].getSelf()
	m.Slots, m.Ver, m.Leader = "0-99", 7, true
	start = time.Now()
	gs[n/2].setSelf(m)
	waitAll(t, gs, 60*time.Second, func(g *gossip) bool {
		got, ok := g.lookup(m.NodeID)
		return ok && got.Ver == 7 && got.Slots == "0-99"
	})
	t.Logf("%d members: slot-claim change visible everywhere after %v", n, time.Since(start))
}

func waitAll(t *testing.T, gs []*gossip, limit time.Duration, ok func(*gossip) bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		done := 0
		for _, g := range gs {
			if ok(g) {
				done++
			}
		}
		if done == len(gs) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d members converged within %v", done, len(gs), limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
