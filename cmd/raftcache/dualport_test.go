package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/raftcache/raftcache/internal/testport"
	"github.com/raftcache/raftcache/internal/testtool"
	"github.com/raftcache/raftcache/internal/tlsconf"
	"github.com/raftcache/raftcache/node"
	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/slots"
)

// dualOffset places the test clusters' TLS ports below the RESP ports
// (11000-15000), away from the other offsets freeBase uses.
const dualOffset = -5000

func dualBase(t *testing.T, n int) int {
	t.Helper()
	base, err := testport.FreeBase(n, 11000, 15000, node.RaftPortOffset, node.GossipPortOffset, devGRPCOffset, dualOffset)
	if err != nil {
		t.Fatal(err)
	}
	return base
}

// slotKeys returns one key per slot, each with the given prefix outside
// its hash tag.
func slotKeys(prefix string) []string {
	keys := make([]string, slots.Count)
	left := slots.Count
	for i := 0; left > 0; i++ {
		tag := fmt.Sprintf("%d", i)
		if s := slots.OfString(tag); keys[s] == "" {
			keys[s] = prefix + "{" + tag + "}"
			left--
		}
	}
	return keys
}

// dialRecorder wraps go-redis's dialing to record every address a client
// connects to, so that a test can check it only reached ports of its kind.
type dialRecorder struct {
	mu     sync.Mutex
	dialed map[string]bool
}

func (r *dialRecorder) dialer(tc *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		r.mu.Lock()
		if r.dialed == nil {
			r.dialed = map[string]bool{}
		}
		r.dialed[addr] = true
		r.mu.Unlock()
		d := &net.Dialer{Timeout: 5 * time.Second}
		if tc == nil {
			return d.DialContext(ctx, network, addr)
		}
		c := tc.Clone()
		if c.ServerName == "" {
			c.ServerName, _, _ = net.SplitHostPort(addr)
		}
		return (&tls.Dialer{NetDialer: d, Config: c}).DialContext(ctx, network, addr)
	}
}

// outside returns the recorded addresses that are not in allowed.
func (r *dialRecorder) outside(allowed []string) []string {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var bad []string
	for a := range r.dialed {
		if !ok[a] {
			bad = append(bad, a)
		}
	}
	return bad
}

