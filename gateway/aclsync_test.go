package gateway

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
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

// TestACLStamps: local changes take ever newer stamps carrying the origin,
// on the users they touch (tombstones for deletions), and change the
// digest; the users a node starts with carry none; a failed change takes
// none.
func TestACLStamps(t *testing.T) {
	s, _ := aclFileServer(t, "user default on nopass ~* &* +@all\nuser carol on >x ~* +@all\n")
	if at, origin, sum := s.ACLStamp(); at != 0 || origin != "" || sum != 0 || len(s.ACLStates()) != 0 {
		t.Fatalf("stamp at start %d %q %x, states %v, want none", at, origin, sum, s.ACLStates())
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr().String()})
	defer c.Close()
	ctx := context.Background()
	var last, lastSum uint64
	for i, tc := range []struct {
		cmd    []any
		states string // name:d for a tombstone, name for a user; all stamped by this change but ACL LOAD's alice:d
	}{
		{[]any{"acl", "setuser", "alice", "on", ">pw", "~*", "+@all"}, "alice"},
		{[]any{"acl", "setuser", "alice", "off"}, "alice"},
		{[]any{"acl", "deluser", "alice", "carol"}, "alice:d carol:d"},
		{[]any{"acl", "load"}, "alice:d carol default"},
	} {
		if err := c.Do(ctx, tc.cmd...).Err(); err != nil {
			t.Fatalf("%v: %v", tc.cmd, err)
		}
		at, origin, sum := s.ACLStamp()
		if at <= last || origin != "n1" || sum == lastSum || sum == 0 {
			t.Fatalf("change %d: stamp %d %q sum %x after %d %x", i, at, origin, sum, last, lastSum)
		}
		var got []string
		for _, st := range s.ACLStates() {
			name := st.Name
			if st.Deleted {
				name += ":d"
			}
			if touched := st.Stamp.At == at; touched != (name != "alice:d" || i == 2) || st.Stamp.Origin != "n1" {
				t.Fatalf("change %d: %s stamped %v (now %d)", i, name, st.Stamp, at)
			}
			got = append(got, name)
		}
		if strings.Join(got, " ") != tc.states {
			t.Fatalf("change %d: states %v, want %s", i, got, tc.states)
		}
		last, lastSum = at, sum
	}
	for _, cmd := range [][]any{
		{"acl", "setuser", "bad", "nosuchrule"},
		{"acl", "deluser", "nobody"},
	} {
		_ = c.Do(ctx, cmd...).Err()
		if at, _, sum := s.ACLStamp(); at != last || sum != lastSum {
			t.Fatalf("%v moved the stamp", cmd)
		}
	}
}

// state is a user state for MergeACLUsers.
func state(name, line string, at uint64, origin string) ACLUserState {
	return ACLUserState{Name: name, Line: line, Stamp: ACLStamp{At: at, Origin: origin}, Deleted: line == ""}
}

