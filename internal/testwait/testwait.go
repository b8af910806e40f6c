// Package testwait polls a condition in tests until it holds or a deadline
// passes (clusters converge asynchronously: elections, gossip, catch-up).
package testwait

import (
	"testing"
	"time"
)

// Poll is how often Eventually retries.
const Poll = 10 * time.Millisecond

// Eventually calls fn until it returns nil; after d it fails the test with
// fn's last error.
func Eventually(t testing.TB, d time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", d, err)
		}
		time.Sleep(Poll)
	}
}
