package chaos

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/slots"
)

// SlotsResult is the outcome of CheckSlots and of the migrate fault's
// moves (invariant I4 of consistency-and-chaos.md: one owner per slot).
type SlotsResult struct {
	Moves      int      `json:"moves"`                // moves that completed
	Stuck      int      `json:"stuck"`                // moves that never completed
	Overlapped int      `json:"overlapped"`           // completed moves during which a fault was in effect
	Hit        int      `json:"hit"`                  // ... one on a node of the move's source or target shard
	Cut        int      `json:"cut"`                  // completed moves whose shards were cut from each other midway
	Keys       int      `json:"keys"`                 // keys found by scanning every shard's leader
	Violations []string `json:"violations,omitempty"` // two owners, none, disagreeing views, a key on the wrong shard, a stuck move
	Problems   []string `json:"problems,omitempty"`   // what could not be checked
}

// Violation reports a broken invariant (nil: the check did not run).
func (r *SlotsResult) Violation() bool { return r != nil && len(r.Violations) > 0 }

// OK reports whether the check ran to the end without a problem (nil: not
// asked for).
func (r *SlotsResult) OK() bool { return r == nil || len(r.Problems) == 0 }

// shardView is what one shard's leader says about slot ownership.
type shardView struct {
	Leader string // node id
	Shard  int    // its shard id (admin API)
	// Claim: the slots its log says the shard serves (owned or migrating).
	Claim []slots.Range
	// Described: DescribeCluster on the leader (its gossip view), shard ->
	// slots; Routed: its CLUSTER SLOTS, shard -> slots.
	Described, Routed map[int][]slots.Range
}

// judgeOwnership checks that every slot is claimed by exactly one shard's
// log and that every leader's DescribeCluster and CLUSTER SLOTS route every
// slot to that shard. It returns each slot's owner (-1 where there is not
// exactly one) and the violations, slots grouped into ranges.
func judgeOwnership(views []shardView) ([]int, []string) {
	owner := make([]int, slots.Count)
	claims := make([][]int, slots.Count)
	for _, v := range views {
		for _, r := range v.Claim {
			for s := int(r.Start); s <= int(r.End); s++ {
				claims[s] = append(claims[s], v.Shard)
			}
		}
	}
	var out []string
	// Group slots by the set of shards claiming them (for the message).
	groups := map[string][]bool{}
	var order []string
	for s := range claims {
		owner[s] = -1
		if len(claims[s]) == 1 {
			owner[s] = claims[s][0]
			continue
		}
		k := fmt.Sprint(claims[s])
		if _, ok := groups[k]; !ok {
			groups[k] = make([]bool, slots.Count)
			order = append(order, k)
		}
		groups[k][s] = true
	}
	for _, k := range order {
		rs := slots.FormatRanges(slots.RangesOf(groups[k]))
		if k == "[]" {
			out = append(out, "slots "+rs+" are claimed by no shard's log")
		} else {
			out = append(out, "slots "+rs+" are claimed by the logs of shards "+k)
		}
	}
	for _, v := range views {
		for _, kind := range []string{"DescribeCluster", "CLUSTER SLOTS"} {
			view := v.Described
			if kind == "CLUSTER SLOTS" {
				view = v.Routed
			}
			seen := make([]int, slots.Count)
			for i := range seen {
				seen[i] = -1
			}
			for sh, rs := range view {
				for _, r := range rs {
					for s := int(r.Start); s <= int(r.End); s++ {
						seen[s] = sh
					}
				}
			}
			wrong := map[int][]bool{}
			var shards []int
			for s := range seen {
				if owner[s] >= 0 && seen[s] != owner[s] {
					if wrong[seen[s]] == nil {
						wrong[seen[s]] = make([]bool, slots.Count)
						shards = append(shards, seen[s])
					}
					wrong[seen[s]][s] = true
				}
			}
			slices.Sort(shards)
			for _, sh := range shards {
				to := "no shard"
				if sh >= 0 {
					to = "shard " + strconv.Itoa(sh)
				}
				out = append(out, fmt.Sprintf("%s on %s (leader of shard %d) routes slots %s to %s, not to the shard whose log owns them",
					kind, v.Leader, v.Shard, slots.FormatRanges(slots.RangesOf(wrong[sh])), to))
			}
		}
	}
	return owner, out
}

