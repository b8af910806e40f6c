package node

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counter hands out the batches 0..n-1.
func counter(n int) func(context.Context) (int, bool, error) {
	i := 0
	return func(context.Context) (int, bool, error) {
		if i == n {
			return 0, false, nil
		}
		i++
		return i - 1, true, nil
	}
}

func TestInFlightWindow(t *testing.T) {
	for _, window := range []int{1, 4} {
		var cur, peak atomic.Int32
		var mu sync.Mutex
		seen := map[int]bool{}
		err := inFlight(context.Background(), window, 0, counter(40), func(ctx context.Context, b int) error {
			c := cur.Add(1)
			for p := peak.Load(); c > p && !peak.CompareAndSwap(p, c); p = peak.Load() {
			}
			time.Sleep(2 * time.Millisecond)
			cur.Add(-1)
			mu.Lock()
			seen[b] = true
			mu.Unlock()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 40 {
			t.Fatalf("window %d: %d of 40 batches sent", window, len(seen))
		}
		// Each send sleeps, so the window fills (at most window at once).
		if p := peak.Load(); p != int32(window) {
			t.Fatalf("window %d: %d batches in flight at most", window, p)
		}
	}
}

// TestInFlightRest: with one in flight, the next batch starts at least
// rest x the previous batch's time after it ended (a lower bound: sleeping
// can only take longer).
func TestInFlightRest(t *testing.T) {
	type call struct{ start, end time.Time }
	var calls []call
	err := inFlight(context.Background(), 1, 2, counter(3), func(ctx context.Context, b int) error {
		c := call{start: time.Now()}
		time.Sleep(5 * time.Millisecond)
		c.end = time.Now()
		calls = append(calls, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(calls); i++ {
		took, gap := calls[i-1].end.Sub(calls[i-1].start), calls[i].start.Sub(calls[i-1].end)
		if gap < 2*took {
			t.Fatalf("rest after batch %d: %v, want at least 2 x its %v", i-1, gap, took)
		}
	}
}

func TestInFlightErrors(t *testing.T) {
	boom := errors.New("boom")
	// A failed send stops the rest: the others see a canceled context
	// and no batch starts after the failure is known.
	var sent atomic.Int32
	err := inFlight(context.Background(), 2, 0, counter(1000), func(ctx context.Context, b int) error {
		sent.Add(1)
		switch {
		case b < 3:
			return nil
		case b == 3:
			return boom
		}
		<-ctx.Done()
		return ctx.Err()
	})
	if !errors.Is(err, boom) || sent.Load() > 6 {
		t.Fatalf("err %v after %d sends, want boom after at most 6", err, sent.Load())
	}
	// A failed read is returned once the batches in flight end.
	var done atomic.Int32
	i := 0
	err = inFlight(context.Background(), 4, 0, func(context.Context) (int, bool, error) {
		if i == 2 {
			return 0, false, boom
		}
		i++
		return i, true, nil
	}, func(ctx context.Context, b int) error {
		<-ctx.Done()
		done.Add(1)
		return nil
	})
	if !errors.Is(err, boom) || done.Load() != 2 {
		t.Fatalf("err %v with %d sends ended, want boom after both", err, done.Load())
	}
	// The caller's cancellation is the result when nothing failed.
	ctx, cancel := context.WithCancel(context.Background())
	err = inFlight(ctx, 1, 0, counter(1000), func(ctx context.Context, b int) error {
		if b == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
}
