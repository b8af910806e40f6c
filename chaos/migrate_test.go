package chaos

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/shard"
	"github.com/raftcache/raftcache/slots"
)

func TestCheckMigrate(t *testing.T) {
	tests := []struct {
		runtime string
		nodes   int
		faults  []string
		wantErr string
	}{
		{RuntimeProcess, 9, []string{FaultMigrate, FaultKillLeader}, ""},
		{RuntimeProcess, 3, []string{FaultKill, FaultPause}, ""},
		{RuntimeProcess, 3, []string{FaultMigrate}, "needs --nodes 9"},
		{RuntimeProcess, 3, []string{FaultKill, FaultMigrate}, "one shard"},
		{RuntimeDocker, 9, []string{FaultMigrate}, "process runtime only"},
	}
	for _, tc := range tests {
		err := CheckMigrate(tc.runtime, tc.nodes, tc.faults)
		if (err != nil) != (tc.wantErr != "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("CheckMigrate(%s, %d, %v) = %v, want %q", tc.runtime, tc.nodes, tc.faults, err, tc.wantErr)
		}
	}
	if _, err := ParseFaults("migrate,kill-leader"); err != nil {
		t.Errorf("migrate is not a known fault: %v", err)
	}
	faults := []string{FaultKill, FaultMigrate, FaultPause}
	if got := nemesisFaults(faults); !slices.Equal(got, []string{FaultKill, FaultPause}) || len(faults) != 3 {
		t.Errorf("nemesisFaults = %v (input now %v)", got, faults)
	}
}

// thirds is a healthy 3-shard layout: shard i owns the i-th third.
func thirds() map[int][]slots.Range {
	return map[int][]slots.Range{0: {{Start: 0, End: 5460}}, 1: {{Start: 5461, End: 10922}}, 2: {{Start: 10923, End: 16383}}}
}

func healthyViews() []shardView {
	var vs []shardView
	for sh := 0; sh < 3; sh++ {
		vs = append(vs, shardView{Leader: "n" + string(rune('1'+sh)), Shard: sh, Claim: thirds()[sh], Described: thirds(), Routed: thirds()})
	}
	return vs
}

func TestJudgeOwnership(t *testing.T) {
	tests := []struct {
		name   string
		change func(vs []shardView)
		want   []string // substrings, one per violation
	}{
		{name: "one owner everywhere", change: func([]shardView) {}},
		{name: "two logs claim a slot", change: func(vs []shardView) {
			// Shard 0 still migrating 5461-5470 to shard 1 after shard 1 took them.
			vs[0].Claim = []slots.Range{{Start: 0, End: 5470}}
		}, want: []string{"slots 5461-5470 are claimed by the logs of shards [0 1]"}},
		{name: "no log claims a slot", change: func(vs []shardView) {
			vs[2].Claim = []slots.Range{{Start: 10924, End: 16383}}
		}, want: []string{"slots 10923 are claimed by no shard's log"}},
		{name: "a leader's gossip view lags", change: func(vs []shardView) {
			d := thirds()
			d[0] = []slots.Range{{Start: 0, End: 5470}}
			d[1] = []slots.Range{{Start: 5471, End: 10922}}
			vs[2].Described = d
		}, want: []string{"DescribeCluster on n3 (leader of shard 2) routes slots 5461-5470 to shard 0"}},
		{name: "CLUSTER SLOTS misses a range", change: func(vs []shardView) {
			r := thirds()
			r[1] = []slots.Range{{Start: 5461, End: 6000}}
			vs[1].Routed = r
		}, want: []string{"CLUSTER SLOTS on n2 (leader of shard 1) routes slots 6001-10922 to no shard"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := healthyViews()
			tc.change(vs)
			owner, got := judgeOwnership(vs)
			if len(got) != len(tc.want) {
				t.Fatalf("violations %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("violation %q, want it to contain %q", got[i], w)
				}
			}
			if tc.want == nil && (owner[0] != 0 || owner[5461] != 1 || owner[16383] != 2) {
				t.Errorf("owners %d %d %d", owner[0], owner[5461], owner[16383])
			}
		})
	}
}

func TestJudgeKeys(t *testing.T) {
	owner := make([]int, slots.Count)
	for s := range owner {
		owner[s] = s % 3
	}
	key := func(sh int) string { // a key whose slot shard sh owns
		for i := 0; ; i++ {
			k := "k" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
			if owner[slots.OfString(k)] == sh {
				return k
			}
		}
	}
	a, b := key(0), key(1)
	tests := []struct {
		name string
		keys map[int][]string
		want []string
	}{
		{name: "every key at its owner", keys: map[int][]string{0: {a}, 1: {b}}},
		{name: "key left on the source", keys: map[int][]string{0: {a, b}, 1: {b}},
			want: []string{"is on shard 0, but slot", "is on shards [0 1]"}},
		{name: "key only on the wrong shard", keys: map[int][]string{2: {a}},
			want: []string{"is on shard 2, but slot"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := judgeKeys(owner, tc.keys)
			if len(got) != len(tc.want) {
				t.Fatalf("violations %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("violation %q, want it to contain %q", got[i], w)
				}
			}
		})
	}
}

