package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/raftcache/raftcache/gateway"
	"github.com/raftcache/raftcache/internal/backup"
	"github.com/raftcache/raftcache/internal/backup/s3test"
	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/raftcache/raftcache/node"
)

// startGateways serves RESP for nodes on the ports they announce.
func startGateways(t *testing.T, nodes []*node.Node, opts ...func(*gateway.Config)) []string {
	t.Helper()
	var addrs []string
	for _, n := range nodes {
		addr := n.RESPAddr()
		_, port, _ := strings.Cut(addr, ":")
		var p int
		fmt.Sscan(port, &p)
		cfg := gateway.Config{Addr: addr, Backend: n, Logger: slog.New(slog.DiscardHandler), NodeID: n.ClusterID(), Port: p, RunID: n.ClusterID()}
		for _, o := range opts {
			o(&cfg)
		}
		gw, err := gateway.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := gw.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = gw.Close() })
		addrs = append(addrs, addr)
	}
	return addrs
}

// TestSnapshot backs up a cluster with raftcachectl, lists the backup,
// empties the cluster and restores it: values of every type and absolute
// expiries come back, keys expired since are skipped, existing keys are
// left alone unless --replace, and a damaged file is refused before
// anything is written.
func TestSnapshot(t *testing.T) {
	nodes := startNodes(t, 3, 0)
	addrs := startGateways(t, nodes)
	// Through a follower: ExportShard is forwarded to the leader.
	leader := describeJSON(t, nodes[0].GRPCAddr()).GetShards()[0].GetLeader()
	var addr string
	for _, n := range nodes {
		if n.ID() != leader {
			addr = n.GRPCAddr()
		}
	}
	ctx := context.Background()
	rc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer rc.Close()
	for i := 0; i < 500; i++ {
		if err := rc.Set(ctx, fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rc.HSet(ctx, "h", "a", "1", "b", "2").Err())
	must(rc.RPush(ctx, "l", "x", "y", "z").Err())
	must(rc.ZAdd(ctx, "z", redis.Z{Score: 1.5, Member: "m"}).Err())
	must(rc.Set(ctx, "ttl", "later", time.Hour).Err())
	must(rc.Set(ctx, "brief", "gone", 300*time.Millisecond).Err())
	ttlBefore := rc.PExpireTime(ctx, "ttl").Val()
	// A function library (kept in each shard's snapshot).
	lib := "#!lua name=bk\nredis.register_function('bk_get', function(keys) return redis.call('GET', keys[1]) end)"
	must(rc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.FunctionLoad(ctx, lib).Err() }))

	root := t.TempDir()
	dir := filepath.Join(root, "nightly")
	out := mustCtl(t, addr, "snapshot", "create", dir)
	if !strings.Contains(out, "505 keys") {
		t.Fatalf("snapshot create:\n%s", out)
	}
	out = mustCtl(t, addr, "snapshot", "list", root)
	if !strings.Contains(out, "nightly") || !strings.Contains(out, "505") {
		t.Fatalf("snapshot list:\n%s", out)
	}
	var listed []struct {
		Name     string          `json:"name"`
		Manifest backup.Manifest `json:"manifest"`
	}
	if err := json.Unmarshal([]byte(mustCtl(t, addr, "--json", "snapshot", "list", root)), &listed); err != nil || len(listed) != 1 || listed[0].Manifest.Keys() != 505 {
		t.Fatalf("snapshot list --json: %v %+v", err, listed)
	}
	if _, errs, code := ctl(t, addr, "snapshot", "create", dir); code != 2 || !strings.Contains(errs, "not empty") {
		t.Fatalf("create into a used directory: exit %d, %q", code, errs)
	}

	time.Sleep(400 * time.Millisecond) // "brief" expires
	must(rc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		return errors.Join(c.FlushAll(ctx).Err(), c.FunctionFlush(ctx).Err())
	}))
	must(rc.Set(ctx, "k0", "changed", 0).Err())

	// k0 exists: left alone, counted, exit 1.
	out, errs, code := ctl(t, addr, "snapshot", "restore", dir)
	if code != 1 || !strings.Contains(out, "restored 503 keys") || !strings.Contains(out, "1 expired") || !strings.Contains(errs, "1 keys already existed") {
		t.Fatalf("restore over an existing key: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	if v := rc.Get(ctx, "k0").Val(); v != "changed" {
		t.Fatalf("k0 = %q after restore without --replace", v)
	}
	if !strings.Contains(out, "restored 1 function libraries") {
		t.Fatalf("library not restored:\n%s", out)
	}
	if v, err := rc.FCall(ctx, "bk_get", []string{"k7"}).Text(); err != nil || v != "v7" {
		t.Fatalf("FCALL after restore = %q, %v", v, err)
	}
	out = mustCtl(t, addr, "snapshot", "restore", "--replace", dir)
	if !strings.Contains(out, "restored 504 keys") {
		t.Fatalf("restore --replace:\n%s", out)
	}
	for i := 0; i < 500; i++ {
		if v := rc.Get(ctx, fmt.Sprintf("k%d", i)).Val(); v != fmt.Sprintf("v%d", i) {
			t.Fatalf("k%d = %q after restore", i, v)
		}
	}
	if h := rc.HGetAll(ctx, "h").Val(); h["a"] != "1" || h["b"] != "2" || len(h) != 2 {
		t.Fatalf("hash after restore: %v", h)
	}
	if l := rc.LRange(ctx, "l", 0, -1).Val(); strings.Join(l, ",") != "x,y,z" {
		t.Fatalf("list after restore: %v", l)
	}
	if s := rc.ZScore(ctx, "z", "m").Val(); s != 1.5 {
		t.Fatalf("zset after restore: %v", s)
	}
	if got := rc.PExpireTime(ctx, "ttl").Val(); got != ttlBefore {
		t.Fatalf("ttl key expires at %v after restore, %v before", got, ttlBefore)
	}
	if n := rc.Exists(ctx, "brief").Val(); n != 0 {
		t.Fatal("a key expired since the snapshot was restored")
	}

	// A damaged file: refused before anything is written.
	must(rc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.FlushAll(ctx).Err() }))
	file := filepath.Join(dir, "shard-0.rcsnap")
	b, err := os.ReadFile(file)
	must(err)
	b[len(b)/2] ^= 1
	must(os.WriteFile(file, b, 0o640))
	if _, errs, code := ctl(t, addr, "snapshot", "restore", dir); code != 1 || !strings.Contains(errs, "shard-0.rcsnap") {
		t.Fatalf("restore of a damaged file: exit %d, %q", code, errs)
	}
	if n := rc.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("%d keys written from a damaged snapshot", n)
	}
}

