package chaos

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// hashMarkEvery is the servers' --log-applied-hash-every: each replica
// logs its applied-log hash at every index it divides (raftfsm.HashMarkMsg).
const hashMarkEvery = 256

var hashMarkLine = regexp.MustCompile(`msg="applied log hash".* index=(\d+) term=(\d+) hash=([0-9a-f]+)`)

// LocateDivergence reads the hash marks that a shard's replicas logged in
// dir (nodes/<id>.log) and says between which marks they first disagree:
// the log entries where the replicas parted lie in that window, and the
// terms show whose entries each applied there. "" when no two replicas
// logged different marks for one index.
func LocateDivergence(dir string, procs []*Proc) string {
	marks := map[uint64]map[string]string{} // index -> node -> "term T hash H"
	for _, p := range procs {
		_, _ = scanLog(dir, p.ID, hashMarkLine, func(m [][]byte) {
			idx, err := strconv.ParseUint(string(m[1]), 10, 64)
			if err != nil {
				return
			}
			if marks[idx] == nil {
				marks[idx] = map[string]string{}
			}
			// A restarted replica replays from its snapshot and logs
			// marks again: the last one stands.
			marks[idx][p.ID] = "term " + string(m[2]) + " hash " + string(m[3])
		})
	}
	idxs := make([]uint64, 0, len(marks))
	for i := range marks {
		idxs = append(idxs, i)
	}
	sort.Slice(idxs, func(a, b int) bool { return idxs[a] < idxs[b] })
	var agreed uint64
	for _, i := range idxs {
		byVal := map[string][]string{}
		for id, v := range marks[i] {
			byVal[v] = append(byVal[v], id)
		}
		if len(marks[i]) < 2 {
			continue
		}
		if len(byVal) == 1 {
			agreed = i
			continue
		}
		var parts []string
		for v, ids := range byVal {
			sort.Strings(ids)
			parts = append(parts, fmt.Sprintf("%v %s", ids, v))
		}
		sort.Strings(parts)
		return fmt.Sprintf("hash marks agree at index %d and differ at %d: %s", agreed, i, strings.Join(parts, ", "))
	}
	return ""
}
