package gateway

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/redis/go-redis/v9"
)

// aclFileServer is a server started on an ACL file holding users, its
// changes stamped by "n1".
func aclFileServer(t *testing.T, users string) (*Server, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "users.acl")
	if err := os.WriteFile(file, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	s := mustServer(t, newWatchBackend(), func(c *Config) { c.ACLFile = file })
	s.SetACLOrigin("n1")
	return s, file
}

// TestACLStamps: local changes take ever newer stamps carrying the origin;
// the users a node starts with carry none; a failed change takes none.
func TestACLStamps(t *testing.T) {
	s, _ := aclFileServer(t, "user default on nopass ~* &* +@all\nuser carol on >x ~* +@all\n")
	if at, origin := s.ACLStamp(); at != 0 || origin != "" {
		t.Fatalf("stamp at start %d %q, want none", at, origin)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr().String()})
	defer c.Close()
	ctx := context.Background()
	var last uint64
	for i, cmd := range [][]any{
		{"acl", "setuser", "alice", "on", ">pw", "~*", "+@all"},
		{"acl", "setuser", "alice", "off"},
		{"acl", "deluser", "alice"},
		{"acl", "load"},
	} {
		if err := c.Do(ctx, cmd...).Err(); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		at, origin := s.ACLStamp()
		if at <= last || origin != "n1" {
			t.Fatalf("change %d: stamp %d %q after %d", i, at, origin, last)
		}
		last = at
	}
	for _, cmd := range [][]any{
		{"acl", "setuser", "bad", "nosuchrule"},
		{"acl", "deluser", "nobody"},
	} {
		_ = c.Do(ctx, cmd...).Err()
		if at, _ := s.ACLStamp(); at != last {
			t.Fatalf("%v moved the stamp", cmd)
		}
	}
}

// TestReplaceACLUsers: another node's users replace this node's only when
// their stamp is newer; unchanged users keep their connections, removed
// ones lose them, the default user falls back to the node's own when the
// set has none, bad lines change nothing, and the ACL file is rewritten.
func TestReplaceACLUsers(t *testing.T) {
	s, file := aclFileServer(t, "user default on nopass ~* &* +@all\nuser alice on >pw ~* +@all\nuser bob on >pw ~* +@all\n")
	ctx := context.Background()
	login := func(user string) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: s.Addr().String(), Username: user, Password: "pw", PoolSize: 1, MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		return c
	}
	alice, bob := login("alice"), login("bob")
	lines, at, _ := s.ACLUsers()
	if at != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "user alice on #") {
		t.Fatalf("users %q at %d", lines, at)
	}

	if _, err := s.ReplaceACLUsers([]string{"user dave on >pw nosuchrule"}, 10, "n2"); err == nil {
		t.Fatal("a bad line was accepted")
	}
	next := []string{lines[0], "user default off resetpass", "user erin on >pw ~* +@all"}
	if ok, err := s.ReplaceACLUsers(next, 10, "n2"); !ok || err != nil {
		t.Fatalf("newer users not taken: %v %v", ok, err)
	}
	if ok, _ := s.ReplaceACLUsers(lines, 9, "n3"); ok {
		t.Fatal("older users replaced newer ones")
	}
	if ok, _ := s.ReplaceACLUsers(lines, 10, "n2"); ok {
		t.Fatal("the same stamp was taken twice")
	}
	if at, origin := s.ACLStamp(); at != 10 || origin != "n2" {
		t.Fatalf("stamp %d %q", at, origin)
	}
	if err := alice.Ping(ctx).Err(); err != nil {
		t.Fatalf("alice, unchanged, lost her connection: %v", err)
	}
	testwait.Eventually(t, 5*time.Second, func() error {
		if bob.Ping(ctx).Err() == nil {
			return errors.New("bob, removed, still served")
		}
		return nil
	})
	got, _, _ := s.ACLUsers()
	if len(got) != 3 || got[0] != lines[0] || !strings.HasPrefix(got[1], "user default off ") || !strings.HasPrefix(got[2], "user erin on") {
		t.Fatalf("users after replace %q", got)
	}
	saved, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(saved), "user erin on") || strings.Contains(string(saved), "bob") {
		t.Fatalf("ACL file %q %v", saved, err)
	}
	// Without a default user in the set, the node's own default comes back.
	if ok, err := s.ReplaceACLUsers([]string{got[0]}, 11, "n2"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if got, _, _ := s.ACLUsers(); len(got) != 2 || got[1] != lines[2] {
		t.Fatalf("users %q", got)
	}
	// A file someone else changed since this node wrote it is left alone
	// (dev's nodes share one file).
	const theirs = "user default on nopass ~* &* +@all\nuser zed on >pw ~* +@all\n"
	if err := os.WriteFile(file, []byte(theirs), 0o600); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.ReplaceACLUsers(next, 12, "n2"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if raw, _ := os.ReadFile(file); string(raw) != theirs {
		t.Fatalf("a file changed by someone else was overwritten: %q", raw)
	}
}
