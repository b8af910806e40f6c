package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/raftcache/raftcache/internal/testtool"
	"github.com/raftcache/raftcache/internal/tlsconf"
	"github.com/raftcache/raftcache/node"
	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/slots"
)

// TestTLSCluster runs a dev cluster with --tls: every port encrypted,
// gossip keyed. Cluster clients, redis-cli, the admin API and a slot move
// (node to node over gRPC) work; plaintext gets nothing.
func TestTLSCluster(t *testing.T) {
	o := devOptions{shards: 2, replicas: 3, basePort: freeBase(t, 6), logLevel: "error", tls: true, dataDir: t.TempDir()}
	dc := startDevCluster(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	files := dc.tls
	if files == nil {
		t.Fatal("dev --tls generated no certificates")
	}
	clientTLS, err := tlsconf.Client(tlsconf.ClientOptions{CA: files.Node.CA})
	if err != nil {
		t.Fatal(err)
	}
	c := clusterClient(t, dc, &redis.ClusterOptions{TLSConfig: clientTLS})
	for i := 0; i < 300; i++ {
		if err := c.Set(ctx, fmt.Sprintf("tls:%d", i), i, 0).Err(); err != nil {
			t.Fatalf("SET over TLS: %v", err)
		}
	}

	t.Run("plaintext refused", func(t *testing.T) {
		plain := redis.NewClient(&redis.Options{Addr: dc.addrs()[0], MaxRetries: -1, DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second})
		defer plain.Close()
		if err := plain.Ping(ctx).Err(); err == nil {
			t.Fatal("plaintext PING answered")
		}
		cc, err := grpc.NewClient(dc.instances[0].node.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
		defer ccancel()
		if _, err := adminv1.NewAdminClient(cc).DescribeCluster(cctx, &adminv1.DescribeClusterRequest{}); err == nil {
			t.Fatal("plaintext admin call answered")
		}
		raft, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", o.basePort+node.RaftPortOffset), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer raft.Close()
		// The Raft port speaks TLS to a node certificate...
		nodeTLS, err := tlsconf.Load(files.Node)
		if err != nil {
			t.Fatal(err)
		}
		peer, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", raft.RemoteAddr().String(), nodeTLS.PeerClient())
		if err != nil {
			t.Fatalf("raft port, node certificate: %v", err)
		}
		peer.Close()
		// ...and not to a client without one.
		if tc := tls.Client(raft, clientTLS.Clone()); tc.HandshakeContext(cctx) == nil {
			// The CA's trust is not enough: Raft wants a node certificate.
			_ = tc.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := tc.Read(make([]byte, 1)); err == nil {
				t.Fatal("raft port talked to a client without a certificate")
			}
		}
	})

	t.Run("protocols by CONFIG SET", func(t *testing.T) {
		// tls-protocols is a node's own: node 0 refuses TLS 1.2 clients
		// once set, node 1 still takes them, and its Raft and gRPC peers
		// (TLS 1.3 between nodes) keep working.
		dial := func(addr string, maxVersion uint16) error {
			cfg := clientTLS.Clone()
			cfg.MaxVersion = maxVersion
			rc := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: cfg, MaxRetries: -1, DialTimeout: 2 * time.Second})
			defer rc.Close()
			return rc.Ping(ctx).Err()
		}
		a0, a1 := dc.addrs()[0], dc.addrs()[1]
		n0 := redis.NewClient(&redis.Options{Addr: a0, TLSConfig: clientTLS})
		defer n0.Close()
		if err := n0.ConfigSet(ctx, "tls-protocols", "TLSv1.3").Err(); err != nil {
			t.Fatal(err)
		}
		if err := dial(a0, tls.VersionTLS12); err == nil {
			t.Fatal("TLS 1.2 client accepted after tls-protocols TLSv1.3")
		}
		if err := dial(a0, tls.VersionTLS13); err != nil {
			t.Fatalf("TLS 1.3 client: %v", err)
		}
		if err := dial(a1, tls.VersionTLS12); err != nil {
			t.Fatalf("TLS 1.2 client of another node: %v", err)
		}
		if err := n0.ConfigSet(ctx, "tls-protocols", "TLSv1.1").Err(); err == nil || !strings.Contains(err.Error(), "TLS 1.2 is the oldest") {
			t.Fatalf("tls-protocols TLSv1.1: %v", err)
		}
		for i := 0; i < 50; i++ {
			if err := c.Set(ctx, fmt.Sprintf("tls:proto:%d", i), i, 0).Err(); err != nil {
				t.Fatalf("cluster SET after the change: %v", err)
			}
		}
		if err := n0.ConfigSet(ctx, "tls-protocols", "").Err(); err != nil {
			t.Fatal(err)
		}
		if err := dial(a0, tls.VersionTLS12); err != nil {
			t.Fatalf("TLS 1.2 client after tls-protocols was reset: %v", err)
		}
	})

	t.Run("slot move over TLS", func(t *testing.T) {
		tc, err := tlsconf.Client(tlsconf.ClientOptions{CA: files.Node.CA})
		if err != nil {
			t.Fatal(err)
		}
		cc, err := grpc.NewClient(dc.instances[0].node.GRPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(tc)))
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close()
		ac := adminv1.NewAdminClient(cc)
		d, err := ac.DescribeCluster(ctx, &adminv1.DescribeClusterRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.GetShards()) != 2 {
			t.Fatalf("DescribeCluster over TLS: %d shards", len(d.GetShards()))
		}
		// Move the slots of a few of the keys from shard 0 to shard 1.
		var moved []string
		for i := 0; i < 300 && len(moved) < 5; i++ {
			k := fmt.Sprintf("tls:%d", i)
			if s := slots.OfString(k); s < 8192 {
				moved = append(moved, k)
			}
		}
		for _, k := range moved {
			s := uint32(slots.OfString(k))
			r, err := ac.MigrateSlots(ctx, &adminv1.MigrateSlotsRequest{Slots: []*adminv1.SlotRange{{Start: s, End: s}}, TargetShard: 1})
			if err != nil {
				t.Fatal(err)
			}
			if o := waitOp(t, ac, r.GetOperation().GetId()); o.GetState() != adminv1.OperationState_OPERATION_STATE_DONE {
				t.Fatalf("migrate slot %d: %s %s", s, o.GetState(), o.GetError())
			}
		}
		for i := 0; i < 300; i++ {
			if v, err := c.Get(ctx, fmt.Sprintf("tls:%d", i)).Int(); err != nil || v != i {
				t.Fatalf("GET tls:%d after the move: %d, %v", i, v, err)
			}
		}
	})

	t.Run("pubsub across nodes (encrypted gossip)", func(t *testing.T) {
		one := func(i int) *redis.Client {
			cl := redis.NewClient(&redis.Options{Addr: dc.addrs()[i], TLSConfig: clientTLS})
			t.Cleanup(func() { cl.Close() })
			return cl
		}
		sub := one(5).Subscribe(ctx, "tls-news")
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			if err := one(0).Publish(ctx, "tls-news", "hello").Err(); err != nil {
				t.Fatal(err)
			}
			rctx, rcancel := context.WithTimeout(ctx, 500*time.Millisecond)
			m, err := sub.ReceiveMessage(rctx)
			rcancel()
			if err == nil {
				if m.Payload != "hello" {
					t.Fatalf("message %q", m.Payload)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no message across nodes: %v", err)
			}
		}
	})

	t.Run("redis-cli --tls", func(t *testing.T) {
		cli := testtool.Need(t, "redis-cli")
		host, port, _ := net.SplitHostPort(dc.addrs()[0])
		tlsArgs := []string{"--tls", "--cacert", files.Node.CA}
		run := func(args ...string) string {
			cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
			defer ccancel()
			out, err := exec.CommandContext(cctx, cli, append(tlsArgs, args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
			}
			return strings.TrimSpace(string(out))
		}
		if got := run("-c", "-h", host, "-p", port, "GET", "tls:7"); got != "7" {
			t.Fatalf("redis-cli -c GET: %q", got)
		}
		if out := run("--cluster", "check", host+":"+port); !strings.Contains(out, "[OK] All 16384 slots covered") {
			t.Fatalf("cluster check:\n%s", out)
		}
	})

	t.Run("redis-py ssl", func(t *testing.T) {
		py := "/usr/bin/python3"
		if err := exec.Command(py, "-c", "import redis").Run(); err != nil {
			t.Skip("python3-redis not installed")
		}
		host, port, _ := net.SplitHostPort(dc.addrs()[0])
		script := `
import sys
from redis.cluster import RedisCluster
rc = RedisCluster(host=sys.argv[1], port=int(sys.argv[2]), ssl=True, ssl_ca_certs=sys.argv[3])
for i in range(50):
    rc.set("tlspy:%d" % i, i)
print(sum(int(rc.get("tlspy:%d" % i)) for i in range(50)))
`
		cctx, ccancel := context.WithTimeout(ctx, 60*time.Second)
		defer ccancel()
		out, err := exec.CommandContext(cctx, py, "-c", script, host, port, files.Node.CA).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "1225" {
			t.Fatalf("redis-py over TLS: %v\n%s", err, out)
		}
	})

	t.Run("raftcache health --tls-ca-cert-file", func(t *testing.T) {
		t.Setenv("RAFTCACHE_TLS_CA_CERT_FILE", "")
		var out, errb strings.Builder
		if err := runHealth(ctx, []string{"--addr", dc.addrs()[1], "--require-cluster"}, &out, &errb); err == nil {
			t.Fatal("health without TLS passed against a TLS node")
		}
		out.Reset()
		if err := runHealth(ctx, []string{"--addr", dc.addrs()[1], "--require-cluster", "--tls-ca-cert-file", files.Node.CA}, &out, &errb); err != nil {
			t.Fatalf("health over TLS: %v", err)
		}
		// The server's environment is the default.
		t.Setenv("RAFTCACHE_TLS_CA_CERT_FILE", files.Node.CA)
		if err := runHealth(ctx, []string{"--addr", dc.addrs()[1]}, &out, &errb); err != nil {
			t.Fatalf("health over TLS from the environment: %v", err)
		}
	})

	// The certificates stay for a restart on the same data directory.
	if _, err := os.Stat(filepath.Join(o.dataDir, "tls", "ca.crt")); err != nil {
		t.Fatal(err)
	}
}

func TestCertsCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	var out, errb strings.Builder
	if err := runCerts(context.Background(), []string{"--dir", dir, "--hosts", "rc1,10.0.0.5"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	d := tlsconf.DevPaths(dir)
	conf, err := tlsconf.Load(d.Node)
	if err != nil {
		t.Fatalf("the written certificate does not load: %v", err)
	}
	// The extra names are in the node certificate.
	cl, err := tlsconf.Client(tlsconf.ClientOptions{CA: d.Node.CA, ServerName: "rc1"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", conf.ClientServer())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), cl)
	if err != nil {
		t.Fatalf("handshake as rc1: %v", err)
	}
	c.Close()
	if _, err := tlsconf.ReadGossipKey(d.GossipKey); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "--tls-cert-file") {
		t.Fatalf("output: %q", out.String())
	}
	if err := runCerts(context.Background(), nil, &out, &errb); err == nil {
		t.Fatal("certs without --dir succeeded")
	}
}
