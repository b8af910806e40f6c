package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/testwait"
)

// sample is one parsed line of the text format.
type sample struct {
	name, labels string
	value        float64
}

// scrapeMetrics fetches /metrics and checks the format as Prometheus reads
// it: one HELP and one TYPE per family, before its samples, and samples of
// a family together.
func scrapeMetrics(t *testing.T, url string) []sample {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("content type %q", ct)
	}
	line := regexp.MustCompile(`^([a-z_]+)\{([^}]*)\} (\S+)$`)
	typed := map[string]bool{}
	done := map[string]bool{}
	cur := ""
	var out []sample
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		if rest, ok := strings.CutPrefix(l, "# TYPE "); ok {
			name := strings.Fields(rest)[0]
			if typed[name] {
				t.Fatalf("second TYPE for %s", name)
			}
			typed[name] = true
			continue
		}
		if strings.HasPrefix(l, "# HELP ") {
			continue
		}
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("bad sample line %q", l)
		}
		fam := m[1]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(fam, suffix); ok && typed[base] {
				fam = base // a histogram's samples
			}
		}
		if !typed[fam] {
			t.Fatalf("sample of %s before its TYPE", m[1])
		}
		if fam != cur {
			if done[fam] {
				t.Fatalf("samples of %s are not together", fam)
			}
			done[cur], cur = true, fam
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("value in %q: %v", l, err)
		}
		out = append(out, sample{m[1], m[2], v})
	}
	return out
}

// TestMetricsEndpoint: /metrics on a dev cluster shows every node, one
// leader, the keys on every replica and the commands run.
func TestMetricsEndpoint(t *testing.T) {
	dc := startDevCluster(t, devOptions{shards: 1, replicas: 3, basePort: freeBase(t, 3), logLevel: "error"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := startMetrics(ctx, "127.0.0.1:0", func() []*instance { return dc.instances }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + addr.String() + "/metrics"
	leader := dc.leader(t)
	c := client(t, leader, 2)
	for i := 0; i < 20; i++ {
		if err := c.Set(ctx, fmt.Sprintf("m:%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	sum := func(ss []sample, name, labelPart string) (total float64, n int) {
		for _, s := range ss {
			if s.name == name && strings.Contains(s.labels, labelPart) {
				total += s.value
				n++
			}
		}
		return total, n
	}
	testwait.Eventually(t, 10*time.Second, func() error {
		ss := scrapeMetrics(t, url)
		if _, n := sum(ss, "raftcache_node_info", ""); n != 3 {
			return fmt.Errorf("node_info for %d nodes", n)
		}
		if v, _ := sum(ss, "raftcache_is_leader", ""); v != 1 {
			return fmt.Errorf("%v leaders", v)
		}
		if v, n := sum(ss, "raftcache_keys", ""); v != 60 || n != 3 {
			return fmt.Errorf("keys %v over %d nodes, want 20 on each of 3", v, n)
		}
		id := leader.node.ID()
		if v, _ := sum(ss, "raftcache_command_calls_total", `node="`+id+`",cmd="set"`); v != 20 {
			return fmt.Errorf("set calls on the leader: %v", v)
		}
		if v, _ := sum(ss, "raftcache_command_latency_seconds_bucket", `node="`+id+`",cmd="set",le="+Inf"`); v != 20 {
			return fmt.Errorf("set latency histogram on the leader: %v in +Inf", v)
		}
		if v, _ := sum(ss, "raftcache_connected_replicas", `node="`+id+`"`); v != 2 {
			return fmt.Errorf("connected replicas of the leader: %v", v)
		}
		if _, n := sum(ss, "raftcache_raft_leader_last_contact_seconds", ""); n != 2 {
			return fmt.Errorf("last contact reported by %d followers", n)
		}
		return nil
	})
	// Anything else is not found.
	resp, err := http.Get("http://" + addr.String() + "/other")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/other: %d", resp.StatusCode)
	}
}
