package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/slots"
)

// TestAdminAddRemoveShardUnderLoad grows a 2-shard cluster to 3 with
// AddShard (rebalance by slots) and shrinks it back with RemoveShard while
// a go-redis ClusterClient writes and reads. Afterwards no client call
// failed, every acknowledged write reads back, the shards hold exactly the
// written keys (each once) and redis-cli --cluster check passes. It skips
// while the slot-migration engine is the placeholder (node/reshard_stub.go).
func TestAdminAddRemoveShardUnderLoad(t *testing.T) {
	dc, ac := startAdminCluster(t)
	ctx := context.Background()
	cc := clusterClient(t, dc, &redis.ClusterOptions{ClusterStateReloadInterval: time.Second, MaxRedirects: 16})

	var mu sync.Mutex
	acked := map[string]string{}
	var clientErrs []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k, v := fmt.Sprintf("load:%d:%d", w, i%3000), fmt.Sprintf("v%d", i)
				err := cc.Set(ctx, k, v, 0).Err()
				mu.Lock()
				if err != nil {
					clientErrs = append(clientErrs, "SET "+k+": "+err.Error())
				} else {
					acked[k] = v
				}
				mu.Unlock()
				if err == nil {
					got, err := cc.Get(ctx, k).Result()
					if err != nil || got != v {
						mu.Lock()
						clientErrs = append(clientErrs, fmt.Sprintf("GET %s = %q, %v (want %q)", k, got, err, v))
						mu.Unlock()
					}
				}
			}
		}(w)
	}
	stopLoad := func() {
		select {
		case <-stop:
		default:
			close(stop)
			wg.Wait()
		}
	}
	defer stopLoad()
	time.Sleep(500 * time.Millisecond)

	add, err := ac.AddShard(ctx, &adminv1.AddShardRequest{RebalanceBy: adminv1.RebalanceBy_REBALANCE_BY_SLOTS, Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	final := waitOp(t, ac, add.GetOperation().GetId())
	if final.GetState() == adminv1.OperationState_OPERATION_STATE_FAILED && strings.Contains(final.GetError(), "slot migration not built yet") {
		t.Skip("slot migration engine not built yet (node/reshard_stub.go)")
	}
	if final.GetState() != adminv1.OperationState_OPERATION_STATE_DONE {
		t.Fatalf("add-shard: %s", final.GetError())
	}
	t.Logf("add-shard: %d slots, %d keys, %.1f MB in %v", final.GetSlotsDone(), final.GetKeysMoved(), float64(final.GetBytesMoved())/1e6,
		final.GetFinished().AsTime().Sub(final.GetStarted().AsTime()))
	eventually(t, 10*time.Second, func() error {
		d := describe(t, ac)
		for _, sh := range d.GetShards() {
			if c := sh.GetSlotCount(); c < slots.Count/3-1 || c > slots.Count/3+1 {
				return fmt.Errorf("shard %d has %d slots after add-shard", sh.GetId(), c)
			}
		}
		if len(d.GetShards()) != 3 {
			return fmt.Errorf("%d shards", len(d.GetShards()))
		}
		return nil
	})

	rm, err := ac.RemoveShard(ctx, &adminv1.RemoveShardRequest{Shard: add.GetShard(), Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	mustDone(t, ac, rm.GetOperation())
	eventually(t, 10*time.Second, func() error {
		d := describe(t, ac)
		if len(d.GetShards()) != 2 || d.GetSlotsAssigned() != slots.Count || len(d.GetSpares()) != 3 {
			return fmt.Errorf("after remove-shard: %v, spares %v", d.GetShards(), d.GetSpares())
		}
		return nil
	})
	stopLoad()

	if len(clientErrs) > 0 {
		t.Errorf("%d client errors during resharding, first: %s", len(clientErrs), clientErrs[0])
	}
	for k, v := range acked {
		if got, err := cc.Get(ctx, k).Result(); err != nil || got != v {
			t.Fatalf("acknowledged %s=%s reads %q, %v", k, v, got, err)
		}
	}
	// Each key lives once, on its owning shard's leader.
	total := int64(0)
	for _, sh := range describe(t, ac).GetShards() {
		c := redis.NewClient(&redis.Options{Addr: dc.byID(sh.GetLeader()).gw.Addr().String()})
		n, err := c.DBSize(ctx).Result()
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total != int64(len(acked)) {
		t.Fatalf("shards hold %d keys, %d distinct keys were written", total, len(acked))
	}
	if cli, err := exec.LookPath("redis-cli"); err == nil {
		host, port, _ := net.SplitHostPort(dc.addrs()[0])
		out, err := exec.Command(cli, "--cluster", "check", host+":"+port).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "[OK] All 16384 slots covered") {
			t.Fatalf("redis-cli --cluster check: %v\n%s", err, out)
		}
	}
}
