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
	Problems []string `json:"problems,omitempty"` // applied indexes that never met, unreadable replicas
}

// OK reports whether every replica of every shard holds the same values.
func (r ConvergeResult) OK() bool { return len(r.Diverged) == 0 && len(r.Problems) == 0 }

// CheckConvergence waits until the replicas of each shard report the same
// Raft applied index (INFO replication), then reads every key on every
// replica of its shard (READONLY, local state) and compares the values:
// GET for reg:/ctr: keys, LRANGE for app: keys. Call it after healing,
// with no client writing.
func CheckConvergence(ctx context.Context, c *ProcCluster, keys []string) ConvergeResult {
	var res ConvergeResult
	for s := 0; s < c.Shards; s++ {
		if err := waitSameApplied(ctx, c.ShardProcs(s)); err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("shard %d: %v", s, err))
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
// raft_applied_index twice in a row.
func waitSameApplied(ctx context.Context, procs []*Proc) error {
	deadline := time.Now().Add(30 * time.Second)
	last := ""
	for {
		var idx []string
		for _, p := range procs {
			r, err := Command(p.Addr(), time.Second, "INFO", "replication")
			v := "?"
			if err == nil {
				for _, line := range strings.Split(r.Str, "\n") {
					if s, ok := strings.CutPrefix(strings.TrimSpace(line), "raft_applied_index:"); ok {
						v = s
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
			return nil
		}
		last = cur
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("applied indexes never met: %s", cur)
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
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
