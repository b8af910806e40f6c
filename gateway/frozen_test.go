package gateway

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

const frozenText = "TRYAGAIN Slot is being moved to another shard, retry shortly"

// frozenBackend answers every write to a frozen slot with the migration's
// TRYAGAIN until thawed, and implements the optional slot waiter.
type frozenBackend struct {
	*fakeBackend
	slot   slots.Slot
	frozen atomic.Bool
	waited atomic.Int64 // WaitSlotUnfrozen calls for slot
}

func (b *frozenBackend) Write(ctx context.Context, cmds [][][]byte) ([]raftfsm.Reply, error) {
	if b.frozen.Load() {
		out := make([]raftfsm.Reply, len(cmds))
		for i := range out {
			out[i] = raftfsm.Err(frozenText)
		}
		return out, nil
	}
	return b.fakeBackend.Write(ctx, cmds)
}

func (b *frozenBackend) WaitSlotUnfrozen(ctx context.Context, s slots.Slot, max time.Duration) {
	if s != b.slot {
		return
	}
	b.waited.Add(1)
	deadline := time.Now().Add(max)
	for b.frozen.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// TestFrozenSlotReplyHeldUntilThaw: a frozen slot's TRYAGAIN is held back
// until the freeze ends (bounded), so that go-redis, whose TRYAGAIN
// retries are only tens of milliseconds apart, succeeds on its retry
// instead of surfacing the error.
func TestFrozenSlotReplyHeldUntilThaw(t *testing.T) {
	if !raftfsm.IsFrozenReply(frozenText) {
		t.Fatal("the frozen-slot text changed; update the test")
	}
	b := &frozenBackend{fakeBackend: newFakeBackend(), slot: slots.OfString("k")}
	s := mustServer(t, b)
	c := redis.NewClient(&redis.Options{Addr: s.Addr().String()}) // default retries
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()

	b.frozen.Store(true)
	go func() { time.Sleep(120 * time.Millisecond); b.frozen.Store(false) }()
	start := time.Now()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET during a 120 ms freeze: %v (go-redis gave up)", err)
	}
	if b.waited.Load() == 0 {
		t.Fatal("the gateway never waited for the slot")
	}
	t.Logf("SET succeeded %v after a freeze of 120 ms", time.Since(start).Round(time.Millisecond))

	// A freeze that outlasts the hold still answers TRYAGAIN, in bounded time.
	b.frozen.Store(true)
	r := mustRaw(t, s)
	start = time.Now()
	r.send(cmd("SET", "k", "w"))
	if got := r.readReply(); got != "-"+frozenText {
		t.Fatalf("reply %q, want the TRYAGAIN", got)
	}
	if d := time.Since(start); d < frozenHold/2 || d > 5*time.Second {
		t.Fatalf("held %v, want about %v", d, frozenHold)
	}
	b.frozen.Store(false)
}
