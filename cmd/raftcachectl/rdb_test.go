package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/raftcache/raftcache/internal/backup/s3test"
	"github.com/raftcache/raftcache/internal/redistest"
	"github.com/raftcache/raftcache/internal/testwait"
	"github.com/raftcache/raftcache/raftfsm"
)

// startRedisServer runs redis-server with its RDB file at dir/file (loaded
// at start if it exists) and returns a client of it.
func startRedisServer(t *testing.T, dir, file string) *redis.Client {
	t.Helper()
	port := redistest.Start(t, dir, "--dbfilename", file)
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
	t.Cleanup(func() { rc.Close() })
	testwait.Eventually(t, 10*time.Second, func() error { return rc.Ping(context.Background()).Err() }) // done LOADING
	return rc
}

// fillAllTypes writes keys of every type, in encodings big and small, to
// c; it returns their names.
func fillAllTypes(t *testing.T, c redis.Cmdable) []string {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set(ctx, "s:small", "hello", 0).Err())
	must(c.Set(ctx, "s:int", "-12345", 0).Err())
	must(c.Set(ctx, "s:big", strings.Repeat("abc", 10000), 0).Err())
	must(c.Set(ctx, "s:ttl", "later", 0).Err())
	must(c.PExpireAt(ctx, "s:ttl", time.UnixMilli(4_000_000_000_123)).Err())
	must(c.RPush(ctx, "l:small", "a", "b", 1, 2).Err())
	for i := 0; i < 300; i++ {
		must(c.RPush(ctx, "l:big", strings.Repeat("x", i)).Err())
		must(c.SAdd(ctx, "set:big", "m"+strconv.Itoa(i)).Err())
		must(c.HSet(ctx, "h:big", "f"+strconv.Itoa(i), i).Err())
		must(c.ZAdd(ctx, "z:big", redis.Z{Score: float64(i) / 3, Member: "m" + strconv.Itoa(i)}).Err())
	}
	must(c.SAdd(ctx, "set:ints", 1, 2, 3, -70000).Err())
	must(c.SAdd(ctx, "set:small", "a", "b").Err())
	must(c.HSet(ctx, "h:small", "a", "1", "b", "").Err())
	must(c.ZAdd(ctx, "z:small", redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: -2, Member: "b"}).Err())
	for i := 0; i < 5; i++ {
		must(c.XAdd(ctx, &redis.XAddArgs{Stream: "x:stream", ID: fmt.Sprintf("%d-1", i+1), Values: []any{"k", i}}).Err())
	}
	must(c.XGroupCreate(ctx, "x:stream", "g", "0").Err())
	must(c.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: "alice", Streams: []string{"x:stream", ">"}, Count: 2}).Err())
	return []string{"s:small", "s:int", "s:big", "s:ttl", "l:small", "l:big", "set:big", "set:ints", "set:small",
		"h:big", "h:small", "z:big", "z:small", "x:stream"}
}

// sameKey fails the test unless key has the same type, contents and
// expiry in a and b.
func sameKey(t *testing.T, a, b redis.Cmdable, key string) {
	t.Helper()
	ctx := context.Background()
	read := func(c redis.Cmdable) string {
		typ := c.Type(ctx, key).Val()
		out := typ + " exp=" + strconv.FormatInt(int64(c.PExpireTime(ctx, key).Val()/time.Millisecond), 10) + " "
		switch typ {
		case "string":
			out += c.Get(ctx, key).Val()
		case "list":
			out += strings.Join(c.LRange(ctx, key, 0, -1).Val(), ",")
		case "set":
			out += strings.Join(slices.Sorted(slices.Values(c.SMembers(ctx, key).Val())), ",")
		case "hash":
			h := c.HGetAll(ctx, key).Val()
			for _, f := range slices.Sorted(func(yield func(string) bool) {
				for f := range h {
					if !yield(f) {
						return
					}
				}
			}) {
				out += f + "=" + h[f] + ","
			}
		case "zset":
			out += fmt.Sprint(c.ZRangeWithScores(ctx, key, 0, -1).Val())
		case "stream":
			out += fmt.Sprint(c.XRange(ctx, key, "-", "+").Val(), c.XInfoGroups(ctx, key).Val(),
				c.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: key, Group: "g", Start: "-", End: "+", Count: 10}).Val() != nil)
		}
		return out
	}
	if x, y := read(a), read(b); x != y {
		t.Errorf("%s differs:\n%.300s\n%.300s", key, x, y)
	}
}

