package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestClientUnblock(t *testing.T) {
	s := mustServer(t, newFakeBackend())
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		unblock func(c *redis.Client, id int64) *redis.IntCmd
		check   func(err error) bool
	}{
		{"timeout", func(c *redis.Client, id int64) *redis.IntCmd { return c.ClientUnblock(ctx, id) },
			func(err error) bool { return err == redis.Nil }},
		{"error", func(c *redis.Client, id int64) *redis.IntCmd { return c.ClientUnblockWithError(ctx, id) },
			func(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "UNBLOCKED") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blocked := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: 2})
			defer blocked.Close()
			ctl := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: 2})
			defer ctl.Close()
			conn := blocked.Conn()
			defer conn.Close()
			id, err := conn.ClientID(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- conn.BLPop(ctx, 0, "nothing-here").Err() }()
			deadline := time.Now().Add(5 * time.Second)
			for {
				n, err := tc.unblock(ctl, id).Result()
				if err != nil {
					t.Fatal(err)
				}
				if n == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("client never became unblockable")
				}
				time.Sleep(5 * time.Millisecond)
			}
			select {
			case err := <-done:
				if !tc.check(err) {
					t.Fatalf("unblocked BLPOP returned %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("BLPOP still blocked after CLIENT UNBLOCK")
			}
			if n, _ := ctl.ClientUnblock(ctx, id).Result(); n != 0 {
				t.Fatalf("unblocking an idle client = %d, want 0", n)
			}
		})
	}
}
