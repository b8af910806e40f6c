package node

import (
	"encoding/json"
	"testing"

	"github.com/raftcache/raftcache/slots"
)

// A claim scattered by resharding must not push the metadata over
// memberlist's 512-byte limit: it goes by reference.
func TestScatteredClaimGoesByReference(t *testing.T) {
	var set [slots.Count]bool
	for s := 0; s < slots.Count; s += 3 {
		set[s] = true
	}
	text := slots.FormatRanges(slots.RangesOf(set[:]))
	m := Member{NodeID: "node-with-a-long-name", AZ: "eu-west-1a", RESP: "10.100.200.250:7000", Raft: "10.100.200.250:17000",
		Gossip: "10.100.200.250:27000", GRPC: "10.100.200.250:37000", Shard: 499, Leader: true, Term: 1 << 40, Ver: 1 << 40, Applied: 1 << 50}
	m.Slots = claimFields(text)
	if m.Slots != "" {
		t.Fatalf("a %d-byte claim was inlined", len(text))
	}
	m.SlotsRef = claimRef(text)
	b, _ := json.Marshal(m)
	if len(b) > 512 {
		t.Fatalf("metadata is %d bytes: %s", len(b), b)
	}
	if claimRef(text) == claimRef(text+" 16383") {
		t.Fatal("different claims share a reference")
	}
	if got := claimFields("0-5460"); got != "0-5460" {
		t.Fatalf("a short claim is not inlined: %q", got)
	}
}
