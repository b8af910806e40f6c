package node

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestBoundaryAfter(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		now  string
		iv   time.Duration
		want string
	}{
		{"2026-12-03T17:00:00Z", time.Hour, "2026-12-03T18:00:00Z"}, // on a boundary: the next one
		{"2026-12-03T17:59:59.999Z", time.Hour, "2026-12-03T18:00:00Z"},
		{"2026-12-03T17:00:00.5Z", time.Second, "2026-12-03T17:00:01Z"},
		{"2026-12-03T17:04:00Z", 24 * time.Hour, "2026-12-04T00:00:00Z"}, // daily: midnight UTC
		{"2026-12-03T18:04:00+02:00", 24 * time.Hour, "2026-12-04T00:00:00Z"},
		{"2026-12-03T17:04:00Z", 15 * time.Minute, "2026-12-03T17:15:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.now+"/"+tc.iv.String(), func(t *testing.T) {
			got := boundaryAfter(at(tc.now), tc.iv)
			if !got.Equal(at(tc.want)) || got.Location() != time.UTC {
				t.Fatalf("boundaryAfter = %v, want %s", got, tc.want)
			}
		})
	}
}

func TestConfigBackup(t *testing.T) {
	tests := []struct {
		name       string
		dir        string
		interval   time.Duration
		retain     int
		wantRetain int
		err        string
	}{
		{name: "off", wantRetain: DefaultBackupRetain},
		{name: "on", dir: "/b", interval: time.Hour, retain: 2, wantRetain: 2},
		{name: "default retain", dir: "/b", interval: time.Hour, wantRetain: DefaultBackupRetain},
		{name: "no dir", interval: time.Hour, err: "backup dir"},
		{name: "negative interval", dir: "/b", interval: -time.Second, err: "backup interval"},
		{name: "negative retain", dir: "/b", interval: time.Hour, retain: -1, err: "backup retain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{NodeID: "n1", DataDir: "/d", Port: 7000, BackupDir: tc.dir, BackupInterval: tc.interval, BackupRetain: tc.retain}
			err := c.Validate()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Validate() = %v, want an error with %q", err, tc.err)
				}
				return
			}
			if err != nil || c.BackupRetain != tc.wantRetain {
				t.Fatalf("Validate() = %v, retain %d, want %d", err, c.BackupRetain, tc.wantRetain)
			}
		})
	}
}

// TestRetryUnavailable: an automatic backup retries while a shard is
// unavailable (a leader election), until its deadline; any other outcome
// ends it at once.
func TestRetryUnavailable(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "shard 1 has no leader")
	other := errors.New("disk full")
	for _, tc := range []struct {
		name      string
		results   []error // what fn returns, call after call (the last repeats)
		window    time.Duration
		want      error
		wantCalls int // exact; 0: at least 2
	}{
		{"succeeds after two elections", []error{unavailable, unavailable, nil}, time.Minute, nil, 3},
		{"another error is not retried", []error{other}, time.Minute, other, 1},
		{"not the acting node any more", []error{unavailable, errNotActing}, time.Minute, errNotActing, 2},
		{"gives up at the deadline", []error{unavailable}, 100 * time.Millisecond, unavailable, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := retryUnavailable(context.Background(), time.Now().Add(tc.window), 10*time.Millisecond, func() error {
				r := tc.results[min(calls, len(tc.results)-1)]
				calls++
				return r
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if tc.wantCalls > 0 && calls != tc.wantCalls || tc.wantCalls == 0 && calls < 2 {
				t.Fatalf("%d calls, want %d (0: at least 2)", calls, tc.wantCalls)
			}
		})
	}
}
