package main

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/raftcache/raftcache/shard"
)

// TestDevDiskFailureStopsOneNode: in a dev cluster, the node whose disk
// fails (a stall caught by the watchdog, or I/O errors) stops, client port
// included, without acknowledging the write it was persisting; the other
// nodes of the process go on and elect a leader that takes writes.
func TestDevDiskFailureStopsOneNode(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inject func(f *shard.Faults, id string, on bool)
	}{
		{"stall", (*shard.Faults).StallDisk},
		{"error", (*shard.Faults).FailDisk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			faults := shard.NewFaults()
			o := devOptions{shards: 1, replicas: 3, basePort: freeBase(t, 3), logLevel: "error",
				diskStallTimeout: 500 * time.Millisecond, faults: faults}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			dc, err := startDev(ctx, o, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer dc.close()
			lead := dc.leader(t)
			if err := client(t, lead, 2).Set(ctx, "k", "v1", 0).Err(); err != nil {
				t.Fatal(err)
			}
			tc.inject(faults, lead.node.ID(), true)
			wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
			err = client(t, lead, 2).Set(wctx, "k", "lost", 0).Err()
			wcancel()
			if err == nil {
				t.Fatal("write acknowledged by a node whose disk failed")
			}
			testwait.Eventually(t, 20*time.Second, func() error {
				c, err := net.DialTimeout("tcp", lead.gw.Addr().String(), time.Second)
				if err == nil {
					c.Close()
					return errors.New("the failed node still accepts clients")
				}
				return nil
			})
			if derr := lead.node.Replica().DiskErr(); !errors.Is(derr, shard.ErrDiskFailed) {
				t.Fatalf("failed node's disk error %v", derr)
			}
			var next *instance
			testwait.Eventually(t, 20*time.Second, func() error {
				for _, inst := range dc.instances {
					if inst != lead && inst.node.IsLeader() && inst.node.Replica().Ready() {
						next = inst
						return nil
					}
				}
				return errors.New("no new leader")
			})
			nc := client(t, next, 2)
			testwait.Eventually(t, 10*time.Second, func() error { return nc.Set(ctx, "k", "v2", 0).Err() })
			for _, inst := range dc.instances { // the rest of the process still serves
				if inst == lead {
					continue
				}
				if err := client(t, inst, 2).Ping(ctx).Err(); err != nil {
					t.Fatalf("node %s after the failure: %v", inst.node.ID(), err)
				}
			}
			if v, err := nc.Get(ctx, "k").Result(); err != nil || v != "v2" {
				t.Fatalf("GET k = %q, %v", v, err)
			}
			tc.inject(faults, lead.node.ID(), false)
		})
	}
}
