package shard

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// ErrFaultInjected is returned by connections and dials that a Faults
// cut or dropped.
var ErrFaultInjected = errors.New("shard: transport fault injected")

// Faults injects network faults into the Raft TCP stream layers that share
// it, and disk faults into the log and stable stores of the replicas that
// share it (diskguard.go): one Faults for a whole in-process cluster, or one
// per process driven by a fault file. Network faults name Raft advertise
// addresses (host:port), disk faults replica ids (Config.ID).
//
// Every fault is enforced on the side that dialled the connection: writes
// carry dialler→peer messages (requests) and reads carry peer→dialler
// messages (responses), so a one-way cut from A to B fails A's writes on
// connections A dialled to B and B's reads on connections B dialled to A.
// A faulty connection is closed, which Raft sees as a lost RPC. Drop closes
// a connection on a write with the given probability; Delay sleeps before
// every write.
type Faults struct {
	mu    sync.RWMutex
	cut   map[link]bool
	drop  float64
	delay time.Duration
	// Disk faults by replica id: stalled writes block until the fault is
	// lifted; failing writes return ErrDiskFaultInjected.
	diskStall map[string]bool
	diskError map[string]bool
	changed   chan struct{} // closed and replaced on every change (wakes stalled writes)
}

type link struct{ from, to string }

// FaultSpec is the serialisable state of a Faults (the fault-file format).
type FaultSpec struct {
	Cut     [][2]string `json:"cut,omitempty"` // [from, to]: messages from→to are lost
	Drop    float64     `json:"drop,omitempty"`
	DelayMS int         `json:"delay_ms,omitempty"`
	// DiskStall and DiskError list replica ids (node ids) whose Raft log
	// and stable store writes hang until the fault is cleared, or fail
	// with an I/O error.
	DiskStall []string `json:"disk_stall,omitempty"`
	DiskError []string `json:"disk_error,omitempty"`
}

// ErrDiskFaultInjected is what the log and stable store writes of a
// replica under an injected disk_error fault return.
var ErrDiskFaultInjected = errors.New("shard: disk fault injected: input/output error")

// NewFaults returns a Faults that injects nothing yet.
func NewFaults() *Faults {
	return &Faults{cut: map[link]bool{}, diskStall: map[string]bool{}, diskError: map[string]bool{}, changed: make(chan struct{})}
}

// Cut loses every message from one address to another (one way).
func (f *Faults) Cut(from, to string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut[link{from, to}] = true
}

// StallDisk makes the log and stable store writes of replica id hang
// (on = true) until called again with on = false or the faults are healed.
func (f *Faults) StallDisk(id string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	setOrDelete(f.diskStall, id, on)
	f.notifyLocked()
}

// FailDisk makes the log and stable store writes of replica id fail with
// ErrDiskFaultInjected (on = true) until lifted.
func (f *Faults) FailDisk(id string, on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	setOrDelete(f.diskError, id, on)
	f.notifyLocked()
}

func setOrDelete(m map[string]bool, k string, on bool) {
	if on {
		m[k] = true
	} else {
		delete(m, k)
	}
}

// notifyLocked wakes every write waiting for a change of the faults.
func (f *Faults) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// disk returns the disk faults of replica id and a channel closed at the
// next change of the faults.
func (f *Faults) disk(id string) (stall, fail bool, changed <-chan struct{}) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.diskStall[id], f.diskError[id], f.changed
}

// Partition cuts the two sides from each other in both directions.
func (f *Faults) Partition(sideA, sideB []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range sideA {
		for _, b := range sideB {
			f.cut[link{a, b}] = true
			f.cut[link{b, a}] = true
		}
	}
}

// SetDrop sets the probability in [0, 1] that a write closes its
// connection instead.
func (f *Faults) SetDrop(p float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop = min(max(p, 0), 1)
}

// SetDelay delays every write by d.
func (f *Faults) SetDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = max(d, 0)
}

// Heal removes every fault.
func (f *Faults) Heal() { f.Set(FaultSpec{}) }

