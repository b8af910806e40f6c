package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raftcache/raftcache/node"
)

// TestToken: with a gRPC token configured, calls without it or with a
// wrong one are refused (Unauthenticated); with it (--token-file or
// RAFTCACHE_TOKEN) everything works, node-to-node calls included (status
// asks every node; add-replica drives the shard's leader and the spare).
func TestToken(t *testing.T) {
	const tok = "s3cret-token"
	nodes := startNodes(t, 3, 1, func(c *node.Config) { c.GRPCToken = tok })
	addr := nodes[0].GRPCAddr()
	t.Setenv("RAFTCACHE_TOKEN", "")
	if _, errs, code := ctl(t, addr, "status"); code != 1 || !strings.Contains(errs, "Unauthenticated") {
		t.Fatalf("no token: exit %d, %q", code, errs)
	}
	t.Setenv("RAFTCACHE_TOKEN", "wrong")
	if _, errs, code := ctl(t, addr, "snapshot", "create", filepath.Join(t.TempDir(), "b")); code != 1 || !strings.Contains(errs, "Unauthenticated") {
		t.Fatalf("wrong token: exit %d, %q", code, errs)
	}
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := mustCtl(t, addr, "--token-file", file, "status"); !strings.Contains(out, "health: ok") {
		t.Fatalf("status with the token:\n%s", out)
	}
	t.Setenv("RAFTCACHE_TOKEN", tok)
	if out := mustCtl(t, addr, "add-replica", "0"); !strings.Contains(out, "DONE") {
		t.Fatalf("add-replica with the token:\n%s", out)
	}
}
