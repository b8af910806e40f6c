package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/raftcache/raftcache/gateway"
	"github.com/raftcache/raftcache/internal/authn"
	"github.com/raftcache/raftcache/internal/backup"
	"github.com/raftcache/raftcache/node"
	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/shard"
)

// serverFlags are the flags of `raftcache server`. Each can also come from
// the environment as RAFTCACHE_<NAME> (upper case, dashes as underscores,
// e.g. RAFTCACHE_SNAPSHOT_THRESHOLD) or from a --config JSON file keyed by
// flag name; the command line wins over the environment, which wins over
// the file.
type serverFlags struct {
	nodeID, az, dataDir, bind, advertise, announce, join, logLevel, config, pprof string
	port, grpcPort, bootstrapExpect, shards                                       int
	tlsPort, announceTLSPort                                                      int
	spare                                                                         bool
	// Advanced (tests and chaos runs): 0 keeps the shard defaults.
	snapshotThreshold, trailingLogs uint64
	snapshotInterval                time.Duration
	hashLogEvery                    uint64
	faultFile                       string
	replaceAfter                    time.Duration
	backup                          backupFlags
	grpcTokenFile                   string
	requirePassFile                 string
	aclFile                         string
	maxMemory, maxMemoryPolicy      string
	tls                             tlsFlags
	metrics                         string
	diskStallTimeout                time.Duration
}

