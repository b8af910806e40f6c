package node

import (
	"sort"

	"github.com/raftcache/raftcache/slots"
)

// Plan is the deterministic result of cluster formation: which nodes found
// which shard and which slots each shard starts with. Every founding node
// computes the same plan from the same member list.
type Plan struct {
	Shards  int                 `json:"shards"`
	Members map[string]int      `json:"members"` // node id -> shard id
	Slots   map[int]string      `json:"slots"`   // shard id -> slot ranges ("0-5460")
	Founder map[int][]string    `json:"-"`
	AZ      map[string][]string `json:"-"`
}

// PlanFormation assigns members to shards so that each shard's replicas sit
// in distinct AZs when the AZs allow it: members are ordered by
// interleaving the AZs (a1 b1 c1 a2 b2 c2 ...) and consecutive runs of that
// order form the shards. Slots are split evenly, as redis-cli --cluster
// create does.
func PlanFormation(members []Member, shards int) Plan {
	byAZ := map[string][]Member{}
	var azs []string
	for _, m := range members {
		if _, ok := byAZ[m.AZ]; !ok {
			azs = append(azs, m.AZ)
		}
		byAZ[m.AZ] = append(byAZ[m.AZ], m)
	}
	sort.Strings(azs)
	for _, az := range azs {
		ms := byAZ[az]
		sort.Slice(ms, func(i, j int) bool { return ms[i].NodeID < ms[j].NodeID })
	}
	var order []Member
	for i := 0; len(order) < len(members); i++ {
		for _, az := range azs {
			if i < len(byAZ[az]) {
				order = append(order, byAZ[az][i])
			}
		}
	}
	p := Plan{Shards: shards, Members: map[string]int{}, Slots: map[int]string{}, Founder: map[int][]string{}}
	n := len(order)
	pos := 0
	split := slots.SplitEven(shards)
	for s := 0; s < shards; s++ {
		size := n / shards
		if s < n%shards {
			size++
		}
		for _, m := range order[pos : pos+size] {
			p.Members[m.NodeID] = s
			p.Founder[s] = append(p.Founder[s], m.NodeID)
		}
		pos += size
		p.Slots[s] = slots.FormatRanges(split[s])
	}
	return p
}
