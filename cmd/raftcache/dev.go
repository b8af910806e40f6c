package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/raftcache/raftcache/internal/tlsconf"
	"github.com/raftcache/raftcache/node"
	"github.com/raftcache/raftcache/shard"
)

var devAZs = []string{"az-a", "az-b", "az-c"}

// devGRPCOffset places each dev node's gRPC port relative to its RESP port
// (design: +30000). Tests move it out of Linux's ephemeral port range,
// where outgoing connections of parallel test runs can hold a port.
var devGRPCOffset = node.GRPCPortOffset

// devCluster is a whole cluster in one process: real nodes with real TCP
// Raft transports and gossip on loopback, exactly as separate processes.
type devCluster struct {
	instances []*instance
	configs   []node.Config // configs[i] started instances[i] (tests restart nodes with it)
	dataDir   string
	tempDir   bool
	tls       *tlsconf.DevFiles // with --tls: the generated certificates and gossip key

	mu          sync.Mutex    // guards instances against nodeFailed while starting
	diskFailed  map[int]error // nodes whose disk failed before their instance was registered
	stopsFailed sync.WaitGroup
}

type devOptions struct {
	shards, replicas, basePort, spares int
	dataDir, logLevel, pprof, metrics  string
	replaceAfter                       time.Duration // 0 = no self-healing
	maxMemory, maxMemoryPolicy         string        // per node, as raftcache server's flags ("" = default)
	aclFile                            string        // every node's --aclfile ("" = none)
	tls                                bool          // TLS on every port, gossip encrypted (certificates generated)
	tlsAuthClients                     string        // --tls-auth-clients of every node
	tlsProtocols, tlsCiphers           string        // --tls-protocols, --tls-ciphers of every node
	tlsPortOffset                      int           // with tls: TLS on RESP port + this, plaintext on the RESP port (0 = TLS only)
	backup                             backupFlags   // every node's automatic-backup flags (one shared directory)
	diskStallTimeout                   time.Duration // every node's --disk-stall-timeout (0 = off)
	faults                             *shard.Faults // tests: Raft transport and disk faults of every node (nil = none)
}

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("raftcache dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o devOptions
	fs.IntVar(&o.shards, "shards", 3, "number of shards; the 16384 slots are split evenly")
	fs.IntVar(&o.replicas, "replicas", 3, "replicas per shard (Raft group size, 1-6)")
	fs.IntVar(&o.basePort, "base-port", 7000, "RESP port of the first node; nodes use consecutive ports")
	fs.IntVar(&o.spares, "spares", 0, "extra nodes that join without a shard, for raftcachectl add-shard / add-replica")
	fs.DurationVar(&o.replaceAfter, "replace-after", 30*time.Second, "self-healing: replace a shard member out of Raft contact this long by a spare (0 = off)")
	fs.StringVar(&o.dataDir, "data-dir", "", "keep data here (restarting dev on it brings the data back); default: a temporary directory removed on exit")
	fs.StringVar(&o.logLevel, "log-level", "warn", "debug, info, warn or error")
	fs.StringVar(&o.metrics, "metrics", "", "serve every node's Prometheus metrics at http://ADDR/metrics (label node)")
	fs.StringVar(&o.pprof, "pprof", "", "serve Go profiling endpoints on this address (e.g. 127.0.0.1:6060)")
	fs.StringVar(&o.maxMemory, "maxmemory", "0", "per node: keyspace size each shard leader keeps under by evicting (e.g. 100mb; 0 = no limit)")
	fs.StringVar(&o.maxMemoryPolicy, "maxmemory-policy", "noeviction", "per node: eviction policy (allkeys-lru, volatile-ttl, ...; noeviction = OOM errors)")
	fs.StringVar(&o.aclFile, "aclfile", "", "per node: Redis ACL file of users, given to every node (ACL LOAD/SAVE act on each node separately)")
	o.backup.register(fs)
	fs.DurationVar(&o.diskStallTimeout, "disk-stall-timeout", defaultDiskStallTimeout, "per node: a Raft log or stable store write taking longer than this counts as a disk failure and stops that node (0 = no watchdog)")
	fs.BoolVar(&o.tls, "tls", false, "encrypt everything: TLS on the RESP, Raft and gRPC ports and an encrypted gossip, with a CA and certificates generated under DATA-DIR/tls (kept for restarts)")
	fs.StringVar(&o.tlsAuthClients, "tls-auth-clients", "no", "with --tls: RESP clients must present a certificate (yes, optional, no); DATA-DIR/tls/client.crt is one")
	fs.StringVar(&o.tlsProtocols, "tls-protocols", "", "with --tls: TLS versions accepted (\"TLSv1.2 TLSv1.3\", the default, \"TLSv1.3\" or \"TLSv1.2\")")
	fs.StringVar(&o.tlsCiphers, "tls-ciphers", "", "with --tls: TLS 1.2 cipher suites accepted (colon-separated OpenSSL names; default: Go's secure suites)")
	fs.IntVar(&o.tlsPortOffset, "tls-port-offset", 0, "with --tls: each node also serves TLS on its RESP port + this (Redis's tls-port), and its RESP port stays plaintext (0 = the RESP ports speak TLS only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := startPprof(ctx, o.pprof, newLogger(stderr, o.logLevel)); err != nil {
		return err
	}
	dc, err := startDev(ctx, o, stderr)
	if err != nil {
		return err
	}
	defer dc.close()
	if _, err := startMetrics(ctx, o.metrics, func() []*instance { return dc.instances }, newLogger(stderr, o.logLevel)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "raftcache dev: %d shard(s) x %d replicas, %d spare node(s)\n", o.shards, o.replicas, o.spares)
	for _, inst := range dc.instances {
		role := "replica"
		switch {
		case inst.node.IsLeader():
			role = "leader"
		case inst.node.Replica() == nil:
			role = "spare"
		}
		tlsAddr := ""
		if a := inst.gw.TLSAddr(); a != nil {
			tlsAddr = "  TLS " + a.String()
		}
		fmt.Fprintf(stdout, "  node %-4s %s  RESP %s%s  gRPC %s  (%s)\n", inst.node.ID(), azOf(inst), inst.gw.Addr(), tlsAddr, inst.node.GRPCAddr(), role)
	}
	cliTLS, ctlTLS := "", ""
	if t := dc.tls; t != nil {
		cliTLS = " --tls --cacert " + t.Node.CA
		if o.tlsAuthClients == "yes" {
			cliTLS += " --cert " + t.ClientCert + " --key " + t.ClientKey
		}
		ctlTLS = " --tls-ca-cert-file " + t.Node.CA
	}
	cliPort := o.basePort
	if o.tlsPortOffset != 0 {
		// Both kinds: the plaintext line, and the TLS one below.
		cliPort += o.tlsPortOffset
		fmt.Fprintf(stdout, "plaintext: redis-cli -c -p %d\n", o.basePort)
	}
	fmt.Fprintf(stdout, "data dir: %s\nready: try  redis-cli -c%s -p %d  or  raftcachectl --addr %s%s status  (Ctrl-C stops the cluster)\n",
		dc.dataDir, cliTLS, cliPort, dc.instances[0].node.GRPCAddr(), ctlTLS)
	<-ctx.Done()
	fmt.Fprintln(stdout, "raftcache dev: shutting down")
	return nil
}

