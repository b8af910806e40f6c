package gateway

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/raftcache/raftcache/raftfsm"
)

// INFO: Redis 7.0 sections and field names, CRLF line endings, sections
// separated by a blank line; verbatim text in RESP3.

var defaultSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu",
	"modules", "errorstats", "cluster", "keyspace"}

var allSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu",
	"modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace"}

func infoCmd(s *Server, c *client, args [][]byte) {
	want := map[string]bool{}
	order := defaultSections
	if len(args) > 1 {
		for _, a := range args[1:] {
			switch n := strings.ToLower(string(a)); n {
			case "default":
				for _, x := range defaultSections {
					want[x] = true
				}
			case "all", "everything":
				for _, x := range allSections {
					want[x] = true
				}
			default:
				want[n] = true
			}
		}
		order = allSections
	} else {
		for _, x := range defaultSections {
			want[x] = true
		}
	}
	c.out = appendVerbatim(c.out, s.infoText(order, want), c.resp)
}

// dbInfo is what INFO needs from the engine.
type dbInfo struct {
	ok                    bool
	keys, expires         int
	hits, misses, expired int64
	dirty                 int64
}

func (s *Server) readDBInfo() dbInfo {
	var di dbInfo
	// A local, non-linearizable read: statistics need no barrier.
	err := s.backend.Read(s.ctx, true, func(db *raftfsm.DB, now int64) {
		di.ok = true
		di.keys = db.Len()
		di.expires = db.ExpiresCount()
		di.dirty = db.Dirty()
		if db.Stats != nil {
			di.hits = db.Stats.Hits.Load()
			di.misses = db.Stats.Misses.Load()
			di.expired = db.Stats.ExpiredKeys.Load()
		}
	})
	if err != nil {
		di.ok = false
	}
	return di
}

func humanBytes(n uint64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return fmt.Sprintf("%dB", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.2fK", f/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.2fM", f/(1024*1024))
	case n < 1024*1024*1024*1024:
		return fmt.Sprintf("%.2fG", f/(1024*1024*1024))
	}
	return fmt.Sprintf("%.2fT", f/(1024*1024*1024*1024))
}

// section collects key:value lines; later lines from the node replace
// defaults with the same key.
type section struct {
	keys  []string
	vals  map[string]string
	plain []string // lines without a key (kept as is)
}

func newSection() *section { return &section{vals: map[string]string{}} }

func (sec *section) add(k, v string) {
	if _, ok := sec.vals[k]; !ok {
		sec.keys = append(sec.keys, k)
	}
	sec.vals[k] = v
}

func (sec *section) addLines(lines []string) {
	for _, l := range lines {
		l = strings.TrimRight(l, "\r\n")
		if k, v, ok := strings.Cut(l, ":"); ok {
			sec.add(k, v)
		} else if l != "" {
			sec.plain = append(sec.plain, l)
		}
	}
}

