package node

import "testing"

// TestNextRejoinStep: every state a failed or interrupted rejoin attempt
// can leave behind leads to a step that ends with this node a voter of its
// shard; in particular a replica started by an attempt that failed before
// the leader listed it is dropped and added again, not taken for done.
func TestNextRejoinStep(t *testing.T) {
	const shard = 2
	for _, tc := range []struct {
		name          string
		running       int
		listed, voter bool
		want          rejoinStep
	}{
		{"fresh start, old voter listed", -1, true, true, rejoinRemoveOld},
		{"old identity removed, not added yet", -1, false, false, rejoinAdd},
		{"spare again, still listed as a non-voter", -1, true, false, rejoinAdd},
		{"attempt failed after the join", shard, false, false, rejoinLeave},
		{"attempt failed while catching up", shard, true, false, rejoinAdd},
		{"voter again", shard, true, true, rejoinDone},
		{"another shard meanwhile", 5, false, false, rejoinElsewhere},
		{"another shard, listed here too", 5, true, true, rejoinElsewhere},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextRejoinStep(shard, tc.running, tc.listed, tc.voter); got != tc.want {
				t.Fatalf("nextRejoinStep(%d, %d, listed=%v, voter=%v) = %d, want %d", shard, tc.running, tc.listed, tc.voter, got, tc.want)
			}
		})
	}
}
