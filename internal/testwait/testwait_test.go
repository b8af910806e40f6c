package testwait

import (
	"errors"
	"testing"
	"time"
)

// recorder catches Fatalf without ending the calling goroutine's test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = format
	panic(r)
}

func run(d time.Duration, fn func() error) (failed bool) {
	r := &recorder{}
	defer func() {
		if v := recover(); v != nil {
			if v != r {
				panic(v)
			}
			failed = true
		}
	}()
	Eventually(r, d, fn)
	return false
}

func TestEventually(t *testing.T) {
	calls := 0
	if run(time.Second, func() error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	}) {
		t.Fatal("failed although the condition came true")
	}
	if calls != 3 {
		t.Fatalf("%d calls, want 3", calls)
	}
	start := time.Now()
	if !run(30*time.Millisecond, func() error { return errors.New("never") }) {
		t.Fatal("did not fail on a condition that never holds")
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Fatal("gave up before the deadline")
	}
}
