package chaos

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/raftcache/raftcache/slots"
)

// ConvergeResult is the outcome of CheckConvergence (invariant I6 of
// consistency-and-chaos.md: after healing, replicas converge).
type ConvergeResult struct {
	Keys     int      `json:"keys"`               // keys compared on every replica
	Diverged []string `json:"diverged,omitempty"` // keys whose replicas disagree
	// LogDiverged lists the shards whose replicas, at the same applied
	// index, report different applied-log hashes (INFO replication
	// raft_applied_log_hash): they applied different log entries, a
	// consensus failure. Keys that differ while the hashes agree point at
	// a nondeterministic command instead.
	LogDiverged []string `json:"log_diverged,omitempty"`
	// Located says, per diverged shard, between which hash marks in the
	// node logs the replicas parted (LocateDivergence).
	Located   []string `json:"located,omitempty"`
	LogHashes int      `json:"log_hashes"` // shards whose hashes were compared
	// divergedShards are the shards of LogDiverged, for locating.
	divergedShards []int
	Problems       []string `json:"problems,omitempty"` // applied indexes that never met, unreadable replicas
}

// OK reports whether every replica of every shard holds the same values
// and applied the same log.
func (r ConvergeResult) OK() bool {
	return len(r.Diverged) == 0 && len(r.LogDiverged) == 0 && len(r.Problems) == 0
}

// CheckConvergence waits until the replicas of each shard report the same
// Raft applied index (INFO replication), then reads every key on every
// replica of its shard (READONLY, local state) and compares the values:
// GET for reg:/ctr: keys, LRANGE for app: keys. Call it after healing,
// with no client writing.
func CheckConvergence(ctx context.Context, c *ProcCluster, keys []string) ConvergeResult {
	var res ConvergeResult
	for s := 0; s < c.Shards; s++ {
		hashes, err := waitSameApplied(ctx, c.ShardProcs(s))
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("shard %d: %v", s, err))
			continue
		}
		if d, compared := compareLogHashes(hashes); d != "" {
			res.LogDiverged = append(res.LogDiverged, fmt.Sprintf("shard %d: %s", s, d))
			res.divergedShards = append(res.divergedShards, s)
		} else if compared {
			res.LogHashes++
		}
	}
	conns := map[string]*respConn{}
	defer func() {
		for _, cn := range conns {
			cn.close()
		}
	}()
	read := func(p *Proc, args ...string) (string, error) {
		cn, ok := conns[p.Addr()]
		if !ok {
			var err error
			if cn, err = dialRESP(p.Addr(), 2*time.Second); err != nil {
				return "", err
			}
			if err := cn.send(time.Now().Add(2*time.Second), []string{"READONLY"}); err != nil {
				cn.close()
				return "", err
			}
			if _, err := cn.read(); err != nil {
				cn.close()
				return "", err
			}
			conns[p.Addr()] = cn
		}
		if err := cn.send(time.Now().Add(2*time.Second), args); err != nil {
			return "", err
		}
		r, err := cn.read()
		if err != nil {
			return "", err
		}
		if r.IsError() {
			return "", fmt.Errorf("%s", r.Str)
		}
		return r.String(), nil
	}
	for _, k := range keys {
		shard := c.shardOf(slots.OfString(k))
		if shard < 0 {
			res.Problems = append(res.Problems, "no shard owns "+k)
			continue
		}
		args := []string{"GET", k}
		if strings.HasPrefix(k, "app:") {
			args = []string{"LRANGE", k, "0", "-1"}
		}
		res.Keys++
		seen := map[string][]string{}
		for _, p := range c.ShardProcs(shard) {
			v, err := read(p, args...)
			if err != nil {
				res.Problems = append(res.Problems, fmt.Sprintf("%s on %s: %v", k, p.ID, err))
				delete(conns, p.Addr())
				continue
			}
			seen[v] = append(seen[v], p.ID)
		}
		if len(seen) > 1 {
			var parts []string
			for v, ids := range seen {
				parts = append(parts, fmt.Sprintf("%v=%.60s", ids, v))
			}
			sort.Strings(parts)
			res.Diverged = append(res.Diverged, k+": "+strings.Join(parts, " "))
		}
	}
	return res
}

// waitSameApplied polls INFO replication until every node reports the same
// raft_applied_index twice in a row, and returns each node's
// raft_applied_log_hash line from the last poll ("" when a node has none).
func waitSameApplied(ctx context.Context, procs []*Proc) (map[string]string, error) {
	deadline := time.Now().Add(30 * time.Second)
	last := ""
	for {
		var idx []string
		hashes := map[string]string{}
		for _, p := range procs {
			r, err := Command(p.Addr(), time.Second, "INFO", "replication")
			v := "?"
			if err == nil {
				for _, line := range strings.Split(r.Str, "\n") {
					line = strings.TrimSpace(line)
					if s, ok := strings.CutPrefix(line, "raft_applied_index:"); ok {
						v = s
					} else if s, ok := strings.CutPrefix(line, "raft_applied_log_hash:"); ok {
						hashes[p.ID] = s
					}
				}
			}
			idx = append(idx, v)
		}
		cur := strings.Join(idx, ",")
		same := !strings.Contains(cur, "?")
		for _, v := range idx {
			same = same && v == idx[0]
		}
		if same && cur == last {
			return hashes, nil
		}
		last = cur
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("applied indexes never met: %s", cur)
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
}

// compareLogHashes compares one shard's raft_applied_log_hash values
// (index=N,hash=H,known=K). It describes a difference, or reports whether
// a comparison was possible: every replica has a known hash for the same
// index (a replica that restored an old-format snapshot cannot compare).
func compareLogHashes(byNode map[string]string) (diff string, compared bool) {
	groups := map[string][]string{}
	for id, v := range byNode {
		if !strings.HasSuffix(v, ",known=1") {
			return "", false
		}
		groups[v] = append(groups[v], id)
	}
	if len(groups) == 0 {
		return "", false
	}
	index := ""
	for v := range groups {
		i, _, _ := strings.Cut(v, ",")
		if index != "" && i != index {
			return "", false // moved on between reads: nothing to compare
		}
		index = i
	}
	if len(groups) == 1 {
		return "", true
	}
	var parts []string
	for v, ids := range groups {
		sort.Strings(ids)
		_, h, _ := strings.Cut(v, ",")
		parts = append(parts, fmt.Sprintf("%v %s", ids, strings.TrimSuffix(h, ",known=1")))
	}
	sort.Strings(parts)
	return "replicas applied different log entries up to " + index + ": " + strings.Join(parts, ", "), true
}

// shardOf returns the shard that owns slot s: as CheckSlots found it after
// slot moves, else from the formation's ranges; -1 if none.
func (c *ProcCluster) shardOf(s slots.Slot) int {
	if c.slotShard != nil {
		return c.slotShard[s]
	}
	for i, rg := range c.ShardSlots {
		if rg.Contains(s) {
			return i
		}
	}
	return -1
}
