package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/raftcache/raftcache/node"
)

// TestRequirePassEndToEnd: a node started with a password refuses clients
// that do not AUTH, serves go-redis clients (plain and cluster) that do,
// and `raftcache health` passes with --password-file or RAFTCACHE_PASSWORD.
func TestRequirePassEndToEnd(t *testing.T) {
	base := freeBase(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := node.Config{NodeID: "p1", AZ: "az-a", DataDir: t.TempDir(), Bind: "127.0.0.1", Port: base,
		BootstrapExpect: 1, Shards: 1, Logger: newLogger(io.Discard, "error"), GossipLocal: true}
	inst, err := startInstanceWith(ctx, cfg, gatewayOptions{password: "hunter2"})
	if err != nil {
		t.Fatal(err)
	}
	defer inst.close()
	for !inst.node.ClusterReady() {
		if ctx.Err() != nil {
			t.Fatal("cluster not ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	addr := inst.gw.Addr().String()

	anon := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer anon.Close()
	if err := anon.Set(ctx, "k", "v", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("SET without AUTH: %v, want NOAUTH", err)
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{addr}, Password: "hunter2"})
	defer cc.Close()
	if err := cc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("cluster client with the password: %v", err)
	}
	plain := redis.NewClient(&redis.Options{Addr: addr, Password: "hunter2", Protocol: 3})
	defer plain.Close()
	if v, err := plain.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET with the password (RESP3 HELLO AUTH): %q, %v", v, err)
	}

	if code, _, errOut := runHealthCmd(t, "--addr", addr); code != 1 || !strings.Contains(errOut, "NOAUTH") {
		t.Fatalf("health without the password: exit %d, %q", code, errOut)
	}
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runHealthCmd(t, "--addr", addr, "--password-file", pwFile, "--require-cluster"); code != 0 {
		t.Fatalf("health with --password-file: exit %d, %q %q", code, out, errOut)
	}
	t.Setenv("RAFTCACHE_PASSWORD", "wrong")
	if code, _, errOut := runHealthCmd(t, "--addr", addr); code != 1 || !strings.Contains(errOut, "WRONGPASS") {
		t.Fatalf("health with a wrong password: exit %d, %q", code, errOut)
	}
}
