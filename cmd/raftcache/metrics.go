package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/raftcache/raftcache/gateway"
)

// startMetrics serves the instances' metrics in Prometheus's text format
// on addr at /metrics until ctx ends; "" disables it. Every sample carries
// a node label (dev serves all its nodes on one address).
func startMetrics(ctx context.Context, addr string, instances func() []*instance, logger *slog.Logger) (net.Addr, error) {
	if addr == "" {
		return nil, nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		writeMetrics(w, instances())
	})
	return serveHTTP(ctx, "metrics", addr, mux, logger)
}

// writeMetrics renders the samples grouped by family (one HELP and TYPE
// each, as the format requires), families in order of first appearance.
func writeMetrics(w io.Writer, instances []*instance) {
	type family struct {
		help, typ string
		lines     []string
	}
	fams := map[string]*family{}
	var order []string
	add := func(m gateway.Metric, labels [][2]string) {
		key := m.Name
		if m.Family != "" {
			key = m.Family // a histogram's _bucket, _sum and _count
		}
		f := fams[key]
		if f == nil {
			f = &family{help: m.Help, typ: m.Type}
			fams[key] = f
			order = append(order, key)
		}
		var b strings.Builder
		b.WriteString(m.Name)
		b.WriteByte('{')
		for i, l := range append(labels, m.Labels...) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(l[0])
			b.WriteString(`="`)
			b.WriteString(escapeLabel(l[1]))
			b.WriteByte('"')
		}
		b.WriteString("} ")
		b.WriteString(formatValue(m.Value))
		f.lines = append(f.lines, b.String())
	}
	for _, inst := range instances {
		id := inst.node.ID()
		node := [][2]string{{"node", id}}
		add(gateway.Metric{Name: "raftcache_node_info", Type: "gauge", Value: 1,
			Help: "Always 1; labels name the node, its availability zone and its shard (-1: spare)."},
			[][2]string{{"node", id}, {"az", inst.node.AZ()}, {"shard", strconv.Itoa(inst.node.ShardID())}, {"version", version}})
		for _, m := range inst.gw.Metrics() {
			add(m, node)
		}
	}
	for _, name := range order {
		f := fams[name]
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, f.help, name, f.typ)
		for _, l := range f.lines {
			fmt.Fprintln(w, l)
		}
	}
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
