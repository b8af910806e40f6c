package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftcache/raftcache/internal/backup/s3test"
)

// fakeS3 is the test store with this package's helpers.
type fakeS3 struct{ *s3test.Server }

func newFakeS3(t *testing.T) *fakeS3 { return &fakeS3{s3test.New(t, "backups")} }

func (f *fakeS3) open(t *testing.T, where string) Location {
	t.Helper()
	loc, err := Open(where, S3Options{Endpoint: f.URL})
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func (f *fakeS3) keys(t *testing.T) []string { return f.Keys(t, "backups") }

func (f *fakeS3) put(t *testing.T, key string, data []byte) { f.Put(t, "backups", key, data) }

func TestParseS3URL(t *testing.T) {
	tests := []struct {
		in, bucket, prefix, err string
	}{
		{in: "s3://bkt", bucket: "bkt"},
		{in: "s3://bkt/", bucket: "bkt"},
		{in: "s3://my.bucket-1/p/q/", bucket: "my.bucket-1", prefix: "p/q"},
		{in: "s3://", err: "no bucket"},
		{in: "s3://ab/p", err: "shorter than 3"},
		{in: "s3://Upper/p", err: "invalid"},
		{in: "s3:///p", err: "no bucket"},
		{in: "s3://bkt/p//q", err: "bad prefix element"},
		{in: "s3://bkt/../q", err: "bad prefix element"},
		{in: "/var/backups", err: "not an s3:// URL"},
	}
	for _, tc := range tests {
		b, p, err := ParseS3URL(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseS3URL(%q) = %v, want an error containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || b != tc.bucket || p != tc.prefix {
			t.Errorf("ParseS3URL(%q) = %q %q %v, want %q %q", tc.in, b, p, err, tc.bucket, tc.prefix)
		}
	}
}

func TestS3Endpoint(t *testing.T) {
	tests := []struct {
		in, host string
		secure   bool
		err      bool
	}{
		{in: "", host: "s3.amazonaws.com", secure: true},
		{in: "minio.internal:9000", host: "minio.internal:9000", secure: true},
		{in: "http://127.0.0.1:9000", host: "127.0.0.1:9000"},
		{in: "https://s3.example.com/", host: "s3.example.com", secure: true},
		{in: "ftp://x", err: true},
		{in: "http://x/bucket", err: true},
		{in: "http://", err: true},
	}
	for _, tc := range tests {
		h, s, err := s3Endpoint(tc.in)
		if (err != nil) != tc.err || !tc.err && (h != tc.host || s != tc.secure) {
			t.Errorf("s3Endpoint(%q) = %q %v %v", tc.in, h, s, err)
		}
	}
	if _, err := Open("s3://b/p", S3Options{Endpoint: "ftp://x"}); err == nil {
		t.Error("Open took a bad endpoint")
	}
}

// TestS3Location: the Location contract on S3, the way the backup code
// uses it.
func TestS3Location(t *testing.T) {
	f := newFakeS3(t)
	ctx := context.Background()
	root := f.open(t, "s3://backups/team/cache")
	if got := root.String(); got != "s3://backups/team/cache/" {
		t.Fatalf("String() = %q", got)
	}
	dir := root.Join("one")
	w, err := dir.Stage("shard-0.rcsnap")
	if err != nil {
		t.Fatal(err)
	}
	staged := w.Name()
	if _, err := w.Write([]byte("payload")); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Open(ctx, "shard-0.rcsnap"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a staged file is visible before Commit: %v", err)
	}
	if err := dir.Commit(ctx, "shard-0.rcsnap", w); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(staged); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the local staging file is left: %v", err)
	}
	r, err := dir.Open(ctx, "shard-0.rcsnap")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	r.Close()
	if err != nil || string(b) != "payload" {
		t.Fatalf("read back %q %v", b, err)
	}
	// Staging happens in S3Options.TempDir when set (made if missing).
	tmp := filepath.Join(t.TempDir(), "upload")
	inTmp, err := Open("s3://backups/team/cache", S3Options{Endpoint: f.URL, TempDir: tmp})
	if err != nil {
		t.Fatal(err)
	}
	w, err = inTmp.Join("one").Stage("shard-1.rcsnap")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(w.Name()) != tmp {
		t.Fatalf("staged at %s, want in %s", w.Name(), tmp)
	}
	inTmp.Discard(w)
	// Discard uploads nothing.
	w, err = dir.Stage("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	dir.Discard(w)
	if _, err := dir.Open(ctx, "manifest.json"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open of a discarded file: %v", err)
	}
	for _, bad := range []string{"", "..", "a/b"} {
		if _, err := dir.Stage(bad); err == nil {
			t.Errorf("Stage(%q) accepted", bad)
		}
		if _, err := dir.Open(ctx, bad); err == nil {
			t.Errorf("Open(%q) accepted", bad)
		}
	}
	f.put(t, "team/cache/two/x", []byte("x"))
	f.put(t, "team/cache/loose-object", []byte("x"))
	f.put(t, "team/cachet/three/x", []byte("x")) // shares the prefix's characters, not its path
	names, err := root.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"one", "two"}) {
		t.Fatalf("List = %v", names)
	}
	if err := dir.RemoveAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.keys(t); !slices.Equal(got, []string{"team/cache/loose-object", "team/cache/two/x", "team/cachet/three/x"}) {
		t.Fatalf("after RemoveAll: %v", got)
	}
	if err := f.open(t, "s3://backups").RemoveAll(ctx); err == nil {
		t.Fatal("RemoveAll emptied a whole bucket")
	}
	if _, err := f.open(t, "s3://nobucket/x").Open(ctx, "manifest.json"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing bucket: %v", err)
	}
}

