package node

import (
	"context"
	"sync"
	"time"
)

// inFlight sends the batches next produces, up to window of them at once,
// and returns when all have been sent or one failed (its error; the
// context passed to the others is canceled). next reports false when
// there is nothing more; it runs on the caller's goroutine, send on one of
// its own per batch. With rest > 0 a batch that took d keeps its place in
// the window for rest x d more: a paced sender yields that share of the
// time to everything else on the machine (a slot move's pause_percent).
func inFlight[B any](parent context.Context, window int, rest float64, next func(ctx context.Context) (B, bool, error), send func(ctx context.Context, b B) error) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	slots := make(chan struct{}, max(window, 1))
	for ctx.Err() == nil {
		b, ok, err := next(ctx)
		if err != nil {
			fail(err)
			break
		}
		if !ok {
			break
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			began := time.Now()
			if err := send(ctx, b); err != nil {
				fail(err)
				return
			}
			if rest > 0 {
				t := time.NewTimer(time.Duration(rest * float64(time.Since(began))))
				defer t.Stop()
				select {
				case <-t.C:
				case <-ctx.Done():
				}
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if firstErr != nil {
		return firstErr
	}
	return parent.Err()
}