func TestMarkOverlapsAndSummary(t *testing.T) {
	s := func(d float64) Duration { return Duration(time.Duration(d * float64(time.Second))) }
	moves := []Move{
		{Slots: "1-10", From: 0, To: 1, Start: s(10), End: s(11), Outcome: moveDone},
		{Slots: "20", From: 1, To: 2, Start: s(20), End: s(21), Outcome: moveDone},
		{Slots: "30", From: 2, To: 0, Start: s(30), End: s(40), Outcome: moveStuck, Errors: []string{"boom"}},
	}
	events := []Event{
		{Fault: FaultKillLeader, Nodes: []string{"n1"}, At: s(10.5), Healed: s(12)}, // shard 0: hits move 1
		{Fault: FaultPause, Nodes: []string{"n1"}, At: s(19), Healed: s(20.5)},      // shard 0: during move 2, not on its shards
		{Fault: FaultKill, Nodes: []string{"n3"}, At: s(50), Healed: s(51)},         // after everything
	}
	got := markOverlaps(moves, events, map[string]int{"n1": 0, "n2": 1, "n3": 2})
	if len(got[0].Faults) != 1 || got[0].Hit != 1 || len(got[1].Faults) != 1 || got[1].Hit != 0 || len(got[2].Faults) != 0 {
		t.Fatalf("overlaps: %+v", got)
	}
	var res SlotsResult
	moveSummary(&res, got)
	if res.Moves != 2 || res.Overlapped != 2 || res.Hit != 1 || res.Stuck != 1 || len(res.Violations) != 1 ||
		!strings.Contains(res.Violations[0], "never completed") || !strings.Contains(res.Violations[0], "boom") {
		t.Fatalf("summary: %+v", res)
	}
	if !res.Violation() {
		t.Fatal("a stuck move is not a violation")
	}
	var none *SlotsResult
	if none.Violation() || !none.OK() {
		t.Fatal("a run without the migrate fault has no slot result to fail on")
	}
}

func TestRunAround(t *testing.T) {
	owner := make([]int, slots.Count)
	for s := range owner {
		owner[s] = 0
		if s >= 1000 {
			owner[s] = 1
		}
	}
	m := &Migrator{rng: rand.New(rand.NewPCG(1, 2)), avoid: map[slots.Slot]bool{990: true}}
	for i := 0; i < 200; i++ {
		s := slots.Slot(980 + i%15) // 980-994
		if s == 990 {
			continue
		}
		n := 16 + i
		run := m.runAround(s, n, owner)
		if len(run) == 0 || len(run) > n || !slices.Contains(run, s) {
			t.Fatalf("runAround(%d, %d) = %v", s, n, run)
		}
		for j, x := range run {
			if owner[x] != 0 || x == 990 || (j > 0 && x != run[j-1]+1) {
				t.Fatalf("runAround(%d, %d) = %v: slot %d is another shard's, a probe slot or not consecutive", s, n, run, x)
			}
		}
	}
}

// TestRunMigrate is the end-to-end run of the migrate fault: 9 processes
// (3 shards), slots moving between shards all along while leaders are
// killed and paused (~60 s in all). It fails on a non-linearizable
// history, a lost or duplicated append, diverged replicas, a slot with two
// owners or none, a key on a shard that does not own its slot, or a stuck
// move, and it requires completed moves during which a fault was in
// effect. .ci/chaos-migrate.sh runs the same with more kinds of faults.
func TestRunMigrate(t *testing.T) {
	// Not in CI until the replica divergence a 9-node run found once is
	// understood (docs/CHAOS.md, "Open finding"): a failure here would
	// block every change, and the run is for finding it, not gating.
	if os.Getenv("RAFTCACHE_CHAOS_MIGRATE") == "" {
		t.Skip("set RAFTCACHE_CHAOS_MIGRATE=1 (9 server processes, ~60 s; see docs/CHAOS.md)")
	}
	bin := mustBinary(t)
	out := t.TempDir()
	rep, err := Run(context.Background(), Options{Seed: 12, Duration: 40 * time.Second, Nodes: 9,
		Faults: []string{FaultMigrate, FaultKillLeader, FaultPause}, OutDir: out, Bin: bin, Clients: 12})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep.Print(&b)
	t.Log(b.String())
	if !rep.Passed() {
		t.Fatalf("chaos run failed: errors %q, slots %+v", rep.Errors, rep.Slots)
	}
	if rep.Slots == nil || rep.Slots.Moves == 0 || rep.Slots.Overlapped == 0 || rep.Slots.Keys == 0 {
		t.Fatalf("no move completed while a fault was in effect: %+v", rep.Slots)
	}
	if len(rep.Events) == 0 || rep.Counts.OK == 0 || rep.Appends.Acknowledged == 0 || rep.Converge.Keys == 0 {
		t.Fatalf("run did too little: %+v", rep)
	}
}

// TestFaultMatrixLayers: the migrator's gRPC cuts and the nemesis's faults
// share the fault file; healing one leaves the other in place.
func TestFaultMatrixLayers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "faults.json")
	m := NewFaultMatrix(path)
	read := func() shard.FaultSpec {
		t.Helper()
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var s shard.FaultSpec
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	steps := []struct {
		do   func() error
		want string // cuts, as fmt prints them
	}{
		{func() error { return m.CutLinks([][2]string{{"g1", "g2"}, {"g2", "g1"}}) }, "[[g1 g2] [g2 g1]]"},
		{func() error { return m.Isolate("r1", []string{"r2"}) }, "[[r1 r2] [r2 r1] [g1 g2] [g2 g1]]"},
		{m.Heal, "[[g1 g2] [g2 g1]]"},
		{func() error { return m.CutOneWay("r3", []string{"r1"}) }, "[[r3 r1] [g1 g2] [g2 g1]]"},
		{func() error { return m.CutLinks(nil) }, "[[r3 r1]]"},
		{m.Heal, "[]"},
	}
	for i, st := range steps {
		if err := st.do(); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(read().Cut); got != st.want {
			t.Fatalf("step %d: cuts %s, want %s", i, got, st.want)
		}
	}
}
