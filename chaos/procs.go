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
	"github.com/raftcache/raftcache/slots"
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

var azs = []string{"az-a", "az-b", "az-c"}

// ProcConfig configures a cluster of `raftcache server` processes.
type ProcConfig struct {
	Bin               string        // the raftcache binary
	Dir               string        // data dirs and logs go below it
	Nodes             int           // 3 (1 shard) or 9 (3 shards): 3 replicas per shard
	BasePort          int           // 0 = FreeBase
	SnapshotThreshold uint64        // passed as --snapshot-threshold (0 = server default)
	TrailingLogs      uint64        // passed as --trailing-logs
	SnapshotInterval  time.Duration // passed as --snapshot-interval
	FaultFiles        bool          // start every node with --fault-file (transport faults)
	LogLevel          string        // default "warn"
}

// Proc is one server process.
type Proc struct {
	Index   int
	ID      string
	Port    int
	DataDir string
	Shard   int // from CLUSTER SLOTS once the cluster formed

	args   []string
	cmd    *exec.Cmd
	exited chan struct{}
	paused bool
}

// Addr is the RESP address.
func (p *Proc) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.Port) }

// RaftAddr is the Raft transport address.
func (p *Proc) RaftAddr() string { return "127.0.0.1:" + strconv.Itoa(p.Port+raftPortOffset) }

// Running reports whether the process runs (it may be paused).
func (p *Proc) Running() bool { return p.cmd != nil }

// Paused reports whether the process is stopped with SIGSTOP.
func (p *Proc) Paused() bool { return p.paused }

