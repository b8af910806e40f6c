package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/redis/go-redis/v9"
)

// TestACLEndToEnd: a dev cluster whose nodes all get the same --aclfile
// serves go-redis clients as ACL users: a user limited to
// `~app:* +@read +@write -@dangerous` runs reads and writes on its keys on
// any node and is refused elsewhere with Redis's NOPERM errors; a wrong
// password is WRONGPASS.
func TestACLEndToEnd(t *testing.T) {
	file := filepath.Join(t.TempDir(), "users.acl")
	acl := "user default on nopass ~* &* +@all\n" +
		"user alice on >s3cret ~app:* +@read +@write -@dangerous\n" +
		"user app on >pw ~app:* +@read +@write -@dangerous +cluster|slots +cluster|shards +ping +client|setinfo\n"
	if err := os.WriteFile(file, []byte(acl), 0o600); err != nil {
		t.Fatal(err)
	}
	base := freeBase(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dc, err := startDev(ctx, devOptions{shards: 1, replicas: 3, basePort: base, logLevel: "error", aclFile: file}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.close()
	lead := dc.leader(t)

	for _, proto := range []int{2, 3} {
		alice := redis.NewClient(&redis.Options{Addr: lead.gw.Addr().String(), Username: "alice", Password: "s3cret",
			Protocol: proto, MaxRetries: -1})
		defer alice.Close()
		if err := alice.Set(ctx, "app:1", "v", 0).Err(); err != nil {
			t.Fatalf("resp%d SET app:1: %v", proto, err)
		}
		if v, err := alice.Get(ctx, "app:1").Result(); err != nil || v != "v" {
			t.Fatalf("resp%d GET app:1: %q %v", proto, v, err)
		}
		refused := []struct {
			call func() error
			want string
		}{
			{func() error { return alice.Get(ctx, "other").Err() }, "NOPERM this user has no permissions to access one of the keys used as arguments"},
			{func() error { return alice.Set(ctx, "{app:1}x", "v", 0).Err() }, "NOPERM this user has no permissions to access one of the keys used as arguments"},
			{func() error { return alice.FlushAll(ctx).Err() }, "NOPERM this user has no permissions to run the 'flushall' command"},
			{func() error { return alice.Keys(ctx, "*").Err() }, "NOPERM this user has no permissions to run the 'keys' command"},
			{func() error { return alice.ConfigSet(ctx, "maxmemory", "1").Err() }, "NOPERM this user has no permissions to run the 'config|set' command"},
		}
		for i, r := range refused {
			if err := r.call(); err == nil || err.Error() != r.want {
				t.Fatalf("resp%d refused call %d: %v, want %q", proto, i, err, r.want)
			}
		}
	}

	wrong := redis.NewClient(&redis.Options{Addr: lead.gw.Addr().String(), Username: "alice", Password: "nope", MaxRetries: -1})
	defer wrong.Close()
	if err := wrong.Get(ctx, "app:1").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong password: %v, want WRONGPASS", err)
	}

	// Every node loaded the same users: a cluster client reaches any of
	// them as the same user.
	for _, inst := range dc.instances {
		cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{inst.gw.Addr().String()}, Username: "app", Password: "pw"})
		if err := cc.Set(ctx, "app:2", inst.node.ID(), 0).Err(); err != nil {
			cc.Close()
			t.Fatalf("cluster client via %s: %v", inst.node.ID(), err)
		}
		cc.Close()
		plain := redis.NewClient(&redis.Options{Addr: inst.gw.Addr().String(), Username: "app", Password: "pw", MaxRetries: -1})
		if who, err := plain.Do(ctx, "ACL", "WHOAMI").Result(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
			t.Fatalf("node %s ACL WHOAMI as app: %v %v, want NOPERM", inst.node.ID(), who, err)
		}
		plain.Close()
	}

	// Users are per node: ACL DELUSER on one node disconnects the user's
	// clients there; ACL LOAD brings it back from the file.
	admin := redis.NewClient(&redis.Options{Addr: lead.gw.Addr().String(), MaxRetries: -1})
	defer admin.Close()
	if n, err := admin.Do(ctx, "ACL", "DELUSER", "alice").Int(); err != nil || n != 1 {
		t.Fatalf("ACL DELUSER: %d %v", n, err)
	}
	gone := redis.NewClient(&redis.Options{Addr: lead.gw.Addr().String(), Username: "alice", Password: "s3cret", MaxRetries: -1})
	defer gone.Close()
	if err := gone.Get(ctx, "app:1").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Fatalf("deleted user: %v, want WRONGPASS", err)
	}
	if err := admin.Do(ctx, "ACL", "LOAD").Err(); err != nil {
		t.Fatalf("ACL LOAD: %v", err)
	}
	if err := gone.Get(ctx, "app:1").Err(); err != nil {
		t.Fatalf("user after ACL LOAD: %v", err)
	}
}

