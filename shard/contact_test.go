package shard

import (
	"fmt"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/testwait"
)

// TestUnreachablePeers: the leader reports a partitioned follower with the
// time it last heard from it, forgets it once heartbeats resume, and a
// follower reports nothing.
func TestUnreachablePeers(t *testing.T) {
	c := newCluster(t, 3, nil)
	l := c.leader()
	f := c.followers(l)[0]
	if got := l.rep.UnreachablePeers(); len(got) != 0 {
		t.Fatalf("healthy cluster: unreachable %v", got)
	}
	cut := time.Now()
	c.partition(f)
	testwait.Eventually(t, 10*time.Second, func() error {
		last, ok := l.rep.UnreachablePeers()[f.id]
		if !ok {
			return fmt.Errorf("%s not reported unreachable yet", f.id)
		}
		if last.After(cut.Add(time.Second)) {
			return fmt.Errorf("last contact %v is after the partition at %v", last, cut)
		}
		return nil
	})
	if got := f.rep.UnreachablePeers(); len(got) != 0 {
		t.Fatalf("a follower reports unreachable peers: %v", got)
	}
	c.heal(f)
	testwait.Eventually(t, 10*time.Second, func() error {
		if got := l.rep.UnreachablePeers(); len(got) != 0 {
			return fmt.Errorf("still unreachable after healing: %v", got)
		}
		return nil
	})
}
