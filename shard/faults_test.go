package shard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/raftcache/raftcache/raftfsm"
)

// newTCPFaultCluster starts n replicas over TCP (in-memory stores) whose
// transports share one Faults.
func newTCPFaultCluster(t *testing.T, n int, faults *Faults) *cluster {
	t.Helper()
	return newTCPCluster(t, n, func(cfg *Config) { cfg.Faults = faults }, func() { faults.Heal() })
}

// newTCPCluster starts n replicas over TCP (in-memory stores); tune adjusts
// each one's configuration, before runs ahead of closing them.
func newTCPCluster(t *testing.T, n int, tune func(*Config), before func()) *cluster {
	t.Helper()
	c := &cluster{t: t}
	var servers []raft.Server
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = freeAddr(t)
		servers = append(servers, raft.Server{ID: raft.ServerID(fmt.Sprintf("n%d", i+1)), Address: raft.ServerAddress(addrs[i])})
	}
	for i := range addrs {
		id := fmt.Sprintf("n%d", i+1)
		cfg := fastConfig(id)
		cfg.Bind = addrs[i]
		cfg.Bootstrap = servers
		tune(&cfg)
		m := &member{id: id, addr: raft.ServerAddress(addrs[i]), fsm: raftfsm.NewFSM(nil)}
		cfg.FSM = m.fsm
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		m.rep = r
		c.members = append(c.members, m)
	}
	t.Cleanup(func() {
		before()
		for _, m := range c.members {
			if err := m.rep.Close(); err != nil {
				t.Errorf("close %s: %v", m.id, err)
			}
		}
	})
	return c
}

func addrsOf(ms []*member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.addr))
	}
	return out
}

// TestFaultsPartitionedLeader cuts the leader off from both followers over
// real TCP: it must lose leadership, the majority must elect a new leader
// that takes writes, and after healing the old leader catches up.
func TestFaultsPartitionedLeader(t *testing.T) {
	faults := NewFaults()
	c := newTCPFaultCluster(t, 3, faults)
	old := c.leader()
	c.mustWriteLeader("OK", "SET", "before", "1")
	rest := c.followers(old)
	faults.Partition([]string{string(old.addr)}, addrsOf(rest))

	testwait.Eventually(t, 10*time.Second, func() error {
		if old.rep.IsLeader() {
			return errors.New("partitioned leader still leads")
		}
		for _, m := range rest {
			if m.rep.Ready() {
				return nil
			}
		}
		return errors.New("majority has no ready leader")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := write(ctx, old.rep, "SET", "stale", "x"); err == nil {
		t.Fatal("the cut-off old leader acknowledged a write")
	}
	c.mustWriteLeader("OK", "SET", "during", "2")

	faults.Heal()
	c.converged()
	rctx, rcancel := context.WithTimeout(context.Background(), time.Second)
	defer rcancel()
	if got, err := read(rctx, old.rep, true, "GET", "during"); err != nil || got != "2" {
		t.Fatalf("old leader after heal: GET during = %q, %v", got, err)
	}
}

// TestFaultsOneWayCut loses only the leader's outgoing messages: followers
// stop hearing heartbeats and elect a new leader among themselves.
func TestFaultsOneWayCut(t *testing.T) {
	faults := NewFaults()
	c := newTCPFaultCluster(t, 3, faults)
	old := c.leader()
	rest := c.followers(old)
	for _, m := range rest {
		faults.Cut(string(old.addr), string(m.addr))
	}
	testwait.Eventually(t, 10*time.Second, func() error {
		for _, m := range rest {
			if m.rep.Ready() {
				return nil
			}
		}
		return errors.New("no new leader among the followers")
	})
	c.mustWriteLeader("OK", "SET", "k", "v")
	faults.Heal()
	c.converged()
}

// TestFaultsDropAndDelay keeps a cluster writable under message loss and
// delay (slower, but every acknowledged write is there).
func TestFaultsDropAndDelay(t *testing.T) {
	faults := NewFaults()
	c := newTCPFaultCluster(t, 3, faults)
	c.leader()
	faults.SetDrop(0.05)
	faults.SetDelay(2 * time.Millisecond)
	acked := 0
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; acked < 20 && time.Now().Before(deadline); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		for _, m := range c.members {
			if !m.rep.Ready() {
				continue
			}
			if got, err := write(ctx, m.rep, "RPUSH", "l", fmt.Sprint(i)); err == nil && got != "" {
				acked++
			}
			break
		}
		cancel()
	}
	if acked < 20 {
		t.Fatalf("only %d writes acknowledged under 5%% loss", acked)
	}
	faults.Heal()
	c.converged()
}

func TestFaultSpecRoundTrip(t *testing.T) {
	f := NewFaults()
	spec := FaultSpec{Cut: [][2]string{{"a:1", "b:2"}, {"b:2", "a:1"}}, Drop: 0.5, DelayMS: 3}
	f.Set(spec)
	if got := f.Spec(); !reflect.DeepEqual(got, spec) {
		t.Fatalf("spec %+v, want %+v", got, spec)
	}
	if !f.blocked("a:1", "b:2") || f.blocked("a:1", "c:3") {
		t.Fatal("cut matrix wrong")
	}
	f.Heal()
	if got := f.Spec(); len(got.Cut) != 0 || got.Drop != 0 || got.DelayMS != 0 {
		t.Fatalf("after heal %+v", got)
	}
}

// TestFaultsDialer: connections from the dialer obey cuts both ways (an
// open connection fails on its next write or read, a new dial is refused)
// and ignore drop and delay, which stay Raft-only.
func TestFaultsDialer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // echo server
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		}
	}()
	const local = "127.0.0.1:1"
	peer := ln.Addr().String()
	f := NewFaults()
	dial := f.Dialer(local)
	ctx := context.Background()
	roundTrip := func(c net.Conn) error {
		if _, err := c.Write([]byte("x")); err != nil {
			return err
		}
		_, err := io.ReadFull(c, make([]byte, 1))
		return err
	}
	tests := []struct {
		name              string
		spec              FaultSpec
		openFails, redial bool // the open connection fails; a new dial works
	}{
		{name: "no faults", redial: true},
		{name: "drop and delay do not apply", spec: FaultSpec{Drop: 1, DelayMS: 1}, redial: true},
		{name: "cut towards the peer", spec: FaultSpec{Cut: [][2]string{{local, peer}}}, openFails: true},
		{name: "cut from the peer", spec: FaultSpec{Cut: [][2]string{{peer, local}}}, openFails: true, redial: true},
		{name: "other links cut", spec: FaultSpec{Cut: [][2]string{{peer, "127.0.0.1:2"}}}, redial: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.Heal()
			c, err := dial(ctx, peer)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			f.Set(tc.spec)
			if err := roundTrip(c); (err != nil) != tc.openFails {
				t.Fatalf("open connection: %v, want failure %v", err, tc.openFails)
			} else if err != nil && !errors.Is(err, ErrFaultInjected) {
				t.Fatalf("open connection failed with %v, want ErrFaultInjected", err)
			}
			c2, err := dial(ctx, peer)
			if (err == nil) != tc.redial {
				t.Fatalf("new dial: %v, want success %v", err, tc.redial)
			}
			if err != nil && !errors.Is(err, ErrFaultInjected) {
				t.Fatalf("new dial failed with %v, want ErrFaultInjected", err)
			}
			if c2 != nil {
				c2.Close()
			}
		})
	}
}
