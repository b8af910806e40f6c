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
	if err := c.Do(ctx, "latency", "graph", "command").Err(); err == nil || err.Error() != "ERR No samples available for event 'command'" {
		t.Fatalf("GRAPH after RESET: %v", err)
	}
}

// TestLatencyGraph: the graph of samples recorded from a real
// redis-server 7.0.15 (DEBUG SLEEP of 3, 12, 50, 21, 6 and 30 ms a second
// apart, LATENCY GRAPH command at Unix time 1796426840) is the text it
// printed, byte for byte.
func TestLatencyGraph(t *testing.T) {
	samples := []latencySample{{1796426833, 3}, {1796426835, 12}, {1796426836, 50}, {1796426837, 21}, {1796426838, 6}, {1796426839, 30}}
	want := "command - high 50 ms, low 3 ms (all time high 50 ms)\n" +
		strings.Repeat("-", 80) + "\n" +
		"  #   \n" +
		"  |  _\n" +
		"  |o |\n" +
		"_#||_|\n" +
		"      \n" +
		"754321\n" +
		"ssssss\n"
	if got := latencyGraph("command", samples, 50, 1796426840); got != want {
		t.Fatalf("graph:\n%s\nwant:\n%s", got, want)
	}
	// Over 80 samples the graph wraps, a blank line between runs; equal
	// values draw the lowest bar; ages in minutes, hours and days.
	var many []latencySample
	for i := range 81 {
		many = append(many, latencySample{int64(i), 7})
	}
	g := latencyGraph("fast-command", many, 9, 90000)
	lines := strings.Split(g, "\n")
	if lines[0] != "fast-command - high 7 ms, low 7 ms (all time high 9 ms)" || lines[5] != strings.Repeat("_", 80) || lines[7] != strings.Repeat("1", 80) {
		t.Fatalf("wrapped graph:\n%s", g)
	}
	for _, tc := range []struct {
		sec  int64
		want string
	}{{0, "0s"}, {59, "59s"}, {60, "1m"}, {3599, "59m"}, {3600, "1h"}, {86399, "23h"}, {86400, "1d"}} {
		if got := ageLabel(tc.sec); got != tc.want {
			t.Errorf("ageLabel(%d) = %q, want %q", tc.sec, got, tc.want)
		}
	}
}

func TestHistBuckets(t *testing.T) {
	// Every value lies in its bucket's range, buckets are contiguous and
	// the relative width stays under 1%.
	prevHigh := int64(-1)
	for i := 0; i < histBuckets; i++ {
		high := histHigh(i)
		if high <= prevHigh {
			t.Fatalf("bucket %d high %d after %d", i, high, prevHigh)
		}
		low := prevHigh + 1
		if histIndex(low) != i || histIndex(high) != i {
			t.Fatalf("bucket %d [%d, %d]: index(low)=%d index(high)=%d", i, low, high, histIndex(low), histIndex(high))
		}
		if low >= 256 && float64(high-low+1)/float64(low) > 0.01 {
			t.Fatalf("bucket %d [%d, %d] wider than 1%%", i, low, high)
		}
		prevHigh = high
	}
	if histIndex(histMaxNs) >= histBuckets {
		t.Fatalf("1 s maps to bucket %d of %d", histIndex(histMaxNs), histBuckets)
	}
	counts := make([]int64, histBuckets)
	for _, v := range []int64{100, 200, 300, 400, 1000, 2000, 3000, 5000, 9000, 500_000} {
		counts[histIndex(v)]++
	}
	for _, tc := range []struct {
		p    float64
		want int64
	}{{0, 100}, {50, 1000}, {90, 9000}, {99, 500_000}, {100, 500_000}} {
		got := percentile(counts, 10, tc.p)
		if got < tc.want || float64(got-tc.want) > 0.01*float64(tc.want) {
			t.Errorf("p%v = %d, want about %d", tc.p, got, tc.want)
		}
	}
}

