package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/testwait"
)

// TestServerCommands: ROLE on the leader and a follower, SAVE/BGSAVE/
// LASTSAVE as Raft snapshots, and CLUSTER FAILOVER sent to a follower
// moving the shard's leadership to it.
func TestServerCommands(t *testing.T) {
	dc, _ := startTestDev(t, 3, t.TempDir())
	defer dc.close()
	ctx := context.Background()
	lead := dc.leader(t)
	follower := dc.follower(lead)
	lc, fc := client(t, lead, 2), client(t, follower, 2)
	for i := range 50 {
		if err := lc.Set(ctx, "sc:"+strconv.Itoa(i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}

	// ROLE: master with its two replicas; slave of the leader.
	testwait.Eventually(t, 10*time.Second, func() error {
		r, err := lc.Do(ctx, "role").Slice()
		if err != nil || len(r) != 3 || r[0] != "master" || r[1].(int64) < 50 || len(r[2].([]any)) != 2 {
			return fmt.Errorf("leader ROLE = %v, %v", r, err)
		}
		rep := r[2].([]any)[0].([]any)
		if rep[0] != "127.0.0.1" || rep[1] == "" {
			return fmt.Errorf("replica entry %v", rep)
		}
		return nil
	})
	r, err := fc.Do(ctx, "role").Slice()
	if err != nil || len(r) != 5 || r[0] != "slave" || r[1] != "127.0.0.1" || r[3] != "connected" {
		t.Fatalf("follower ROLE = %v, %v", r, err)
	}
	if want := lead.gw.Addr().String(); "127.0.0.1:"+strconv.FormatInt(r[2].(int64), 10) != want {
		t.Fatalf("follower ROLE names %v:%v, leader is %s", r[1], r[2], want)
	}

	// SAVE takes a snapshot now: LASTSAVE moves to it.
	before, err := fc.LastSave(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // LASTSAVE counts seconds
	if err := fc.Save(ctx).Err(); err != nil {
		t.Fatalf("SAVE: %v", err)
	}
	after, err := fc.LastSave(ctx).Result()
	if err != nil || after <= before {
		t.Fatalf("LASTSAVE %d after SAVE, %d before (%v)", after, before, err)
	}
	if info := fc.Info(ctx, "persistence").Val(); !strings.Contains(info, "rdb_last_save_time:"+strconv.FormatInt(after, 10)+"\r\n") {
		t.Fatalf("INFO persistence without rdb_last_save_time:%d:\n%s", after, info)
	}
	if v := fc.BgSave(ctx).Val(); v != "Background saving started" {
		t.Fatalf("BGSAVE = %q", v)
	}
	if err := fc.Do(ctx, "bgsave", "now").Err(); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Fatalf("BGSAVE now: %v", err)
	}

	// CLUSTER FAILOVER: refused on the leader, done on a follower.
	if err := lc.Do(ctx, "cluster", "failover").Err(); err == nil || !strings.Contains(err.Error(), "send CLUSTER FAILOVER to a replica") {
		t.Fatalf("CLUSTER FAILOVER on the leader: %v", err)
	}
	if err := fc.Do(ctx, "cluster", "failover", "nonsense").Err(); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Fatalf("CLUSTER FAILOVER nonsense: %v", err)
	}
	if err := fc.Do(ctx, "cluster", "failover").Err(); err != nil {
		t.Fatalf("CLUSTER FAILOVER on a follower: %v", err)
	}
	if !follower.node.IsLeader() {
		t.Fatal("the follower did not become the leader")
	}
	if v, err := fc.Get(ctx, "sc:49").Result(); err != nil || v != "49" {
		t.Fatalf("GET on the new leader = %q, %v", v, err)
	}
	if err := fc.Set(ctx, "sc:new", "x", 0).Err(); err != nil {
		t.Fatalf("SET on the new leader: %v", err)
	}
}

// TestPauseHoldsExpiry: while CLIENT PAUSE WRITE is in force on the
// leader, keys whose TTL passed read as missing but are not deleted
// (INFO expired_keys stays); CLIENT UNPAUSE deletes them before it
// answers (Redis's unit/pause "active and passive expires are skipped").
func TestPauseHoldsExpiry(t *testing.T) {
	dc, _ := startTestDev(t, 3, t.TempDir())
	defer dc.close()
	ctx := context.Background()
	lc := client(t, dc.leader(t), 2)
	expired := func() int64 {
		t.Helper()
		info, err := lc.Info(ctx, "stats").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "expired_keys:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		t.Fatalf("no expired_keys in %q", info)
		return 0
	}
	base := expired()
	tx := lc.TxPipeline()
	tx.Set(ctx, "px:{t}a", "1", 30*time.Millisecond)
	tx.Set(ctx, "px:{t}b", "1", 30*time.Millisecond)
	tx.Do(ctx, "client", "pause", "60000", "write")
	if _, err := tx.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 5*time.Second, func() error {
		if n, err := lc.Exists(ctx, "px:{t}a", "px:{t}b").Result(); err != nil || n != 0 {
			return fmt.Errorf("EXISTS = %d, %v; want both logically expired", n, err)
		}
		return nil
	})
	// Several expiry ticks (100 ms) pass under the pause: nothing deleted.
	time.Sleep(500 * time.Millisecond)
	if got := expired(); got != base {
		t.Fatalf("expired_keys went from %d to %d during the pause", base, got)
	}
	if err := lc.Do(ctx, "client", "unpause").Err(); err != nil {
		t.Fatal(err)
	}
	if got := expired(); got != base+2 {
		t.Fatalf("expired_keys %d right after UNPAUSE, want %d", got, base+2)
	}
}
