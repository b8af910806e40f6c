package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/raftcache/raftcache/gateway"
)

// TestACLEverywhere: raftcachectl acl changes the users of every node
// through their RESP ports, authenticated, and acl list shows where the
// nodes differ.
func TestACLEverywhere(t *testing.T) {
	nodes := startNodes(t, 3, 0)
	addrs := startGateways(t, nodes, func(c *gateway.Config) { c.Password = "adminpw" })
	addr := nodes[0].GRPCAddr()
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("adminpw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("RAFTCACHE_PASSWORD", "")
	if _, errs, code := ctl(t, addr, "acl", "setuser", "app", "on", ">apppw"); code != 1 || !strings.Contains(errs, "3 of 3 nodes failed") {
		t.Fatalf("without the password: exit %d, %q", code, errs)
	}
	out := mustCtl(t, addr, "--password-file", pwFile, "acl", "setuser", "app", "on", ">apppw", "~app:*", "+@all")
	if strings.Count(out, "OK") != 3 {
		t.Fatalf("setuser:\n%s", out)
	}
	// Every node now knows app.
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, Username: "app", Password: "apppw"})
		if err := c.Set(context.Background(), "app:x", "1", 0).Err(); err != nil && !strings.HasPrefix(err.Error(), "MOVED") {
			t.Fatalf("app on %s: %v", a, err)
		}
		c.Close()
	}
	t.Setenv("RAFTCACHE_PASSWORD", "adminpw")
	if out := mustCtl(t, addr, "acl", "list"); !strings.Contains(out, "user app on") || !strings.Contains(out, "all") {
		t.Fatalf("acl list:\n%s", out)
	}
	// One node drifts: list names where each line is.
	c := redis.NewClient(&redis.Options{Addr: addrs[1], Password: "adminpw"})
	defer c.Close()
	if err := c.Do(context.Background(), "acl", "deluser", "app").Err(); err != nil {
		t.Fatal(err)
	}
	out, errs, code := ctl(t, addr, "acl", "list")
	if code != 0 || !strings.Contains(errs, "differ") || !strings.Contains(out, nodes[0].ID()+","+nodes[2].ID()) {
		t.Fatalf("acl list after drift: exit %d\n%s\n%s", code, out, errs)
	}
	if out := mustCtl(t, addr, "acl", "deluser", "app"); strings.Count(out, "\n") != 4 {
		t.Fatalf("deluser:\n%s", out)
	}
	// --save needs the servers' ACL file.
	if _, errs, code := ctl(t, addr, "acl", "setuser", "x", "--save"); code != 1 || !strings.Contains(errs, "failed") {
		t.Fatalf("--save without aclfile: exit %d, %q", code, errs)
	}
}