func (f *serverFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "JSON file with flag values (keys are flag names)")
	fs.StringVar(&f.nodeID, "node-id", "", "stable node name (required)")
	fs.StringVar(&f.az, "az", "default", "availability zone of this node")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory (required); restarting on it brings the data back")
	fs.StringVar(&f.bind, "bind", "127.0.0.1", "address to listen on")
	fs.StringVar(&f.advertise, "advertise", "", "IP address other nodes (and clients, unless --announce) reach this node at (default: --bind)")
	fs.StringVar(&f.announce, "announce", "", "RESP address host:port clients are told (MOVED, CLUSTER SLOTS/NODES), e.g. a published container port (default: advertise:port)")
	fs.IntVar(&f.port, "port", 6379, "RESP port; Raft uses port+10000, gossip port+20000, gRPC port+30000 (with --tls-port: plaintext; 0 = TLS only, and the offsets apply to --tls-port)")
	fs.IntVar(&f.tlsPort, "tls-port", 0, "RESP port speaking TLS beside the plaintext --port (Redis's tls-port; needs the --tls-* certificate flags); 0 = none: with certificates, --port speaks TLS only")
	fs.IntVar(&f.announceTLSPort, "announce-tls-port", 0, "TLS port clients are told, on --announce's host (like Redis's cluster-announce-tls-port; default: --tls-port)")
	fs.IntVar(&f.grpcPort, "grpc-port", 0, "gRPC port (admin API, slot migration); 0 = port+30000")
	fs.StringVar(&f.grpcTokenFile, "grpc-token-file", "", "file holding a shared secret every gRPC call must carry (admin API and node-to-node; the same on every node; raftcachectl --token-file)")
	fs.StringVar(&f.requirePassFile, "requirepass-file", "", "file holding the password clients must AUTH with (Redis's requirepass, user \"default\"; redis-cli -a, go-redis Password)")
	fs.StringVar(&f.aclFile, "aclfile", "", "Redis ACL file of this node's users (\"user <name> <rules>\" lines; ACL LOAD re-reads it, ACL SAVE writes it); give every node the same file")
	fs.StringVar(&f.maxMemory, "maxmemory", "0", "keyspace size the shard leader keeps under by evicting (Redis's maxmemory: 100mb, 2gb; 0 = no limit; CONFIG SET maxmemory changes it)")
	fs.StringVar(&f.maxMemoryPolicy, "maxmemory-policy", "noeviction", "what goes when over --maxmemory: noeviction (writes get OOM errors), allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-random, volatile-ttl")
	fs.StringVar(&f.tls.cert, "tls-cert-file", "", "PEM certificate of this node: the RESP, Raft and gRPC ports then speak TLS only (with --tls-key-file and --tls-ca-cert-file; SIGHUP re-reads the files, CONFIG SET tls-cert-file... changes them)")
	fs.StringVar(&f.tls.key, "tls-key-file", "", "PEM private key of --tls-cert-file")
	fs.StringVar(&f.tls.ca, "tls-ca-cert-file", "", "PEM CA certificate that signed every node's certificate (nodes accept each other's Raft and gRPC connections by it)")
	fs.StringVar(&f.tls.caDir, "tls-ca-cert-dir", "", "directory of PEM CA certificates, with or instead of --tls-ca-cert-file (Redis's tls-ca-cert-dir; every file holding certificates counts)")
	fs.StringVar(&f.tls.keyPass, "tls-key-file-pass", "", "password of an encrypted --tls-key-file (PKCS#8 or legacy OpenSSL PEM; Redis's tls-key-file-pass); better given as $RAFTCACHE_TLS_KEY_FILE_PASS, which ps does not show")
	fs.StringVar(&f.tls.authClients, "tls-auth-clients", "no", "RESP clients must present a certificate signed by the CA: no, yes or optional (Redis's tls-auth-clients)")
	fs.StringVar(&f.tls.protocols, "tls-protocols", "", "TLS versions accepted, as Redis's tls-protocols: \"TLSv1.2 TLSv1.3\" (the default), \"TLSv1.3\" or \"TLSv1.2\"")
	fs.StringVar(&f.tls.ciphers, "tls-ciphers", "", "TLS 1.2 cipher suites accepted, colon-separated OpenSSL names as Redis's tls-ciphers (ECDHE-ECDSA-AES256-GCM-SHA384:...; default: Go's secure suites; TLS 1.3 suites are not configurable)")
	fs.StringVar(&f.tls.gossipKeyFile, "gossip-key-file", "", "file holding a base64 key of 16, 24 or 32 bytes (openssl rand -base64 32) that encrypts gossip; the same on every node")
	fs.BoolVar(&f.spare, "spare", false, "join without founding a shard; raftcachectl add-shard/add-replica assigns one")
	fs.DurationVar(&f.replaceAfter, "replace-after", 0, "self-healing: a shard leader replaces a member it has had no Raft contact with for this long by a spare node (0 = off)")
	f.backup.register(fs)
	fs.StringVar(&f.join, "join", "", "comma-separated gossip addresses host:port of nodes to join")
	fs.IntVar(&f.bootstrapExpect, "bootstrap-expect", 1, "number of nodes that form the shard on first start")
	fs.IntVar(&f.shards, "shards", 1, "number of shards formed by the --bootstrap-expect founders (slots split evenly)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9121)")
	fs.StringVar(&f.pprof, "pprof", "", "serve Go profiling endpoints on this address (e.g. 127.0.0.1:6060)")
	fs.Uint64Var(&f.snapshotThreshold, "snapshot-threshold", 0, "advanced: Raft log entries between snapshots (0 = default 8192)")
	fs.Uint64Var(&f.trailingLogs, "trailing-logs", 0, "advanced: log entries kept after a snapshot (0 = default 10240)")
	fs.DurationVar(&f.snapshotInterval, "snapshot-interval", 0, "advanced: how often Raft checks --snapshot-threshold (0 = default 60s)")
	fs.Uint64Var(&f.hashLogEvery, "log-applied-hash-every", 0, "diagnostics: log the applied-log hash at every Nth Raft log index (0 = never; raftcache chaos uses it to locate a divergence)")
	fs.DurationVar(&f.diskStallTimeout, "disk-stall-timeout", defaultDiskStallTimeout, "a Raft log or stable store write (fsync) taking longer than this counts as a disk failure: the node stops (fail-stop; 0 = no watchdog)")
	fs.StringVar(&f.faultFile, "fault-file", "", "testing only: JSON file of Raft transport and disk faults (and node-to-node gRPC cuts) to inject, re-read when it changes (raftcache chaos)")
}

// defaultDiskStallTimeout is --disk-stall-timeout's default (server and dev).
const defaultDiskStallTimeout = 10 * time.Second

// diskStallTimeout turns --disk-stall-timeout into node.Config's (where 0
// is the default and a negative value turns the watchdog off).
func diskStallTimeout(d time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("--disk-stall-timeout %v: must not be negative (0 = off)", d)
	case d == 0:
		return -1, nil
	}
	return d, nil
}

// backupFlags are the automatic-backup flags of server and dev.
type backupFlags struct {
	dir      string
	interval time.Duration
	retain   int
	s3       backup.S3Options
}