// TestRDBImportExport moves data between redis-server and raftcache both
// ways through RDB files: import-rdb loads what redis-server SAVEd (every
// type, expiries, a function library; a database-1 key left out), and
// export-rdb writes a file redis-check-rdb passes and redis-server loads
// with the same contents. Then the same through S3.
func TestRDBImportExport(t *testing.T) {
	dir := t.TempDir()
	src := startRedisServer(t, dir, "dump.rdb")
	ctx := context.Background()
	keys := fillAllTypes(t, src)
	lib := "#!lua name=mig\nredis.register_function('mig_get', function(keys) return redis.call('GET', keys[1]) end)"
	if err := src.FunctionLoad(ctx, lib).Err(); err != nil {
		t.Fatal(err)
	}
	if err := src.Set(ctx, "s:gone", "x", 0).Err(); err != nil { // expired when imported
		t.Fatal(err)
	}
	if err := src.PExpireAt(ctx, "s:gone", time.Now().Add(300*time.Millisecond)).Err(); err != nil {
		t.Fatal(err)
	}
	db1 := redis.NewClient(&redis.Options{Addr: src.Options().Addr, DB: 1})
	defer db1.Close()
	if err := db1.Set(ctx, "other-db", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := src.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // s:gone expires

	nodes := startNodes(t, 3, 0)
	rc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: startGateways(t, nodes)})
	defer rc.Close()
	addr := nodes[0].GRPCAddr()
	out := mustCtl(t, addr, "snapshot", "import-rdb", filepath.Join(dir, "dump.rdb"))
	want := fmt.Sprintf("restored %d keys from %s (1 expired already", len(keys), filepath.Join(dir, "dump.rdb"))
	if !strings.Contains(out, want) || !strings.Contains(out, "1 keys of databases other than 0 were not imported") || !strings.Contains(out, "restored 1 function libraries") {
		t.Fatalf("import-rdb:\n%s\nwant %q", out, want)
	}
	for _, k := range keys {
		sameKey(t, src, rc, k)
	}
	if v, err := rc.FCall(ctx, "mig_get", []string{"s:small"}).Text(); err != nil || v != "hello" {
		t.Fatalf("FCALL of the imported library: %q %v", v, err)
	}
	// Again: every key exists now (exit 1) unless --replace.
	if _, errs, code := ctl(t, addr, "snapshot", "import-rdb", filepath.Join(dir, "dump.rdb")); code != 1 || !strings.Contains(errs, "already existed") {
		t.Fatalf("second import: exit %d %q", code, errs)
	}
	mustCtl(t, addr, "snapshot", "import-rdb", "--replace", "--db", "1", filepath.Join(dir, "dump.rdb"))
	if v := rc.Get(ctx, "other-db").Val(); v != "x" {
		t.Fatalf("--db 1: other-db = %q", v)
	}
	if err := rc.Del(ctx, "other-db").Err(); err != nil {
		t.Fatal(err)
	}

	// Out: a backup of the cluster as one RDB file for redis-server.
	bk := filepath.Join(t.TempDir(), "bk")
	mustCtl(t, addr, "snapshot", "create", bk)
	outDir := t.TempDir()
	out = mustCtl(t, addr, "snapshot", "export-rdb", bk, filepath.Join(outDir, "export.rdb"))
	if !strings.Contains(out, fmt.Sprintf("exported %d keys and 1 function libraries", len(keys))) {
		t.Fatalf("export-rdb:\n%s", out)
	}
	if check, err := exec.LookPath("redis-check-rdb"); err == nil {
		if b, err := exec.Command(check, filepath.Join(outDir, "export.rdb")).CombinedOutput(); err != nil || !strings.Contains(string(b), "RDB looks OK") {
			t.Fatalf("redis-check-rdb: %v\n%s", err, b)
		}
	}
	dst := startRedisServer(t, outDir, "export.rdb")
	if n := dst.DBSize(ctx).Val(); n != int64(len(keys)) {
		t.Fatalf("redis-server loaded %d keys, want %d", n, len(keys))
	}
	for _, k := range keys {
		sameKey(t, rc, dst, k)
	}
	if v, err := dst.FCall(ctx, "mig_get", []string{"s:int"}).Text(); err != nil || v != "-12345" {
		t.Fatalf("FCALL in redis-server after export: %q %v", v, err)
	}
	if _, errs, code := ctl(t, addr, "snapshot", "export-rdb", bk, outDir+"/"); code != 2 || !strings.Contains(errs, "not a file name") {
		t.Fatalf("export to a directory name: exit %d %q", code, errs)
	}

	// Through S3: export there, import back from there.
	st := s3test.New(t, "rcbk")
	ep := "--s3-endpoint=" + st.URL
	mustCtl(t, addr, "snapshot", "export-rdb", bk, "s3://rcbk/exports/cache.rdb", ep)
	if objs := st.Keys(t, "rcbk"); !slices.Equal(objs, []string{"exports/cache.rdb"}) {
		t.Fatalf("objects after export: %v", objs)
	}
	if err := rc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.FlushAll(ctx).Err() }); err != nil {
		t.Fatal(err)
	}
	// With a second file, as an ElastiCache backup has one per shard.
	var extra bytes.Buffer
	w := raftfsm.NewRDBWriter(&extra, nil, nil)
	payload, err := src.Dump(ctx, "s:small").Result() // redis-server's own DUMP
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Key([]byte("extra:1"), 0, []byte(payload)); err != nil || w.Close() != nil {
		t.Fatal(err)
	}
	extraFile := filepath.Join(t.TempDir(), "extra.rdb")
	if err := os.WriteFile(extraFile, extra.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out = mustCtl(t, addr, "snapshot", "import-rdb", "s3://rcbk/exports/cache.rdb", extraFile, "--replace", ep)
	if !strings.Contains(out, fmt.Sprintf("restored %d keys", len(keys)+1)) || rc.Get(ctx, "extra:1").Val() != "hello" {
		t.Fatalf("import-rdb from S3 and a file:\n%s", out)
	}
	for _, k := range keys {
		sameKey(t, src, rc, k)
	}
	// A damaged file: refused before anything is written.
	b, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	bad := filepath.Join(t.TempDir(), "bad.rdb")
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := rc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.FlushAll(ctx).Err() }); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := ctl(t, addr, "snapshot", "import-rdb", bad); code != 1 || !strings.Contains(errs, "checksum mismatch") {
		t.Fatalf("import of a damaged file: exit %d %q", code, errs)
	}
	if n := rc.DBSize(ctx).Val(); n != 0 {
		t.Fatalf("%d keys written from a damaged file", n)
	}
	if _, errs, code := ctl(t, addr, "snapshot", "import-rdb", filepath.Join(dir, "missing.rdb")); code != 1 || !strings.Contains(errs, "no such file") {
		t.Fatalf("import of a missing file: exit %d %q", code, errs)
	}
}