// TestMergeACLUsers: another node's user states are applied user by user
// when newer; unchanged users keep their connections, removed ones lose
// them; bad states change nothing; the ACL file is rewritten; users this
// node changed later are kept; merging is idempotent and commutative.
func TestMergeACLUsers(t *testing.T) {
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
	for _, bad := range [][]ACLUserState{
		{state("dave", "user dave on >pw nosuchrule", 10, "n2")},
		{state("dave", "user erin on >pw", 10, "n2")},
		{state("default", "", 10, "n2")},
	} {
		if _, err := s.MergeACLUsers(bad); err == nil {
			t.Fatalf("%v was accepted", bad)
		}
	}
	if len(s.ACLStates()) != 0 {
		t.Fatal("a refused merge changed something")
	}
	theirs := []ACLUserState{
		state("bob", "", 10, "n2"),
		state("default", "user default off resetpass", 10, "n2"),
		state("erin", "user erin on >pw ~* +@all", 10, "n2"),
	}
	if n, err := s.MergeACLUsers(theirs); n != 3 || err != nil {
		t.Fatalf("merge applied %d: %v", n, err)
	}
	sum1 := func() uint64 { _, _, sum := s.ACLStamp(); return sum }()
	if n, _ := s.MergeACLUsers(theirs); n != 0 {
		t.Fatal("the same states were applied twice")
	}
	if n, _ := s.MergeACLUsers([]ACLUserState{state("erin", "", 9, "n3")}); n != 0 {
		t.Fatal("an older deletion removed a newer user")
	}
	if at, origin, sum := s.ACLStamp(); at != 10 || origin != "n2" || sum != sum1 {
		t.Fatalf("stamp %d %q", at, origin)
	}
	if err := alice.Ping(ctx).Err(); err != nil {
		t.Fatalf("alice, untouched, lost her connection: %v", err)
	}
	testwait.Eventually(t, 5*time.Second, func() error {
		if bob.Ping(ctx).Err() == nil {
			return errors.New("bob, deleted, still served")
		}
		return nil
	})
	saved, err := os.ReadFile(file)
	if err != nil || !strings.Contains(string(saved), "user erin on") || strings.Contains(string(saved), "bob") || !strings.Contains(string(saved), "user alice on") {
		t.Fatalf("ACL file %q %v", saved, err)
	}
	// A local change after the merge is newer than it, whatever the clock
	// says (the merged stamp is far in the future here).
	if _, err := s.MergeACLUsers([]ACLUserState{state("frank", "user frank on >pw", 1<<50, "n2")}); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr().String()})
	defer c.Close()
	if err := c.Do(ctx, "acl", "setuser", "frank", "off").Err(); err == nil {
		t.Fatal("the default user, switched off by the merge, still runs commands")
	}
	if err := alice.Do(ctx, "acl", "setuser", "frank", "off").Err(); err != nil {
		t.Fatal(err)
	}
	for _, st := range s.ACLStates() {
		if st.Name == "frank" && (st.Stamp.At != 1<<50+1 || !strings.Contains(st.Line, " off ")) {
			t.Fatalf("frank after a later local change: %+v", st)
		}
	}
	// A file someone else changed since this node wrote it is left alone
	// (dev's nodes share one file).
	const other = "user default on nopass ~* &* +@all\nuser zed on >pw ~* +@all\n"
	if err := os.WriteFile(file, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := s.MergeACLUsers([]ACLUserState{state("gina", "user gina on >pw", 1<<51, "n2")}); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	if raw, _ := os.ReadFile(file); string(raw) != other {
		t.Fatalf("a file changed by someone else was overwritten: %q", raw)
	}
}

// TestMergeACLConverges: two nodes that changed different users, and one
// user both, end equal (same digest) after merging each other's states in
// either order: both changes to different users survive, the newer change
// of the shared user wins.
func TestMergeACLConverges(t *testing.T) {
	a := []ACLUserState{state("alice", "user alice on >a ~* +@all", 100, "n1"), state("carol", "user carol on >c1", 100, "n1")}
	b := []ACLUserState{state("bob", "user bob on >b ~* +@all", 101, "n2"), state("carol", "user carol off >c2", 102, "n2"), state("dan", "", 99, "n2")}
	var sums []uint64
	for _, order := range [][][]ACLUserState{{a, b}, {b, a}, {a, b, a, b}} {
		s, _ := aclFileServer(t, "user default on nopass ~* &* +@all\n")
		for _, states := range order {
			if _, err := s.MergeACLUsers(states); err != nil {
				t.Fatal(err)
			}
		}
		var names []string
		for _, st := range s.ACLStates() {
			names = append(names, st.Name+"@"+strconv.FormatUint(st.Stamp.At, 10))
		}
		if strings.Join(names, " ") != "alice@100 bob@101 carol@102 dan@99" {
			t.Fatalf("states %v", names)
		}
		_, _, sum := s.ACLStamp()
		sums = append(sums, sum)
	}
	if sums[0] != sums[1] || sums[1] != sums[2] {
		t.Fatalf("digests differ by merge order: %x", sums)
	}
}