// TestAutoBackupRestore lists a node's automatic backup with snapshot list
// and restores it into a fresh cluster with snapshot restore: backups in a
// directory and in S3.
func TestAutoBackupRestore(t *testing.T) {
	for _, kind := range []string{"dir", "s3"} {
		t.Run(kind, func(t *testing.T) {
			root := t.TempDir()
			var s3args []string // raftcachectl's
			var s3opt backup.S3Options
			if kind == "s3" {
				st := s3test.New(t, "rcbk")
				root, s3opt = "s3://rcbk/cluster-a", backup.S3Options{Endpoint: st.URL}
				s3args = []string{"--s3-endpoint", st.URL}
			}
			src := startNodes(t, 1, 0, func(c *node.Config) {
				c.BackupDir, c.BackupInterval, c.BackupRetain, c.BackupS3 = root, time.Second, 2, s3opt
			})
			ctx := context.Background()
			rc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: startGateways(t, src)})
			defer rc.Close()
			for i := 0; i < 100; i++ {
				if err := rc.Set(ctx, fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i), 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
			// A backup taken after the writes holds all 100 keys.
			var name string
			testwait.Eventually(t, 30*time.Second, func() error {
				var listed []struct {
					Name     string          `json:"name"`
					Manifest backup.Manifest `json:"manifest"`
				}
				args := append([]string{"--json", "snapshot", "list", root}, s3args...)
				if err := json.Unmarshal([]byte(mustCtl(t, src[0].GRPCAddr(), args...)), &listed); err != nil {
					return err
				}
				for _, l := range listed {
					if strings.HasPrefix(l.Name, backup.AutoPrefix) && l.Manifest.Keys() == 100 {
						name = l.Name
						return nil
					}
				}
				return fmt.Errorf("no automatic backup with 100 keys yet: %+v", listed)
			})
			dst := startNodes(t, 1, 0)
			rc2 := redis.NewClusterClient(&redis.ClusterOptions{Addrs: startGateways(t, dst)})
			defer rc2.Close()
			out := mustCtl(t, dst[0].GRPCAddr(), append([]string{"snapshot", "restore", root + "/" + name}, s3args...)...)
			if !strings.Contains(out, "restored 100 keys") {
				t.Fatalf("restore:\n%s", out)
			}
			for i := 0; i < 100; i++ {
				if v := rc2.Get(ctx, fmt.Sprintf("k%d", i)).Val(); v != fmt.Sprintf("v%d", i) {
					t.Fatalf("k%d = %q after restore", i, v)
				}
			}
			// INFO persistence names where the last backup went.
			last := infoLine(t, rc, "raftcache_last_auto_backup")
			if !strings.HasPrefix(last, strings.TrimSuffix(root, "/")+"/"+backup.AutoPrefix) {
				t.Fatalf("INFO raftcache_last_auto_backup = %q", last)
			}
		})
	}
}

// infoLine is a field of INFO persistence through the cluster client.
func infoLine(t *testing.T, rc *redis.ClusterClient, field string) string {
	t.Helper()
	info, err := rc.Info(context.Background(), "persistence").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO persistence has no %s:\n%s", field, info)
	return ""
}