func TestS3WriteVerify(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, f *fakeS3, m *Manifest)
		wantErr string
	}{
		{name: "intact"},
		{name: "manifest missing", damage: func(t *testing.T, f *fakeS3, _ *Manifest) {
			f.Delete(t, "backups", "bk/first/manifest.json")
		}, wantErr: "file does not exist"},
		{name: "shard file replaced", damage: func(t *testing.T, f *fakeS3, m *Manifest) {
			f.put(t, "bk/first/"+m.Shards[1].File, shardCopy(t, "d", "e"))
		}, wantErr: "does not match the manifest"},
		{name: "shard file missing", damage: func(t *testing.T, f *fakeS3, m *Manifest) {
			f.Delete(t, "backups", "bk/first/"+m.Shards[0].File)
		}, wantErr: "file does not exist"},
		{name: "manifest names a path", damage: func(t *testing.T, f *fakeS3, m *Manifest) {
			m.Shards[0].File = "../other/shard-0.rcsnap"
			f.put(t, "bk/first/manifest.json", mustJSON(t, m))
		}, wantErr: "bad name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeS3(t)
			ctx := context.Background()
			dir := f.open(t, "s3://backups/bk/first")
			m, err := Write(ctx, twoShards(t), dir, twoShards(t).shards, "src:1", time.Now(), "")
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"bk/first/manifest.json", "bk/first/shard-0.rcsnap", "bk/first/shard-1.rcsnap"}; !slices.Equal(f.keys(t), want) {
				t.Fatalf("objects %v, want %v", f.keys(t), want)
			}
			if tc.damage != nil {
				tc.damage(t, f, m)
			}
			got, err := Verify(ctx, dir)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Verify: %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Keys() != 4 || !slices.Equal(got.Shards, m.Shards) {
				t.Fatalf("read %+v, wrote %+v", got, m)
			}
		})
	}
}