// TestACLScriptsEndToEnd: the commands a script of a restricted user runs
// are checked on every replica, from the rules stamped into its log entry:
// a refused call leaves nothing on any replica and an allowed one is
// everywhere, also after the whole cluster restarts and replays its log.
func TestACLScriptsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "users.acl")
	acl := "user default on nopass ~* &* +@all\nuser app on >pw ~app:* &* +@all -flushall\n"
	if err := os.WriteFile(file, []byte(acl), 0o600); err != nil {
		t.Fatal(err)
	}
	o := devOptions{shards: 1, replicas: 3, basePort: freeBase(t, 3), logLevel: "error", aclFile: file,
		dataDir: filepath.Join(dir, "data")}
	start := func() *devCluster {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		dc, err := startDev(ctx, o, os.Stderr)
		if err != nil {
			t.Fatal(err)
		}
		return dc
	}
	ctx := context.Background()
	dc := start()
	app := redis.NewClient(&redis.Options{Addr: dc.leader(t).gw.Addr().String(), Username: "app", Password: "pw", MaxRetries: -1})
	script := `redis.call('set', KEYS[1], 'v')
local refused = redis.pcall('set', 'other:{t}', 'x')
redis.call('incr', 'app:{t}n')
return refused['err']`
	got, err := app.Eval(ctx, script, []string{"app:{t}1"}).Text()
	if want := "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"; err != nil || got != want {
		t.Fatalf("EVAL: %q, %v; want %q", got, err, want)
	}
	if err := app.Eval(ctx, "return redis.call('flushall')", nil).Err(); err == nil ||
		!strings.HasPrefix(err.Error(), "ERR The user executing the script can't run this command or subcommand script: ") {
		t.Fatalf("EVAL FLUSHALL: %v", err)
	}
	app.Close()

	want := map[string]string{"app:{t}1": "v", "app:{t}n": "1", "other:{t}": "<absent>"}
	checkReplicas(t, dc, want)
	dc.close()
	dc = start()
	defer dc.close()
	checkReplicas(t, dc, want)
}

// TestACLUsersConverge: users changed on one node reach the others, and a
// node that was down while users changed takes the newer users when it
// comes back; a replicated deletion closes the deleted user's connections
// there, as ACL DELUSER does locally; changes to different users made on
// two nodes at once both survive.
func TestACLUsersConverge(t *testing.T) {
	dc, _ := startTestDev(t, 3, t.TempDir())
	defer dc.close()
	ctx := context.Background()
	listOf := func(inst *instance) string {
		t.Helper()
		l, err := client(t, inst, 2).Do(ctx, "acl", "list").StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(l, "\n")
	}
	alike := func(want func(list string) error) {
		t.Helper()
		testwait.Eventually(t, 20*time.Second, func() error {
			first := listOf(dc.instances[0])
			_, _, sum := dc.instances[0].gw.ACLStamp()
			for _, inst := range dc.instances[1:] {
				if l := listOf(inst); l != first {
					return fmt.Errorf("%s has\n%s\n%s has\n%s", dc.instances[0].node.ID(), first, inst.node.ID(), l)
				}
				// Same states, same digest: the nodes stop fetching.
				if _, _, s := inst.gw.ACLStamp(); s != sum {
					return fmt.Errorf("%s's digest %x, %s's %x", inst.node.ID(), s, dc.instances[0].node.ID(), sum)
				}
			}
			return want(first)
		})
	}
	a, b := dc.instances[0], dc.instances[1]
	if err := client(t, a, 2).Do(ctx, "acl", "setuser", "alice", "on", ">pw", "~*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	alike(func(l string) error {
		if !strings.Contains(l, "user alice on") {
			return fmt.Errorf("no alice in\n%s", l)
		}
		return nil
	})
	// alice logs in on b (which got her from a) and stays connected.
	aliceOnB := redis.NewClient(&redis.Options{Addr: b.gw.Addr().String(), Username: "alice", Password: "pw", MaxRetries: -1, PoolSize: 1})
	defer aliceOnB.Close()
	if err := aliceOnB.Ping(ctx).Err(); err != nil {
		t.Fatalf("alice on %s: %v", b.node.ID(), err)
	}

	// c goes down; meanwhile a deletes alice and creates bob.
	c := dc.instances[2]
	idx := indexOf(dc, c.node.ID())
	if err := c.kill(); err != nil {
		t.Fatal(err)
	}
	ac := client(t, a, 2)
	if err := ac.Do(ctx, "acl", "deluser", "alice").Err(); err != nil {
		t.Fatal(err)
	}
	if err := ac.Do(ctx, "acl", "setuser", "bob", "on", ">pw2", "~*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 20*time.Second, func() error {
		if err := aliceOnB.Ping(ctx).Err(); err == nil {
			return fmt.Errorf("alice's connection on %s still serves", b.node.ID())
		}
		return nil
	})
	back, err := startInstance(ctx, rejoinConfig(dc, idx, a))
	if err != nil {
		t.Fatal(err)
	}
	dc.instances[idx] = back
	alike(func(l string) error {
		if strings.Contains(l, "user alice") || !strings.Contains(l, "user bob on") {
			return fmt.Errorf("want bob and no alice:\n%s", l)
		}
		return nil
	})
	bob := redis.NewClient(&redis.Options{Addr: back.gw.Addr().String(), Username: "bob", Password: "pw2", MaxRetries: -1})
	defer bob.Close()
	if err := bob.Ping(ctx).Err(); err != nil {
		t.Fatalf("bob on the restarted node: %v", err)
	}

	// Two nodes change two users within one sync round: both changes stay
	// (users merge one by one, not as whole sets).
	bc := client(t, b, 2)
	if err := ac.Do(ctx, "acl", "setuser", "carol", "on", ">pw3", "~*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	if err := bc.Do(ctx, "acl", "setuser", "dave", "on", ">pw4", "~*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	alike(func(l string) error {
		if !strings.Contains(l, "user carol on") || !strings.Contains(l, "user dave on") || !strings.Contains(l, "user bob on") {
			return fmt.Errorf("want bob, carol and dave:\n%s", l)
		}
		return nil
	})
}