// ProcCluster is a cluster of real server processes. Methods are not safe
// for concurrent use (the nemesis owns it), except Addrs.
type ProcCluster struct {
	cfg    ProcConfig
	Procs  []*Proc
	Shards int
	// ShardSlots holds one slot range per shard (from CLUSTER SLOTS).
	ShardSlots []slots.Range
	// Faults drives the nodes' --fault-file (nil unless FaultFiles).
	Faults *FaultMatrix
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
	c := &ProcCluster{cfg: cfg, Shards: cfg.Nodes / 3}
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
		p := &Proc{Index: i, ID: fmt.Sprintf("n%d", i+1), Port: cfg.BasePort + i, Shard: -1}
		p.DataDir = filepath.Join(cfg.Dir, p.ID)
		p.args = []string{"server", "--node-id", p.ID, "--az", azs[i%len(azs)], "--data-dir", p.DataDir,
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
		if cfg.FaultFiles {
			p.args = append(p.args, "--fault-file", c.Faults.path)
		}
		c.Procs = append(c.Procs, p)
	}
	if c.Faults != nil {
		if err := c.Faults.Heal(); err != nil {
			return nil, err
		}
	}
	for _, p := range c.Procs {
		if err := c.start(p); err != nil {
			c.Close()
			return nil, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := c.WaitHealthy(wctx); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.learnShards(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *ProcCluster) start(p *Proc) error {
	if err := os.MkdirAll(c.cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(c.cfg.Dir, p.ID+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("chaos: node log: %w", err)
	}
	cmd := exec.Command(c.cfg.Bin, p.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("chaos: start %s: %w", p.ID, err)
	}
	p.cmd, p.exited, p.paused = cmd, make(chan struct{}), false
	go func(exited chan struct{}) {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}(p.exited)
	return nil
}

// Kill sends SIGKILL and waits for the process to exit.
func (c *ProcCluster) Kill(p *Proc) error {
	if p.cmd == nil {
		return fmt.Errorf("chaos: %s is not running", p.ID)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("chaos: kill %s: %w", p.ID, err)
	}
	<-p.exited
	p.cmd, p.paused = nil, false
	return nil
}

// Restart starts a killed node again on its data dir.
func (c *ProcCluster) Restart(p *Proc) error {
	if p.cmd != nil {
		return fmt.Errorf("chaos: %s is still running", p.ID)
	}
	return c.start(p)
}

// Pause stops the process with SIGSTOP.
func (c *ProcCluster) Pause(p *Proc) error {
	if p.cmd == nil || p.paused {
		return fmt.Errorf("chaos: %s is not running or already paused", p.ID)
	}
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("chaos: pause %s: %w", p.ID, err)
	}
	p.paused = true
	return nil
}

// Resume continues a paused process with SIGCONT.
func (c *ProcCluster) Resume(p *Proc) error {
	if p.cmd == nil || !p.paused {
		return fmt.Errorf("chaos: %s is not paused", p.ID)
	}
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("chaos: resume %s: %w", p.ID, err)
	}
	p.paused = false
	return nil
}

// Close stops every process: SIGCONT, SIGTERM, then SIGKILL after 20 s.
func (c *ProcCluster) Close() {
	for _, p := range c.Procs {
		if p.cmd == nil {
			continue
		}
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range c.Procs {
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

// Addrs returns every node's RESP address.
func (c *ProcCluster) Addrs() []string {
	var out []string
	for _, p := range c.Procs {
		out = append(out, p.Addr())
	}
	return out
}

// ShardProcs returns the nodes of a shard.
func (c *ProcCluster) ShardProcs(shard int) []*Proc {
	var out []*Proc
	for _, p := range c.Procs {
		if p.Shard == shard {
			out = append(out, p)
		}
	}
	return out
}

// WaitHealthy waits until every running, unpaused node reports
// cluster_state:ok with all shards.
func (c *ProcCluster) WaitHealthy(ctx context.Context) error {
	want := "cluster_size:" + strconv.Itoa(c.Shards)
	for _, p := range c.Procs {
		if p.cmd == nil || p.paused {
			continue
		}
		var last string
		for {
			r, err := Command(p.Addr(), time.Second, "CLUSTER", "INFO")
			if err == nil && strings.Contains(r.Str, "cluster_state:ok") && strings.Contains(r.Str, want) {
				break
			}
			last = fmt.Sprint(r.Str, err)
			select {
			case <-ctx.Done():
				return fmt.Errorf("chaos: %s not healthy (last: %.200s): %w", p.ID, last, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// learnShards reads CLUSTER SLOTS to map nodes to shards.
func (c *ProcCluster) learnShards() error {
	r, err := Command(c.Procs[0].Addr(), 2*time.Second, "CLUSTER", "SLOTS")
	if err != nil {
		return err
	}
	byPort := map[int64]*Proc{}
	for _, p := range c.Procs {
		byPort[int64(p.Port)] = p
	}
	shard := 0
	for _, e := range r.Arr {
		if len(e.Arr) < 3 {
			continue
		}
		c.ShardSlots = append(c.ShardSlots, slots.Range{Start: slots.Slot(e.Arr[0].Int), End: slots.Slot(e.Arr[1].Int)})
		for _, n := range e.Arr[2:] {
			if len(n.Arr) >= 2 {
				if p, ok := byPort[n.Arr[1].Int]; ok {
					p.Shard = shard
				}
			}
		}
		shard++
	}
	for _, p := range c.Procs {
		if p.Shard < 0 {
			return fmt.Errorf("chaos: %s is in no shard of CLUSTER SLOTS %s", p.ID, r.String())
		}
	}
	return nil
}

// Leader returns the node of a shard that says it is the Raft leader
// (INFO replication role:master), asking only running, unpaused nodes.
func (c *ProcCluster) Leader(shard int) (*Proc, error) {
	for _, p := range c.ShardProcs(shard) {
		if p.cmd == nil || p.paused {
			continue
		}
		r, err := Command(p.Addr(), 500*time.Millisecond, "INFO", "replication")
		if err == nil && strings.Contains(r.Str, "role:master") {
			return p, nil
		}
	}
	return nil, fmt.Errorf("chaos: shard %d has no leader", shard)
}

// ProbeKey returns a key whose slot belongs to shard.
func (c *ProcCluster) ProbeKey(shard int) string {
	rg := c.ShardSlots[shard]
	for i := 0; ; i++ {
		k := "probe:" + strconv.Itoa(i)
		if rg.Contains(slots.OfString(k)) {
			return k
		}
	}
}

// Command sends one command on a fresh connection and reads the reply.
func Command(addr string, timeout time.Duration, args ...string) (Reply, error) {
	cn, err := dialRESP(addr, timeout)
	if err != nil {
		return Reply{}, err
	}
	defer cn.close()
	if err := cn.send(time.Now().Add(timeout), args); err != nil {
		return Reply{}, fmt.Errorf("%s: %w", addr, err)
	}
	r, err := cn.read()
	if err != nil {
		return Reply{}, fmt.Errorf("%s: %w", addr, err)
	}
	return r, nil
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
