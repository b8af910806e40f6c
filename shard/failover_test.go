package shard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/raftcache/raftcache/raftfsm"
)

// tcpGroup starts three replicas over TCP (in-memory stores) with
// production timings; zones maps node id -> AZ.
func tcpGroup(t *testing.T, zones map[string]string) *cluster {
	t.Helper()
	ids := []string{"n1", "n2", "n3"}
	var servers []raft.Server
	addrs := map[string]string{}
	for _, id := range ids {
		addrs[id] = freeAddr(t)
		servers = append(servers, raft.Server{ID: raft.ServerID(id), Address: raft.ServerAddress(addrs[id])})
	}
	c := &cluster{t: t}
	for _, id := range ids {
		cfg := DefaultConfig()
		cfg.ID, cfg.Bind, cfg.Bootstrap, cfg.Logger = id, addrs[id], servers, testLogger()
		cfg.Zone = func(id string) string { return zones[id] }
		m := &member{id: id, addr: raft.ServerAddress(addrs[id]), fsm: raftfsm.NewFSM(nil)}
		cfg.FSM = m.fsm
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		m.rep = r
		c.members = append(c.members, m)
	}
	t.Cleanup(func() {
		for _, m := range c.members {
			if m.rep != nil {
				m.rep.Close()
			}
		}
	})
	return c
}

// TestFastFailoverPrefersOtherAZ: a crashed leader (its Raft port refuses
// connections) is replaced early, by the follower outside the failed
// leader's AZ, and the followers' raft timeouts return to the configured
// values afterwards. Repeated, since the outcome must not depend on timing.
func TestFastFailoverPrefersOtherAZ(t *testing.T) {
	if testing.Short() {
		t.Skip("uses production timings")
	}
	for round := 0; round < 3; round++ {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			// n1 and n2 share az-a; n3 is alone in az-b.
			c := tcpGroup(t, map[string]string{"n1": "az-a", "n2": "az-a", "n3": "az-b"})
			c.mustWriteLeader("OK", "SET", "k", "v")
			c.transferTo("n1")
			old := c.members[0]
			testwait.Eventually(t, 5*time.Second, func() error {
				if !old.rep.Ready() {
					return errors.New("n1 not ready yet")
				}
				return nil
			})
			start := time.Now()
			if err := old.rep.Close(); err != nil {
				t.Fatal(err)
			}
			old.rep = nil
			c.mustWriteLeader("OK", "SET", "k", "w")
			l := c.leader()
			t.Logf("leader closed -> %s acknowledged a write after %v", l.id, time.Since(start))
			// Usually n3 wins the election; when a loaded machine lets n2
			// win, n2 hands leadership to n3 (the AZ correction).
			testwait.Eventually(t, 5*time.Second, func() error {
				if l := c.leader(); l.id != "n3" {
					return fmt.Errorf("leader %s, want n3 (the follower outside the failed leader's AZ)", l.id)
				}
				return nil
			})
			testwait.Eventually(t, 5*time.Second, func() error {
				for _, m := range c.members[1:] {
					rc := m.rep.Raft().ReloadableConfig()
					if rc.HeartbeatTimeout != DefaultConfig().HeartbeatTimeout || rc.ElectionTimeout != DefaultConfig().ElectionTimeout {
						return fmt.Errorf("%s still runs with heartbeat %v election %v", m.id, rc.HeartbeatTimeout, rc.ElectionTimeout)
					}
				}
				return nil
			})
		})
	}
}

// TestOtherAZSuccessor: the pure choice behind the AZ correction.
func TestOtherAZSuccessor(t *testing.T) {
	zones := map[string]string{"a1": "az-a", "a2": "az-a", "b1": "az-b", "b2": "az-b", "c1": "az-c", "x": ""}
	zone := func(id string) string { return zones[id] }
	voters := func(ids ...string) []raft.Server {
		var out []raft.Server
		for _, id := range ids {
			out = append(out, raft.Server{ID: raft.ServerID(id), Address: raft.ServerAddress(id + ":1")})
		}
		return out
	}
	for _, tc := range []struct {
		name, self, failed string
		voters             []raft.Server
		down               []string
		want               string
	}{
		{"same AZ as the failed leader", "a2", "a1", voters("a1", "a2", "b1"), nil, "b1"},
		{"already outside the failed AZ", "b1", "a1", voters("a1", "a2", "b1"), nil, ""},
		{"lowest id outside the AZ", "a2", "a1", voters("a1", "a2", "c1", "b2", "b1"), nil, "b1"},
		{"skips a down candidate", "a2", "a1", voters("a1", "a2", "b1", "c1"), []string{"b1"}, "c1"},
		{"every candidate down", "a2", "a1", voters("a1", "a2", "b1"), []string{"b1"}, ""},
		{"failed leader's AZ unknown", "a2", "x", voters("x", "a2", "b1"), nil, ""},
		{"candidates with unknown AZ are skipped", "a2", "a1", voters("a1", "a2", "x"), nil, ""},
		{"no other voter", "a2", "a1", voters("a1", "a2"), nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			down := func(s raft.Server) bool { return slices.Contains(tc.down, string(s.ID)) }
			if got := otherAZSuccessor(tc.self, tc.failed, tc.voters, zone, down); got != tc.want {
				t.Fatalf("otherAZSuccessor(%s after %s) = %q, want %q", tc.self, tc.failed, got, tc.want)
			}
		})
	}
}

