package gateway

import (
	"strconv"
	"strings"

	"github.com/raftcache/raftcache/slots"
)

// Metrics for Prometheus: the numbers INFO shows, typed and named as
// Prometheus expects, read from the same sections so that the two always
// agree (cmd serves them on /metrics).

// Metric is one sample.
type Metric struct {
	Name   string // raftcache_...; counters end in _total
	Help   string
	Type   string      // "gauge" or "counter"
	Labels [][2]string // name, value
	Value  float64
	// Family, when set, is the family a histogram's _bucket, _sum and
	// _count samples belong to (its HELP and TYPE name).
	Family string
}

// metricDef maps an INFO field to a metric.
type metricDef struct {
	section, field string
	name, typ      string
	help           string
}

var metricDefs = []metricDef{
	{"server", "uptime_in_seconds", "raftcache_uptime_seconds", "gauge", "Seconds since the node started."},
	{"clients", "connected_clients", "raftcache_connected_clients", "gauge", "Client connections open (INFO connected_clients)."},
	{"clients", "blocked_clients", "raftcache_blocked_clients", "gauge", "Clients waiting in a blocking command."},
	{"clients", "maxclients", "raftcache_max_clients", "gauge", "The maxclients limit."},
	{"memory", "used_memory", "raftcache_memory_used_bytes", "gauge", "Keyspace size as the engine accounts it (INFO used_memory; what maxmemory limits)."},
	{"memory", "used_memory_rss", "raftcache_memory_rss_bytes", "gauge", "Memory the Go runtime holds from the system."},
	{"memory", "used_memory_peak", "raftcache_memory_peak_bytes", "gauge", "Highest used_memory seen."},
	{"memory", "maxmemory", "raftcache_memory_max_bytes", "gauge", "The maxmemory limit (0 = none)."},
	{"persistence", "rdb_changes_since_last_save", "raftcache_changes_since_snapshot", "gauge", "Writes applied since the last Raft snapshot."},
	{"persistence", "rdb_last_save_time", "raftcache_last_snapshot_timestamp_seconds", "gauge", "Unix time of this replica's newest Raft snapshot (LASTSAVE; the node's start before the first)."},
	{"persistence", "raftcache_auto_backups", "raftcache_auto_backups_total", "counter", "Automatic backups this node wrote (--backup-interval)."},
	{"persistence", "raftcache_auto_backups_failed", "raftcache_auto_backups_failed_total", "counter", "Automatic backups (or their pruning) that failed on this node."},
	{"stats", "total_connections_received", "raftcache_connections_received_total", "counter", "Client connections accepted."},
	{"stats", "rejected_connections", "raftcache_connections_rejected_total", "counter", "Client connections refused (maxclients)."},
	{"stats", "total_commands_processed", "raftcache_commands_processed_total", "counter", "Commands run."},
	{"stats", "instantaneous_ops_per_sec", "raftcache_ops_per_second", "gauge", "Commands per second over the last samples."},
	{"stats", "total_net_input_bytes", "raftcache_net_input_bytes_total", "counter", "Bytes read from clients."},
	{"stats", "total_net_output_bytes", "raftcache_net_output_bytes_total", "counter", "Bytes written to clients."},
	{"stats", "expired_keys", "raftcache_expired_keys_total", "counter", "Keys deleted on expiry."},
	{"stats", "evicted_keys", "raftcache_evicted_keys_total", "counter", "Keys evicted under maxmemory."},
	{"stats", "keyspace_hits", "raftcache_keyspace_hits_total", "counter", "Reads that found their key."},
	{"stats", "keyspace_misses", "raftcache_keyspace_misses_total", "counter", "Reads that did not find their key."},
	{"stats", "pubsub_channels", "raftcache_pubsub_channels", "gauge", "Channels with subscribers on this node."},
	{"stats", "pubsub_patterns", "raftcache_pubsub_patterns", "gauge", "Patterns with subscribers on this node."},
	{"stats", "total_error_replies", "raftcache_error_replies_total", "counter", "Error replies sent."},
	{"replication", "connected_slaves", "raftcache_connected_replicas", "gauge", "Replicas of a leader's shard that gossip shows alive (0 on followers)."},
	{"replication", "raft_term", "raftcache_raft_term", "gauge", "The shard's Raft term as this replica knows it."},
	{"replication", "raft_commit_index", "raftcache_raft_commit_index", "gauge", "Highest log index known committed."},
	{"replication", "raft_applied_index", "raftcache_raft_applied_index", "gauge", "Highest log index applied to the data (replication offset)."},
	{"replication", "raft_last_contact_ms", "raftcache_raft_leader_last_contact_seconds", "gauge", "Followers: time since the leader was last heard from (-1: never)."},
	{"cpu", "used_cpu_sys", "raftcache_cpu_system_seconds_total", "counter", "System CPU time of the process."},
	{"cpu", "used_cpu_user", "raftcache_cpu_user_seconds_total", "counter", "User CPU time of the process."},
}

