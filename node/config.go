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

	"github.com/raftcache/raftcache/internal/backup"
	"github.com/raftcache/raftcache/internal/tlsconf"
	"github.com/raftcache/raftcache/raftfsm"
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
	NodeID     string // stable, human-chosen name (e.g. "n1"); the cluster id is derived from it
	AZ         string // availability zone label
	DataDir    string // raft log, stable store and snapshots live below it
	Bind       string // host to listen on
	Advertise  string // host others reach us at ("" = Bind)
	Port       int    // RESP port; raft, gossip and gRPC ports derive from it unless set
	RaftPort   int    // 0 = Port+10000
	GossipPort int    // 0 = Port+20000
	GRPCPort   int    // admin and migration gRPC server; 0 = Port+30000
	// GRPCPortFallback: if GRPCPort is busy, listen on any free port
	// instead of failing (dev clusters; the port travels in gossip).
	GRPCPortFallback bool
	// GRPCToken, when set, is required of every gRPC call (internal/authn) and
	// sent on this node's own calls: every node of a cluster has the same.
	GRPCToken string
	Join      []string // gossip addresses host:port of nodes to join
	Announce  string   // RESP host:port told to clients (MOVED, CLUSTER *); "" = Advertise:Port
	// TLSPort is a client port speaking TLS beside the plaintext Port
	// (Redis's tls-port with port; the gateway listens on it). It travels
	// in gossip, so that TLS clients are sent to the peers' TLS ports.
	// AnnounceTLSPort is the one told to clients (NAT, published container
	// ports; 0 = TLSPort), on the host of Announce. 0 = one port only.
	TLSPort         int
	AnnounceTLSPort int
	// BootstrapExpect is the number of nodes that form the shard: once that
	// many have met through gossip they bootstrap Raft with an identical
	// voter list (the N smallest node ids). 1 = bootstrap alone.
	BootstrapExpect int
	// Shards is the number of shards formed from the founders (slots are
	// split evenly between them).
	Shards int
	// Spare nodes never found a shard: they join the gossip pool and wait
	// until the admin API makes them a replica (AddReplica) or a shard
	// (AddShard). Founders ignore spares when counting BootstrapExpect.
	Spare  bool
	Logger *slog.Logger
	// ReplaceAfter turns on self-healing (heal.go): a shard leader that has
	// had no Raft contact with a member for this long replaces it with a
	// spare node. 0 = off.
	ReplaceAfter time.Duration
	// Automatic backups (autobackup.go): every BackupInterval (0 = off),
	// the leader of the shard owning slot 0 writes a backup of the whole
	// cluster under BackupDir (a directory, or s3://bucket/prefix with
	// BackupS3 naming the store) and keeps the newest BackupRetain (0 = 7).
	BackupDir      string
	BackupInterval time.Duration
	BackupRetain   int
	BackupS3       backup.S3Options

	// Timing overrides for tests and dev (zero = shard defaults).
	HeartbeatTimeout  time.Duration
	ElectionTimeout   time.Duration
	LeaderLease       time.Duration
	SnapshotThreshold uint64
	TrailingLogs      uint64
	SnapshotInterval  time.Duration // how often Raft checks SnapshotThreshold
	// HashLogEvery logs the applied-log hash at every Nth log index
	// (raftfsm.FSM.SetHashLogEvery; 0 = off): chaos runs compare replicas'.
	HashLogEvery uint64
	GossipLocal  bool // faster memberlist timings for loopback clusters
	// TLS, when set, encrypts the Raft and gRPC ports (internal/tlsconf):
	// nodes prove themselves to each other with certificates of one CA.
	TLS *tlsconf.Config
	// GossipKey, when set, encrypts and authenticates gossip (memberlist's
	// AES-GCM keyring; 16, 24 or 32 bytes, the same on every node).
	GossipKey []byte
	// Faults injects Raft transport and disk faults (chaos tests); nil = none.
	Faults *shard.Faults
	// DiskStallTimeout: a Raft log or stable store write in progress this
	// long counts as a disk failure (0 = the shard default, 10 s;
	// negative = no watchdog).
	DiskStallTimeout time.Duration
	// OnFatal is called once, from its own goroutine, when this node's
	// replica stopped because its disk failed (a write error, or a stall
	// past DiskStallTimeout; the error wraps shard.ErrDiskFailed). The
	// replica has stopped itself; the process decides the rest (a server
	// exits non-zero so that its supervisor restarts it). nil = log only.
	OnFatal func(error)
	// Eviction returns the memory limit (maxmemory) this node enforces
	// while it leads its shard, read on every check; nil = none. The
	// process wires it to the gateway's CONFIG.
	Eviction func() shard.EvictionConfig
	// EngineParams returns the CONFIG values this node stamps into the
	// writes it proposes as a leader (raftfsm.Params); read on every write.
	// The process wires it to the gateway's CONFIG. nil: Redis's defaults.
	EngineParams func() *raftfsm.Params
	// ScriptACL compiles the user rules the gateway stamps into script
	// commands (raftfsm/scriptacl.go); installed in the FSM before the log
	// is replayed. nil: the calls of such scripts are refused.
	ScriptACL raftfsm.ScriptACL
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
	// Announce travels in gossip, so it is what MOVED, CLUSTER SLOTS/NODES
	// and INFO replication name; like Redis's cluster-announce-ip/port it
	// lets clients use another address (published container ports, NAT)
	// than the nodes use among themselves.
	if c.Announce == "" {
		c.Announce = hostPort(c.Advertise, c.Port)
	} else if err := checkHostPort(c.Announce); err != nil {
		return fmt.Errorf("node: announce address %q: %w", c.Announce, err)
	}
	if c.TLSPort < 0 || c.TLSPort > 65535 {
		return fmt.Errorf("node: tls port %d out of range", c.TLSPort)
	}
	if c.TLSPort != 0 && c.TLSPort == c.Port {
		return fmt.Errorf("node: tls port %d is the RESP port", c.TLSPort)
	}
	if c.AnnounceTLSPort < 0 || c.AnnounceTLSPort > 65535 {
		return fmt.Errorf("node: announced tls port %d out of range", c.AnnounceTLSPort)
	}
	if c.AnnounceTLSPort != 0 && c.TLSPort == 0 {
		return errors.New("node: an announced tls port needs a tls port")
	}
	if c.AnnounceTLSPort == 0 {
		c.AnnounceTLSPort = c.TLSPort
	}
	if c.RaftPort == 0 {
		c.RaftPort = c.Port + RaftPortOffset
	}
	if c.GossipPort == 0 {
		c.GossipPort = c.Port + GossipPortOffset
	}
	if c.GRPCPort == 0 {
		c.GRPCPort = c.Port + GRPCPortOffset
	}
	if c.GRPCPort < 0 || c.GRPCPort > 65535 {
		return fmt.Errorf("node: grpc port %d out of range", c.GRPCPort)
	}
	if c.ReplaceAfter < 0 {
		return fmt.Errorf("node: replace-after %v must not be negative", c.ReplaceAfter)
	}
	if c.BackupInterval < 0 {
		return fmt.Errorf("node: backup interval %v must not be negative", c.BackupInterval)
	}
	if c.BackupInterval > 0 && c.BackupDir == "" {
		return errors.New("node: a backup interval needs a backup dir")
	}
	if c.BackupDir != "" {
		if _, err := backup.Open(c.BackupDir, c.BackupS3); err != nil {
			return fmt.Errorf("node: backup dir: %w", err)
		}
	}
	if c.BackupRetain < 0 {
		return fmt.Errorf("node: backup retain %d must not be negative", c.BackupRetain)
	}
	if c.BackupRetain == 0 {
		c.BackupRetain = DefaultBackupRetain
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
	switch len(c.GossipKey) {
	case 0, 16, 24, 32:
	default:
		return fmt.Errorf("node: gossip key of %d bytes: want 16, 24 or 32", len(c.GossipKey))
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

// checkHostPort accepts host:port with a non-empty host and a port in 1-65535.
func checkHostPort(addr string) error {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if host == "" {
		return errors.New("missing host")
	}
	if port, err := strconv.Atoi(portStr); err != nil || port < 1 || port > 65535 {
		return fmt.Errorf("port %q out of range (1-65535)", portStr)
	}
	return nil
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