// TestDualPortCluster runs a dev cluster serving plaintext on the RESP
// ports and TLS on RESP port + offset at once: a TLS and a plaintext
// go-redis ClusterClient write and read keys in every slot side by side,
// through a failover (MOVED), and each connects only to ports of its own
// kind; single-node clients see MOVED, CLUSTER SLOTS and CONFIG GET of
// their kind; redis-cli -c follows MOVED both ways.
func TestDualPortCluster(t *testing.T) {
	o := devOptions{shards: 2, replicas: 3, basePort: dualBase(t, 6), logLevel: "error", tls: true, tlsPortOffset: dualOffset, dataDir: t.TempDir()}
	dc := startDevCluster(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	plainAddrs := dc.addrs()
	var tlsAddrs []string
	for i, inst := range dc.instances {
		a := inst.gw.TLSAddr()
		if a == nil {
			t.Fatalf("node %d has no TLS port", i)
		}
		if want := fmt.Sprintf("127.0.0.1:%d", o.basePort+i+dualOffset); a.String() != want {
			t.Fatalf("node %d TLS on %s, want %s", i, a, want)
		}
		tlsAddrs = append(tlsAddrs, a.String())
	}
	clientTLS, err := tlsconf.Client(tlsconf.ClientOptions{CA: dc.tls.Node.CA})
	if err != nil {
		t.Fatal(err)
	}
	var tlsDials, plainDials dialRecorder
	// Fresh Addrs slices: go-redis appends the nodes it learns to them.
	tlsCC := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{tlsAddrs[0]}, Dialer: tlsDials.dialer(clientTLS)})
	defer tlsCC.Close()
	plainCC := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{plainAddrs[0]}, Dialer: plainDials.dialer(nil)})
	defer plainCC.Close()
	clients := map[string]*redis.ClusterClient{"tls": tlsCC, "plain": plainCC}
	keys := map[string][]string{"tls": slotKeys("tls:"), "plain": slotKeys("plain:")}

	// writeAll writes every slot's key through both clients at once, and
	// then reads the other client's keys back.
	writeAll := func(round int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for kind, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for lo := 0; lo < slots.Count; lo += 512 {
					_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
						for _, k := range keys[kind][lo : lo+512] {
							p.Set(ctx, k, fmt.Sprintf("%s-%d", k, round), 0)
						}
						return nil
					})
					if err != nil {
						errs <- fmt.Errorf("%s client, round %d: %w", kind, round, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for kind, c := range clients {
			other := "plain"
			if kind == "plain" {
				other = "tls"
			}
			cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys[other] {
					p.Get(ctx, k)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s client reading %s keys, round %d: %v", kind, other, round, err)
			}
			for i, cmd := range cmds {
				if v := cmd.(*redis.StringCmd).Val(); v != fmt.Sprintf("%s-%d", keys[other][i], round) {
					t.Fatalf("%s client: GET %s = %q, round %d", kind, keys[other][i], v, round)
				}
			}
		}
	}
	writeAll(1)

	// A failover of each shard: the clients' slot maps go stale, MOVED
	// sends them to the new leaders, on ports of their kind.
	cc, err := grpc.NewClient(dc.instances[0].node.GRPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(clientTLS.Clone())))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	ac := adminv1.NewAdminClient(cc)
	for _, shard := range []int32{0, 1} {
		if _, err := ac.Failover(ctx, &adminv1.FailoverRequest{Shard: shard}); err != nil {
			t.Fatalf("failover of shard %d: %v", shard, err)
		}
	}
	writeAll(2)
	// The admin API names each node's TLS port (raftcachectl's RESP
	// connections use its TLS settings).
	desc, err := ac.DescribeCluster(ctx, &adminv1.DescribeClusterRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range desc.GetNodes() {
		if !slices.Contains(tlsAddrs, n.GetRespAddr()) {
			t.Errorf("DescribeCluster: node %s RESP address %s is not a TLS port", n.GetId(), n.GetRespAddr())
		}
	}
	if bad := tlsDials.outside(tlsAddrs); len(bad) > 0 {
		t.Errorf("the TLS cluster client connected to non-TLS ports %v", bad)
	}
	if bad := plainDials.outside(plainAddrs); len(bad) > 0 {
		t.Errorf("the plaintext cluster client connected to non-plaintext ports %v", bad)
	}

	t.Run("MOVED, CLUSTER SLOTS and CONFIG by connection kind", func(t *testing.T) {
		for i := range dc.instances {
			for _, kind := range []string{"tls", "plain"} {
				addrs, opts := plainAddrs, &redis.Options{Addr: plainAddrs[i], MaxRetries: -1}
				if kind == "tls" {
					addrs, opts = tlsAddrs, &redis.Options{Addr: tlsAddrs[i], MaxRetries: -1, TLSConfig: clientTLS.Clone()}
				}
				allowed := map[string]bool{}
				for _, a := range addrs {
					allowed[a] = true
				}
				c := redis.NewClient(opts)
				cfg, err := c.ConfigGet(ctx, "*port").Result()
				if err != nil {
					t.Fatal(err)
				}
				if cfg["port"] != fmt.Sprint(o.basePort+i) || cfg["tls-port"] != fmt.Sprint(o.basePort+i+dualOffset) {
					t.Errorf("node %d (%s) %s CONFIG GET *port: %v (base %d)", i, opts.Addr, kind, cfg, o.basePort)
				}
				cs, err := c.ClusterSlots(ctx).Result()
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range cs {
					for _, n := range r.Nodes {
						if !allowed[n.Addr] {
							t.Errorf("node %d, %s connection: CLUSTER SLOTS names %s", i, kind, n.Addr)
						}
					}
				}
				moved := 0
				for s := 0; s < slots.Count; s += 97 {
					err := c.Get(ctx, keys[kind][s]).Err()
					if err == nil {
						continue
					}
					f := strings.Fields(err.Error())
					if len(f) != 3 || f[0] != "MOVED" {
						t.Fatalf("node %d, %s connection: GET %s: %v", i, kind, keys[kind][s], err)
					}
					if !allowed[f[2]] {
						t.Errorf("node %d, %s connection: %v names a port of the other kind", i, kind, err)
					}
					moved++
				}
				if moved == 0 {
					t.Errorf("node %d, %s connection: no MOVED for the other shard's slots", i, kind)
				}
				c.Close()
			}
		}
	})

	t.Run("redis-cli both ways", func(t *testing.T) {
		cli := testtool.Need(t, "redis-cli")
		run := func(args ...string) string {
			cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
			defer ccancel()
			out, err := exec.CommandContext(cctx, cli, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
			}
			return strings.TrimSpace(string(out))
		}
		tlsArgs := []string{"--tls", "--cacert", dc.tls.Node.CA}
		for _, kind := range []string{"plain", "tls"} {
			addr, extra := plainAddrs[0], []string(nil)
			if kind == "tls" {
				addr, extra = tlsAddrs[0], tlsArgs
			}
			host, port, _ := net.SplitHostPort(addr)
			// -c follows MOVED: keys of both shards, written and read.
			for _, s := range []int{0, 8191, 8192, 16383} {
				k := keys[kind][s]
				if got := run(append(extra, "-c", "-h", host, "-p", port, "SET", k, "cli-"+kind)...); got != "OK" {
					t.Fatalf("%s redis-cli -c SET %s: %q", kind, k, got)
				}
				if got := run(append(extra, "-c", "-h", host, "-p", port, "GET", k)...); got != "cli-"+kind {
					t.Fatalf("%s redis-cli -c GET %s: %q", kind, k, got)
				}
			}
			// --cluster check connects to every node CLUSTER NODES names.
			if out := run(append(extra, "--cluster", "check", addr)...); !strings.Contains(out, "[OK] All 16384 slots covered") {
				t.Fatalf("%s cluster check:\n%s", kind, out)
			}
		}
	})

	t.Run("redis-py both ways at once", func(t *testing.T) {
		py := "/usr/bin/python3"
		if err := exec.Command(py, "-c", "import redis").Run(); err != nil {
			t.Skip("python3-redis not installed")
		}
		// Two cluster clients in one process, one per kind; each routes
		// from CLUSTER SLOTS over its own connections.
		script := `
import sys
from redis.cluster import RedisCluster
host, plain, tls, ca = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
p = RedisCluster(host=host, port=plain)
t = RedisCluster(host=host, port=tls, ssl=True, ssl_ca_certs=ca)
for i in range(100):
    p.set("py:plain:%d" % i, i)
    t.set("py:tls:%d" % i, i)
print(sum(int(t.get("py:plain:%d" % i)) + int(p.get("py:tls:%d" % i)) for i in range(100)))
ports = lambda c: sorted({n.port for n in c.get_nodes()})
print(ports(p))
print(ports(t))
`
		host, plainPort, _ := net.SplitHostPort(plainAddrs[0])
		_, tlsPort, _ := net.SplitHostPort(tlsAddrs[0])
		cctx, ccancel := context.WithTimeout(ctx, 60*time.Second)
		defer ccancel()
		out, err := exec.CommandContext(cctx, py, "-c", script, host, plainPort, tlsPort, dc.tls.Node.CA).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-py: %v\n%s", err, out)
		}
		var plainPorts, tlsPorts []string
		for i := range dc.instances {
			plainPorts = append(plainPorts, fmt.Sprint(o.basePort+i))
			tlsPorts = append(tlsPorts, fmt.Sprint(o.basePort+i+dualOffset))
		}
		want := fmt.Sprintf("9900\n[%s]\n[%s]", strings.Join(plainPorts, ", "), strings.Join(tlsPorts, ", "))
		if got := strings.TrimSpace(string(out)); got != want {
			t.Fatalf("redis-py printed\n%s\nwant\n%s", got, want)
		}
	})
}

