package shard

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// ErrDiskFailed wraps the error a replica's OnFatal receives when a write
// to its Raft log or stable store failed or hung past DiskStallTimeout.
var ErrDiskFailed = errors.New("shard: disk failure")

// errGuardClosed is what a write held by an injected stall returns when the
// replica closes.
var errGuardClosed = errors.New("shard: disk guard closed")

// keyCurrentTerm is hashicorp/raft's stable-store key for the current term
// (raft.go). raft panics when saving it fails, which in a process running
// several replicas (dev) would take all of them down; the guard holds such
// a write instead (holdTerm).
const keyCurrentTerm = "CurrentTerm"

// diskGuard wraps a replica's Raft log and stable store so that a failed or
// hung write stops the replica (fail-stop) instead of being retried or
// acknowledged. After a failed write or fsync the state of the file is
// unknown (the "fsyncgate" lesson: the kernel may have dropped the dirty
// pages and a retried fsync reports success), and a leader whose disk hangs
// keeps heartbeating from other goroutines, so its followers never elect a
// successor (hashicorp/raft #503). The first failure calls onFatal once;
// every later write is refused, so nothing is acknowledged on top of a disk
// in an unknown state. A watchdog declares the disk failed when one write
// has been in progress longer than timeout.
type diskGuard struct {
	id      string        // replica id, for disk faults
	faults  *Faults       // injected disk faults (nil = none)
	timeout time.Duration // stall watchdog (0 = off)
	onFatal func(error)   // called once, from its own goroutine

	mu       sync.Mutex
	inflight map[uint64]diskCall // writes in progress by sequence number
	seq      uint64
	failed   error // first failure (wraps ErrDiskFailed)

	closeOnce sync.Once
	released  chan struct{} // closed by close: held writes return
	done      chan struct{} // closed when the watchdog exits
}

// diskCall is one write in progress; start carries the monotonic clock
// reading, so wall clock jumps do not fire the watchdog.
type diskCall struct {
	op    string
	start time.Time
}

// newDiskGuard starts the watchdog when timeout > 0; close stops it.
func newDiskGuard(id string, faults *Faults, timeout time.Duration, onFatal func(error)) *diskGuard {
	g := &diskGuard{id: id, faults: faults, timeout: max(timeout, 0), onFatal: onFatal,
		inflight: map[uint64]diskCall{}, released: make(chan struct{}), done: make(chan struct{})}
	if g.timeout > 0 {
		go g.watch()
	} else {
		close(g.done)
	}
	return g
}

// close releases the writes held by an injected stall or by holdTerm (raft's
// goroutines must return for its Shutdown to complete) and stops the
// watchdog. A write hanging in the real store cannot be released: it
// returns when the disk does. Idempotent.
func (g *diskGuard) close() {
	g.closeOnce.Do(func() { close(g.released) })
	<-g.done
}

// err returns the failure that stopped the disk, or nil.
func (g *diskGuard) err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.failed
}

// fail records the first failure and reports it.
func (g *diskGuard) fail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failed != nil {
		return
	}
	g.failed = err
	select {
	case <-g.released:
		// The replica is closing already (a late write, e.g. a heartbeat's
		// term after the store closed): refused all the same, but no
		// reason to fail-stop a process that is shutting down.
		return
	default:
	}
	if g.onFatal != nil {
		// Its own goroutine: the callback may close the replica, which
		// waits for raft's goroutine, the one probably calling us.
		go g.onFatal(err)
	}
}

// write runs one store write under the guard. term marks the current-term
// write, which must not return an error (see keyCurrentTerm).
func (g *diskGuard) write(op string, term bool, fn func() error) error {
	if err := g.err(); err != nil {
		return g.refuse(term, err)
	}
	g.mu.Lock()
	g.seq++
	seq := g.seq
	g.inflight[seq] = diskCall{op: op, start: time.Now()}
	g.mu.Unlock()

	err := g.injected()
	if err == nil {
		err = fn()
	}

	g.mu.Lock()
	delete(g.inflight, seq)
	g.mu.Unlock()
	if errors.Is(err, errGuardClosed) {
		return g.refuse(term, err)
	}
	if err != nil {
		g.fail(fmt.Errorf("%w: %s: %w", ErrDiskFailed, op, err))
	}
	// Also when this write succeeded but the watchdog declared the disk
	// stalled meanwhile: the replica is stopping, raft must not build on it.
	if err := g.err(); err != nil {
		return g.refuse(term, err)
	}
	return nil
}