// Set replaces the faults with spec.
func (f *Faults) Set(spec FaultSpec) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cut = make(map[link]bool, len(spec.Cut))
	for _, c := range spec.Cut {
		f.cut[link{c[0], c[1]}] = true
	}
	f.drop = min(max(spec.Drop, 0), 1)
	f.delay = max(time.Duration(spec.DelayMS)*time.Millisecond, 0)
	f.diskStall = make(map[string]bool, len(spec.DiskStall))
	for _, id := range spec.DiskStall {
		f.diskStall[id] = true
	}
	f.diskError = make(map[string]bool, len(spec.DiskError))
	for _, id := range spec.DiskError {
		f.diskError[id] = true
	}
	f.notifyLocked()
}

// Spec returns the current faults.
func (f *Faults) Spec() FaultSpec {
	f.mu.RLock()
	defer f.mu.RUnlock()
	s := FaultSpec{Drop: f.drop, DelayMS: int(f.delay / time.Millisecond)}
	for l := range f.cut {
		s.Cut = append(s.Cut, [2]string{l.from, l.to})
	}
	sort.Slice(s.Cut, func(i, j int) bool {
		if s.Cut[i][0] != s.Cut[j][0] {
			return s.Cut[i][0] < s.Cut[j][0]
		}
		return s.Cut[i][1] < s.Cut[j][1]
	})
	s.DiskStall, s.DiskError = sortedKeys(f.diskStall), sortedKeys(f.diskError)
	return s
}

// sortedKeys returns the keys of m in order, nil when there are none.
func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (f *Faults) blocked(from, to string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.cut[link{from, to}]
}

// beforeWrite applies delay and drop and reports whether the write may go.
func (f *Faults) beforeWrite(from, to string) bool {
	f.mu.RLock()
	cut, drop, delay := f.cut[link{from, to}], f.drop, f.delay
	f.mu.RUnlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	return !cut && (drop == 0 || rand.Float64() >= drop)
}

// wrap returns s with the faults applied to the connections it dials.
func (f *Faults) wrap(s raft.StreamLayer) raft.StreamLayer { return &faultStream{StreamLayer: s, f: f} }

type faultStream struct {
	raft.StreamLayer
	f *Faults
}

func (s *faultStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	local := s.Addr().String()
	if s.f.blocked(local, string(addr)) {
		return nil, fmt.Errorf("dial %s: %w", addr, ErrFaultInjected)
	}
	c, err := s.StreamLayer.Dial(addr, timeout)
	if err != nil {
		return nil, err
	}
	return &faultConn{Conn: c, f: s.f, local: local, remote: string(addr)}, nil
}

// Dialer returns a dial function, for gRPC's WithContextDialer, whose
// connections from local (this node's address as the spec names it, e.g.
// its gRPC address) obey the cuts, enforced as on Raft connections. Drop
// and delay stay Raft-only.
func (f *Faults) Dialer(local string) func(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, addr string) (net.Conn, error) {
		if f.blocked(local, addr) {
			return nil, fmt.Errorf("dial %s: %w", addr, ErrFaultInjected)
		}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return &faultConn{Conn: c, f: f, local: local, remote: addr, cutsOnly: true}, nil
	}
}

type faultConn struct {
	net.Conn
	f             *Faults
	local, remote string
	cutsOnly      bool // no drop or delay (not a Raft connection)
}

func (c *faultConn) Write(b []byte) (int, error) {
	ok := !c.f.blocked(c.local, c.remote)
	if !c.cutsOnly {
		ok = c.f.beforeWrite(c.local, c.remote)
	}
	if !ok {
		c.Conn.Close()
		return 0, fmt.Errorf("write to %s: %w", c.remote, ErrFaultInjected)
	}
	return c.Conn.Write(b)
}

func (c *faultConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.f.blocked(c.remote, c.local) {
		c.Conn.Close()
		return 0, fmt.Errorf("read from %s: %w", c.remote, ErrFaultInjected)
	}
	return n, err
}
