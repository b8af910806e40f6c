package node

import (
	"fmt"
	"testing"
)

func TestPlanFormationSpreadsAZs(t *testing.T) {
	tests := []struct {
		nodes, shards int
		azs           []string
	}{
		{3, 1, []string{"az-a", "az-b", "az-c"}},
		{9, 3, []string{"az-a", "az-b", "az-c"}},
		{12, 4, []string{"az-a", "az-b", "az-c"}},
		{6, 2, []string{"az-a", "az-b", "az-c"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d", tt.nodes, tt.shards), func(t *testing.T) {
			var ms []Member
			for i := 0; i < tt.nodes; i++ {
				ms = append(ms, Member{NodeID: fmt.Sprintf("n%02d", i), AZ: tt.azs[i%len(tt.azs)]})
			}
			p := PlanFormation(ms, tt.shards)
			// Reversed input order gives the same plan.
			rev := make([]Member, len(ms))
			for i := range ms {
				rev[len(ms)-1-i] = ms[i]
			}
			q := PlanFormation(rev, tt.shards)
			for id, s := range p.Members {
				if q.Members[id] != s {
					t.Fatalf("plan depends on input order: %s in %d vs %d", id, s, q.Members[id])
				}
			}
			az := map[string]string{}
			for _, m := range ms {
				az[m.NodeID] = m.AZ
			}
			for s := 0; s < tt.shards; s++ {
				seen := map[string]bool{}
				for _, id := range p.Founder[s] {
					if seen[az[id]] && len(p.Founder[s]) <= len(tt.azs) {
						t.Fatalf("shard %d has two replicas in %s: %v", s, az[id], p.Founder[s])
					}
					seen[az[id]] = true
				}
				if len(p.Founder[s]) != tt.nodes/tt.shards {
					t.Fatalf("shard %d has %d members", s, len(p.Founder[s]))
				}
			}
			if tt.shards == 3 && (p.Slots[0] != "0-5460" || p.Slots[1] != "5461-10922" || p.Slots[2] != "10923-16383") {
				t.Fatalf("slots %v", p.Slots)
			}
		})
	}
}
