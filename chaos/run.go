package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Options configures Run.
type Options struct {
	Seed     uint64
	Duration time.Duration // of the workload under faults
	Nodes    int           // 3 (1 shard) or 9 (3 shards); always 9 for docker
	Faults   []string
	OutDir   string // history, attempts, events, report, node logs, visualisations
	Bin      string // raftcache binary (process runtime)
	// Runtime is RuntimeProcess (default) or RuntimeDocker: the compose
	// cluster of ComposeFile (default deploy/docker-compose.yml) running
	// Image (default raftcache:dev).
	Runtime            string
	ComposeFile, Image string
	Clients            int // concurrent logical clients (default 15)
	// SnapshotThreshold and TrailingLogs are passed to the servers so that
	// snapshots and log truncation happen during the run (defaults 256, 128).
	SnapshotThreshold, TrailingLogs uint64
	CheckTimeout                    time.Duration // porcupine budget per key (default 30 s)
	Log                             io.Writer     // progress lines (nil = discard)
	// ReplicaReads makes the clients read from replicas (READONLY, possibly
	// stale): a self-test whose run must come out non-linearizable.
	ReplicaReads bool
}

// Report is what a run found.
type Report struct {
	Seed      uint64           `json:"seed"`
	Runtime   string           `json:"runtime"`
	Nodes     int              `json:"nodes"`
	Shards    int              `json:"shards"`
	Faults    []string         `json:"faults"`
	Duration  Duration         `json:"duration"`
	Counts    Counts           `json:"counts"`
	Events    []Event          `json:"events"`
	Failover  Stats            `json:"failover"`  // leader faults: kill, kill-leader, pause, partition, disk-error (not disk-stall: by_fault)
	Majority  Stats            `json:"majority"`  // kill-majority: fault to first write after restart
	ByFault   map[string]Stats `json:"by_fault"`  // failover per fault that hit a leader
	Snapshots int              `json:"snapshots"` // snapshots taken by the nodes (from their logs)
	Installed int              `json:"installed"` // snapshots a leader sent to a lagging follower
	Lin       LinResult        `json:"linearizable"`
	Leaders   LeaderResult     `json:"leaders"`  // at most one leader per shard and term
	Converge  ConvergeResult   `json:"converge"` // replicas hold the same values after healing
	Appends   AppendResult     `json:"appends"`
	// Moves and Slots: the migrate fault's slot moves and the ownership
	// check after them (nil without the fault).
	Moves  []Move       `json:"moves,omitempty"`
	Slots  *SlotsResult `json:"slots,omitempty"`
	Errors []string     `json:"errors,omitempty"` // harness or recovery failures
	OutDir string       `json:"out_dir"`
}

// Stats summarises durations.
type Stats struct {
	N   int      `json:"n"`
	P50 Duration `json:"p50"`
	P99 Duration `json:"p99"`
	Max Duration `json:"max"`
}

func statsOf(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	slices.Sort(ds)
	q := func(p float64) Duration { return Duration(ds[int(p*float64(len(ds)-1)+0.5)]) }
	return Stats{N: len(ds), P50: q(0.50), P99: q(0.99), Max: Duration(ds[len(ds)-1])}
}

func (s Stats) String() string {
	if s.N == 0 {
		return "none"
	}
	return fmt.Sprintf("n=%d p50=%v p99=%v max=%v", s.N, time.Duration(s.P50).Round(time.Millisecond),
		time.Duration(s.P99).Round(time.Millisecond), time.Duration(s.Max).Round(time.Millisecond))
}

// Violation reports whether the run found a consistency violation, a lost
// write or two leaders in one term.
func (r *Report) Violation() bool {
	return r.Lin.Verdict == NotLinearizable || !r.Appends.OK() || len(r.Leaders.Violations) > 0 ||
		len(r.Converge.Diverged) > 0 || len(r.Converge.LogDiverged) > 0 || r.Slots.Violation()
}

// Passed reports whether the run proved what it checks: no violation, a
// conclusive check and no harness or recovery error.
func (r *Report) Passed() bool {
	return !r.Violation() && r.Lin.Verdict == Linearizable && len(r.Errors) == 0 && r.Converge.OK() && r.Slots.OK()
}

