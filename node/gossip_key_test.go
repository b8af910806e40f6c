package node

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// TestGossipKey: members sharing a key form a pool; a member without the
// key, or with another one, cannot join it.
func TestGossipKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	other := bytes.Repeat([]byte{9}, 32)
	logger := slog.New(slog.DiscardHandler)
	start := func(name string, k []byte) *gossip {
		t.Helper()
		cfg := &Config{Bind: "127.0.0.1", Advertise: "127.0.0.1", GossipLocal: true, Logger: logger, GossipKey: k}
		g, err := newGossip(cfg, Member{NodeID: name, RESP: "127.0.0.1:1", Raft: "127.0.0.1:2", Shard: 0, Alive: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(g.close)
		return g
	}
	a, b := start("a", key), start("b", key)
	seed := []string{a.ml.LocalNode().Address()}
	if err := b.join(seed); err != nil {
		t.Fatalf("join with the key: %v", err)
	}
	waitAll(t, []*gossip{a, b}, 10*time.Second, func(g *gossip) bool {
		ms, _ := g.snapshot()
		return len(ms) == 2
	})
	for i, k := range [][]byte{nil, other} {
		g := start(fmt.Sprintf("intruder%d", i), k)
		if err := g.join(seed); err == nil {
			t.Errorf("intruder %d (key %x) joined", i, k)
		}
	}
	// Give a late, accidental success the time to show.
	time.Sleep(time.Second)
	for _, g := range []*gossip{a, b} {
		if ms, _ := g.snapshot(); len(ms) != 2 {
			t.Fatalf("%d members seen, want 2 (an intruder got in)", len(ms))
		}
	}
}

func TestGossipKeyValidated(t *testing.T) {
	cfg := Config{NodeID: "n1", DataDir: t.TempDir(), Port: 7000, GossipKey: []byte("short")}
	if err := cfg.Validate(); err == nil {
		t.Fatal("a 5-byte gossip key was accepted")
	}
}