func azOf(inst *instance) string { return inst.node.AZ() }

func startDev(ctx context.Context, o devOptions, logOut io.Writer) (*devCluster, error) {
	if o.shards < 1 || o.shards > 100 {
		return nil, fmt.Errorf("--shards %d: must be 1 to 100 in dev", o.shards)
	}
	if o.replicas < 1 || o.replicas > 6 {
		return nil, fmt.Errorf("--replicas %d: must be 1 to 6", o.replicas)
	}
	if o.replaceAfter < 0 {
		return nil, fmt.Errorf("--replace-after %v: must not be negative", o.replaceAfter)
	}
	if o.backup.retain == 0 {
		o.backup.retain = node.DefaultBackupRetain // options built in code
	}
	if err := o.backup.check(); err != nil {
		return nil, err
	}
	if o.spares < 0 || o.spares > 50 {
		return nil, fmt.Errorf("--spares %d: must be 0 to 50 in dev", o.spares)
	}
	if err := checkTLSPortOffset(o); err != nil {
		return nil, err
	}
	stall, err := diskStallTimeout(o.diskStallTimeout)
	if err != nil {
		return nil, err
	}
	dc := &devCluster{dataDir: o.dataDir, diskFailed: map[int]error{}}
	if dc.dataDir == "" {
		d, err := os.MkdirTemp("", "raftcache-dev-")
		if err != nil {
			return nil, err
		}
		dc.dataDir, dc.tempDir = d, true
	}
	logger := newLogger(logOut, o.logLevel)
	var sec security
	if o.tls {
		d, err := tlsconf.GenerateDev(filepath.Join(dc.dataDir, "tls"), nil, time.Now())
		if err != nil {
			dc.close()
			return nil, err
		}
		dc.tls = &d
		f := d.Node
		f.AuthClients = o.tlsAuthClients
		if sec, err = (tlsFlags{cert: f.Cert, key: f.Key, ca: f.CA, authClients: f.AuthClients, gossipKeyFile: d.GossipKey,
			protocols: o.tlsProtocols, ciphers: o.tlsCiphers}).load(logger); err != nil {
			dc.close()
			return nil, err
		}
	} else if o.tlsAuthClients != "" && o.tlsAuthClients != "no" {
		dc.close()
		return nil, fmt.Errorf("--tls-auth-clients %s needs --tls", o.tlsAuthClients)
	} else if o.tlsProtocols != "" || o.tlsCiphers != "" {
		dc.close()
		return nil, errors.New("--tls-protocols and --tls-ciphers need --tls")
	}
	n := o.shards * o.replicas
	seed := fmt.Sprintf("127.0.0.1:%d", o.basePort+node.GossipPortOffset)
	// Founders first, then the spares (ids and ports after the founders'),
	// which join the gossip pool without a shard.
	for i := 0; i < n+o.spares; i++ {
		nodeTLS := sec.tls
		if nodeTLS != nil && i > 0 {
			// Each node its own TLS state (same files): CONFIG SET tls-*
			// on one node changes that node only, as on separate servers.
			if nodeTLS, err = tlsconf.Load(sec.tls.Files()); err == nil {
				err = nodeTLS.SetPolicy(sec.tls.Policy())
			}
			if err != nil {
				dc.close()
				return nil, err
			}
		}
		cfg := node.Config{
			NodeID:   fmt.Sprintf("n%d", i+1),
			AZ:       devAZs[i%len(devAZs)],
			DataDir:  filepath.Join(dc.dataDir, fmt.Sprintf("n%d", i+1)),
			Bind:     "127.0.0.1",
			Port:     o.basePort + i,
			GRPCPort: o.basePort + i + devGRPCOffset,
			// Ports above 32767 lie in Linux's ephemeral range: if one is
			// held by an outgoing connection, a dev node takes another
			// (raftcachectl can use any node's; dev prints them).
			GRPCPortFallback: true,
			BootstrapExpect:  n,
			Shards:           o.shards,
			Spare:            i >= n,
			Logger:           logger,
			GossipLocal:      true,
			ReplaceAfter:     o.replaceAfter,
			BackupDir:        o.backup.dir,
			BackupInterval:   o.backup.interval,
			BackupRetain:     o.backup.retain,
			BackupS3:         o.backup.s3,
			TLS:              nodeTLS,
			GossipKey:        sec.gossipKey,
			DiskStallTimeout: stall,
			Faults:           o.faults,
		}
		if o.tlsPortOffset != 0 {
			cfg.TLSPort = cfg.Port + o.tlsPortOffset
		}
		idx := i
		cfg.OnFatal = func(err error) { dc.nodeFailed(idx, logger, err) }
		if i > 0 {
			cfg.Join = []string{seed}
		}
		gwo := gatewayOptions{config: map[string]string{}, aclFile: o.aclFile}
		if nodeTLS != nil {
			gwo.tls = nodeTLS.ClientServer()
		}
		if o.maxMemory != "" {
			gwo.config["maxmemory"] = o.maxMemory
		}
		if o.maxMemoryPolicy != "" {
			gwo.config["maxmemory-policy"] = o.maxMemoryPolicy
		}
		inst, err := startInstanceWith(ctx, cfg, gwo)
		if err != nil {
			dc.close()
			return nil, err
		}
		dc.mu.Lock()
		dc.instances = append(dc.instances, inst)
		dc.configs = append(dc.configs, cfg)
		ferr, failed := dc.diskFailed[i]
		dc.mu.Unlock()
		if failed {
			dc.close()
			return nil, fmt.Errorf("dev node n%d: %w", i+1, ferr)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, inst := range dc.instances {
		if err := inst.node.WaitReady(wctx); err != nil {
			dc.close()
			return nil, fmt.Errorf("dev cluster did not become ready: %w", err)
		}
	}
	// Ready means every node sees every slot served by a leader, every
	// other node (spares included) and every replica of every shard (so
	// that its CLUSTER SLOTS and CLUSTER NODES are complete).
	for _, inst := range dc.instances {
		for !inst.node.ClusterReady() || inst.node.AliveNodes() < len(dc.instances) || !fullShards(inst.node.ShardSizes(), o.shards, o.replicas) {
			if wctx.Err() != nil {
				dc.close()
				return nil, fmt.Errorf("dev cluster did not become ready: %w", wctx.Err())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return dc, nil
}

// fullShards reports whether sizes shows shards 0..shards-1 with replicas
// members each.
func fullShards(sizes map[int]int, shards, replicas int) bool {
	for s := 0; s < shards; s++ {
		if sizes[s] < replicas {
			return false
		}
	}
	return true
}

// nodeFailed stops node i, whose disk failed (its replica has already
// stopped itself), as a server process would exit: the rest of the dev
// cluster goes on without it.
func (dc *devCluster) nodeFailed(i int, logger *slog.Logger, err error) {
	logger.Error("disk failure: stopping this dev node (fail-stop); the others go on", "node", fmt.Sprintf("n%d", i+1), "err", err)
	dc.mu.Lock()
	if i >= len(dc.instances) {
		dc.diskFailed[i] = err // still starting: startDev fails
		dc.mu.Unlock()
		return
	}
	inst := dc.instances[i]
	dc.stopsFailed.Add(1)
	dc.mu.Unlock()
	defer dc.stopsFailed.Done()
	if kerr := inst.kill(); kerr != nil {
		logger.Warn("stopping the failed dev node", "node", fmt.Sprintf("n%d", i+1), "err", kerr)
	}
}

func (dc *devCluster) close() {
	dc.stopsFailed.Wait()
	for i := len(dc.instances) - 1; i >= 0; i-- {
		_ = dc.instances[i].close()
	}
	if dc.tempDir {
		_ = os.RemoveAll(dc.dataDir)
	}
}

// checkTLSPortOffset refuses a --tls-port-offset without --tls, or one that
// puts a node's TLS port out of range or on a port another node (or the
// node itself) uses for RESP, Raft, gossip or gRPC.
func checkTLSPortOffset(o devOptions) error {
	k := o.tlsPortOffset
	if k == 0 {
		return nil
	}
	if !o.tls {
		return fmt.Errorf("--tls-port-offset %d needs --tls", k)
	}
	n := o.shards*o.replicas + o.spares
	if lo, hi := o.basePort+k, o.basePort+n-1+k; lo < 1 || hi > 65535 {
		return fmt.Errorf("--tls-port-offset %d: TLS ports %d-%d out of range", k, lo, hi)
	}
	for _, p := range []struct {
		name string
		off  int
	}{{"RESP", 0}, {"Raft", node.RaftPortOffset}, {"gossip", node.GossipPortOffset}, {"gRPC", devGRPCOffset}} {
		if k > p.off-n && k < p.off+n {
			return fmt.Errorf("--tls-port-offset %d: TLS ports would overlap the nodes' %s ports (RESP port + %d, %d nodes)", k, p.name, p.off, n)
		}
	}
	return nil
}