// Run starts a process cluster, drives the workload while the nemesis
// injects faults, heals, reads the final lists and checks the history.
// The error is for a run that could not be carried out at all; what the run
// found is in the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Duration <= 0 {
		return nil, errors.New("chaos: duration must be positive")
	}
	if o.OutDir == "" {
		return nil, errors.New("chaos: an output directory is required")
	}
	if o.SnapshotThreshold == 0 {
		o.SnapshotThreshold = 256
	}
	if o.TrailingLogs == 0 {
		o.TrailingLogs = 128
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = 30 * time.Second
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	logf := func(format string, args ...any) { fmt.Fprintf(logw, format+"\n", args...) }
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	if _, err := os.Stat(filepath.Join(o.OutDir, "nodes")); err == nil {
		return nil, fmt.Errorf("chaos: %s already holds a run (nodes/); use another output directory", o.OutDir)
	}
	if err := CheckRuntime(o.Runtime, o.Faults); err != nil {
		return nil, err
	}
	if err := CheckMigrate(o.Runtime, o.Nodes, o.Faults); err != nil {
		return nil, err
	}
	var c *ProcCluster
	var err error
	switch o.Runtime {
	case "", RuntimeProcess:
		// migrate cuts gRPC links between shards through the fault files.
		needFiles := slices.ContainsFunc(o.Faults, transportFault) || slices.ContainsFunc(o.Faults, diskFault) ||
			slices.Contains(o.Faults, FaultMigrate)
		var stall time.Duration
		if slices.ContainsFunc(o.Faults, diskFault) {
			stall = DiskStallTimeout
		}
		logf("starting %d processes in %s", o.Nodes, o.OutDir)
		c, err = StartProcCluster(ctx, ProcConfig{Bin: o.Bin, Dir: filepath.Join(o.OutDir, "nodes"), Nodes: o.Nodes,
			SnapshotThreshold: o.SnapshotThreshold, TrailingLogs: o.TrailingLogs, SnapshotInterval: time.Second, FaultFiles: needFiles, LogLevel: "info",
			DiskStallTimeout: stall})
	case RuntimeDocker:
		if o.Nodes != containerNodes {
			return nil, fmt.Errorf("chaos: the docker runtime runs the %d-node compose cluster, not %d nodes", containerNodes, o.Nodes)
		}
		logf("starting the compose cluster (%d containers), logs in %s", containerNodes, o.OutDir)
		c, err = StartContainerCluster(ctx, ContainerConfig{ComposeFile: o.ComposeFile, Image: o.Image, Dir: filepath.Join(o.OutDir, "nodes"),
			SnapshotThreshold: o.SnapshotThreshold, TrailingLogs: o.TrailingLogs, SnapshotInterval: time.Second})
	default:
		return nil, fmt.Errorf("chaos: unknown runtime %q (process or docker)", o.Runtime)
	}
	if err != nil {
		return nil, err
	}
	defer c.Close()
	rep := &Report{Seed: o.Seed, Runtime: c.Runtime, Nodes: o.Nodes, Shards: c.Shards, Faults: o.Faults, Duration: Duration(o.Duration), OutDir: o.OutDir}

	attempts, err := os.Create(filepath.Join(o.OutDir, "attempts.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	defer attempts.Close()
	hist := NewHistory(attempts)
	start := time.Now()
	clock := func() int64 { return int64(time.Since(start)) }
	wl, err := NewWorkload(WorkloadConfig{Seeds: c.Addrs(), Clients: o.Clients, Seed: o.Seed, Clock: clock, History: hist,
		ReplicaReads: o.ReplicaReads})
	if err != nil {
		return nil, err
	}
	nem, err := NewNemesis(c, nemesisFaults(o.Faults), o.Seed, clock, logf)
	if err != nil {
		return nil, err
	}
	var mig *Migrator
	if slices.Contains(o.Faults, FaultMigrate) {
		if mig, err = NewMigrator(c, wl, o.Seed, clock, logf); err != nil {
			return nil, err
		}
	}

	logf("workload and nemesis running for %v", o.Duration)
	rctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	wdone := make(chan struct{})
	go func() { wl.Run(rctx); close(wdone) }()
	if mig != nil {
		go mig.Run(rctx)
	}
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-wdone:
				return
			case <-t.C:
				k := hist.Counts()
				logf("  %v: %d ops, %d failed, %d unknown", time.Since(start).Round(time.Second), k.Ops, k.Failed, k.Unknown)
			}
		}
	}()
	if err := nem.Run(rctx); err != nil {
		rep.Errors = append(rep.Errors, "nemesis: "+err.Error())
	}
	<-wdone
	rep.Events = nem.Events()
	if err := nem.HealAll(ctx); err != nil {
		rep.Errors = append(rep.Errors, "heal: "+err.Error())
	}
	if mig != nil {
		logf("waiting for the slot move under way, then checking slot ownership")
		rep.Moves = mig.Finish(90*time.Second, rep.Events)
		rep.Slots = CheckSlots(ctx, c)
		moveSummary(rep.Slots, rep.Moves)
		for _, p := range rep.Slots.Problems {
			rep.Errors = append(rep.Errors, "slot check: "+p)
		}
	}
	rep.Counts = hist.Counts()
	if err := hist.Flush(); err != nil {
		rep.Errors = append(rep.Errors, "attempts: "+err.Error())
	}

	logf("reading the final lists")
	fctx, fcancel := context.WithTimeout(ctx, 60*time.Second)
	final, err := ReadFinal(fctx, c.Addrs(), wl.Keys("app"))
	fcancel()
	if err != nil {
		rep.Errors = append(rep.Errors, err.Error())
	}
	logf("comparing replicas")
	cctx, ccancel := context.WithTimeout(ctx, 90*time.Second)
	var all []string
	for _, f := range families {
		all = append(all, wl.Keys(f)...)
	}
	rep.Converge = CheckConvergence(cctx, c, all)
	ccancel()
	if n := len(rep.Converge.Problems); n > 0 {
		rep.Errors = append(rep.Errors, fmt.Sprintf("replica comparison: %d problems, e.g. %s", n, rep.Converge.Problems[0]))
	}
	c.Close()
	for _, s := range rep.Converge.divergedShards {
		if at := LocateDivergence(filepath.Join(o.OutDir, "nodes"), c.ShardProcs(s)); at != "" {
			rep.Converge.Located = append(rep.Converge.Located, fmt.Sprintf("shard %d: %s", s, at))
		}
	}
	rep.Snapshots, rep.Installed = countSnapshots(filepath.Join(o.OutDir, "nodes"))
	rep.Leaders = CheckLeaders(filepath.Join(o.OutDir, "nodes"), c.Procs)
	if len(rep.Leaders.Unreadable) > 0 {
		rep.Errors = append(rep.Errors, fmt.Sprintf("node logs unreadable for the leader check: %v", rep.Leaders.Unreadable))
	}

	ops := hist.Ops()
	if err := WriteOps(filepath.Join(o.OutDir, "history.jsonl"), ops); err != nil {
		rep.Errors = append(rep.Errors, err.Error())
	}
	logf("checking %d operations", len(ops))
	rep.Lin = CheckLinearizable(ops, o.CheckTimeout, o.OutDir, rep.Events)
	rep.Appends = CheckAppends(ops, final)

	var fo, maj []time.Duration
	byFault := map[string][]time.Duration{}
	for _, ev := range rep.Events {
		if !ev.Recovered {
			continue
		}
		if ev.Leader {
			byFault[ev.Fault] = append(byFault[ev.Fault], time.Duration(ev.Failover))
		}
		switch {
		case ev.Fault == FaultKillMajority:
			maj = append(maj, time.Duration(ev.Failover))
		case ev.Leader && ev.Fault != FaultNoise && ev.Fault != FaultDiskStall: // a stall's includes the watchdog timeout
			fo = append(fo, time.Duration(ev.Failover))
		}
	}
	rep.Failover, rep.Majority = statsOf(fo), statsOf(maj)
	rep.ByFault = map[string]Stats{}
	for f, ds := range byFault {
		rep.ByFault[f] = statsOf(ds)
	}
	raw, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(o.OutDir, "report.json"), raw, 0o644); err != nil {
		rep.Errors = append(rep.Errors, err.Error())
	}
	return rep, nil
}