// refuse answers a write the guard will not let through.
func (g *diskGuard) refuse(term bool, err error) error {
	if term {
		return g.holdTerm()
	}
	return err
}

// holdTerm blocks a refused current-term write until the replica closes,
// then reports success: raft panics on an error there (setCurrentTerm).
// Raft is shutting down by then; the term it keeps in memory is never
// acted on, and every log and vote write after it is refused, so no
// acknowledgement or vote rests on it.
func (g *diskGuard) holdTerm() error {
	<-g.released
	return nil
}

// injected applies the disk faults of this replica: an injected error, or a
// stall that holds the write until the fault is lifted or the guard closes.
func (g *diskGuard) injected() error {
	if g.faults == nil {
		return nil
	}
	for {
		stall, fail, changed := g.faults.disk(g.id)
		if fail {
			return ErrDiskFaultInjected
		}
		if !stall {
			return nil
		}
		select {
		case <-changed:
		case <-g.released:
			return errGuardClosed
		}
	}
}

// watch fails the disk when a write has been in progress longer than the
// timeout; it checks a few times per timeout, so it fires between timeout
// and timeout plus one tick.
func (g *diskGuard) watch() {
	defer close(g.done)
	t := time.NewTicker(g.tick())
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-g.released:
			return
		case <-t.C:
		}
		now := time.Now()
		g.check(now, now.Sub(last))
		last = now
	}
}

func (g *diskGuard) tick() time.Duration {
	return min(max(g.timeout/5, 10*time.Millisecond), time.Second)
}

// check is one watchdog tick at now, gap after the previous one. A gap of
// more than two ticks means this process did not run meanwhile (SIGSTOP, a
// paused VM, a starved CPU): the writes in progress were frozen too, not
// waiting on the disk, so their clocks restart instead of failing a disk
// that may be fine (seen in chaos runs: a leader paused 3 s was failed on
// resuming).
func (g *diskGuard) check(now time.Time, gap time.Duration) {
	g.mu.Lock()
	if gap > 2*g.tick() {
		for seq, c := range g.inflight {
			c.start = now
			g.inflight[seq] = c
		}
		g.mu.Unlock()
		return
	}
	var op string
	var longest time.Duration
	for _, c := range g.inflight {
		if d := now.Sub(c.start); d > longest {
			op, longest = c.op, d
		}
	}
	g.mu.Unlock()
	if op != "" && longest >= g.timeout {
		g.fail(fmt.Errorf("%w: %s in progress for %v (disk stall timeout %v)", ErrDiskFailed, op, longest.Round(time.Millisecond), g.timeout))
	}
}

// inflightCount reports the number of writes in progress.
func (g *diskGuard) inflightCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.inflight)
}

// logStore wraps s: its writes go through the guard, its reads do not.
func (g *diskGuard) logStore(s raft.LogStore) raft.LogStore { return &guardedLogs{LogStore: s, g: g} }

// stableStore wraps s: its writes go through the guard, its reads do not.
func (g *diskGuard) stableStore(s raft.StableStore) raft.StableStore {
	return &guardedStable{StableStore: s, g: g}
}

type guardedLogs struct {
	raft.LogStore
	g *diskGuard
}

func (s *guardedLogs) StoreLog(l *raft.Log) error {
	return s.g.write("store log", false, func() error { return s.LogStore.StoreLog(l) })
}

func (s *guardedLogs) StoreLogs(ls []*raft.Log) error {
	return s.g.write("store logs", false, func() error { return s.LogStore.StoreLogs(ls) })
}

func (s *guardedLogs) DeleteRange(lo, hi uint64) error {
	return s.g.write("delete log range", false, func() error { return s.LogStore.DeleteRange(lo, hi) })
}

// IsMonotonic passes raft.MonotonicLogStore through (raft.LogCache has it),
// so wrapping does not change how raft treats the logs after a restore.
func (s *guardedLogs) IsMonotonic() bool {
	m, ok := s.LogStore.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

type guardedStable struct {
	raft.StableStore
	g *diskGuard
}

func (s *guardedStable) Set(k, v []byte) error {
	return s.g.write("stable set "+string(k), false, func() error { return s.StableStore.Set(k, v) })
}

func (s *guardedStable) SetUint64(k []byte, v uint64) error {
	return s.g.write("stable set "+string(k), string(k) == keyCurrentTerm, func() error { return s.StableStore.SetUint64(k, v) })
}