// TestDualPortServer runs `raftcache server` with --tls-port from a
// --config file: plaintext on --port, TLS on --tls-port, as printed.
func TestDualPortServer(t *testing.T) {
	base := dualBase(t, 1)
	dir := t.TempDir()
	d, err := tlsconf.GenerateDev(filepath.Join(dir, "tls"), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "node.json")
	// The announced TLS port (NAT, published ports) is what TLS clients are told.
	const announced = 4242
	conf := fmt.Sprintf(`{"tls-port": %d, "announce-tls-port": %d, "tls-cert-file": %q, "tls-key-file": %q, "tls-ca-cert-file": %q}`,
		base+dualOffset, announced, d.Node.Cert, d.Node.Key, d.Node.CA)
	if err := os.WriteFile(cfgFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runServer(ctx, []string{"--node-id", "d1", "--data-dir", filepath.Join(dir, "d1"), "--port", fmt.Sprint(base),
			"--grpc-port", fmt.Sprint(base + devGRPCOffset), "--log-level", "error", "--config", cfgFile}, out, out)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	}()
	plainAddr, tlsAddr := fmt.Sprintf("127.0.0.1:%d", base), fmt.Sprintf("127.0.0.1:%d", base+dualOffset)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "serving RESP on "+plainAddr+" and RESP over TLS on "+tlsAddr) {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start as expected:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	clientTLS, err := tlsconf.Client(tlsconf.ClientOptions{CA: d.Node.CA})
	if err != nil {
		t.Fatal(err)
	}
	plain := redis.NewClient(&redis.Options{Addr: plainAddr, MaxRetries: -1})
	defer plain.Close()
	secure := redis.NewClient(&redis.Options{Addr: tlsAddr, MaxRetries: -1, TLSConfig: clientTLS})
	defer secure.Close()
	for deadline := time.Now().Add(30 * time.Second); ; {
		err := plain.Set(ctx, "k", "v", 0).Err()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SET over plaintext: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v, err := secure.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET over TLS: %q %v", v, err)
	}
	for name, c := range map[string]*redis.Client{"plaintext": plain, "TLS": secure} {
		cfg, err := c.ConfigGet(ctx, "*port").Result()
		if err != nil {
			t.Fatal(err)
		}
		if cfg["port"] != fmt.Sprint(base) || cfg["tls-port"] != fmt.Sprint(base+dualOffset) {
			t.Fatalf("%s CONFIG GET *port: %v", name, cfg)
		}
	}
	want := map[string]string{"plaintext": plainAddr, "TLS": fmt.Sprintf("127.0.0.1:%d", announced)}
	for name, c := range map[string]*redis.Client{"plaintext": plain, "TLS": secure} {
		// The view may publish the node's slots a moment after it serves them.
		var cs []redis.ClusterSlot
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			cs, err = c.ClusterSlots(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) > 0 || time.Now().After(deadline) {
				break
			}
		}
		if len(cs) != 1 || len(cs[0].Nodes) != 1 || cs[0].Nodes[0].Addr != want[name] {
			t.Fatalf("%s CLUSTER SLOTS: %+v, want the node at %s", name, cs, want[name])
		}
	}
}

