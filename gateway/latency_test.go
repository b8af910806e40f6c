package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestLatencyMonitor(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	c := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: 2})
	defer c.Close()
	ctx := context.Background()
	doctor := func() string {
		t.Helper()
		v, err := c.Do(ctx, "latency", "doctor").Text()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if d := doctor(); !strings.Contains(d, "Latency monitoring is disabled") {
		t.Fatalf("doctor while off: %q", d)
	}
	slow := "local x = 0 for i = 1, 1000000 do x = x + i end return x"
	if err := c.Eval(ctx, slow, nil).Err(); err != nil {
		t.Fatal(err)
	}
	if l, _ := c.Do(ctx, "latency", "latest").Slice(); len(l) != 0 {
		t.Fatalf("samples while off: %v", l)
	}
	if err := c.ConfigSet(ctx, "latency-monitor-threshold", "1").Err(); err != nil {
		t.Fatal(err)
	}
	if d := doctor(); !strings.Contains(d, "no latency spike was observed") {
		t.Fatalf("doctor with no spike: %q", d)
	}
	for i := 0; i < 2; i++ {
		if err := c.Eval(ctx, slow, nil).Err(); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Ping(ctx).Err() // fast: no sample
	l, err := c.Do(ctx, "latency", "latest").Slice()
	if err != nil || len(l) != 1 {
		t.Fatalf("LATENCY LATEST: %v %v", l, err)
	}
	e := l[0].([]any)
	if e[0] != "command" || e[2].(int64) < 1 || e[3].(int64) < e[2].(int64) {
		t.Fatalf("latest entry %v", e)
	}
	h, err := c.Do(ctx, "latency", "history", "command").Slice()
	if err != nil || len(h) < 1 || len(h) > 2 {
		t.Fatalf("LATENCY HISTORY: %v %v", h, err)
	}
	if d := doctor(); !strings.Contains(d, "1. command:") {
		t.Fatalf("doctor: %q", d)
	}
	if n, _ := c.Do(ctx, "latency", "reset", "nosuch").Int(); n != 0 {
		t.Fatalf("RESET nosuch: %d", n)
	}
	if n, _ := c.Do(ctx, "latency", "reset").Int(); n != 1 {
		t.Fatalf("RESET: %d", n)
	}
	if err := c.Do(ctx, "latency", "graph", "command").Err(); err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Fatalf("GRAPH: %v", err)
	}
}
