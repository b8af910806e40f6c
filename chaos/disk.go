package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Disk faults (process runtime): a shard leader's Raft log and stable store
// writes hang or fail, injected through the servers' --fault-file. The node
// must stop by itself (fail-stop: `raftcache server` exits with
// exitDiskFailure), the others elect a leader, and the nemesis restarts the
// node on its data dir once the fault is cleared, as a supervisor would.
const (
	FaultDiskStall = "disk-stall" // a leader's log/stable store writes hang: the stall watchdog must stop it
	FaultDiskError = "disk-error" // a leader's log/stable store writes fail with an I/O error: it must stop
)

// exitDiskFailure is the exit status of `raftcache server` after a disk
// failure (cmd/raftcache).
const exitDiskFailure = 4

// DiskStallTimeout is the servers' --disk-stall-timeout in runs with disk
// faults: a disk-stall's failover includes it (the server default, 10 s,
// would make each such fault last that much longer).
const DiskStallTimeout = 3 * time.Second

// diskFault needs the nodes' --fault-file and a node that exits by itself
// (process runtime).
func diskFault(f string) bool { return f == FaultDiskStall || f == FaultDiskError }

// StallDisk makes the Raft log and stable store writes of node id hang.
func (m *FaultMatrix) StallDisk(id string) error {
	m.spec.DiskStall = append(m.spec.DiskStall, id)
	return m.write()
}

// FailDisk makes the Raft log and stable store writes of node id fail.
func (m *FaultMatrix) FailDisk(id string) error {
	m.spec.DiskError = append(m.spec.DiskError, id)
	return m.write()
}

// ClearDisks lifts every disk fault and keeps the transport faults.
func (m *FaultMatrix) ClearDisks() error {
	m.spec.DiskStall, m.spec.DiskError = nil, nil
	return m.write()
}

// exitWaiter is a runtime whose nodes can stop by themselves.
type exitWaiter interface {
	// waitExit waits until p's process has exited and returns its status.
	waitExit(ctx context.Context, p *Proc) (int, error)
}

func (r *procRuntime) waitExit(ctx context.Context, p *Proc) (int, error) {
	select {
	case <-p.exited:
	case <-ctx.Done():
		return 0, fmt.Errorf("chaos: %s still running: %w", p.ID, ctx.Err())
	}
	code := p.cmd.ProcessState.ExitCode()
	p.cmd = nil
	return code, nil
}

// WaitExit waits until a running node exits by itself (fail-stop) and
// returns its exit status; the node is then down, to be restarted.
func (c *ProcCluster) WaitExit(ctx context.Context, p *Proc) (int, error) {
	w, ok := c.rt.(exitWaiter)
	if !ok {
		return 0, fmt.Errorf("chaos: the %s runtime cannot watch a node exit", c.Runtime)
	}
	if !p.running {
		return 0, fmt.Errorf("chaos: %s is not running", p.ID)
	}
	code, err := w.waitExit(ctx, p)
	if err != nil {
		return 0, err
	}
	p.running, p.paused = false, false
	return code, nil
}

// injectDisk breaks a shard leader's disk, waits for the node to stop by
// itself, clears the fault, restarts the node after 0.5-1.5 s down (a
// supervisor's restart) and measures the failover from the fault to the
// first acknowledged write on the shard.
func (n *Nemesis) injectDisk(ctx context.Context, fault string) (Event, error) {
	shard := n.rng.IntN(n.c.Shards)
	leader, err := n.leader(ctx, shard)
	if err != nil {
		return Event{}, err
	}
	down := n.jitter(500*time.Millisecond, 1500*time.Millisecond)
	ev := Event{Fault: fault, Shard: shard, Nodes: []string{leader.ID}, Leader: true, At: Duration(n.clock())}
	injected := time.Now()
	if fault == FaultDiskStall {
		err = n.c.Faults.StallDisk(leader.ID)
	} else {
		err = n.c.Faults.FailDisk(leader.ID)
	}
	if err != nil {
		return ev, err
	}
	time.Sleep(faultFileLag) // the node polls its fault file every 50 ms
	start := time.Now()
	probe := make(chan time.Duration, 1)
	pctx, cancelProbe := context.WithTimeout(context.Background(), DiskStallTimeout+30*time.Second)
	defer cancelProbe()
	go func() { probe <- n.probe(pctx, shard, start) }()

	// A stalled node must stop within the stall timeout plus a watchdog
	// tick; a failing one at its next write (the workload and the probe
	// keep writing). Waited for even when the run ends meanwhile.
	wctx, cancel := context.WithTimeout(context.Background(), DiskStallTimeout+20*time.Second)
	code, werr := n.c.WaitExit(wctx, leader)
	cancel()
	stopped := time.Since(injected) // the node may stop before the fault-file lag is over
	if werr != nil {
		// Not fail-stop: a finding. Put the node back for the rest of the run.
		ev.Note = fmt.Sprintf("%s did not stop after its disk broke", leader.ID)
		herr := errors.Join(n.c.Faults.ClearDisks(), n.c.Kill(leader), n.c.Restart(leader))
		ev.Healed = Duration(n.clock())
		return ev, errors.Join(fmt.Errorf("chaos: %s: %w", fault, werr), herr)
	}
	ev.Note = fmt.Sprintf("node exited with status %d %v after the fault was written", code, stopped.Round(time.Millisecond))
	sleepCtx(ctx, down)
	herr := errors.Join(n.c.Faults.ClearDisks(), n.c.Restart(leader))
	ev.Healed = Duration(n.clock())
	if d := <-probe; d > 0 {
		ev.Failover, ev.Recovered = Duration(d), true
	}
	if code != exitDiskFailure {
		return ev, errors.Join(fmt.Errorf("chaos: %s: %s exited with status %d, want %d (disk failure)", fault, leader.ID, code, exitDiskFailure), herr)
	}
	if herr != nil {
		return ev, herr
	}
	hctx, hcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer hcancel()
	if err := n.c.WaitHealthy(hctx); err != nil {
		ev.Note = strings.TrimPrefix(ev.Note+"; cluster not healthy 60 s after the restart", "; ")
		return ev, err
	}
	if !ev.Recovered {
		ev.Note += "; no acknowledged probe write"
	}
	return ev, nil
}