// judgeKeys checks that every key found on a shard lives in a slot that
// shard owns (keys: shard -> keys scanned on its leader) and that no key is
// on two shards.
func judgeKeys(owner []int, keys map[int][]string) []string {
	var out []string
	on := map[string][]int{}
	var shards []int
	for sh := range keys {
		shards = append(shards, sh)
	}
	slices.Sort(shards)
	for _, sh := range shards {
		for _, k := range keys[sh] {
			on[k] = append(on[k], sh)
			s := slots.OfString(k)
			if owner[s] != sh {
				out = append(out, fmt.Sprintf("key %q (slot %d) is on shard %d, but slot %d belongs to shard %d", k, s, sh, s, owner[s]))
			}
		}
	}
	var twice []string
	for k, shs := range on {
		if len(shs) > 1 {
			twice = append(twice, fmt.Sprintf("key %q is on shards %v", k, shs))
		}
	}
	slices.Sort(twice)
	return append(out, twice...)
}

// CheckSlots runs after healing, with every move finished: it reads each
// shard leader's slot claim (its log), DescribeCluster and CLUSTER SLOTS
// until they agree that every slot has exactly one owner (gossip may need
// a few rounds; 30 s at most), then scans every key on every leader. It
// also records the slot owners for CheckConvergence.
func CheckSlots(ctx context.Context, c *ProcCluster) *SlotsResult {
	res := &SlotsResult{}
	deadline := time.Now().Add(30 * time.Second)
	var owner []int
	var leaders map[int]*Proc // admin shard id -> leader
	for {
		views, ls, err := readViews(ctx, c)
		var viol []string
		if err == nil {
			owner, viol = judgeOwnership(views)
			leaders = ls
			if len(viol) == 0 {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if err != nil {
				res.Problems = append(res.Problems, "slot ownership: "+err.Error())
				return res
			}
			res.Violations = append(res.Violations, viol...)
			break
		}
		sleepCtx(ctx, 500*time.Millisecond)
	}
	keys := map[int][]string{}
	for sh, p := range leaders {
		ks, err := scanAll(p.Addr())
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("scan of shard %d on %s: %v", sh, p.ID, err))
			continue
		}
		keys[sh] = ks
		res.Keys += len(ks)
	}
	res.Violations = append(res.Violations, judgeKeys(owner, keys)...)
	// Convergence compares each key on the replicas of its current shard.
	byID := map[int]int{} // admin shard id -> index of the nemesis's shard
	for sh, p := range leaders {
		byID[sh] = p.Shard
	}
	c.slotShard = make([]int, slots.Count)
	for s, o := range owner {
		c.slotShard[s] = -1
		if i, ok := byID[o]; ok && o >= 0 {
			c.slotShard[s] = i
		}
	}
	return res
}

// readViews asks each shard's leader for its claim, DescribeCluster and
// CLUSTER SLOTS.
func readViews(ctx context.Context, c *ProcCluster) ([]shardView, map[int]*Proc, error) {
	byPort := map[int64]*Proc{}
	for _, p := range c.Procs {
		byPort[int64(p.Port)] = p
	}
	var views []shardView
	leaders := map[int]*Proc{}
	idOf := map[int]int{} // nemesis shard index -> admin shard id
	for i := 0; i < c.Shards; i++ {
		p, err := c.Leader(i)
		if err != nil {
			return nil, nil, err
		}
		v, err := leaderView(ctx, p)
		if err != nil {
			return nil, nil, err
		}
		views = append(views, v)
		leaders[v.Shard] = p
		idOf[i] = v.Shard
	}
	for i := range views {
		r, err := Command(leaders[views[i].Shard].Addr(), 2*time.Second, "CLUSTER", "SLOTS")
		if err != nil {
			return nil, nil, err
		}
		if r.IsError() {
			return nil, nil, fmt.Errorf("CLUSTER SLOTS on %s: %s", views[i].Leader, r.Str)
		}
		views[i].Routed = map[int][]slots.Range{}
		for _, e := range r.Arr {
			if len(e.Arr) < 3 || len(e.Arr[2].Arr) < 2 {
				continue
			}
			p, ok := byPort[e.Arr[2].Arr[1].Int]
			if !ok {
				return nil, nil, fmt.Errorf("CLUSTER SLOTS on %s names an unknown node %s", views[i].Leader, e.Arr[2].String())
			}
			sh := idOf[p.Shard]
			views[i].Routed[sh] = append(views[i].Routed[sh], slots.Range{Start: slots.Slot(e.Arr[0].Int), End: slots.Slot(e.Arr[1].Int)})
		}
	}
	return views, leaders, nil
}

