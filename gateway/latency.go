package gateway

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// LATENCY: Redis's latency monitor, per node. With latency-monitor-threshold
// set (milliseconds; 0 = off, the default), a command that took at least
// that long adds a sample to the event "command", or "fast-command" for a
// command flagged fast. Each event keeps its worst sample of each second for
// the last 160 seconds that had one, and its all-time maximum. Times are the
// slow log's (slowlog.go).

const latencySamples = 160 // LATENCY_TS_LEN

type latencySample struct{ time, ms int64 }

type latencySeries struct {
	samples []latencySample // oldest first, at most latencySamples
	max     int64
}

type latencyMonitor struct {
	mu     sync.Mutex
	events map[string]*latencySeries
}

// latencyMaybe records dur for cmd if it reaches the threshold.
func (s *Server) latencyMaybe(cmd *command, dur time.Duration) {
	th := s.latencyThreshold.Load()
	ms := dur.Milliseconds()
	if th <= 0 || ms < th {
		return
	}
	event := "command"
	if cmd != nil && cmd.meta != nil && cmd.meta.flags&rfFast != 0 {
		event = "fast-command"
	}
	s.latency.add(event, time.Now().Unix(), ms)
}

func (m *latencyMonitor) add(event string, now, ms int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events == nil {
		m.events = map[string]*latencySeries{}
	}
	ts := m.events[event]
	if ts == nil {
		ts = &latencySeries{}
		m.events[event] = ts
	}
	ts.max = max(ts.max, ms)
	if n := len(ts.samples); n > 0 && ts.samples[n-1].time == now {
		ts.samples[n-1].ms = max(ts.samples[n-1].ms, ms)
		return
	}
	ts.samples = append(ts.samples, latencySample{now, ms})
	if len(ts.samples) > latencySamples {
		ts.samples = append(ts.samples[:0:0], ts.samples[1:]...)
	}
}

// sortedEvents returns the event names in order (Redis's is hash order).
func (m *latencyMonitor) sortedEvents() []string {
	names := make([]string, 0, len(m.events))
	for n := range m.events {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func latencyLatestCmd(s *Server, c *client, args [][]byte) {
	m := &s.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	names := m.sortedEvents()
	c.out = appendArrayLen(c.out, len(names))
	for _, n := range names {
		ts := m.events[n]
		last := ts.samples[len(ts.samples)-1]
		c.out = appendArrayLen(c.out, 4)
		c.out = appendBulk(c.out, n)
		c.out = appendInt(c.out, last.time)
		c.out = appendInt(c.out, last.ms)
		c.out = appendInt(c.out, ts.max)
	}
}

func latencyHistoryCmd(s *Server, c *client, args [][]byte) {
	m := &s.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.events[string(args[2])]
	if ts == nil {
		c.out = appendArrayLen(c.out, 0)
		return
	}
	c.out = appendArrayLen(c.out, len(ts.samples))
	for _, smp := range ts.samples {
		c.out = appendArrayLen(c.out, 2)
		c.out = appendInt(c.out, smp.time)
		c.out = appendInt(c.out, smp.ms)
	}
}

func latencyResetCmd(s *Server, c *client, args [][]byte) {
	m := &s.latency
	m.mu.Lock()
	n := 0
	if len(args) == 2 {
		n = len(m.events)
		m.events = nil
	} else {
		for _, a := range args[2:] {
			if _, ok := m.events[string(a)]; ok {
				delete(m.events, string(a))
				n++
			}
		}
	}
	m.mu.Unlock()
	c.out = appendInt(c.out, int64(n))
}

// latencyDoctorCmd reports each event's spikes in Redis's words; the
// advice Redis derives from its fork, AOF and THP probes does not apply.
func latencyDoctorCmd(s *Server, c *client, args [][]byte) {
	var b strings.Builder
	m := &s.latency
	m.mu.Lock()
	names := m.sortedEvents()
	switch {
	case s.conf.int("latency-monitor-threshold") <= 0 && len(names) == 0:
		b.WriteString("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it.\n")
	case len(names) == 0:
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
	default:
		b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
		for i, n := range names {
			ts := m.events[n]
			var sum int64
			for _, smp := range ts.samples {
				sum += smp.ms
			}
			avg := sum / int64(len(ts.samples))
			var dev int64
			for _, smp := range ts.samples {
				dev += max(smp.ms-avg, avg-smp.ms)
			}
			period := float64(ts.samples[len(ts.samples)-1].time - ts.samples[0].time)
			fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). Worst all time event %dms.\n",
				i+1, n, len(ts.samples), avg, dev/int64(len(ts.samples)), period/float64(len(ts.samples)), ts.max)
		}
		b.WriteString("\nI have a few advices for you:\n\n- Check the slow log (SLOWLOG GET): a durable write's time includes its Raft commit (replication and fsync on every replica), so a slow disk shows here; large pipelines, MULTI/EXEC blocks and scripts are timed as a whole.\n")
	}
	m.mu.Unlock()
	c.out = appendVerbatim(c.out, b.String(), c.resp)
}

func latencyHelpCmd(s *Server, c *client, args [][]byte) {
	helpReply(c, "LATENCY", []string{
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.",
	})
}