// TestLatencyHistogram follows Redis's unit/latency-monitor histogram tests
// and checks INFO latencystats and the two configs.
func TestLatencyHistogram(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: proto})
		defer c.Close()
		histo := func(names ...any) map[string]map[string]any {
			t.Helper()
			v, err := c.Do(ctx, append([]any{"latency", "histogram"}, names...)...).Result()
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]map[string]any{}
			add := func(k, v any) {
				m := map[string]any{}
				switch e := v.(type) {
				case []any: // RESP2: flat pairs
					for i := 0; i+1 < len(e); i += 2 {
						m[e[i].(string)] = e[i+1]
					}
				case map[any]any:
					for k2, v2 := range e {
						m[k2.(string)] = v2
					}
				}
				out[k.(string)] = m
			}
			switch r := v.(type) {
			case []any:
				for i := 0; i+1 < len(r); i += 2 {
					add(r[i], r[i+1])
				}
			case map[any]any:
				for k, v := range r {
					add(k, v)
				}
			}
			return out
		}
		if err := c.ConfigResetStat(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if h := histo(); len(h) != 1 || h["config|resetstat"]["calls"] != int64(1) {
			t.Fatalf("RESP%d after RESETSTAT: %v", proto, h)
		}
		c.Set(ctx, "a", "b", 0)
		c.Set(ctx, "c", "d", 0)
		c.Get(ctx, "a")
		pipe := c.Pipeline()
		for range 5 {
			pipe.Get(ctx, "a")
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		c.ClientID(ctx)
		c.ClientList(ctx)
		h := histo("set", "get", "client", "blabla")
		for name := range h {
			if name != "set" && name != "get" && !strings.HasPrefix(name, "client|") {
				t.Fatalf("RESP%d histogram has %s: %v", proto, name, h)
			}
		}
		if h["set"]["calls"] != int64(2) || h["get"]["calls"] != int64(6) ||
			h["client|id"]["calls"] != int64(1) || h["client|list"]["calls"] != int64(1) {
			t.Fatalf("RESP%d histogram: %v", proto, h)
		}
		// histogram_usec: cumulative counts at power-of-two bounds, the
		// last one the number of calls.
		var last int64
		switch b := h["get"]["histogram_usec"].(type) {
		case []any:
			for i := 0; i+1 < len(b); i += 2 {
				if n := b[i+1].(int64); n <= last {
					t.Fatalf("not cumulative: %v", b)
				} else {
					last = n
				}
			}
		case map[any]any:
			for _, n := range b {
				last = max(last, n.(int64))
			}
		}
		if last != 6 {
			t.Fatalf("RESP%d get buckets end at %d: %v", proto, last, h["get"])
		}
		if h := histo("client|id"); len(h) != 1 {
			t.Fatalf("client|id alone: %v", h)
		}
		if h := histo("nosuch"); len(h) != 0 {
			t.Fatalf("unknown command: %v", h)
		}
		info, err := c.Info(ctx, "latencystats").Result()
		if err != nil || !strings.Contains(info, "# Latencystats") || !strings.Contains(info, "latency_percentiles_usec_get:p50=") ||
			!strings.Contains(info, ",p99.9=") || !strings.Contains(info, "latency_percentiles_usec_client|id:") {
			t.Fatalf("INFO latencystats: %q %v", info, err)
		}
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr().String()})
	defer c.Close()
	if v := c.ConfigGet(ctx, "latency-tracking-info-percentiles").Val(); v["latency-tracking-info-percentiles"] != "50 99 99.9" {
		t.Fatalf("default percentiles: %v", v)
	}
	for _, bad := range []string{"101", "-1", "abc"} {
		if err := c.ConfigSet(ctx, "latency-tracking-info-percentiles", bad).Err(); err == nil {
			t.Fatalf("percentiles %q accepted", bad)
		}
	}
	// Rendered as redis-server 7.0.15 does: "%f", trailing zeros trimmed.
	if err := c.ConfigSet(ctx, "latency-tracking-info-percentiles", "0.0 50.0 100.0").Err(); err != nil {
		t.Fatal(err)
	}
	if v := c.ConfigGet(ctx, "latency-tracking-info-percentiles").Val(); v["latency-tracking-info-percentiles"] != "0 50 100" {
		t.Fatalf("percentiles after setting 0.0 50.0 100.0: %v", v)
	}
	if err := c.ConfigSet(ctx, "latency-tracking-info-percentiles", "75 100").Err(); err != nil {
		t.Fatal(err)
	}
	if info := c.Info(ctx, "latencystats").Val(); !strings.Contains(info, "latency_percentiles_usec_get:p75=") || !strings.Contains(info, ",p100=") {
		t.Fatalf("INFO with p75 p100: %q", info)
	}
	// latency-tracking no: nothing recorded, the section is empty.
	c.ConfigSet(ctx, "latency-tracking", "no")
	c.ConfigResetStat(ctx)
	c.Get(ctx, "a")
	if v, _ := c.Do(ctx, "latency", "histogram").Slice(); len(v) != 0 {
		t.Fatalf("histogram with tracking off: %v", v)
	}
	if info := c.Info(ctx, "latencystats").Val(); strings.Contains(info, "latency_percentiles") {
		t.Fatalf("latencystats with tracking off: %q", info)
	}
}
