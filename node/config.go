package node

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/raftcache/raftcache/shard"
)

// Port offsets from the RESP port (design §6).
const (
	RaftPortOffset   = 10000
	GossipPortOffset = 20000
	GRPCPortOffset   = 30000
)

// Config configures one node.
type Config struct {
	NodeID     string   // stable, human-chosen name (e.g. "n1"); the cluster id is derived from it
	AZ         string   // availability zone label
	DataDir    string   // raft log, stable store and snapshots live below it
	Bind       string   // host to listen on
	Advertise  string   // host others reach us at ("" = Bind)
	Port       int      // RESP port; raft, gossip and gRPC ports derive from it unless set
	RaftPort   int      // 0 = Port+10000
	GossipPort int      // 0 = Port+20000
	Join       []string // gossip addresses host:port of nodes to join
	// BootstrapExpect is the number of nodes that form the shard: once that
	// many have met through gossip they bootstrap Raft with an identical
	// voter list (the N smallest node ids). 1 = bootstrap alone.
	BootstrapExpect int
	// Shards is the number of shards formed from the founders (slots are
	// split evenly between them).
	Shards int
	Logger *slog.Logger

	// Timing overrides for tests and dev (zero = shard defaults).
	HeartbeatTimeout  time.Duration
	ElectionTimeout   time.Duration
	LeaderLease       time.Duration
	SnapshotThreshold uint64
	TrailingLogs      uint64
	SnapshotInterval  time.Duration // how often Raft checks SnapshotThreshold
	GossipLocal       bool          // faster memberlist timings for loopback clusters
	// Faults injects Raft transport faults (chaos tests); nil = none.
	Faults *shard.Faults
}

// Validate checks the configuration and fills derived defaults.
func (c *Config) Validate() error {
	if c.NodeID == "" {
		return errors.New("node: node id is required")
	}
	if c.DataDir == "" {
		return errors.New("node: data dir is required")
	}
	if c.Port <= 0 || c.Port > 65535-GRPCPortOffset {
		return fmt.Errorf("node: port %d out of range (1-%d)", c.Port, 65535-GRPCPortOffset)
	}
	if c.Bind == "" {
		c.Bind = "127.0.0.1"
	}
	if c.Advertise == "" {
		c.Advertise = c.Bind
		if ip := net.ParseIP(c.Bind); ip != nil && ip.IsUnspecified() {
			return errors.New("node: --advertise is required when binding to a wildcard address")
		}
	}
	if c.RaftPort == 0 {
		c.RaftPort = c.Port + RaftPortOffset
	}
	if c.GossipPort == 0 {
		c.GossipPort = c.Port + GossipPortOffset
	}
	if c.BootstrapExpect <= 0 {
		c.BootstrapExpect = 1
	}
	if c.Shards <= 0 {
		c.Shards = 1
	}
	if c.Shards > c.BootstrapExpect {
		return fmt.Errorf("node: %d shards need at least %d founding nodes (--bootstrap-expect)", c.Shards, c.Shards)
	}
	if c.AZ == "" {
		c.AZ = "default"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// ClusterID derives the 40-hex-character id Redis Cluster clients expect
// (CLUSTER NODES/SLOTS) from a node name; it is stable across restarts.
func ClusterID(nodeID string) string {
	sum := sha1.Sum([]byte("raftcache-node:" + nodeID))
	return hex.EncodeToString(sum[:])
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
