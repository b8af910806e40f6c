package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/backup"
	"github.com/raftcache/raftcache/internal/backup/s3test"
	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/raftcache/raftcache/raftfsm"
)

// persistenceField returns field of a node's INFO persistence lines.
func persistenceField(inst *instance, field string) string {
	return infoField(strings.Join(inst.node.InfoSection("persistence"), "\n"), field)
}

func infoCount(t *testing.T, inst *instance, field string) int {
	t.Helper()
	n, err := strconv.Atoi(persistenceField(inst, field))
	if err != nil {
		t.Fatalf("node %s: INFO %s: %v", inst.node.ID(), field, err)
	}
	return n
}

// TestAutoBackup runs a 2-shard dev cluster taking a backup every second
// and keeping 2: after at least 3 backups, exactly the 2 newest auto-*
// directories are left (a stray directory untouched), each verifies as
// raftcachectl snapshot list/restore would and holds every key, and one
// node took them all with no boundary written twice.
func TestAutoBackup(t *testing.T) {
	root := t.TempDir()
	stray := filepath.Join(root, "nightly")
	if err := os.Mkdir(stray, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stray, "keep"), []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	o := devOptions{shards: 2, replicas: 3, basePort: freeBase(t, 6), logLevel: "error",
		backup: backupFlags{dir: root, interval: time.Second, retain: 2}}
	if l := os.Getenv("RAFTCACHE_TEST_LOG"); l != "" {
		o.logLevel = l
	}
	dc := startBackupCluster(t, o)
	c := clusterClient(t, dc, nil)
	ctx := context.Background()
	want := map[string]bool{}
	for i := 0; i < 300; i++ {
		k := fmt.Sprintf("k%d", i) // both shards
		if err := c.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		want[k] = true
	}
	written := time.Now()
	// Wait until 3 backups were written and the oldest one kept was taken
	// after the keys were (a boundary after written).
	testwait.Eventually(t, 60*time.Second, func() error {
		total := 0
		for _, inst := range dc.instances {
			total += infoCount(t, inst, "raftcache_auto_backups")
		}
		autos := autoDirs(t, root)
		if total < 3 || len(autos) == 0 {
			return fmt.Errorf("%d backups written, %v kept", total, autos)
		}
		b, err := time.Parse("20060102T150405Z", strings.TrimPrefix(autos[0], backup.AutoPrefix))
		if err != nil || !b.After(written) {
			return fmt.Errorf("oldest kept %s is not after the writes (%v)", autos[0], written)
		}
		return nil
	})
	// The visible side: INFO persistence through RESP.
	info, err := c.Info(ctx, "persistence").Result()
	if err != nil || !strings.Contains(info, "raftcache_last_auto_backup_status:ok") || !strings.Contains(info, "raftcache_auto_backups_failed:0") {
		t.Fatalf("INFO persistence: %v\n%s", err, info)
	}
	writers := map[string]bool{}
	for _, inst := range dc.instances {
		if f, s := infoCount(t, inst, "raftcache_auto_backups_failed"), infoCount(t, inst, "raftcache_auto_backups_skipped"); f != 0 || s != 0 {
			t.Fatalf("node %s: %d automatic backups failed, %d skipped (written by another node)", inst.node.ID(), f, s)
		}
		if infoCount(t, inst, "raftcache_auto_backups") > 0 {
			writers[inst.node.GRPCAddr()] = true
			if last := persistenceField(inst, "raftcache_last_auto_backup"); !strings.HasPrefix(last, filepath.Join(root, backup.AutoPrefix)) {
				t.Fatalf("node %s: last automatic backup %q", inst.node.ID(), last)
			}
		} else if last := persistenceField(inst, "raftcache_last_auto_backup"); last != "" {
			t.Fatalf("node %s wrote no backup but reports %q", inst.node.ID(), last)
		}
	}
	// Stop the cluster so that no backup is under way while the directory
	// is checked (a backup cut by shutdown leaves nothing).
	dc.close()

	autos := autoDirs(t, root)
	if len(autos) != 2 {
		t.Fatalf("auto-* directories left: %v, want 2", autos)
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if wantNames := append([]string{"nightly"}, autos...); !slices.Equal(names, append(autos, "nightly")) && !slices.Equal(names, wantNames) {
		t.Fatalf("root holds %v, want %v (no temporary directory left)", names, wantNames)
	}
	if b, err := os.ReadFile(filepath.Join(stray, "keep")); err != nil || string(b) != "x" {
		t.Fatalf("stray directory touched: %q %v", b, err)
	}
	for _, name := range autos {
		dir := filepath.Join(root, name)
		m, err := backup.Verify(context.Background(), backup.Local(dir)) // what snapshot list reads and restore checks
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Shards) != 2 || !writers[m.Source] {
			t.Fatalf("%s: %d shards, taken through %s (writers %v)", name, len(m.Shards), m.Source, writers)
		}
		got := map[string]bool{}
		for _, s := range m.Shards {
			f, err := os.Open(filepath.Join(dir, s.File))
			if err != nil {
				t.Fatal(err)
			}
			_, err = raftfsm.ScanSnapshot(f, func(key []byte, _ int64, _ []byte) error {
				if got[string(key)] {
					return errors.New("key twice: " + string(key))
				}
				got[string(key)] = true
				return nil
			})
			f.Close()
			if err != nil {
				t.Fatalf("%s/%s: %v", name, s.File, err)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%s holds %d keys, want %d", name, len(got), len(want))
		}
		for k := range want {
			if !got[k] {
				t.Fatalf("%s lacks %s", name, k)
			}
		}
	}
}

// startBackupCluster starts a dev cluster whose nodes' errors the test
// prints if it fails, to say why a backup failed should one fail.
func startBackupCluster(t *testing.T, o devOptions) *devCluster {
	t.Helper()
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("node errors:\n%s", logs.String())
		}
	})
	return startDevClusterLogs(t, o, logs)
}

