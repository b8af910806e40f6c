package node

import (
	"encoding/json"
	"log/slog"
	"testing"
)

func testViewNode(members ...Member) *Node {
	g := &gossip{logger: slog.New(slog.DiscardHandler), members: map[string]Member{}, hints: map[int]Member{}, changed: make(chan struct{})}
	for _, m := range members {
		g.members[m.NodeID] = m
	}
	g.self = Member{NodeID: "x", Shard: -1}
	return &Node{cfg: Config{NodeID: "x"}, gossip: g}
}

func announce(t *testing.T, g *gossip, m Member) {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	handleUserMsg(g, append([]byte{userMsgLeader}, b...))
}

// TestLeaderAnnouncement: a new leader's direct announcement wins over the
// stale gossip claim of its dead predecessor until gossip catches up, and
// never resurrects a node gossip reports gone.
func TestLeaderAnnouncement(t *testing.T) {
	old := Member{NodeID: "a", Shard: 0, RESP: "h:1", Leader: true, Term: 3, Alive: true}
	next := Member{NodeID: "b", Shard: 0, RESP: "h:2", Term: 3, Alive: true}
	n := testViewNode(old, next)
	n.refreshView()
	if got := n.view.Load().leaders[0].NodeID; got != "a" {
		t.Fatalf("leader before the announcement: %q", got)
	}
	announce(t, n.gossip, Member{NodeID: "b", Shard: 0, RESP: "h:2", Leader: true, Term: 4})
	n.refreshView()
	if got := n.view.Load().leaders[0]; got.NodeID != "b" || got.RESP != "h:2" {
		t.Fatalf("leader after the announcement: %+v", got)
	}
	if addr := n.shardLeaderRESP(0); addr != "h:2" {
		t.Fatalf("MOVED target %q, want h:2", addr)
	}
	// An older announcement does not replace a newer one; garbage is ignored.
	announce(t, n.gossip, Member{NodeID: "a", Shard: 0, RESP: "h:1", Leader: true, Term: 2})
	handleUserMsg(n.gossip, []byte{userMsgLeader, '{'})
	n.refreshView()
	if got := n.view.Load().leaders[0].NodeID; got != "b" {
		t.Fatalf("leader after a stale announcement: %q", got)
	}
	// Gossip reports the announced node gone: the hint no longer counts.
	n.gossip.members["b"] = Member{NodeID: "b", Shard: 0, RESP: "h:2", Term: 4, Alive: false}
	n.refreshView()
	if got, ok := n.view.Load().leaders[0]; ok && got.NodeID == "b" {
		t.Fatalf("hint for a dead node still used: %+v", got)
	}
	// Gossip caught up with a newer term elsewhere: gossip decides.
	n.gossip.members["c"] = Member{NodeID: "c", Shard: 0, RESP: "h:3", Leader: true, Term: 5, Alive: true}
	n.refreshView()
	if got := n.view.Load().leaders[0].NodeID; got != "c" {
		t.Fatalf("leader with gossip at a newer term: %q", got)
	}
}
