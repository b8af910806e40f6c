package node

import (
	"strings"
	"testing"
	"time"
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
