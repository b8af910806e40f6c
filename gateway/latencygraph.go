package gateway

import (
	"fmt"
	"strings"
	"time"
)

// LATENCY GRAPH <event>: Redis's ASCII sparkline of an event's samples
// (latency.c, sparkline.c): a title line, a rule of 80 dashes, then per 80
// samples 4 rows of bars ('_', 'o', '#' within a row, '|' for the rows
// below a sample's top) and, under one blank row, each sample's age as a
// vertical label ("12s", "3m", "1h", "2d").

const (
	graphCols  = 80 // LATENCY_GRAPH_COLS
	graphRows  = 4
	graphChars = "_o#" // the fill charset, lowest first
)

func latencyGraphCmd(s *Server, c *client, args [][]byte) {
	m := &s.latency
	m.mu.Lock()
	ts := m.events[string(args[2])]
	var samples []latencySample
	var allTime int64
	if ts != nil {
		samples = append(samples, ts.samples...)
		allTime = ts.max
	}
	m.mu.Unlock()
	if len(samples) == 0 {
		s.replyError(c, nil, fmt.Sprintf("ERR No samples available for event '%s'", args[2]))
		return
	}
	c.out = appendVerbatim(c.out, latencyGraph(string(args[2]), samples, allTime, time.Now().Unix()), c.resp)
}

// latencyGraph renders samples (oldest first) as LATENCY GRAPH does at
// Unix time now.
func latencyGraph(event string, samples []latencySample, allTime, now int64) string {
	lo, hi := samples[0].ms, samples[0].ms
	labels := make([]string, len(samples))
	for i, smp := range samples {
		lo, hi = min(lo, smp.ms), max(hi, smp.ms)
		labels[i] = ageLabel(now - smp.time)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", event, hi, lo, allTime)
	b.WriteString(strings.Repeat("-", graphCols))
	b.WriteByte('\n')
	for start := 0; start < len(samples); start += graphCols {
		if start != 0 {
			b.WriteByte('\n')
		}
		end := min(start+graphCols, len(samples))
		sparkRows(&b, samples[start:end], labels[start:end], lo, hi)
	}
	return b.String()
}

// ageLabel is a sample's age as LATENCY GRAPH labels it.
func ageLabel(sec int64) string {
	switch {
	case sec < 60:
		return fmt.Sprintf("%ds", sec)
	case sec < 3600:
		return fmt.Sprintf("%dm", sec/60)
	case sec < 86400:
		return fmt.Sprintf("%dh", sec/3600)
	}
	return fmt.Sprintf("%dd", sec/86400)
}

// sparkRows writes the bar rows, a blank row and the label rows of one run
// of samples. Heights are scaled from lo..hi (all samples', not the
// run's) to graphRows*3 steps.
func sparkRows(b *strings.Builder, run []latencySample, labels []string, lo, hi int64) {
	span := float64(hi - lo)
	if span == 0 {
		span = 1
	}
	steps := graphRows * len(graphChars)
	row := make([]byte, len(run))
	for r := 0; r < graphRows; r++ {
		for j, smp := range run {
			// Redis truncates the scaled value, then the ratio.
			step := int(float64(int(float64(smp.ms-lo)*float64(steps))) / span)
			step = max(0, min(step, steps-1))
			row[j] = ' '
			switch idx := step - (graphRows-r-1)*len(graphChars); {
			case idx >= len(graphChars):
				row[j] = '|'
			case idx >= 0:
				row[j] = graphChars[idx]
			}
		}
		b.Write(row)
		b.WriteByte('\n')
	}
	longest := 0
	for _, l := range labels {
		longest = max(longest, len(l))
	}
	b.WriteString(strings.Repeat(" ", len(run)))
	b.WriteByte('\n')
	for k := 0; k < longest; k++ {
		for j, l := range labels {
			row[j] = ' '
			if k < len(l) {
				row[j] = l[k]
			}
		}
		b.Write(row)
		b.WriteByte('\n')
	}
}