// azTweak sets the members' zones and slower timings than fastConfig's, so
// that a loaded machine does not add elections of its own to what these
// tests expect.
func azTweak(zones map[string]string) func(*Config) {
	return func(cfg *Config) {
		cfg.Zone = func(id string) string { return zones[id] }
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 500*time.Millisecond, 500*time.Millisecond, 250*time.Millisecond
	}
}

// TestAZCorrection: a leader that shares the failed leader's AZ moves
// leadership to the voter in another AZ, and keeps it when that voter is
// unreachable (no write stall on a transfer bound to fail).
func TestAZCorrection(t *testing.T) {
	zones := map[string]string{"n1": "az-a", "n2": "az-a", "n3": "az-b"}
	c := newCluster(t, 3, azTweak(zones))
	n2, n3 := c.members[1], c.members[2]
	c.transferTo("n1")
	c.transferTo("n2")
	// An explicit transfer is not a failure election: n2 does not hand
	// leadership on although n1 shares its AZ.
	time.Sleep(100 * time.Millisecond)
	if n := n2.rep.fo.corrections.Load(); n != 0 {
		t.Fatalf("n2 started %d AZ corrections after a transfer to it; transfers must not be undone", n)
	}
	c.transferTo("n2") // in case a spontaneous election moved it meanwhile

	// n3 cut off: its heartbeats fail, so no transfer is tried.
	c.partition(n3)
	testwait.Eventually(t, 5*time.Second, func() error {
		if _, ok := n2.rep.UnreachablePeers()["n3"]; !ok {
			return errors.New("n2 does not see n3 as unreachable yet")
		}
		return nil
	})
	if target, err := n2.rep.preferOtherAZ("n1"); target != "" || err != nil {
		t.Fatalf("preferOtherAZ with n3 unreachable: target %q, err %v; want none", target, err)
	}
	c.heal(n3)
	testwait.Eventually(t, 5*time.Second, func() error {
		if _, ok := n2.rep.UnreachablePeers()["n3"]; ok {
			return errors.New("n2 still sees n3 as unreachable")
		}
		return nil
	})

	// Failed leader in another AZ than n2's: nothing to correct.
	if target, err := n2.rep.preferOtherAZ("n3"); target != "" || err != nil {
		t.Fatalf("preferOtherAZ after an az-b leader: target %q, err %v; want none", target, err)
	}
	if target, err := n2.rep.preferOtherAZ("n1"); target != "n3" || err != nil {
		t.Fatalf("preferOtherAZ after n1: target %q, err %v; want n3", target, err)
	}
	if l := c.leader(); l != n3 {
		t.Fatalf("leader %s after the AZ correction, want n3", l.id)
	}
	c.mustWriteLeader("OK", "SET", "k", "v")
}

// TestAZCorrectionAfterFailureElection: n1 and n2 in az-a, n3 in az-b.
// n3 misses writes while cut off, so when n1 dies only n2 can win the
// election (n3's log is behind); the correction must then hand leadership
// to n3 once it has caught up.
func TestAZCorrectionAfterFailureElection(t *testing.T) {
	zones := map[string]string{"n1": "az-a", "n2": "az-a", "n3": "az-b"}
	c := newCluster(t, 3, azTweak(zones))
	c.transferTo("n1")
	n1, n3 := c.members[0], c.members[2]
	c.partition(n3)
	for i := 0; i < 5; i++ {
		mustWrite(t, n1.rep, "OK", "SET", "k", fmt.Sprint(i))
	}
	c.stop(n1)
	c.heal(n3)
	testwait.Eventually(t, 10*time.Second, func() error {
		if l := c.leader(); l != n3 {
			return fmt.Errorf("leader %s, want n3 (outside the failed leader's AZ)", l.id)
		}
		return nil
	})
	c.mustWriteLeader("OK", "SET", "k", "w")
}

// TestPartitionedLeaderStepsDown: a leader cut off from its quorum stops
// serving at once (reads fail their leadership check, writes cannot
// commit) and steps down within about its lease.
func TestPartitionedLeaderStepsDown(t *testing.T) {
	c := newCluster(t, 3, nil)
	old := c.leader()
	mustWrite(t, old.rep, "OK", "SET", "k", "v")
	start := time.Now()
	c.partition(old)
	lease := fastConfig("x").LeaderLeaseTimeout
	// A heartbeat already in flight when the links were cut may still
	// confirm one read batch (it sees the only value there is: no other
	// leader can have committed yet); after that every read must fail its
	// leadership check, well within the lease.
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		got, err := read(ctx, old.rep, false, "GET", "k")
		cancel()
		if errors.Is(err, ErrNotLeader) {
			break
		}
		if err != nil || got != "v" {
			t.Fatalf("read on a cut-off leader: %q, %v; want ErrNotLeader (or the current value)", got, err)
		}
		if time.Since(start) > 2*lease {
			t.Fatalf("cut-off leader still serves reads %v after the partition (lease %v)", time.Since(start), lease)
		}
	}
	for old.rep.IsLeader() {
		if time.Since(start) > 50*lease {
			t.Fatalf("cut-off leader still leads %v after the partition (lease %v)", time.Since(start), lease)
		}
		time.Sleep(time.Millisecond)
	}
	t.Logf("cut-off leader stepped down %v after the partition (lease %v)", time.Since(start), lease)
	c.heal(old)
	c.converged()
}
