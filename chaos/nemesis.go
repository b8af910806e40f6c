package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fault names accepted by the nemesis.
const (
	FaultKill         = "kill"          // SIGKILL a random node, restart it on its data dir
	FaultKillLeader   = "kill-leader"   // SIGKILL a shard leader, restart it
	FaultPause        = "pause"         // SIGSTOP a shard leader past the election timeout, then SIGCONT
	FaultKillMajority = "kill-majority" // SIGKILL two of a shard's three nodes, restart them
	FaultPartition    = "partition"     // cut a leader's Raft links both ways, then heal
	FaultOneWay       = "partition-oneway"
	FaultNoise        = "noise"      // 5% message loss and 5 ms delay on every Raft link
	FaultLoseAZ       = "lose-az"    // SIGKILL every node of a shard leader's AZ, restart them
	FaultDisconnect   = "disconnect" // docker network disconnect a shard leader, reconnect
	FaultIsolateAZ    = "isolate-az" // disconnect every container of a shard leader's AZ
	FaultWipe         = "wipe"       // SIGKILL a random node, erase its data dir, restart it empty
)

// AllFaults lists every fault in the order of the docs.
var AllFaults = []string{FaultKill, FaultKillLeader, FaultPause, FaultKillMajority, FaultPartition, FaultOneWay, FaultNoise,
	FaultLoseAZ, FaultDisconnect, FaultIsolateAZ, FaultWipe,
	FaultDiskStall, FaultDiskError, // disk.go
	FaultMigrate}

// transportFaults need the nodes' --fault-file (process runtime).
func transportFault(f string) bool {
	return f == FaultPartition || f == FaultOneWay || f == FaultNoise
}

// networkFault needs a runtime that can take a node off the network
// (containers).
func networkFault(f string) bool { return f == FaultDisconnect || f == FaultIsolateAZ }

// CheckRuntime reports a fault the runtime cannot inject, before any node
// starts.
func CheckRuntime(runtime string, faults []string) error {
	for _, f := range faults {
		switch {
		case runtime == RuntimeDocker && transportFault(f):
			return fmt.Errorf("chaos: fault %s cuts Raft links through the servers' fault files: process runtime only (docker has disconnect and isolate-az)", f)
		case runtime != RuntimeDocker && networkFault(f):
			return fmt.Errorf("chaos: fault %s takes a container off its network: use --runtime docker", f)
		case runtime == RuntimeDocker && f == FaultWipe:
			return fmt.Errorf("chaos: fault %s erases a node's data dir: process runtime only", f)
		case runtime == RuntimeDocker && diskFault(f):
			return fmt.Errorf("chaos: fault %s breaks a node's disk through its fault file: process runtime only", f)
		}
	}
	return nil
}

// killFault stops nodes with SIGKILL and restarts them.
func killFault(f string) bool {
	return f == FaultKill || f == FaultKillLeader || f == FaultKillMajority || f == FaultLoseAZ || f == FaultWipe
}

// azFault hits every node of one AZ.
func azFault(f string) bool { return f == FaultLoseAZ || f == FaultIsolateAZ }