func (sec *section) write(b *strings.Builder) {
	for _, k := range sec.keys {
		b.WriteString(k)
		b.WriteByte(':')
		b.WriteString(sec.vals[k])
		b.WriteString("\r\n")
	}
	for _, l := range sec.plain {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
}

var sectionTitles = map[string]string{"server": "Server", "clients": "Clients", "memory": "Memory",
	"persistence": "Persistence", "stats": "Stats", "replication": "Replication", "cpu": "CPU",
	"modules": "Modules", "commandstats": "Commandstats", "errorstats": "Errorstats", "latencystats": "Latencystats", "cluster": "Cluster",
	"keyspace": "Keyspace"}

func (s *Server) infoText(order []string, want map[string]bool) string {
	var di dbInfo
	if want["persistence"] || want["stats"] || want["keyspace"] {
		di = s.readDBInfo()
	}
	var b strings.Builder
	n := 0
	for _, name := range order {
		if !want[name] {
			continue
		}
		sec := s.infoSection(name, di)
		if n > 0 {
			b.WriteString("\r\n")
		}
		n++
		b.WriteString("# ")
		b.WriteString(sectionTitles[name])
		b.WriteString("\r\n")
		sec.write(&b)
	}
	return b.String()
}

func (s *Server) infoSection(name string, di dbInfo) *section {
	sec := newSection()
	now := time.Now()
	switch name {
	case "server":
		up := now.Sub(s.started)
		exe, _ := os.Executable()
		sec.add("redis_version", redisVersion)
		sec.add("redis_git_sha1", "00000000")
		sec.add("redis_git_dirty", "0")
		sec.add("redis_build_id", "raftcache")
		sec.add("redis_mode", "cluster")
		sec.add("os", runtime.GOOS+" "+runtime.GOARCH)
		sec.add("arch_bits", "64")
		sec.add("monotonic_clock", "POSIX clock_gettime")
		sec.add("multiplexing_api", "epoll")
		sec.add("atomicvar_api", "c11-builtin")
		sec.add("gcc_version", "0.0.0")
		sec.add("process_id", itoa(int64(os.Getpid())))
		sec.add("process_supervised", "no")
		sec.add("run_id", s.cfg.RunID)
		sec.add("tcp_port", itoa(int64(s.cfg.Port)))
		sec.add("server_time_usec", itoa(now.UnixMicro()))
		sec.add("uptime_in_seconds", itoa(int64(up/time.Second)))
		sec.add("uptime_in_days", itoa(int64(up/(24*time.Hour))))
		sec.add("hz", "10")
		sec.add("configured_hz", "10")
		sec.add("lru_clock", itoa(now.Unix()&(1<<24-1)))
		sec.add("executable", exe)
		sec.add("config_file", "")
		sec.add("io_threads_active", "0")
		sec.add("go_version", runtime.Version())
		sec.add("node_id", s.cfg.NodeID)
	case "clients":
		s.mu.Lock()
		nc := len(s.clients)
		s.mu.Unlock()
		sec.add("connected_clients", itoa(int64(nc)))
		sec.add("cluster_connections", "0")
		sec.add("maxclients", itoa(s.conf.int("maxclients")))
		sec.add("client_recent_max_input_buffer", "0")
		sec.add("client_recent_max_output_buffer", "0")
		sec.add("blocked_clients", itoa(int64(s.blockedClients())))
		sec.add("tracking_clients", itoa(int64(s.trackingClients())))
		sec.add("clients_in_timeout_table", "0")
	case "memory":
		used, sys, peak := s.mem.get()
		maxmem := s.conf.int("maxmemory")
		policy, _ := s.conf.get("maxmemory-policy")
		sec.add("used_memory", itoa(int64(used)))
		sec.add("used_memory_human", humanBytes(used))
		sec.add("used_memory_rss", itoa(int64(sys)))
		sec.add("used_memory_rss_human", humanBytes(sys))
		sec.add("used_memory_peak", itoa(int64(peak)))
		sec.add("used_memory_peak_human", humanBytes(peak))
		sec.add("maxmemory", itoa(maxmem))
		sec.add("maxmemory_human", humanBytes(uint64(maxmem)))
		sec.add("maxmemory_policy", policy)
		sec.add("mem_allocator", "go")
		// No lazy freeing (UNLINK and FLUSHALL ASYNC free at once; Go's
		// GC reclaims) and no replication or AOF buffers outside the
		// dataset: these are 0, as on an idle Redis.
		sec.add("mem_not_counted_for_evict", "0")
		sec.add("lazyfree_pending_objects", "0")
		sec.add("lazyfreed_objects", "0")
		sec.add("number_of_cached_scripts", itoa(int64(s.scripts.len())))
		sec.addLines(s.backend.InfoSection("memory"))
	case "persistence":
		sec.add("loading", "0")
		sec.add("async_loading", "0")
		sec.add("rdb_changes_since_last_save", itoa(di.dirty))
		sec.add("rdb_bgsave_in_progress", "0")
		sec.add("rdb_last_bgsave_status", "ok")
		sec.add("aof_enabled", "0")
		sec.add("aof_rewrite_in_progress", "0")
		sec.addLines(s.backend.InfoSection("persistence"))
	case "stats":
		sec.add("total_connections_received", itoa(s.stats.totalConns.Load()))
		sec.add("total_commands_processed", itoa(s.stats.totalCmds.Load()))
		sec.add("instantaneous_ops_per_sec", itoa(s.stats.opsPerSec()))
		sec.add("total_net_input_bytes", itoa(s.stats.netIn.Load()))
		sec.add("total_net_output_bytes", itoa(s.stats.netOut.Load()))
		sec.add("rejected_connections", itoa(s.stats.rejectedConns.Load()))
		sec.add("expired_keys", itoa(di.expired))
		sec.addLines(s.backend.InfoSection("stats")) // evicted_keys
		sec.add("keyspace_hits", itoa(di.hits))
		sec.add("keyspace_misses", itoa(di.misses))
		chans, pats := s.pubsubStats()
		sec.add("pubsub_channels", itoa(int64(chans)))
		sec.add("pubsub_patterns", itoa(int64(pats)))
		sec.add("migrate_cached_sockets", itoa(int64(s.migrateCachedSockets())))
		tk, ti, tp := s.trackingTotals()
		sec.add("tracking_total_keys", itoa(tk))
		sec.add("tracking_total_items", itoa(ti))
		sec.add("tracking_total_prefixes", itoa(tp))
		sec.add("total_error_replies", itoa(s.stats.errorReplies.Load()))
	case "replication":
		if s.backend.IsLeader() {
			sec.add("role", "master")
		} else {
			sec.add("role", "slave")
		}
		sec.addLines(s.backend.InfoSection("replication"))
	case "cpu":
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			sec.add("used_cpu_sys", fmt.Sprintf("%.6f", float64(ru.Stime.Sec)+float64(ru.Stime.Usec)/1e6))
			sec.add("used_cpu_user", fmt.Sprintf("%.6f", float64(ru.Utime.Sec)+float64(ru.Utime.Usec)/1e6))
		}
	case "modules":
	case "errorstats":
		sec.addLines(s.stats.errorLines())
	case "latencystats":
		sec.addLines(s.latencyStatsLines())
	case "commandstats":
		s.tab.eachCommand(func(cmd *command) { addCmdStat(sec, cmd) })
	case "cluster":
		sec.add("cluster_enabled", "1")
		sec.addLines(s.backend.InfoSection("cluster"))
	case "keyspace":
		if di.ok && di.keys > 0 {
			sec.add("db0", fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", di.keys, di.expires))
		}
	}
	return sec
}

func addCmdStat(sec *section, cmd *command) {
	calls, rej, failed := cmd.calls.Load(), cmd.rejected.Load(), cmd.failed.Load()
	if calls == 0 && rej == 0 && failed == 0 {
		return
	}
	usec := cmd.usec.Load()
	per := 0.0
	if calls > 0 {
		per = float64(usec) / float64(calls)
	}
	sec.add("cmdstat_"+cmd.name, fmt.Sprintf("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
		calls, usec, per, rej, failed))
}
