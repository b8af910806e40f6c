package gateway

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
)

// Per-command latency histograms (Redis 7.0's latency-tracking): LATENCY
// HISTOGRAM and INFO latencystats. Each command that ran gets a histogram
// of its durations in nanoseconds, 1 ns to 1 s (clamped, as Redis), with
// 128 linear sub-buckets per power of two: under 1% relative error, about
// Redis's 2 significant digits. Recording is one atomic add, and a
// pipeline's run of the same command adds its count at once (the time of
// each is the group's share, as INFO commandstats counts it).

const (
	histSubBits = 7
	histSub     = 1 << histSubBits // sub-buckets per power of two
	histMaxNs   = int64(time.Second)
	// histBuckets covers 0..histMaxNs: values under 2*histSub map to
	// themselves, then histSub per power of two up to 2^30 (> 1e9).
	histBuckets  = (30-histSubBits)*histSub + histSub
	histFirstLog = 1024 // LATENCY HISTOGRAM's first bucket: 1024 ns, then doubling
)

type latencyHist struct {
	counts [histBuckets]atomic.Int64
}

// histIndex maps a duration in ns (1..histMaxNs) to its bucket.
func histIndex(v int64) int {
	if v < histSub*2 {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - histSubBits - 1
	return shift*histSub + int(v>>shift)
}

// histHigh is the largest value bucket i holds.
func histHigh(i int) int64 {
	if i < histSub*2 {
		return int64(i)
	}
	shift := i/histSub - 1
	top := int64(i - shift*histSub)
	return (top+1)<<shift - 1
}

// recordLatency adds n calls of cmd that took d each, if latency-tracking
// is on.
func (s *Server) recordLatency(cmd *command, d time.Duration, n int64) {
	if cmd == nil || n <= 0 || !s.latencyTracking.Load() {
		return
	}
	h := cmd.hist.Load()
	if h == nil {
		h = new(latencyHist)
		if !cmd.hist.CompareAndSwap(nil, h) {
			h = cmd.hist.Load()
		}
	}
	h.counts[histIndex(min(max(int64(d), 1), histMaxNs))].Add(n)
}

// latencies returns a copy of cmd's histogram and its total (0: never ran
// since the last reset).
func (cmd *command) latencies() ([]int64, int64) {
	h := cmd.hist.Load()
	if h == nil {
		return nil, 0
	}
	return h.snapshot()
}

// snapshot copies the counts and their total.
func (h *latencyHist) snapshot() (counts []int64, total int64) {
	counts = make([]int64, histBuckets)
	for i := range counts {
		counts[i] = h.counts[i].Load()
		total += counts[i]
	}
	return counts, total
}

// percentile is the upper bound of the bucket holding the p-th percentile
// (hdr_value_at_percentile: the rank rounds to nearest, at least 1).
func percentile(counts []int64, total int64, p float64) int64 {
	rank := max(int64(p/100*float64(total)+0.5), 1)
	var seen int64
	for i, n := range counts {
		if seen += n; seen >= rank {
			return histHigh(i)
		}
	}
	return 0
}

// appendCDF writes Redis's per-command map: calls, and histogram_usec, the
// cumulative count at each power-of-two bound from 1024 ns where it grew.
func appendCDF(out []byte, resp int, counts []int64, total int64) []byte {
	type step struct{ usec, cum int64 }
	var steps []step
	var cum, prev int64
	i := 0
	for bound := int64(histFirstLog); prev < total; bound *= 2 {
		for ; i < len(counts) && histHigh(i) < bound; i++ {
			cum += counts[i]
		}
		if cum > prev {
			steps = append(steps, step{bound / 1000, cum})
		}
		prev = cum
		if i == len(counts) {
			break
		}
	}
	out = appendMapLen(out, 2, resp)
	out = appendBulk(out, "calls")
	out = appendInt(out, total)
	out = appendBulk(out, "histogram_usec")
	out = appendMapLen(out, len(steps), resp)
	for _, st := range steps {
		out = appendInt(out, st.usec)
		out = appendInt(out, st.cum)
	}
	return out
}

// latencyHistogramCmd: LATENCY HISTOGRAM [command ...]. Unknown names are
// skipped; a container name stands for its subcommands.
func latencyHistogramCmd(s *Server, c *client, args [][]byte) {
	var cmds []*command
	if len(args) == 2 {
		s.tab.eachCommand(func(cmd *command) { cmds = append(cmds, cmd) })
	} else {
		for _, a := range args[2:] {
			cmd := s.tab.lookupFull([]byte(strings.ToLower(string(a))))
			if cmd == nil {
				continue
			}
			cmds = append(cmds, cmd)
			cmds = append(cmds, sortedSubs(cmd)...)
		}
	}
	type row struct {
		name   string
		counts []int64
		total  int64
	}
	var rows []row
	for _, cmd := range cmds {
		if counts, total := cmd.latencies(); total > 0 {
			rows = append(rows, row{cmd.name, counts, total})
		}
	}
	c.out = appendMapLen(c.out, len(rows), c.resp)
	for _, r := range rows {
		c.out = appendBulk(c.out, r.name)
		c.out = appendCDF(c.out, c.resp, r.counts, r.total)
	}
}

// latencyStatsLines is INFO latencystats: one line per command that ran,
// its latency-tracking-info-percentiles in microseconds.
func (s *Server) latencyStatsLines() []string {
	if !s.latencyTracking.Load() {
		return nil
	}
	ps := s.infoPercentiles.Load()
	var lines []string
	add := func(cmd *command) {
		counts, total := cmd.latencies()
		if total == 0 {
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "latency_percentiles_usec_%s:", cmd.name)
		for i, p := range *ps {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "p%s=%.3f", strconv.FormatFloat(p, 'f', -1, 64), float64(percentile(counts, total, p))/1000)
		}
		lines = append(lines, b.String())
	}
	s.tab.eachCommand(add)
	return lines
}

// parsePercentiles validates latency-tracking-info-percentiles: numbers in
// [0, 100] separated by spaces (may be empty), and renders them as Redis's
// CONFIG GET does ("%f" each, trailing zeros and point trimmed: "99.9").
func parsePercentiles(v string) ([]float64, string, string) {
	var out []float64
	var text []string
	for _, f := range strings.Fields(v) {
		p, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(p) || math.IsInf(p, 0) {
			return nil, "", "Invalid latency-tracking-info-percentiles parameters"
		}
		if p < 0 || p > 100 {
			return nil, "", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
		}
		out = append(out, p)
		text = append(text, raftfsm.TrimFraction(strconv.FormatFloat(p, 'f', 6, 64)))
	}
	return out, strings.Join(text, " "), ""
}

func applyPercentiles(s *Server, v string) {
	ps, _, _ := parsePercentiles(v)
	s.infoPercentiles.Store(&ps)
}