func (f *backupFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dir, "backup-dir", "", "automatic backups: where they are written: a directory, on the disk of the node that takes them (a shared volume keeps them in one place), or s3://bucket/prefix (credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials or an instance role)")
	fs.StringVar(&f.s3.Endpoint, "backup-s3-endpoint", "", "automatic backups to s3://: the S3 API's address for a store other than AWS: host[:port] (HTTPS) or http://host[:port] (MinIO, Ceph RGW, ...)")
	fs.StringVar(&f.s3.Region, "backup-s3-region", "", "automatic backups to s3://: the bucket's region (default: $AWS_REGION, else asked of the store)")
	fs.DurationVar(&f.interval, "backup-interval", 0, "automatic backups: take one at every multiple of this on the wall clock (24h: daily at 00:00 UTC), by the leader of the shard owning slot 0 (0 = off)")
	fs.IntVar(&f.retain, "backup-retain", node.DefaultBackupRetain, "automatic backups: keep the newest N auto-* backups in --backup-dir")
}

// check names the flags at fault (node.Config.Validate would also read a
// retain of 0 as the default).
func (f *backupFlags) check() error {
	if f.interval < 0 {
		return fmt.Errorf("--backup-interval %v: must not be negative", f.interval)
	}
	if f.interval > 0 && f.dir == "" {
		return errors.New("--backup-interval needs --backup-dir")
	}
	if f.retain < 1 {
		return fmt.Errorf("--backup-retain %d: must be at least 1", f.retain)
	}
	if f.dir != "" {
		if _, err := backup.Open(f.dir, f.s3); err != nil {
			return fmt.Errorf("--backup-dir: %w", err)
		}
	} else if f.s3 != (backup.S3Options{}) {
		return errors.New("--backup-s3-endpoint and --backup-s3-region need --backup-dir s3://...")
	}
	return nil
}

// envName is the environment variable of a flag.
func envName(flag string) string {
	return "RAFTCACHE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// loadEnv applies RAFTCACHE_<NAME> variables to flags not set on the
// command line; an empty value counts as unset, so that a compose file can
// pass an optional setting through (VAR: ${X:-}).
func loadEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	set := setFlags(fs)
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		v, ok := lookup(envName(f.Name))
		if !ok || v == "" || set[f.Name] || err != nil {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("environment %s=%q: %w", envName(f.Name), v, e)
		}
	})
	return err
}