// autoDirs lists the auto-* directories under root, oldest first.
func autoDirs(t *testing.T, root string) []string {
	t.Helper()
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), backup.AutoPrefix) {
			out = append(out, e.Name())
		}
	}
	return out // ReadDir sorts by name: by time
}

// TestAutoBackupS3: the same with --backup-dir s3://...: a 2-shard dev
// cluster backs up every second into a bucket (an S3 API on loopback) and
// keeps 2; afterwards exactly the 2 newest auto-* backups are there, each
// verifies and holds every key, and an object beside them is untouched.
func TestAutoBackupS3(t *testing.T) {
	st := s3test.New(t, "rcbk")
	st.Put(t, "rcbk", "cluster-a/nightly/keep", []byte("x"))
	o := devOptions{shards: 2, replicas: 3, basePort: freeBase(t, 6), logLevel: "error",
		backup: backupFlags{dir: "s3://rcbk/cluster-a", interval: time.Second, retain: 2, s3: backup.S3Options{Endpoint: st.URL}}}
	dc := startBackupCluster(t, o)
	c := clusterClient(t, dc, nil)
	ctx := context.Background()
	for i := 0; i < 300; i++ {
		if err := c.Set(ctx, fmt.Sprintf("k%d", i), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	written := time.Now()
	root, err := backup.Open(o.backup.dir, o.backup.s3)
	if err != nil {
		t.Fatal(err)
	}
	testwait.Eventually(t, 60*time.Second, func() error {
		total := 0
		for _, inst := range dc.instances {
			total += infoCount(t, inst, "raftcache_auto_backups")
		}
		names, err := root.List(ctx)
		if err != nil {
			return err
		}
		slices.Sort(names)
		if total < 3 || len(names) < 2 || !strings.HasPrefix(names[0], backup.AutoPrefix) {
			return fmt.Errorf("%d backups written, %v kept", total, names)
		}
		b, err := time.Parse("20060102T150405Z", strings.TrimPrefix(names[0], backup.AutoPrefix))
		if err != nil || !b.After(written) {
			return fmt.Errorf("oldest kept %s is not after the writes (%v)", names[0], written)
		}
		return nil
	})
	for _, inst := range dc.instances {
		if f := infoCount(t, inst, "raftcache_auto_backups_failed"); f != 0 {
			t.Fatalf("node %s: %d automatic backups failed", inst.node.ID(), f)
		}
	}
	dc.close() // no backup under way while the bucket is checked
	names, err := root.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	if len(names) != 3 || names[2] != "nightly" {
		t.Fatalf("the bucket holds %v, want 2 auto-* backups and nightly", names)
	}
	for _, name := range names[:2] {
		dir := root.Join(name)
		m, err := backup.Verify(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		keys := 0
		for _, s := range m.Shards {
			r, err := dir.Open(ctx, s.File)
			if err != nil {
				t.Fatal(err)
			}
			_, err = raftfsm.ScanSnapshot(r, func([]byte, int64, []byte) error { keys++; return nil })
			r.Close()
			if err != nil {
				t.Fatalf("%s/%s: %v", name, s.File, err)
			}
		}
		if len(m.Shards) != 2 || keys != 300 {
			t.Fatalf("%s: %d shards, %d keys", name, len(m.Shards), keys)
		}
	}
	if keys := st.Keys(t, "rcbk"); !slices.Contains(keys, "cluster-a/nightly/keep") {
		t.Fatalf("an object beside the backups was removed: %v", keys)
	}
}
