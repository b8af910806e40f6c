package shard

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/raftfsm"
)

// Config configures one replica.
type Config struct {
	ID        string         // raft ServerID (the node id)
	Dir       string         // data dir: raft.db (raft-boltdb v2, fsync on) and snapshots/; "" = in-memory stores
	Bind      string         // TCP transport bind host:port (ignored when Transport is set)
	Advertise string         // advertised raft address ("" = the bound address)
	Transport raft.Transport // optional, e.g. raft.NewInmemTransport for tests
	// Faults, when set, injects network faults into the TCP transport
	// (chaos tests); nil = none, no overhead.
	Faults *Faults
	// TLSServer and TLSClient, when set, encrypt the TCP transport: the
	// accepting and the dialling side of every Raft connection. The
	// server side must require a client certificate: Raft has no other
	// authentication (node.Config.TLS).
	TLSServer *tls.Config
	TLSClient *tls.Config

	// Stores, when set, replace the ones derived from Dir (tests keep
	// in-memory stores across a restart this way). The caller closes them.
	LogStore      raft.LogStore
	StableStore   raft.StableStore
	SnapshotStore raft.SnapshotStore

	// Bootstrap lists the initial voters. The cluster is bootstrapped only
	// when the stores hold no state, so restarts never bootstrap again.
	Bootstrap []raft.Server
	FSM       *raftfsm.FSM
	Logger    *slog.Logger // nil = discard

	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration
	SnapshotThreshold  uint64
	TrailingLogs       uint64
	SnapshotInterval   time.Duration
	ExpireInterval     time.Duration // active expiry tick
	SnapshotRetain     int           // file snapshots kept (default 2)

	// Eviction returns the memory limit to enforce while leading, read on
	// every tick and every write that may grow memory (so it must be
	// cheap; a CONFIG SET takes effect at once); nil = none.
	Eviction func() EvictionConfig
	// WritesHeld, when set and true, holds this replica's active expiry
	// and eviction (as Redis does during CLIENT PAUSE WRITE or ALL: the
	// dataset stays as the paused clients left it). Polled every tick.
	WritesHeld func() bool
	// Params returns the settings this replica stamps into the client
	// writes it proposes as leader (raftfsm.Params: stream node sizes,
	// hll-sparse-max-bytes); read on every write, so it must be cheap.
	// nil, or a nil result: Redis's defaults.
	Params func() *raftfsm.Params
	// Zone returns the availability zone of a member by server id ("" if
	// unknown); after a leader failure the successor is preferably in
	// another zone than the failed leader (failover.go). nil: no preference.
	Zone func(id string) string
	// DisableFastFailover turns off the early campaign on crash evidence,
	// the pre-vote reaction and the AZ correction (failover.go), leaving
	// raft's own timers.
	DisableFastFailover bool

	// DiskStallTimeout is how long one write to the Raft log or stable
	// store may take before the disk counts as failed (diskguard.go);
	// 0 = no watchdog (DefaultConfig: 10 s).
	DiskStallTimeout time.Duration
	// OnFatal is called once, from its own goroutine, when the replica
	// stops because its disk failed: a log or stable store write returned
	// an error or hung past DiskStallTimeout (the error wraps
	// ErrDiskFailed). The replica closes itself either way; the owner
	// decides what else stops (a server process exits). nil = only log.
	OnFatal func(error)
}

// DefaultConfig returns production timings. A follower that stops hearing
// from the leader campaigns after a random 700-1400 ms (HeartbeatTimeout),
// or after the lease (350 ms) when the leader's Raft port refuses
// connections (a crash; failover.go). The lease also bounds how long a
// leader cut off from its quorum keeps believing it leads (it serves no
// linearizable read meanwhile: every read confirms leadership). Raft's own
// defaults (1 s / 500 ms) are slower. 500 ms / 250 ms was tried: on the
// loaded 2-core test machine leaders stepped down spuriously ("failed to
// contact quorum"; docs/BENCHMARKS.md, Failover).
func DefaultConfig() Config {
	return Config{
		HeartbeatTimeout:   700 * time.Millisecond,
		ElectionTimeout:    700 * time.Millisecond,
		LeaderLeaseTimeout: 350 * time.Millisecond,
		CommitTimeout:      50 * time.Millisecond,
		SnapshotThreshold:  8192,
		TrailingLogs:       10240,
		SnapshotInterval:   60 * time.Second,
		ExpireInterval:     100 * time.Millisecond,
		SnapshotRetain:     2,
		DiskStallTimeout:   10 * time.Second,
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = d.HeartbeatTimeout
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = d.ElectionTimeout
	}
	if c.LeaderLeaseTimeout == 0 {
		c.LeaderLeaseTimeout = d.LeaderLeaseTimeout
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = d.CommitTimeout
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = d.SnapshotThreshold
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = d.TrailingLogs
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = d.SnapshotInterval
	}
	if c.ExpireInterval == 0 {
		c.ExpireInterval = d.ExpireInterval
	}
	if c.SnapshotRetain == 0 {
		c.SnapshotRetain = d.SnapshotRetain
	}
	return c
}

// Validate reports the first problem with c (zero timings take defaults).
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.ID == "":
		return errors.New("shard: config: ID is required")
	case c.FSM == nil:
		return errors.New("shard: config: FSM is required")
	case c.Transport == nil && c.Bind == "":
		return errors.New("shard: config: Bind or Transport is required")
	case c.ExpireInterval < 0:
		return errors.New("shard: config: ExpireInterval must be positive")
	case c.SnapshotRetain < 1:
		return errors.New("shard: config: SnapshotRetain must be at least 1")
	case c.DiskStallTimeout < 0:
		return errors.New("shard: config: DiskStallTimeout must not be negative (0 = off)")
	}
	for _, s := range c.Bootstrap {
		if s.ID == "" || s.Address == "" {
			return fmt.Errorf("shard: config: bootstrap server %+v needs an ID and an address", s)
		}
	}
	if err := raft.ValidateConfig(c.raftConfig(nil)); err != nil {
		return fmt.Errorf("shard: config: %w", err)
	}
	return nil
}

// maxAppendEntries bounds one dispatch batch: concurrent Apply calls are
// drained from the buffered apply channel into one disk write and one
// AppendEntries per follower.
const maxAppendEntries = 256

func (c Config) raftConfig(logger *hclogAdapter) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(c.ID)
	rc.HeartbeatTimeout = c.HeartbeatTimeout
	rc.ElectionTimeout = c.ElectionTimeout
	rc.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	rc.CommitTimeout = c.CommitTimeout
	rc.SnapshotThreshold = c.SnapshotThreshold
	rc.TrailingLogs = c.TrailingLogs
	rc.SnapshotInterval = c.SnapshotInterval
	rc.MaxAppendEntries = maxAppendEntries
	rc.BatchApplyCh = true
	rc.ShutdownOnRemove = true
	rc.NoLegacyTelemetry = true
	if logger != nil {
		rc.Logger = logger
	}
	return rc
}