// setFlags returns the names of the flags set so far (command line, then
// environment): a later source never overrides them.
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// loadConfigFile applies a JSON config file to flags not set explicitly.
func loadConfigFile(fs *flag.FlagSet, path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var values map[string]any
	if err := json.Unmarshal(raw, &values); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	set := setFlags(fs)
	for k, v := range values {
		if fs.Lookup(k) == nil {
			return fmt.Errorf("config %s: unknown key %q", path, k)
		}
		if set[k] {
			continue
		}
		if err := fs.Set(k, fmt.Sprint(v)); err != nil {
			return fmt.Errorf("config %s: %s: %w", path, k, err)
		}
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("raftcache server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serverFlags
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := loadEnv(fs, os.LookupEnv); err != nil {
		return err
	}
	if f.config != "" {
		if err := loadConfigFile(fs, f.config); err != nil {
			return err
		}
	}
	if err := f.backup.check(); err != nil {
		return err
	}
	stall, err := diskStallTimeout(f.diskStallTimeout)
	if err != nil {
		return err
	}
	logger := newLogger(stderr, f.logLevel)
	if err := startPprof(ctx, f.pprof, logger); err != nil {
		return err
	}
	cfg := node.Config{
		NodeID: f.nodeID, AZ: f.az, DataDir: f.dataDir, Bind: f.bind, Advertise: f.advertise,
		Announce: f.announce, Port: f.port, GRPCPort: f.grpcPort, Join: splitList(f.join), BootstrapExpect: f.bootstrapExpect, Shards: f.shards,
		Spare: f.spare, Logger: logger, ReplaceAfter: f.replaceAfter,
		BackupDir: f.backup.dir, BackupInterval: f.backup.interval, BackupRetain: f.backup.retain, BackupS3: f.backup.s3,
		SnapshotThreshold: f.snapshotThreshold, TrailingLogs: f.trailingLogs, SnapshotInterval: f.snapshotInterval,
		HashLogEvery:     f.hashLogEvery,
		DiskStallTimeout: stall,
		// Fail-stop: after a failed or hung write the disk state is unknown
		// and retrying is unsafe, so the process exits at once (no
		// graceful shutdown: that would write) and its supervisor restarts
		// it on the data dir; the rest of the shard elects a leader.
		OnFatal: func(err error) {
			logger.Error("disk failure: exiting (fail-stop); restart this node once its disk is healthy", "node_id", f.nodeID, "err", err)
			os.Exit(exitDiskFailure)
		},
	}
	if f.grpcTokenFile != "" {
		tok, err := authn.ReadSecretFile(f.grpcTokenFile)
		if err != nil {
			return fmt.Errorf("grpc token: %w", err)
		}
		cfg.GRPCToken = tok
	}
	sec, err := f.tls.load(logger)
	if err != nil {
		return err
	}
	cfg.TLS, cfg.GossipKey = sec.tls, sec.gossipKey
	ports, err := resolveClientPorts(f.port, f.tlsPort, f.announceTLSPort, f.grpcPort, sec.tls != nil)
	if err != nil {
		return err
	}
	cfg.Port, cfg.TLSPort, cfg.AnnounceTLSPort = ports.resp, ports.tls, f.announceTLSPort
	reloadOnHangup(ctx, sec.tls, logger)
	gw := gatewayOptions{config: map[string]string{"maxmemory": f.maxMemory, "maxmemory-policy": f.maxMemoryPolicy}, aclFile: f.aclFile}
	if sec.tls != nil {
		gw.tls = sec.tls.ClientServer()
	}
	if f.requirePassFile != "" {
		pw, err := authn.ReadSecretFile(f.requirePassFile)
		if err != nil {
			return fmt.Errorf("requirepass: %w", err)
		}
		gw.password = pw
	}
	if f.faultFile != "" {
		cfg.Faults = shard.NewFaults()
		if err := watchFaultFile(ctx, f.faultFile, cfg.Faults, logger); err != nil {
			return err
		}
		logger.Warn("transport and disk fault injection enabled", "fault_file", f.faultFile)
	}
	inst, err := startInstanceWith(ctx, cfg, gw)
	if err != nil {
		return err
	}
	proto := "RESP"
	switch {
	case inst.gw.TLSAddr() != nil:
		proto = fmt.Sprintf("RESP on %s and RESP over TLS", inst.gw.Addr())
	case sec.tls != nil:
		proto = "RESP over TLS"
	}
	if _, err := startMetrics(ctx, f.metrics, func() []*instance { return []*instance{inst} }, logger); err != nil {
		_ = inst.close()
		return err
	}
	addr := inst.gw.Addr()
	if a := inst.gw.TLSAddr(); a != nil {
		addr = a
	}
	fmt.Fprintf(stdout, "raftcache node %s (az %s) serving %s on %s (announced as %s), gRPC on %s\n", cfg.NodeID, cfg.AZ, proto, addr, inst.node.RESPAddr(), inst.node.GRPCAddr())
	<-ctx.Done()
	logger.Info("shutting down", "node_id", cfg.NodeID)
	return inst.close()
}

// instance is one node plus its RESP gateway.
type instance struct {
	node *node.Node
	gw   *gateway.Server
}

// gatewayOptions are the RESP front end's settings beyond the node's.
type gatewayOptions struct {
	password string            // requirepass ("" = none)
	aclFile  string            // Redis aclfile ("" = none)
	config   map[string]string // CONFIG parameters set at start (--maxmemory ...)
	tls      *tls.Config       // TLS of the RESP port (nil = plain)
}

func startInstance(ctx context.Context, cfg node.Config) (*instance, error) {
	return startInstanceWith(ctx, cfg, gatewayOptions{})
}

func startInstanceWith(ctx context.Context, cfg node.Config, opts gatewayOptions) (*instance, error) {
	// maxmemory lives in the gateway's CONFIG (CONFIG SET works at run
	// time); the node reads it through this, once the gateway exists.
	var gwp atomic.Pointer[gateway.Server]
	cfg.Eviction = func() shard.EvictionConfig {
		g := gwp.Load()
		if g == nil {
			return shard.EvictionConfig{}
		}
		max, policy, samples := g.MemoryLimit()
		return shard.EvictionConfig{MaxMemory: max, Policy: policy, Samples: samples}
	}
	// stream-node-max-entries/-bytes and hll-sparse-max-bytes: the values
	// a leader stamps into its writes, from the gateway's CONFIG.
	cfg.EngineParams = func() *raftfsm.Params {
		if g := gwp.Load(); g != nil {
			return g.EngineParams()
		}
		return nil
	}
	// The engine checks the commands scripts run against the rules the
	// gateway stamps into their entries, with the gateway's rule parser:
	// installed before Start, so that replaying the log checks them too.
	cfg.ScriptACL = gateway.ScriptACL
	n, err := node.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := n.Start(ctx); err != nil {
		return nil, err
	}
	tlsAddr := ""
	if cfg.TLSPort != 0 {
		tlsAddr = hostPortStr(cfg.Bind, cfg.TLSPort)
	}
	gw, err := gateway.New(gateway.Config{
		Addr:     hostPortStr(cfg.Bind, cfg.Port),
		Backend:  n,
		Logger:   cfg.Logger.With("component", "gateway", "node_id", cfg.NodeID),
		NodeID:   n.ClusterID(),
		Port:     cfg.Port,
		RunID:    n.ClusterID(),
		Password: opts.password,
		ACLFile:  opts.aclFile,
		TLS:      opts.tls,
		// A TLS port beside the plaintext one (--tls-port with --port).
		TLSAddr: tlsAddr,
		TLSPort: cfg.TLSPort,
	})
	if err != nil {
		_ = n.Close()
		return nil, err
	}
	for name, v := range opts.config {
		if err := gw.SetConfig(name, v); err != nil {
			_ = n.Close()
			return nil, err
		}
	}
	gwp.Store(gw)
	// Messages PUBLISHed on other nodes reach this node's subscribers.
	n.SetPubSubHandler(gw.DeliverRemote)
	// Keyspace notifications of the writes this node applies reach its own
	// subscribers (notify-keyspace-events).
	n.SetKeyEventHandler(gw.KeyEvents)
	// Client-side caching: the keys of the writes this node applies
	// invalidate what its tracking clients cached (CLIENT TRACKING).
	n.SetTrackingHandler(gw.InvalidateKeys)
	// The commands scripts run count in INFO commandstats and errorstats, and
	// MONITOR shows them ("[0 lua]").
	n.FSM().SetScriptCallSink(gw.ScriptCall)
	// ACL users: merged with the other nodes', user by user.
	n.SetACLSource(aclSource{gw})
	// CONFIG GET/SET tls-*: the node's certificates, the ones SIGHUP reloads.
	if cfg.TLS != nil {
		gw.SetTLSControl(tlsControl{c: cfg.TLS, logger: cfg.Logger.With("node_id", cfg.NodeID)})
	}
	if err := gw.Start(); err != nil {
		_ = n.Close()
		return nil, fmt.Errorf("node %s: listen: %w", cfg.NodeID, err)
	}
	return &instance{node: n, gw: gw}, nil
}

// close stops accepting clients first, then shuts the node down, handing
// off leadership if it leads its shard.
func (i *instance) close() error {
	return i.stop(func() error { return errors.Join(i.gw.Close(), i.node.Close()) })
}

// kill stops the instance as a crash would: Raft first, without a
// leadership handoff, then the client port (tests of crashes).
func (i *instance) kill() error {
	return i.stop(func() error { return errors.Join(i.node.Abort(), i.gw.Close()) })
}

func (i *instance) stop(fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		return errors.New("shutdown timed out")
	}
}

func hostPortStr(host string, port int) string { return fmt.Sprintf("%s:%d", bracket(host), port) }

func bracket(h string) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return h
}

// aclSource adapts the gateway's users to node.ACLSource (neither package
// imports the other).
type aclSource struct{ *gateway.Server }

func (a aclSource) ACLStates() []node.ACLUserState {
	states := a.Server.ACLStates()
	out := make([]node.ACLUserState, len(states))
	for i, st := range states {
		out[i] = node.ACLUserState{Name: st.Name, Line: st.Line, At: st.Stamp.At, Origin: st.Stamp.Origin, Deleted: st.Deleted}
	}
	return out
}

func (a aclSource) MergeACLUsers(states []node.ACLUserState) (int, error) {
	in := make([]gateway.ACLUserState, len(states))
	for i, st := range states {
		in[i] = gateway.ACLUserState{Name: st.Name, Line: st.Line, Stamp: gateway.ACLStamp{At: st.At, Origin: st.Origin}, Deleted: st.Deleted}
	}
	return a.Server.MergeACLUsers(in)
}
