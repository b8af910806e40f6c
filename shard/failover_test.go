package shard

import (
	"context"
	"errors"
	"fmt"
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
			if l := c.leader(); l.id != "n1" {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := l.rep.LeadershipTransfer(ctx, "n1")
				cancel()
				if err != nil {
					t.Fatal(err)
				}
			}
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
			if l.id != "n3" {
				t.Fatalf("new leader %s, want n3 (the follower outside the failed leader's AZ)", l.id)
			}
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