// TestSnapshotS3: snapshot create, list and restore with an S3 location;
// a second create into the same prefix and a restore of a damaged object
// are refused, the latter before anything is written.
func TestSnapshotS3(t *testing.T) {
	st := s3test.New(t, "rcbk")
	nodes := startNodes(t, 3, 0)
	addrs := startGateways(t, nodes)
	addr := nodes[0].GRPCAddr()
	ctx := context.Background()
	rc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer rc.Close()
	for i := 0; i < 300; i++ {
		if err := rc.Set(ctx, fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ep := "--s3-endpoint=" + st.URL
	out := mustCtl(t, addr, "snapshot", "create", "s3://rcbk/prod/nightly", ep)
	if !strings.Contains(out, "300 keys") || !strings.Contains(out, "s3://rcbk/prod/nightly/") {
		t.Fatalf("snapshot create:\n%s", out)
	}
	if keys := st.Keys(t, "rcbk"); len(keys) != 2 || keys[0] != "prod/nightly/manifest.json" || keys[1] != "prod/nightly/shard-0.rcsnap" {
		t.Fatalf("objects: %v", keys)
	}
	out = mustCtl(t, addr, "snapshot", "list", "s3://rcbk/prod", ep)
	if !strings.Contains(out, "nightly") || !strings.Contains(out, "300") {
		t.Fatalf("snapshot list:\n%s", out)
	}
	if _, errs, code := ctl(t, addr, "snapshot", "create", "s3://rcbk/prod/nightly", ep); code != 2 || !strings.Contains(errs, "already holds a backup") {
		t.Fatalf("create into a used prefix: exit %d, %q", code, errs)
	}
	// Copied to a directory and back under another name; deleted there.
	local := filepath.Join(t.TempDir(), "copy")
	if out := mustCtl(t, addr, "snapshot", "copy", "s3://rcbk/prod/nightly", local, ep); !strings.Contains(out, "300 keys") {
		t.Fatalf("snapshot copy:\n%s", out)
	}
	mustCtl(t, addr, "snapshot", "copy", local, "s3://rcbk/prod/weekly", ep)
	if out := mustCtl(t, addr, "snapshot", "list", "s3://rcbk/prod", ep); !strings.Contains(out, "weekly") {
		t.Fatalf("snapshot list after copy:\n%s", out)
	}
	if out := mustCtl(t, addr, "snapshot", "delete", "s3://rcbk/prod/weekly", ep); !strings.Contains(out, "deleted s3://rcbk/prod/weekly/") {
		t.Fatalf("snapshot delete:\n%s", out)
	}
	if _, errs, code := ctl(t, addr, "snapshot", "delete", "s3://rcbk/prod", ep); code != 1 || !strings.Contains(errs, "not a backup") {
		t.Fatalf("delete of a prefix holding backups: exit %d, %q", code, errs)
	}
	if keys := st.Keys(t, "rcbk"); len(keys) != 2 {
		t.Fatalf("objects after copy and delete: %v", keys)
	}
	// The endpoint from the environment, as the flag's default.
	t.Setenv("RAFTCACHE_S3_ENDPOINT", st.URL)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.FlushAll(ctx).Err() }))
	out = mustCtl(t, addr, "snapshot", "restore", "s3://rcbk/prod/nightly")
	if !strings.Contains(out, "restored 300 keys") {
		t.Fatalf("restore:\n%s", out)
	}
	for i := 0; i < 300; i++ {
		if v := rc.Get(ctx, fmt.Sprintf("k%d", i)).Val(); v != fmt.Sprintf("v%d", i) {
			t.Fatalf("k%d = %q after restore", i, v)
		}
	}
	// A damaged object: refused before anything is written.
	must(rc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.FlushAll(ctx).Err() }))
	st.Put(t, "rcbk", "prod/nightly/shard-0.rcsnap", []byte("not a snapshot"))
	if _, errs, code := ctl(t, addr, "snapshot", "restore", "s3://rcbk/prod/nightly"); code != 1 || !strings.Contains(errs, "shard-0.rcsnap") {
		t.Fatalf("restore of a damaged object: exit %d, %q", code, errs)
	}
	if n := rc.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("%d keys written from a damaged snapshot", n)
	}
	// Bad locations are usage errors; a missing bucket is reported.
	if _, errs, code := ctl(t, addr, "snapshot", "list", "s3:///x"); code != 2 || !strings.Contains(errs, "no bucket") {
		t.Fatalf("list s3:///x: exit %d, %q", code, errs)
	}
	if _, errs, code := ctl(t, addr, "snapshot", "restore", "s3://nobucket/x"); code != 1 || !strings.Contains(errs, "s3://nobucket/x/") || !strings.Contains(errs, "does not exist") {
		t.Fatalf("restore from a missing bucket: exit %d, %q", code, errs)
	}
}
