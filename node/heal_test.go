package node

import (
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

type fakeContacts map[string]time.Time

func (f fakeContacts) UnreachablePeers() map[string]time.Time { return f }

func TestLostMembers(t *testing.T) {
	now := time.Now()
	servers := []raft.Server{
		{ID: "n1", Suffrage: raft.Voter}, {ID: "n2", Suffrage: raft.Voter},
		{ID: "n3", Suffrage: raft.Voter}, {ID: "n4", Suffrage: raft.Nonvoter}, {ID: "n5", Suffrage: raft.Voter},
	}
	contacts := fakeContacts{
		"n1": now.Add(-time.Hour),        // self: never a candidate
		"n2": now.Add(-5 * time.Second),  // lost
		"n3": now.Add(-time.Second),      // failing, not for long enough
		"n5": now.Add(-10 * time.Second), // lost longest
		"n9": now.Add(-time.Hour),        // not a member
	}
	got := lostMembers(contacts, servers, "n1", 3*time.Second)
	var ids []string
	for _, m := range got {
		ids = append(ids, m.id)
	}
	if strings.Join(ids, ",") != "n5,n2" {
		t.Fatalf("lost members %v, want n5,n2 (oldest contact first)", ids)
	}
	if got := lostMembers(fakeContacts{}, servers, "n1", time.Second); len(got) != 0 {
		t.Fatalf("all in contact: lost %v", got)
	}
}

func TestReplaceAfterValidation(t *testing.T) {
	c := Config{NodeID: "n1", DataDir: t.TempDir(), Port: 7000, ReplaceAfter: -time.Second}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "replace-after") {
		t.Fatalf("negative ReplaceAfter: %v", err)
	}
}