// TestS3LargeFile: a file over minio's part size goes up in parts (a
// multipart upload) and reads back whole.
func TestS3LargeFile(t *testing.T) {
	f := newFakeS3(t)
	ctx := context.Background()
	dir := f.open(t, "s3://backups/big")
	w, err := dir.Stage("shard-0.rcsnap")
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.New()
	chunk := make([]byte, 1<<20)
	for i := range 40 {
		for j := range chunk {
			chunk[j] = byte(i*7 + j*13 + j>>8)
		}
		_, _ = want.Write(chunk)
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	n0 := f.Requests()
	if err := dir.Commit(ctx, "shard-0.rcsnap", w); err != nil {
		t.Fatal(err)
	}
	if n := f.Requests() - n0; n < 4 { // initiate, 3 parts, complete
		t.Fatalf("a 40 MiB upload took %d requests, want a multipart upload", n)
	}
	r, err := dir.Open(ctx, "shard-0.rcsnap")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := sha256.New()
	if n, err := io.Copy(got, r); err != nil || n != 40<<20 {
		t.Fatalf("read back %d bytes: %v", n, err)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatal("read back other bytes than were written")
	}
}

func TestS3WriteFailsOnBrokenStream(t *testing.T) {
	f := newFakeS3(t)
	c := twoShards(t)
	c.fail = map[int32]error{1: errors.New("stream broke")}
	if _, err := Write(context.Background(), c, f.open(t, "s3://backups/bk"), c.shards, "x", time.Now(), ""); err == nil {
		t.Fatal("Write succeeded on a broken stream")
	}
	// Shard 0 went up; no manifest, so it is no backup.
	if got := f.keys(t); !slices.Equal(got, []string{"bk/shard-0.rcsnap"}) {
		t.Fatalf("objects %v", got)
	}
}

func TestS3WriteAuto(t *testing.T) {
	f := newFakeS3(t)
	ctx := context.Background()
	root := f.open(t, "s3://backups/auto")
	b := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	dir, m, err := WriteAuto(ctx, twoShards(t), root, b, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if dir.String() != "s3://backups/auto/auto-20261203T170000Z/" || m.Keys() != 4 {
		t.Fatalf("WriteAuto: %s %+v", dir, m)
	}
	if _, err := Verify(ctx, dir); err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Shards {
		// shard-N-TAG.rcsnap: a racing writer's files never collide.
		if !strings.HasPrefix(s.File, "shard-") || len(s.File) != len("shard-0-01234567.rcsnap") {
			t.Fatalf("file name %q", s.File)
		}
	}
	if _, _, err := WriteAuto(ctx, twoShards(t), root, b, "n2"); !errors.Is(err, ErrExists) {
		t.Fatalf("second WriteAuto: %v, want ErrExists", err)
	}
	// A writer that finds the manifest there when it is about to write its
	// own (another node finished first) reports ErrExists and leaves the
	// winner's backup intact.
	b2 := b.Add(time.Hour)
	c := &hookClient{fakeClient: twoShards(t), before: func(shard int32) {
		if shard == 1 {
			if _, _, err := WriteAuto(ctx, twoShards(t), root, b2, "winner"); err != nil {
				t.Error(err)
			}
		}
	}}
	if _, _, err := WriteAuto(ctx, c, root, b2, "loser"); !errors.Is(err, ErrExists) {
		t.Fatalf("racing WriteAuto: %v, want ErrExists", err)
	}
	got, err := Verify(ctx, root.Join(AutoName(b2)))
	if err != nil || got.Source != "winner" {
		t.Fatalf("after the race: %+v %v", got, err)
	}
}

// TestPruneLocations: Prune keeps the newest complete backups in both
// kinds of location, and removes incomplete ones only below a complete one.
func TestPruneLocations(t *testing.T) {
	complete := []string{"auto-20261201T000000Z", "auto-20261202T000000Z", "auto-20261203T000000Z"}
	incomplete := []string{"auto-20261201T120000Z", "auto-20261204T000000Z"} // a failed upload; one in progress
	others := []string{"nightly", "auto-latest"}
	for _, kind := range []string{"local", "s3"} {
		for _, keep := range []int{0, 1, 2, 5} {
			t.Run(fmt.Sprintf("%s/keep %d", kind, keep), func(t *testing.T) {
				ctx := context.Background()
				var root Location
				var mk func(name string, manifest bool)
				if kind == "local" {
					dir := t.TempDir()
					root = Local(dir)
					mk = func(name string, manifest bool) {
						if err := os.MkdirAll(dir+"/"+name, 0o750); err != nil {
							t.Fatal(err)
						}
						p := dir + "/" + name + "/shard-0.rcsnap"
						if manifest {
							p = dir + "/" + name + "/" + ManifestName
						}
						if err := os.WriteFile(p, []byte(`{"version":1}`), 0o640); err != nil {
							t.Fatal(err)
						}
					}
				} else {
					f := newFakeS3(t)
					root = f.open(t, "s3://backups/r")
					mk = func(name string, manifest bool) {
						file := "shard-0-0a0b0c0d.rcsnap"
						if manifest {
							file = ManifestName
						}
						f.put(t, "r/"+name+"/"+file, []byte(`{"version":1}`))
					}
				}
				for _, n := range complete {
					mk(n, true)
				}
				for _, n := range append(slices.Clone(incomplete), others...) {
					mk(n, false)
				}
				if _, err := Prune(ctx, root, keep); err != nil {
					t.Fatal(err)
				}
				left, err := root.List(ctx)
				if err != nil {
					t.Fatal(err)
				}
				want := append(slices.Clone(others), "auto-20261204T000000Z")
				want = append(want, complete[len(complete)-min(keep, len(complete)):]...)
				slices.Sort(want)
				slices.Sort(left)
				if !slices.Equal(left, want) {
					t.Fatalf("left %v, want %v", left, want)
				}
			})
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCopyDelete: a backup copied from a directory to S3 and back verifies
// at each step; a damaged file stops the copy before the manifest, a
// location holding a backup is not copied over, and Delete removes only a
// backup.
func TestCopyDelete(t *testing.T) {
	f := newFakeS3(t)
	ctx := context.Background()
	local := Local(filepath.Join(t.TempDir(), "bk"))
	m, err := Write(ctx, twoShards(t), local, twoShards(t).shards, "src:1", time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	remote := f.open(t, "s3://backups/copies/bk")
	if _, err := Copy(ctx, local, remote); err != nil {
		t.Fatal(err)
	}
	back := Local(filepath.Join(t.TempDir(), "back"))
	got, err := Copy(ctx, remote, back)
	if err != nil || got.Keys() != m.Keys() {
		t.Fatalf("copy back: %v %+v", err, got)
	}
	for _, loc := range []Location{remote, back} {
		if v, err := Verify(ctx, loc); err != nil || !slices.Equal(v.Shards, m.Shards) {
			t.Fatalf("%s: %v", loc, err)
		}
	}
	if _, err := Copy(ctx, local, remote); err == nil || !strings.Contains(err.Error(), "already holds a backup") {
		t.Fatalf("copy over a backup: %v", err)
	}
	// A shard file that no longer matches its manifest.
	f.put(t, "copies/bk/"+m.Shards[1].File, []byte("damaged"))
	bad := f.open(t, "s3://backups/copies/bad")
	if _, err := Copy(ctx, remote, bad); err == nil || !strings.Contains(err.Error(), "does not match the manifest") {
		t.Fatalf("copy of a damaged backup: %v", err)
	}
	if _, err := ReadManifest(ctx, bad); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed copy wrote a manifest: %v", err)
	}
	// Delete: only a backup, and all of it.
	if _, err := Delete(ctx, f.open(t, "s3://backups/copies")); err == nil || !strings.Contains(err.Error(), "not a backup") {
		t.Fatalf("Delete of a prefix without a manifest: %v", err)
	}
	if _, err := Delete(ctx, remote); err != nil {
		t.Fatal(err)
	}
	for _, k := range f.keys(t) {
		if strings.HasPrefix(k, "copies/bk/") {
			t.Fatalf("left after Delete: %s", k)
		}
	}
	if _, err := Delete(ctx, back); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(string(back)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("local backup left: %v", err)
	}
}
