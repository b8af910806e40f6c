package gateway

import (
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// stats are the server-wide counters INFO reports.
type stats struct {
	totalConns    atomic.Int64
	totalCmds     atomic.Int64
	rejectedConns atomic.Int64
	netIn         atomic.Int64
	netOut        atomic.Int64
	errorReplies  atomic.Int64

	mu        sync.Mutex
	errs      map[string]int64 // error prefix -> count (errorstats)
	samples   [16]int64        // ops per second, ring (Redis STATS_METRIC_SAMPLES)
	sampleIdx int
	lastCmds  int64
	lastAt    time.Time
}

func (st *stats) init() {
	st.errs = make(map[string]int64)
	st.lastAt = time.Now()
}

// countError records one error reply by its prefix ("ERR", "WRONGTYPE", ...).
func (st *stats) countError(prefix string) {
	st.errorReplies.Add(1)
	st.mu.Lock()
	st.errs[prefix]++
	st.mu.Unlock()
}

// countErrorText records an error reply given its full text.
func (st *stats) countErrorText(msg string) {
	p := msg
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = p[:i]
	}
	st.countError(p)
}

func (st *stats) sample(now time.Time) {
	cmds := st.totalCmds.Load()
	st.mu.Lock()
	dt := now.Sub(st.lastAt)
	if dt > 0 {
		st.samples[st.sampleIdx] = int64(float64(cmds-st.lastCmds) / dt.Seconds())
		st.sampleIdx = (st.sampleIdx + 1) % len(st.samples)
	}
	st.lastCmds = cmds
	st.lastAt = now
	st.mu.Unlock()
}

func (st *stats) opsPerSec() int64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	var sum int64
	for _, v := range st.samples {
		sum += v
	}
	return sum / int64(len(st.samples))
}

// errorLines renders errorstats lines sorted by prefix.
func (st *stats) errorLines() []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	keys := make([]string, 0, len(st.errs))
	for k := range st.errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, "errorstat_"+k+":count="+itoa(st.errs[k]))
	}
	return out
}

func (st *stats) reset(tab *table) {
	st.totalConns.Store(0)
	st.totalCmds.Store(0)
	st.rejectedConns.Store(0)
	st.netIn.Store(0)
	st.netOut.Store(0)
	st.errorReplies.Store(0)
	st.mu.Lock()
	st.errs = make(map[string]int64)
	st.samples = [16]int64{}
	st.mu.Unlock()
	for _, c := range tab.all {
		c.resetStats()
		for _, sc := range c.subs {
			sc.resetStats()
		}
	}
}

// memCache caches runtime.MemStats: ReadMemStats stops the world, so INFO
// reads it at most once a second.
type memCache struct {
	mu   sync.Mutex
	at   time.Time
	ms   runtime.MemStats
	peak uint64
}

func (m *memCache) get() (alloc, sys, peak uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if time.Since(m.at) > time.Second {
		runtime.ReadMemStats(&m.ms)
		m.at = time.Now()
		if m.ms.HeapAlloc > m.peak {
			m.peak = m.ms.HeapAlloc
		}
	}
	return m.ms.HeapAlloc, m.ms.Sys, m.peak
}
