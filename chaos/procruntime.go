package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/raftcache/raftcache/internal/testport"
)

// Port offsets of a node (design §6).
const (
	raftPortOffset   = 10000
	gossipPortOffset = 20000
	// grpcPortOffset puts each node's gRPC port (admin API, migration) at
	// 50000-55000, checked free by FreeBase (CI reserves that range from
	// the kernel's ephemeral ports).
	grpcPortOffset = 45000
)

// ProcConfig configures a cluster of `raftcache server` processes.
type ProcConfig struct {
	Bin               string        // the raftcache binary
	Dir               string        // data dirs and logs go below it
	Nodes             int           // 3 (1 shard) or 9 (3 shards): 3 replicas per shard
	BasePort          int           // 0 = FreeBase
	SnapshotThreshold uint64        // passed as --snapshot-threshold (0 = server default)
	TrailingLogs      uint64        // passed as --trailing-logs
	SnapshotInterval  time.Duration // passed as --snapshot-interval
	FaultFiles        bool          // start every node with --fault-file (transport and disk faults)
	DiskStallTimeout  time.Duration // passed as --disk-stall-timeout (0 = server default)
	LogLevel          string        // default "warn"
}

// StartProcCluster starts the processes and waits until every node reports
// a healthy cluster.
func StartProcCluster(ctx context.Context, cfg ProcConfig) (*ProcCluster, error) {
	if cfg.Nodes != 3 && cfg.Nodes != 9 {
		return nil, fmt.Errorf("chaos: %d nodes: use 3 (1 shard) or 9 (3 shards)", cfg.Nodes)
	}
	if cfg.Bin == "" || cfg.Dir == "" {
		return nil, errors.New("chaos: process cluster needs a binary and a directory")
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "warn"
	}
	if cfg.BasePort == 0 {
		b, err := FreeBase(cfg.Nodes)
		if err != nil {
			return nil, err
		}
		cfg.BasePort = b
	}
	c := &ProcCluster{Shards: cfg.Nodes / 3, Runtime: RuntimeProcess, rt: &procRuntime{cfg: cfg}}
	if cfg.FaultFiles {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("chaos: %w", err)
		}
		c.Faults = NewFaultMatrix(filepath.Join(cfg.Dir, "faults.json"))
	}
	var join []string
	for i := 0; i < cfg.Nodes; i++ {
		join = append(join, "127.0.0.1:"+strconv.Itoa(cfg.BasePort+i+gossipPortOffset))
	}
	for i := 0; i < cfg.Nodes; i++ {
		p := &Proc{Index: i, ID: fmt.Sprintf("n%d", i+1), AZ: azs[i%len(azs)], Port: cfg.BasePort + i, Shard: -1}
		p.DataDir = filepath.Join(cfg.Dir, p.ID)
		p.args = []string{"server", "--node-id", p.ID, "--az", p.AZ, "--data-dir", p.DataDir,
			"--port", strconv.Itoa(p.Port), "--grpc-port", strconv.Itoa(p.Port + grpcPortOffset),
			"--bootstrap-expect", strconv.Itoa(cfg.Nodes),
			"--shards", strconv.Itoa(c.Shards), "--log-level", cfg.LogLevel,
			"--join", strings.Join(append(append([]string(nil), join[:i]...), join[i+1:]...), ",")}
		if cfg.SnapshotThreshold > 0 {
			p.args = append(p.args, "--snapshot-threshold", strconv.FormatUint(cfg.SnapshotThreshold, 10))
		}
		if cfg.TrailingLogs > 0 {
			p.args = append(p.args, "--trailing-logs", strconv.FormatUint(cfg.TrailingLogs, 10))
		}
		if cfg.SnapshotInterval > 0 {
			p.args = append(p.args, "--snapshot-interval", cfg.SnapshotInterval.String())
		}
		// Hash marks in the node logs locate a divergence (hashmarks.go).
		p.args = append(p.args, "--log-applied-hash-every", strconv.Itoa(hashMarkEvery))
		if cfg.FaultFiles {
			p.args = append(p.args, "--fault-file", c.Faults.path)
		}
		if cfg.DiskStallTimeout > 0 {
			p.args = append(p.args, "--disk-stall-timeout", cfg.DiskStallTimeout.String())
		}
		c.Procs = append(c.Procs, p)
	}
	if c.Faults != nil {
		if err := c.Faults.Heal(); err != nil {
			return nil, err
		}
	}
	for _, p := range c.Procs {
		if err := c.rt.start(p); err != nil {
			c.Close()
			return nil, err
		}
		p.running = true
	}
	if err := c.formed(ctx, 60*time.Second); err != nil {
		return nil, err
	}
	return c, nil
}

// procRuntime runs nodes as child processes; their output goes to
// <Dir>/<id>.log, appended across restarts.
type procRuntime struct{ cfg ProcConfig }

func (r *procRuntime) start(p *Proc) error {
	if err := os.MkdirAll(r.cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(r.cfg.Dir, p.ID+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("chaos: node log: %w", err)
	}
	cmd := exec.Command(r.cfg.Bin, p.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("chaos: start %s: %w", p.ID, err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}(p.exited)
	return nil
}

func (r *procRuntime) kill(p *Proc) error {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("chaos: kill %s: %w", p.ID, err)
	}
	<-p.exited
	p.cmd = nil
	return nil
}

func (r *procRuntime) wipe(p *Proc) error {
	if err := os.RemoveAll(p.DataDir); err != nil {
		return fmt.Errorf("chaos: wipe %s: %w", p.ID, err)
	}
	return nil
}

func (r *procRuntime) pause(p *Proc) error {
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("chaos: pause %s: %w", p.ID, err)
	}
	return nil
}

func (r *procRuntime) resume(p *Proc) error {
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("chaos: resume %s: %w", p.ID, err)
	}
	return nil
}

// close stops every process: SIGCONT, SIGTERM, then SIGKILL after 20 s.
func (r *procRuntime) close(procs []*Proc) {
	for _, p := range procs {
		if p.cmd == nil {
			continue
		}
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		if p.cmd == nil {
			continue
		}
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		p.cmd = nil
	}
}

// FreeBase finds a base port such that base+i and its Raft, gossip and
// gRPC ports (TCP and UDP) are free for n nodes, away from the redis and
// dev ports.
func FreeBase(n int) (int, error) {
	for try := 0; try < 20; try++ {
		base, err := testport.FreeBase(n, 5000, 10000, raftPortOffset, gossipPortOffset, grpcPortOffset)
		if err != nil {
			return 0, fmt.Errorf("chaos: %w", err)
		}
		if base+n > 6300 && base < 7100 { // leave redis and dev ports alone
			continue
		}
		return base, nil
	}
	return 0, errors.New("chaos: no free port range")
}
