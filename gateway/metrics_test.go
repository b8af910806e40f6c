package gateway

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestMetrics(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	c := redis.NewClient(&redis.Options{Addr: s.Addr().String()})
	defer c.Close()
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := c.Set(ctx, "k"+string(rune('a'+i)), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Get(ctx, "ka").Err()
	errsBefore := s.stats.errorLines()
	_ = c.Do(ctx, "nosuchcommand").Err()
	_ = c.Do(ctx, "get").Err() // wrong arity: rejected
	before := 0.0
	for _, l := range errsBefore {
		if v, ok := strings.CutPrefix(l, "errorstat_ERR:"); ok {
			before, _ = statField(v, "count")
		}
	}

	ms := s.Metrics()
	name := regexp.MustCompile(`^raftcache_[a-z_]+$`)
	find := func(n string, labels ...string) (float64, bool) {
		for _, m := range ms {
			if m.Name != n {
				continue
			}
			match := true
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.Labels {
					if l[0] == labels[i] && l[1] == labels[i+1] {
						found = true
					}
				}
				match = match && found
			}
			if match {
				return m.Value, true
			}
		}
		return 0, false
	}
	for _, m := range ms {
		if !name.MatchString(m.Name) {
			t.Errorf("metric name %q", m.Name)
		}
		if (m.Type == "counter") != strings.HasSuffix(m.Name, "_total") {
			t.Errorf("%s is a %s: counters, and only they, end in _total", m.Name, m.Type)
		}
		if m.Help == "" {
			t.Errorf("%s has no help", m.Name)
		}
	}
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"raftcache_command_calls_total", []string{"cmd", "set"}, 5},
		{"raftcache_command_calls_total", []string{"cmd", "get"}, 1},
		{"raftcache_command_rejected_total", []string{"cmd", "get"}, 1},
		{"raftcache_keys", nil, 5},
		{"raftcache_connected_clients", nil, 1},
		{"raftcache_errors_total", []string{"error", "ERR"}, before + 2},
		{"raftcache_keyspace_hits_total", nil, 1},
	}
	for _, tc := range tests {
		got, ok := find(tc.name, tc.labels...)
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	// The latency histogram of SET: cumulative buckets ending in +Inf at
	// its calls, and _count equal to them.
	prev, buckets := -1.0, 0
	for _, m := range ms {
		if m.Name != "raftcache_command_latency_seconds_bucket" || m.Labels[0][1] != "set" {
			continue
		}
		if m.Family != "raftcache_command_latency_seconds" || m.Type != "histogram" || m.Value < prev {
			t.Fatalf("bucket %+v after %v", m, prev)
		}
		prev = m.Value
		buckets++
	}
	if c, _ := find("raftcache_command_latency_seconds_count", "cmd", "set"); buckets != 22 || prev != 5 || c != 5 {
		t.Fatalf("set histogram: %d buckets, +Inf %v, count %v", buckets, prev, c)
	}
}