// countSnapshots counts Raft's "snapshot complete" (taken) and
// "installing snapshot on" (sent to a follower) lines in the node logs.
func countSnapshots(dir string) (taken, installed int) {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err == nil {
			taken += strings.Count(string(b), `msg="snapshot complete`)
			installed += strings.Count(string(b), `msg="installing snapshot on`)
		}
	}
	return taken, installed
}

// Print writes the human summary of a report.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "ops: %d (ok %d, failed %d, unknown outcome %d), attempts %d\n",
		r.Counts.Ops, r.Counts.OK, r.Counts.Failed, r.Counts.Unknown, r.Counts.Attempts)
	byFault := map[string]int{}
	for _, e := range r.Events {
		byFault[e.Fault]++
	}
	var parts []string
	for _, f := range AllFaults {
		if byFault[f] > 0 {
			parts = append(parts, fmt.Sprintf("%s x%d", f, byFault[f]))
		}
	}
	fmt.Fprintf(w, "faults: %d (%s)\n", len(r.Events), strings.Join(parts, ", "))
	fmt.Fprintf(w, "failover (leader faults, fault -> first acknowledged write): %s\n", r.Failover)
	for _, f := range AllFaults {
		if st, ok := r.ByFault[f]; ok {
			fmt.Fprintf(w, "  %-18s %s\n", f+":", st)
		}
	}
	fmt.Fprintf(w, "majority loss (kill -> first write after restart): %s\n", r.Majority)
	fmt.Fprintf(w, "snapshots: %d taken, %d sent to lagging followers\n", r.Snapshots, r.Installed)
	fmt.Fprintf(w, "leaders: %d elections won, %d terms with two leaders\n", r.Leaders.Elections, len(r.Leaders.Violations))
	for _, v := range r.Leaders.Violations {
		fmt.Fprintf(w, "  TWO LEADERS: %s\n", v)
	}
	fmt.Fprintf(w, "replicas: %d keys compared on every replica, %d diverged; applied-log hashes equal on %d shards, different on %d\n",
		r.Converge.Keys, len(r.Converge.Diverged), r.Converge.LogHashes, len(r.Converge.LogDiverged))
	for _, d := range r.Converge.LogDiverged {
		fmt.Fprintf(w, "  LOG DIVERGED: %s\n", d)
	}
	for _, d := range r.Converge.Located {
		fmt.Fprintf(w, "  where: %s\n", d)
	}
	for i, d := range r.Converge.Diverged {
		if i == 5 {
			fmt.Fprintf(w, "  ... %d more in report.json\n", len(r.Converge.Diverged)-i)
			break
		}
		fmt.Fprintf(w, "  DIVERGED: %s\n", d)
	}
	for _, p := range r.Converge.Problems[:min(len(r.Converge.Problems), 5)] {
		fmt.Fprintf(w, "  replica check problem: %s\n", p)
	}
	if r.Slots != nil {
		fmt.Fprintf(w, "slot moves: %d done (%d during a fault, %d with a fault on their source or target shard, %d with the two shards cut apart), %d stuck; %d keys scanned on the shard leaders\n",
			r.Slots.Moves, r.Slots.Overlapped, r.Slots.Hit, r.Slots.Cut, r.Slots.Stuck, r.Slots.Keys)
		for i, v := range r.Slots.Violations {
			if i == 5 {
				fmt.Fprintf(w, "  ... %d more in report.json\n", len(r.Slots.Violations)-i)
				break
			}
			fmt.Fprintf(w, "  SLOT VIOLATION: %s\n", v)
		}
	}
	fmt.Fprintf(w, "appends: %s\n", r.Appends.Summary())
	fmt.Fprintf(w, "linearizability: %d keys, %d ops, checked in %v\n", r.Lin.Keys, r.Lin.Ops, time.Duration(r.Lin.Took).Round(time.Millisecond))
	if n := len(r.Lin.IllegalKeys); n > 0 {
		fmt.Fprintf(w, "  NOT linearizable: %d keys, e.g. %s\n", n, strings.Join(r.Lin.IllegalKeys[:min(n, 5)], " "))
	}
	for i, v := range r.Lin.Visualizations {
		if i == 5 {
			fmt.Fprintf(w, "  ... and %d more visualisations in %s\n", len(r.Lin.Visualizations)-i, r.OutDir)
			break
		}
		fmt.Fprintf(w, "  visualisation: %s\n", v)
	}
	if len(r.Lin.TimedOutKeys) > 0 {
		fmt.Fprintf(w, "  check timed out (inconclusive) on %d keys, e.g. %s\n", len(r.Lin.TimedOutKeys), r.Lin.TimedOutKeys[0])
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
	fmt.Fprintf(w, "output: %s\n", r.OutDir)
	fmt.Fprintf(w, "linearizable: %s\n", r.Lin.Verdict)
}