// syncBuffer is an io.Writer safe for a server goroutine and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestClientPortFlags: --port, --tls-port and --announce-tls-port with
// Redis's semantics, and clear errors for combinations that cannot work.
func TestClientPortFlags(t *testing.T) {
	tests := []struct {
		name                      string
		port, tlsPort, annTLS, gr int
		tlsOn                     bool
		want                      clientPorts
		wantErr                   string
	}{
		{name: "plaintext", port: 7000, want: clientPorts{resp: 7000}},
		{name: "TLS on the RESP port (no --tls-port)", port: 7000, tlsOn: true, want: clientPorts{resp: 7000}},
		{name: "both", port: 7000, tlsPort: 7100, tlsOn: true, want: clientPorts{resp: 7000, tls: 7100}},
		{name: "TLS only: --port 0", tlsPort: 7100, tlsOn: true, want: clientPorts{resp: 7100}},
		{name: "both, announced TLS port", port: 7000, tlsPort: 7100, annTLS: 4100, tlsOn: true, want: clientPorts{resp: 7000, tls: 7100}},
		{name: "tls-port without certificates", port: 7000, tlsPort: 7100, wantErr: "--tls-port 7100 needs --tls-cert-file"},
		{name: "same port twice", port: 7000, tlsPort: 7000, tlsOn: true, wantErr: "--tls-port 7000: the same as --port"},
		{name: "port 0 without tls-port", tlsOn: true, wantErr: "--port 0 (no plaintext port) needs --tls-port"},
		{name: "tls-port on the Raft port", port: 7000, tlsPort: 17000, tlsOn: true, wantErr: "the same as the Raft port"},
		{name: "tls-port on the gossip port", port: 7000, tlsPort: 27000, tlsOn: true, wantErr: "the same as the gossip port"},
		{name: "tls-port on the gRPC port", port: 7000, tlsPort: 9000, gr: 9000, tlsOn: true, wantErr: "the same as the gRPC port"},
		{name: "tls-port out of range", port: 7000, tlsPort: 70000, tlsOn: true, wantErr: "--tls-port 70000: out of range"},
		{name: "negative port", port: -1, wantErr: "--port -1: out of range"},
		{name: "announce-tls-port without tls-port", port: 7000, annTLS: 4100, tlsOn: true, wantErr: "--announce-tls-port needs --tls-port"},
		{name: "announce-tls-port, TLS only", tlsPort: 7100, annTLS: 4100, tlsOn: true, wantErr: "--announce-tls-port needs a plaintext --port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveClientPorts(tt.port, tt.tlsPort, tt.annTLS, tt.gr, tt.tlsOn)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestDevTLSPortOffset: dev --tls-port-offset needs --tls and must keep
// every TLS port in range and off every other port of the cluster.
func TestDevTLSPortOffset(t *testing.T) {
	tests := []struct {
		name    string
		o       devOptions
		wantErr string
	}{
		{name: "off", o: devOptions{shards: 3, replicas: 3, basePort: 7000}},
		{name: "100", o: devOptions{shards: 3, replicas: 3, basePort: 7000, tls: true, tlsPortOffset: 100}},
		{name: "negative", o: devOptions{shards: 3, replicas: 3, basePort: 7000, tls: true, tlsPortOffset: -1000}},
		{name: "without --tls", o: devOptions{shards: 3, replicas: 3, basePort: 7000, tlsPortOffset: 100}, wantErr: "--tls-port-offset 100 needs --tls"},
		{name: "onto the RESP ports", o: devOptions{shards: 3, replicas: 3, basePort: 7000, tls: true, tlsPortOffset: 8}, wantErr: "overlap the nodes' RESP ports"},
		{name: "onto a spare's RESP port", o: devOptions{shards: 3, replicas: 3, spares: 2, basePort: 7000, tls: true, tlsPortOffset: 10}, wantErr: "overlap the nodes' RESP ports"},
		{name: "onto the Raft ports", o: devOptions{shards: 3, replicas: 3, basePort: 7000, tls: true, tlsPortOffset: node.RaftPortOffset - 3}, wantErr: "overlap the nodes' Raft ports"},
		{name: "onto the gossip ports", o: devOptions{shards: 3, replicas: 3, basePort: 7000, tls: true, tlsPortOffset: node.GossipPortOffset + 8}, wantErr: "overlap the nodes' gossip ports"},
		{name: "onto the gRPC ports", o: devOptions{shards: 3, replicas: 3, basePort: 7000, tls: true, tlsPortOffset: devGRPCOffset}, wantErr: "overlap the nodes' gRPC ports"},
		{name: "out of range", o: devOptions{shards: 3, replicas: 3, basePort: 7000, tls: true, tlsPortOffset: 60000}, wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkTLSPortOffset(tt.o)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

// TestDualPortDevOutput: `raftcache dev --tls --tls-port-offset K` prints
// each node's TLS address and a redis-cli line for each kind.
func TestDualPortDevOutput(t *testing.T) {
	base := dualBase(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- runDev(ctx, []string{"--shards", "1", "--replicas", "1", "--base-port", fmt.Sprint(base), "--tls",
			"--tls-port-offset", fmt.Sprint(dualOffset), "--data-dir", t.TempDir(), "--log-level", "error"}, out, out)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("dev: %v", err)
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "ready:") {
		if time.Now().After(deadline) {
			t.Fatalf("dev did not get ready:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := out.String()
	for _, want := range []string{
		fmt.Sprintf("RESP 127.0.0.1:%d  TLS 127.0.0.1:%d", base, base+dualOffset),
		fmt.Sprintf("plaintext: redis-cli -c -p %d\n", base),
		fmt.Sprintf(" -p %d  or  raftcachectl", base+dualOffset),
		"redis-cli -c --tls --cacert ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("dev output lacks %q:\n%s", want, got)
		}
	}
}
