package chaos

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/raftcache/raftcache/slots"
)

// Runtimes a chaos cluster can run on.
const (
	RuntimeProcess = "process" // child processes on this machine
	RuntimeDocker  = "docker"  // containers of deploy/docker-compose.yml
)

var azs = []string{"az-a", "az-b", "az-c"}

// Proc is one server node: a child process (procruntime.go) or a container
// of a compose cluster (containers.go).
type Proc struct {
	Index   int
	ID      string
	AZ      string
	Port    int // RESP port on 127.0.0.1 (for containers: the published port)
	DataDir string
	Shard   int // from CLUSTER SLOTS once the cluster formed

	running, paused, cut bool

	// process runtime
	args   []string
	cmd    *exec.Cmd
	exited chan struct{}
	// container runtime
	container, ip, network string
}

// Addr is the RESP address.
func (p *Proc) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.Port) }

// RaftAddr is the Raft transport address (process runtime).
func (p *Proc) RaftAddr() string { return "127.0.0.1:" + strconv.Itoa(p.Port+raftPortOffset) }

// Running reports whether the node runs (it may be paused or cut off).
func (p *Proc) Running() bool { return p.running }

// Paused reports whether the node is frozen (SIGSTOP, docker pause).
func (p *Proc) Paused() bool { return p.paused }

// Cut reports whether the node is disconnected from the network.
func (p *Proc) Cut() bool { return p.cut }

// reachable reports whether the node can answer now.
func (p *Proc) reachable() bool { return p.running && !p.paused && !p.cut }

// nodeRuntime starts and faults nodes.
type nodeRuntime interface {
	start(p *Proc) error // first start, and restart on the same data
	kill(p *Proc) error  // SIGKILL; returns once the node is down
	pause(p *Proc) error
	resume(p *Proc) error
	wipe(p *Proc) error  // erase a stopped node's data
	close(procs []*Proc) // stop everything, keep the logs
}

// networkRuntime can cut a node off the network (containers).
type networkRuntime interface {
	disconnect(p *Proc) error
	connect(p *Proc) error
}

// ProcCluster is a cluster of real server nodes. Methods are not safe for
// concurrent use (the nemesis owns it), except Addrs.
type ProcCluster struct {
	Procs  []*Proc
	Shards int
	// ShardSlots holds one slot range per shard (from CLUSTER SLOTS).
	ShardSlots []slots.Range
	// Faults drives the nodes' --fault-file (process runtime, nil unless
	// FaultFiles).
	Faults *FaultMatrix
	// Runtime is RuntimeProcess or RuntimeDocker.
	Runtime string
	// slotShard is each slot's shard (index into ShardSlots' order) once
	// slots have moved (CheckSlots); nil: ShardSlots still holds.
	slotShard []int

	rt     nodeRuntime
	closed bool
}

// formed waits for a healthy cluster and learns its shards; it closes the
// cluster on failure.
func (c *ProcCluster) formed(ctx context.Context, within time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	err := c.WaitHealthy(wctx)
	if err == nil {
		err = c.learnShards()
	}
	if err != nil {
		c.Close()
	}
	return err
}

// Kill stops a node with SIGKILL (docker kill) and waits until it is down.
func (c *ProcCluster) Kill(p *Proc) error {
	if !p.running {
		return fmt.Errorf("chaos: %s is not running", p.ID)
	}
	if err := c.rt.kill(p); err != nil {
		return err
	}
	p.running, p.paused = false, false
	return nil
}

// Wipe erases a killed node's data, as a replaced disk would.
func (c *ProcCluster) Wipe(p *Proc) error {
	if p.running {
		return fmt.Errorf("chaos: %s is still running", p.ID)
	}
	return c.rt.wipe(p)
}

// WaitMember waits until p is a replica of its shard again (its own
// CLUSTER SLOTS lists it among the shard's nodes), e.g. after a wipe.
func (c *ProcCluster) WaitMember(ctx context.Context, p *Proc) error {
	for {
		r, err := Command(p.Addr(), time.Second, "CLUSTER", "SLOTS")
		if err == nil && slotsListPort(r, p.Port) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chaos: %s is not a member of its shard again: %w", p.ID, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// slotsListPort reports whether a CLUSTER SLOTS reply names a node on port.
func slotsListPort(r Reply, port int) bool {
	for _, e := range r.Arr {
		for i, n := range e.Arr {
			if i >= 2 && len(n.Arr) >= 2 && n.Arr[1].Int == int64(port) {
				return true
			}
		}
	}
	return false
}

// Restart starts a killed node again on its data.
func (c *ProcCluster) Restart(p *Proc) error {
	if p.running {
		return fmt.Errorf("chaos: %s is still running", p.ID)
	}
	if err := c.rt.start(p); err != nil {
		return err
	}
	p.running = true
	return nil
}

// Pause freezes a node (SIGSTOP, docker pause).
func (c *ProcCluster) Pause(p *Proc) error {
	if !p.running || p.paused {
		return fmt.Errorf("chaos: %s is not running or already paused", p.ID)
	}
	if err := c.rt.pause(p); err != nil {
		return err
	}
	p.paused = true
	return nil
}

// Resume continues a paused node.
func (c *ProcCluster) Resume(p *Proc) error {
	if !p.running || !p.paused {
		return fmt.Errorf("chaos: %s is not paused", p.ID)
	}
	if err := c.rt.resume(p); err != nil {
		return err
	}
	p.paused = false
	return nil
}

// CanDisconnect reports whether nodes can be cut off the network
// (containers only).
func (c *ProcCluster) CanDisconnect() bool {
	_, ok := c.rt.(networkRuntime)
	return ok
}

// Disconnect cuts a running node off the network: no Raft, gossip or
// client traffic in or out while its process goes on.
func (c *ProcCluster) Disconnect(p *Proc) error {
	nr, ok := c.rt.(networkRuntime)
	if !ok {
		return fmt.Errorf("chaos: the %s runtime cannot disconnect nodes", c.Runtime)
	}
	if !p.running || p.cut {
		return fmt.Errorf("chaos: %s is not running or already cut off", p.ID)
	}
	if err := nr.disconnect(p); err != nil {
		return err
	}
	p.cut = true
	return nil
}

// Reconnect puts a cut-off node back on the network.
func (c *ProcCluster) Reconnect(p *Proc) error {
	nr, ok := c.rt.(networkRuntime)
	if !ok || !p.cut {
		return fmt.Errorf("chaos: %s is not cut off", p.ID)
	}
	if err := nr.connect(p); err != nil {
		return err
	}
	p.cut = false
	return nil
}

// Close stops every node, once.
func (c *ProcCluster) Close() {
	if c.closed || c.rt == nil {
		return
	}
	c.closed = true
	c.rt.close(c.Procs)
	for _, p := range c.Procs {
		p.running, p.paused, p.cut = false, false, false
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

// WaitHealthy waits until every reachable node (running, not paused, not
// cut off) reports cluster_state:ok with all shards.
func (c *ProcCluster) WaitHealthy(ctx context.Context) error {
	want := "cluster_size:" + strconv.Itoa(c.Shards)
	for _, p := range c.Procs {
		if !p.reachable() {
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
// (INFO replication role:master), asking only reachable nodes.
func (c *ProcCluster) Leader(shard int) (*Proc, error) {
	for _, p := range c.ShardProcs(shard) {
		if !p.reachable() {
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
