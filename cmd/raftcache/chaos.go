package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/raftcache/raftcache/chaos"
)

// Exit codes of `raftcache chaos` beyond 0/1/2.
const exitInconclusive = 3

// defaultFaults per runtime: the process runtime cuts Raft links through
// the servers' fault files and wipes data dirs; the docker runtime takes
// containers off the network and loses whole AZs.
var defaultFaults = map[string]string{
	chaos.RuntimeProcess: "kill,kill-leader,pause,kill-majority,partition,wipe",
	chaos.RuntimeDocker:  "kill,kill-leader,pause,kill-majority,disconnect,lose-az,isolate-az",
}

// errViolation makes run exit 1 after the report was printed.
var errViolation = errors.New("chaos: consistency violation or lost write (see above)")

// errInconclusive makes run exit 3: the checker timed out, which is never a pass.
var errInconclusive = errors.New("chaos: linearizability check inconclusive (timed out)")

func runChaos(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("raftcache chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 0, "random seed of the workload and the nemesis (0 = pick one and print it)")
	duration := fs.Duration("duration", 2*time.Minute, "how long the workload runs under faults")
	nodes := fs.Int("nodes", 0, "3 (1 shard x 3) or 9 (3 shards x 3) server processes (default 3; docker: always 9)")
	runtime := fs.String("runtime", chaos.RuntimeProcess, "process: server processes on this machine; docker: the containers of --compose (image from `make image`)")
	composeFile := fs.String("compose", "deploy/docker-compose.yml", "docker runtime: compose file of the 9-node cluster")
	image := fs.String("image", "raftcache:dev", "docker runtime: image to run")
	faults := fs.String("faults", "",
		"comma-separated faults ("+strings.Join(chaos.AllFaults, ",")+"), or none (default: "+defaultFaults[chaos.RuntimeProcess]+"; docker: "+defaultFaults[chaos.RuntimeDocker]+")")
	out := fs.String("out", "", "output directory (default: a new temporary directory, kept)")
	bin := fs.String("bin", "", "raftcache binary to run as servers (default: this executable)")
	clients := fs.Int("clients", 15, "concurrent logical clients")
	snapThreshold := fs.Uint64("snapshot-threshold", 256, "servers' --snapshot-threshold (small: snapshots during the run)")
	trailing := fs.Uint64("trailing-logs", 128, "servers' --trailing-logs")
	checkTimeout := fs.Duration("check-timeout", 30*time.Second, "porcupine time budget per key")
	check := fs.String("check", "", "only re-check a recorded history.jsonl (no cluster)")
	replicaReads := fs.Bool("replica-reads", false, "self-test: read from replicas after READONLY (stale); the run must report linearizable: no")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("chaos: unexpected arguments %q", fs.Args())
	}
	if *check != "" {
		return recheck(*check, *checkTimeout, stdout)
	}
	if *seed == 0 {
		*seed = rand.Uint64N(1<<31) + 1
	}
	if _, ok := defaultFaults[*runtime]; !ok {
		return fmt.Errorf("chaos: --runtime %q: use process or docker", *runtime)
	}
	if *faults == "" {
		*faults = defaultFaults[*runtime]
	}
	if *nodes == 0 {
		*nodes = 3
		if *runtime == chaos.RuntimeDocker {
			*nodes = 9
		}
	}
	fmt.Fprintf(stdout, "seed: %d\n", *seed)
	fl, err := chaos.ParseFaults(*faults)
	if err != nil {
		return err
	}
	if *nodes != 3 && *nodes != 9 {
		return fmt.Errorf("chaos: --nodes %d: use 3 or 9", *nodes)
	}
	if err := chaos.CheckRuntime(*runtime, fl); err != nil {
		return err
	}
	if err := chaos.CheckMigrate(*runtime, *nodes, fl); err != nil {
		return err
	}
	if *runtime == chaos.RuntimeDocker && *nodes != 9 {
		return fmt.Errorf("chaos: --nodes %d: the docker runtime runs the 9-node compose cluster", *nodes)
	}
	if *duration <= 0 {
		return fmt.Errorf("chaos: --duration %v must be positive", *duration)
	}
	if *bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("chaos: finding this executable: %w", err)
		}
		*bin = exe
	}
	if *out == "" {
		d, err := os.MkdirTemp("", fmt.Sprintf("raftcache-chaos-%d-", *seed))
		if err != nil {
			return fmt.Errorf("chaos: %w", err)
		}
		*out = d
	}
	rep, err := chaos.Run(ctx, chaos.Options{Seed: *seed, Duration: *duration, Nodes: *nodes, Faults: fl, OutDir: *out,
		Bin: *bin, Runtime: *runtime, ComposeFile: *composeFile, Image: *image, Clients: *clients, SnapshotThreshold: *snapThreshold, TrailingLogs: *trailing,
		CheckTimeout: *checkTimeout, Log: stdout, ReplicaReads: *replicaReads})
	if err != nil {
		return err
	}
	rep.Print(stdout)
	faultArg := strings.Join(fl, ",")
	if faultArg == "" {
		faultArg = "none"
	}
	fmt.Fprintf(stdout, "replay: raftcache chaos --seed %d --duration %v --nodes %d --faults %s%s\n", *seed, *duration, *nodes, faultArg, replayFlags(fs))
	switch {
	case rep.Violation():
		return errViolation
	case rep.Lin.Verdict == chaos.Inconclusive:
		return errInconclusive
	case len(rep.Errors) > 0:
		return errors.New("chaos: the run had errors (see above)")
	}
	// Node data dirs are only needed to investigate a failure.
	for i := 1; i <= *nodes; i++ {
		_ = os.RemoveAll(filepath.Join(*out, "nodes", fmt.Sprintf("n%d", i)))
	}
	return nil
}

// recheck runs the checkers on a recorded history (the append checker
// needs the final lists, which are not recorded, so only linearizability).
func recheck(path string, timeout time.Duration, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	defer f.Close()
	ops, err := chaos.ReadOps(f)
	if err != nil {
		return err
	}
	// The nemesis timeline of the run, when its report sits next to the
	// history, annotates the visualisations.
	var rep struct {
		Events []chaos.Event `json:"events"`
	}
	if raw, err := os.ReadFile(filepath.Join(filepath.Dir(path), "report.json")); err == nil {
		if err := json.Unmarshal(raw, &rep); err != nil {
			return fmt.Errorf("chaos: %s: %w", filepath.Join(filepath.Dir(path), "report.json"), err)
		}
	}
	res := chaos.CheckLinearizable(ops, timeout, filepath.Dir(path), rep.Events)
	fmt.Fprintf(stdout, "%d keys, %d ops, checked in %v\n", res.Keys, res.Ops, time.Duration(res.Took).Round(time.Millisecond))
	for _, v := range res.Visualizations {
		fmt.Fprintf(stdout, "visualisation: %s\n", v)
	}
	fmt.Fprintf(stdout, "linearizable: %s\n", res.Verdict)
	switch res.Verdict {
	case chaos.NotLinearizable:
		return errViolation
	case chaos.Inconclusive:
		return errInconclusive
	}
	return nil
}

// replayFlags lists, for the replay line, every other flag the run was
// given (clients, snapshot settings, runtime...), so that the line
// recreates the same scenario. --out must name a new directory, --check
// is another mode and --bin is a path on this machine (CI deletes its
// build): they are left out.
func replayFlags(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "seed", "duration", "nodes", "faults", "out", "check", "bin":
			return
		}
		fmt.Fprintf(&b, " --%s=%s", f.Name, f.Value)
	})
	return b.String()
}