// Metrics returns the node's samples.
func (s *Server) Metrics() []Metric {
	di := s.readDBInfo()
	secs := map[string]*section{}
	sec := func(name string) *section {
		if secs[name] == nil {
			secs[name] = s.infoSection(name, di)
		}
		return secs[name]
	}
	var out []Metric
	for _, d := range metricDefs {
		v, ok := sec(d.section).vals[d.field]
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		if d.field == "raft_last_contact_ms" && f >= 0 {
			f /= 1000
		}
		out = append(out, Metric{Name: d.name, Help: d.help, Type: d.typ, Value: f})
	}
	leader := 0.0
	if sec("replication").vals["role"] == "master" {
		leader = 1
	}
	out = append(out, Metric{Name: "raftcache_is_leader", Type: "gauge", Value: leader,
		Help: "1 if this node leads its shard's Raft group (a Redis master), else 0."})
	out = append(out,
		Metric{Name: "raftcache_keys", Type: "gauge", Value: float64(di.keys), Help: "Keys in this replica's copy of its shard."},
		Metric{Name: "raftcache_expiring_keys", Type: "gauge", Value: float64(di.expires), Help: "Keys with a time to live."})
	v := newClusterView(s.topology())
	clusterOK := 0.0
	if v.ok == slots.Count {
		clusterOK = 1
	}
	out = append(out,
		Metric{Name: "raftcache_cluster_state_ok", Type: "gauge", Value: clusterOK,
			Help: "1 if this node sees every slot served by a shard leader (CLUSTER INFO cluster_state:ok)."},
		Metric{Name: "raftcache_cluster_slots_ok", Type: "gauge", Value: float64(v.ok),
			Help: "Slots this node sees served (CLUSTER INFO cluster_slots_ok)."},
		Metric{Name: "raftcache_cluster_known_nodes", Type: "gauge", Value: float64(len(v.top.Nodes)),
			Help: "Nodes this node knows of (CLUSTER INFO cluster_known_nodes)."})
	out = append(out, s.commandMetrics()...)
	for _, line := range s.stats.errorLines() {
		// errorstat_ERR:count=3
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if n, ok := statField(rest, "count"); ok {
			out = append(out, Metric{Name: "raftcache_errors_total", Type: "counter", Value: n,
				Labels: [][2]string{{"error", strings.TrimPrefix(name, "errorstat_")}}, Help: "Error replies by error code (INFO errorstats)."})
		}
	}
	return out
}

// commandMetrics are INFO commandstats as four counter families labelled
// by command (subcommands as "config|get").
func (s *Server) commandMetrics() []Metric {
	var calls, secs, rejected, failed []Metric
	add := func(cmd *command) {
		c, rej, fail := cmd.calls.Load(), cmd.rejected.Load(), cmd.failed.Load()
		if c == 0 && rej == 0 && fail == 0 {
			return
		}
		l := [][2]string{{"cmd", cmd.name}}
		calls = append(calls, Metric{Name: "raftcache_command_calls_total", Type: "counter", Labels: l, Value: float64(c),
			Help: "Calls per command (INFO commandstats calls)."})
		secs = append(secs, Metric{Name: "raftcache_command_duration_seconds_total", Type: "counter", Labels: l,
			Value: float64(cmd.usec.Load()) / 1e6, Help: "Time spent per command (INFO commandstats usec)."})
		rejected = append(rejected, Metric{Name: "raftcache_command_rejected_total", Type: "counter", Labels: l, Value: float64(rej),
			Help: "Calls refused before running (arity, ACL, OOM, redirects)."})
		failed = append(failed, Metric{Name: "raftcache_command_failed_total", Type: "counter", Labels: l, Value: float64(fail),
			Help: "Calls that ran and answered an error."})
	}
	s.tab.eachCommand(add)
	return append(append(append(append(calls, secs...), rejected...), failed...), s.latencyMetrics()...)
}

// latencyMetrics are the latency-tracking histograms as one Prometheus
// histogram family labelled by command: LATENCY HISTOGRAM's power-of-two
// bounds (1.024 µs to about 1 s) as cumulative buckets; _sum is INFO
// commandstats' usec.
func (s *Server) latencyMetrics() []Metric {
	const fam = "raftcache_command_latency_seconds"
	const help = "Command latency as latency-tracking records it (LATENCY HISTOGRAM)."
	var out []Metric
	add := func(cmd *command) {
		counts, total := cmd.latencies()
		if total == 0 {
			return
		}
		i := 0
		var cum int64
		for bound := int64(histFirstLog); bound <= 2*histMaxNs; bound *= 2 {
			for ; i < len(counts) && histHigh(i) < bound; i++ {
				cum += counts[i]
			}
			out = append(out, Metric{Name: fam + "_bucket", Family: fam, Type: "histogram", Help: help, Value: float64(cum),
				Labels: [][2]string{{"cmd", cmd.name}, {"le", strconv.FormatFloat(float64(bound)/1e9, 'g', -1, 64)}}})
		}
		l := [][2]string{{"cmd", cmd.name}}
		out = append(out,
			Metric{Name: fam + "_bucket", Family: fam, Type: "histogram", Help: help, Value: float64(total),
				Labels: [][2]string{{"cmd", cmd.name}, {"le", "+Inf"}}},
			Metric{Name: fam + "_sum", Family: fam, Type: "histogram", Help: help, Value: float64(cmd.usec.Load()) / 1e6, Labels: l},
			Metric{Name: fam + "_count", Family: fam, Type: "histogram", Help: help, Value: float64(total), Labels: l})
	}
	s.tab.eachCommand(add)
	return out
}

// statField reads one "k=v" field of an INFO value like
// "count=3,usec=10".
func statField(v, key string) (float64, bool) {
	for _, kv := range strings.Split(v, ",") {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			f, err := strconv.ParseFloat(val, 64)
			return f, err == nil
		}
	}
	return 0, false
}