// leaderView reads p's slot claim (NodeStatus) and DescribeCluster.
func leaderView(ctx context.Context, p *Proc) (shardView, error) {
	cc, err := grpc.NewClient(grpcAddr(p), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return shardView{}, fmt.Errorf("chaos: grpc %s: %w", p.ID, err)
	}
	defer cc.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := adminv1.NewNodeControlClient(cc).NodeStatus(ctx, &adminv1.NodeStatusRequest{})
	if err != nil {
		return shardView{}, fmt.Errorf("NodeStatus on %s: %w", p.ID, err)
	}
	if !st.GetLeader() {
		return shardView{}, fmt.Errorf("%s no longer leads its shard", p.ID)
	}
	claim, err := slots.ParseRanges(st.GetSlotClaim())
	if err != nil {
		return shardView{}, fmt.Errorf("%s's slot claim %q: %w", p.ID, st.GetSlotClaim(), err)
	}
	d, err := adminv1.NewAdminClient(cc).DescribeCluster(ctx, &adminv1.DescribeClusterRequest{})
	if err != nil {
		return shardView{}, fmt.Errorf("DescribeCluster on %s: %w", p.ID, err)
	}
	v := shardView{Leader: p.ID, Shard: int(st.GetShard()), Claim: claim, Described: map[int][]slots.Range{}}
	for _, sh := range d.GetShards() {
		for _, r := range sh.GetSlots() {
			v.Described[int(sh.GetId())] = append(v.Described[int(sh.GetId())], slots.Range{Start: slots.Slot(r.GetStart()), End: slots.Slot(r.GetEnd())})
		}
	}
	return v, nil
}

// scanAll lists every key of the node's engine with SCAN.
func scanAll(addr string) ([]string, error) {
	cn, err := dialRESP(addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer cn.close()
	var keys []string
	cursor := "0"
	for {
		if err := cn.send(time.Now().Add(5*time.Second), []string{"SCAN", cursor, "COUNT", "1000"}); err != nil {
			return nil, err
		}
		r, err := cn.read()
		if err != nil {
			return nil, err
		}
		if r.IsError() || len(r.Arr) != 2 {
			return nil, fmt.Errorf("SCAN: unexpected reply %.200s", r.String())
		}
		for _, k := range r.Arr[1].Arr {
			keys = append(keys, k.Str)
		}
		cursor = r.Arr[0].Str
		if cursor == "0" {
			return keys, nil
		}
	}
}

// moveSummary counts completed, stuck and overlapped moves into res and
// turns every stuck move into a violation.
func moveSummary(res *SlotsResult, moves []Move) {
	for _, mv := range moves {
		switch {
		case mv.Done():
			res.Moves++
			if len(mv.Faults) > 0 {
				res.Overlapped++
			}
			if mv.Hit > 0 {
				res.Hit++
			}
			if mv.Cut > 0 {
				res.Cut++
			}
		default:
			res.Stuck++
			res.Violations = append(res.Violations, fmt.Sprintf("move of slots %s from shard %d to shard %d never completed (%d issues): %s",
				mv.Slots, mv.From, mv.To, mv.Retries+1, strings.Join(mv.Errors, "; ")))
		}
	}
}