// ParseFaults checks a comma-separated fault list; "none" runs the
// workload without faults.
func ParseFaults(s string) ([]string, error) {
	if strings.TrimSpace(s) == "none" {
		return nil, nil // workload only
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(AllFaults, f) {
			return nil, fmt.Errorf("chaos: unknown fault %q (known: %s)", f, strings.Join(AllFaults, ","))
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, errors.New("chaos: no faults given")
	}
	return out, nil
}

// faultFileLag bounds how long a fault-file change takes to reach every
// node (they poll every 50 ms).
const faultFileLag = 150 * time.Millisecond

// Event is one nemesis action and what it cost.
type Event struct {
	Fault  string   `json:"fault"`
	Nodes  []string `json:"nodes"`
	Shard  int      `json:"shard"`
	Leader bool     `json:"leader"` // the fault hit the shard's leader
	At     Duration `json:"at"`     // since the run started
	Healed Duration `json:"healed"` // when the fault was undone
	// Failover is the time from the fault to the first acknowledged write
	// on the shard's slots (for kill-majority it includes the downtime
	// until the restart); 0 with Recovered false if there was none.
	Failover  Duration `json:"failover"`
	Recovered bool     `json:"recovered"`
	Note      string   `json:"note,omitempty"`
}

// Nemesis injects faults into a process cluster one at a time.
type Nemesis struct {
	c      *ProcCluster
	faults []string
	rng    *rand.Rand
	clock  func() int64
	logf   func(format string, args ...any)
	events []Event
}

// NewNemesis returns a nemesis over c choosing among faults with a seeded
// random source; clock is the history's clock.
func NewNemesis(c *ProcCluster, faults []string, seed uint64, clock func() int64, logf func(string, ...any)) (*Nemesis, error) {
	for _, f := range faults {
		if (transportFault(f) || diskFault(f)) && c.Faults == nil {
			return nil, fmt.Errorf("chaos: fault %s needs the nodes started with fault files (process runtime)", f)
		}
		if networkFault(f) && !c.CanDisconnect() {
			return nil, fmt.Errorf("chaos: fault %s needs the docker runtime (--runtime docker)", f)
		}
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	return &Nemesis{c: c, faults: faults, rng: rand.New(rand.NewPCG(seed, 0xfa17)), clock: clock, logf: logf}, nil
}

// Events returns the events so far.
func (n *Nemesis) Events() []Event { return n.events }

func (n *Nemesis) jitter(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(n.rng.Int64N(int64(hi-lo)+1))
}

// Run injects faults until ctx is done, then heals everything. It returns
// an error only when the cluster could not be brought back.
func (n *Nemesis) Run(ctx context.Context) error {
	if len(n.faults) == 0 {
		<-ctx.Done()
		return nil
	}
	sleepCtx(ctx, n.jitter(2*time.Second, 4*time.Second))
	var bag []string
	for ctx.Err() == nil {
		// Every fault once per round, in a seeded random order: a short
		// run (CI) still sees each kind.
		if len(bag) == 0 {
			bag = slices.Clone(n.faults)
			n.rng.Shuffle(len(bag), func(i, j int) { bag[i], bag[j] = bag[j], bag[i] })
		}
		f := bag[0]
		bag = bag[1:]
		ev, err := n.inject(ctx, f)
		if ev.Fault != "" {
			n.events = append(n.events, ev)
			n.logf("nemesis: %-16s shard %d nodes %v leader=%v failover=%v recovered=%v %s",
				ev.Fault, ev.Shard, ev.Nodes, ev.Leader, time.Duration(ev.Failover).Round(time.Millisecond), ev.Recovered, ev.Note)
		}
		if err != nil {
			return err
		}
		sleepCtx(ctx, n.jitter(time.Second, 3*time.Second))
	}
	return nil
}

// HealAll undoes every fault: resumes paused nodes, restarts killed ones,
// reconnects cut-off ones, clears transport faults, and waits for a
// healthy cluster.
func (n *Nemesis) HealAll(ctx context.Context) error {
	var errs []error
	if n.c.Faults != nil {
		errs = append(errs, n.c.Faults.Heal())
	}
	for _, p := range n.c.Procs {
		if p.Cut() {
			errs = append(errs, n.c.Reconnect(p))
		}
		switch {
		case p.Paused():
			errs = append(errs, n.c.Resume(p))
		case !p.Running():
			errs = append(errs, n.c.Restart(p))
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	errs = append(errs, n.c.WaitHealthy(wctx))
	return errors.Join(errs...)
}

func (n *Nemesis) leader(ctx context.Context, shard int) (*Proc, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := n.c.Leader(shard)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return p, err
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
}

func (n *Nemesis) inject(ctx context.Context, fault string) (Event, error) {
	if diskFault(fault) {
		return n.injectDisk(ctx, fault)
	}
	shard := n.rng.IntN(n.c.Shards)
	var victim *Proc
	if fault == FaultKill || fault == FaultWipe {
		victim = n.c.Procs[n.rng.IntN(len(n.c.Procs))]
		shard = victim.Shard
	}
	leader, err := n.leader(ctx, shard)
	if err != nil {
		return Event{}, err
	}
	members := n.c.ShardProcs(shard)
	ev := Event{Fault: fault, Shard: shard}
	var victims []*Proc
	switch fault {
	case FaultKill, FaultWipe:
		victims = []*Proc{victim}
	case FaultKillMajority:
		victims = []*Proc{leader}
		others := slices.DeleteFunc(slices.Clone(members), func(p *Proc) bool { return p == leader })
		victims = append(victims, others[n.rng.IntN(len(others))])
	case FaultLoseAZ, FaultIsolateAZ:
		// The leader's AZ goes: one replica of every shard whose replicas
		// are spread over the AZs, and every leader that happens to be there.
		victims = []*Proc{leader}
		for _, p := range n.c.Procs {
			if p.AZ == leader.AZ && p != leader {
				victims = append(victims, p)
			}
		}
		ev.Note = "az " + leader.AZ
	default:
		victims = []*Proc{leader}
	}
	for _, v := range victims {
		ev.Nodes = append(ev.Nodes, v.ID)
		if v == leader {
			ev.Leader = true
		}
	}
	var peers []string
	for _, p := range members {
		if p != leader {
			peers = append(peers, p.RaftAddr())
		}
	}

	// Inject.
	ev.At = Duration(n.clock())
	start := time.Now()
	var hold time.Duration
	switch fault {
	case FaultKill, FaultKillLeader, FaultKillMajority, FaultLoseAZ, FaultWipe:
		for _, v := range victims {
			if v == leader {
				start = time.Now() // AZ faults hit several containers, one docker call each
			}
			if err := n.c.Kill(v); err != nil {
				return ev, err
			}
		}
		hold = n.jitter(time.Second, 3*time.Second)
		if fault == FaultLoseAZ {
			hold = n.jitter(2*time.Second, 4*time.Second)
		}
		if fault == FaultWipe {
			// A replaced disk: the node restarts with nothing. It must not
			// vote as its old self; it rejoins as a new replica that
			// catches up from a snapshot (node/rejoin.go).
			if err := n.c.Wipe(victim); err != nil {
				return ev, err
			}
		}
	case FaultDisconnect, FaultIsolateAZ:
		for _, v := range victims {
			if v == leader {
				start = time.Now() // AZ faults hit several containers, one docker call each
			}
			if err := n.c.Disconnect(v); err != nil {
				return ev, err
			}
		}
		hold = n.jitter(2*time.Second, 4*time.Second) // past the leader's lease and an election
	case FaultPause:
		if err := n.c.Pause(leader); err != nil {
			return ev, err
		}
		hold = n.jitter(2*time.Second, 4*time.Second) // election timeout is 0.7-1.4 s
	case FaultPartition:
		if err := n.c.Faults.Isolate(leader.RaftAddr(), peers); err != nil {
			return ev, err
		}
		hold = n.jitter(2*time.Second, 4*time.Second)
	case FaultOneWay:
		if err := n.c.Faults.CutOneWay(leader.RaftAddr(), peers); err != nil {
			return ev, err
		}
		hold = n.jitter(2*time.Second, 4*time.Second)
	case FaultNoise:
		if err := n.c.Faults.Noise(0.05, 5); err != nil {
			return ev, err
		}
		hold = n.jitter(3*time.Second, 6*time.Second)
	}
	if transportFault(fault) {
		// The nodes poll the fault file every 50 ms: start the clock once
		// the fault is surely in effect.
		time.Sleep(faultFileLag)
		start = time.Now()
	}
	probe := make(chan time.Duration, 1)
	// The probe outlives the run's context so that a fault cut short by the
	// end of the run is still measured.
	pctx, cancelProbe := context.WithTimeout(context.Background(), hold+30*time.Second)
	defer cancelProbe()
	go func() { probe <- n.probe(pctx, shard, start) }()

	// Hold, then heal.
	sleepCtx(ctx, hold)
	if ctx.Err() != nil {
		ev.Note = strings.TrimPrefix(ev.Note+"; run ended while the fault was in effect", "; ")
	}
	var herr error
	switch {
	case killFault(fault):
		for _, v := range victims {
			herr = errors.Join(herr, n.c.Restart(v))
		}
	case networkFault(fault):
		for _, v := range victims {
			herr = errors.Join(herr, n.c.Reconnect(v))
		}
	case fault == FaultPause:
		herr = n.c.Resume(leader)
	default:
		herr = n.c.Faults.Heal()
	}
	ev.Healed = Duration(n.clock())
	if d := <-probe; d > 0 {
		ev.Failover, ev.Recovered = Duration(d), true
	}
	if herr != nil {
		return ev, herr
	}
	wctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := n.c.WaitHealthy(wctx); err != nil {
		ev.Note = strings.TrimPrefix(ev.Note+"; cluster not healthy 60 s after healing", "; ")
		return ev, err
	}
	if fault == FaultWipe {
		// The next fault may hit this shard again: wait until the wiped
		// node is a full member once more.
		if err := n.c.WaitMember(wctx, victim); err != nil {
			ev.Note = strings.TrimPrefix(ev.Note+"; wiped node did not rejoin its shard within 60 s", "; ")
			return ev, err
		}
	}
	if !ev.Recovered {
		ev.Note = strings.TrimSpace(ev.Note + "; no acknowledged probe write")
	}
	return ev, nil
}

// probe writes to a key of shard through every node of the shard in turn
// (fresh connections, short timeouts, no client-side routing) until one
// acknowledges; it returns the time since start, or 0 if ctx ended first.
func (n *Nemesis) probe(ctx context.Context, shard int, start time.Time) time.Duration {
	key := n.c.ProbeKey(shard)
	members := n.c.ShardProcs(shard)
	for i := 0; ; i++ {
		for _, p := range members {
			if ctx.Err() != nil {
				return 0
			}
			r, err := Command(p.Addr(), 250*time.Millisecond, "SET", key, strconv.Itoa(i))
			if err == nil && r.Kind == '+' && r.Str == "OK" {
				return time.Since(start)
			}
		}
		sleepCtx(ctx, 20*time.Millisecond)
	}
}
