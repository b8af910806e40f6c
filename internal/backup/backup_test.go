package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/raftfsm"
)

// shardCopy returns a shard's export in the engine's snapshot format,
// holding keys (SET key key).
func shardCopy(t *testing.T, keys ...string) []byte {
	t.Helper()
	f := raftfsm.NewFSM(nil)
	for i, k := range keys {
		e := raftfsm.EncodeEntry(nil, &raftfsm.Entry{Op: raftfsm.OpCommands, Time: 1, Cmds: [][][]byte{{[]byte("SET"), []byte(k), []byte(k)}}})
		f.Apply(&raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: e})
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	var s memSink
	if err := snap.Persist(&s); err != nil {
		t.Fatal(err)
	}
	return s.Bytes()
}

type memSink struct{ bytes.Buffer }

func (*memSink) Close() error  { return nil }
func (*memSink) Cancel() error { return nil }
func (*memSink) ID() string    { return "mem" }

// fakeClient serves DescribeCluster and ExportShard from memory.
type fakeClient struct {
	shards []*adminv1.Shard
	data   map[int32][]byte // shard -> export
	fail   map[int32]error  // shard -> error after the first chunk
}

func (c *fakeClient) DescribeCluster(context.Context, *adminv1.DescribeClusterRequest, ...grpc.CallOption) (*adminv1.DescribeClusterResponse, error) {
	return &adminv1.DescribeClusterResponse{Shards: c.shards}, nil
}

func (c *fakeClient) ExportShard(_ context.Context, in *adminv1.ExportShardRequest, _ ...grpc.CallOption) (grpc.ServerStreamingClient[adminv1.ExportShardResponse], error) {
	b, ok := c.data[in.GetShard()]
	if !ok {
		return nil, fmt.Errorf("no shard %d", in.GetShard())
	}
	var msgs []*adminv1.ExportShardResponse
	for len(b) > 0 { // small chunks: the writer must join them
		n := min(len(b), 37)
		msgs = append(msgs, &adminv1.ExportShardResponse{Data: b[:n]})
		b = b[n:]
	}
	msgs[0].Node, msgs[0].Index = fmt.Sprintf("n%d", in.GetShard()), 42
	return &fakeStream{msgs: msgs, err: c.fail[in.GetShard()]}, nil
}

type fakeStream struct {
	grpc.ClientStream // unused
	msgs              []*adminv1.ExportShardResponse
	err               error
}

func (s *fakeStream) Recv() (*adminv1.ExportShardResponse, error) {
	if len(s.msgs) == 0 {
		return nil, io.EOF
	}
	if s.err != nil && len(s.msgs) == 1 {
		return nil, s.err
	}
	m := s.msgs[0]
	s.msgs = s.msgs[1:]
	return m, nil
}

func slotsOf(a, b uint32) []*adminv1.SlotRange {
	return []*adminv1.SlotRange{{Start: a, End: b}}
}

func twoShards(t *testing.T) *fakeClient {
	return &fakeClient{
		shards: []*adminv1.Shard{
			{Id: 0, Slots: slotsOf(0, 8191)},
			{Id: 1, Slots: slotsOf(8192, 16383)},
			{Id: 2}, // owns no slot: not in the backup
		},
		data: map[int32][]byte{0: shardCopy(t, "a", "b", "c"), 1: shardCopy(t, "d"), 2: shardCopy(t)},
	}
}

func TestWriteReadVerify(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(t *testing.T, dir string, m *Manifest)
		wantErr string
	}{
		{name: "intact"},
		{name: "missing manifest", damage: func(t *testing.T, dir string, _ *Manifest) {
			if err := os.Remove(filepath.Join(dir, ManifestName)); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "no such file"},
		{name: "unknown version", damage: func(t *testing.T, dir string, m *Manifest) {
			m.Version = 2
			if err := WriteManifest(context.Background(), Local(dir), m); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "unknown manifest version 2"},
		{name: "manifest not json", damage: func(t *testing.T, dir string, _ *Manifest) {
			if err := os.WriteFile(filepath.Join(dir, ManifestName), []byte("{"), 0o640); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "manifest.json"},
		{name: "key count differs", damage: func(t *testing.T, dir string, m *Manifest) {
			m.Shards[0].Keys++
			if err := WriteManifest(context.Background(), Local(dir), m); err != nil {
				t.Fatal(err)
			}
		}, wantErr: "does not match the manifest"},
		{name: "bytes appended", damage: func(t *testing.T, dir string, m *Manifest) {
			f, err := os.OpenFile(filepath.Join(dir, m.Shards[1].File), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = f.Write([]byte("x"))
			_ = f.Close()
		}, wantErr: "does not match the manifest"},
		{name: "file truncated", damage: func(t *testing.T, dir string, m *Manifest) {
			p := filepath.Join(dir, m.Shards[0].File)
			st, _ := os.Stat(p)
			if err := os.Truncate(p, st.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, wantErr: m0File},
		{name: "file missing", damage: func(t *testing.T, dir string, m *Manifest) {
			_ = os.Remove(filepath.Join(dir, m.Shards[1].File))
		}, wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			created := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
			m, err := Write(context.Background(), twoShards(t), Local(dir), twoShards(t).shards, "src:1", created, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Shards) != 2 || m.Keys() != 4 || m.Shards[0].Slots != "0-8191" || m.Shards[0].Node != "n0" || m.Shards[0].Index != 42 || m.Size() <= 0 {
				t.Fatalf("manifest %+v", m)
			}
			if tc.damage != nil {
				tc.damage(t, dir, m)
			}
			got, err := Verify(context.Background(), Local(dir))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Verify: %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Created.Equal(created) || got.Source != "src:1" || !slices.Equal(got.Shards, m.Shards) {
				t.Fatalf("read %+v, wrote %+v", got, m)
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".tmp") {
					t.Fatalf("temporary file %s left", e.Name())
				}
			}
		})
	}
}

const m0File = "shard-0.rcsnap"

func TestWriteFailsOnBrokenStream(t *testing.T) {
	c := twoShards(t)
	c.fail = map[int32]error{1: errors.New("stream broke")}
	dir := t.TempDir()
	if _, err := Write(context.Background(), c, Local(dir), c.shards, "x", time.Now(), ""); err == nil || !strings.Contains(err.Error(), "shard 1: stream broke") {
		t.Fatalf("Write: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("manifest written for a failed backup: %v", err)
	}
}

func TestAutoName(t *testing.T) {
	b := time.Date(2026, 12, 3, 17, 0, 0, 0, time.FixedZone("x", 3600))
	if got := AutoName(b); got != "auto-20261203T160000Z" {
		t.Fatalf("AutoName = %s", got)
	}
	for name, want := range map[string]bool{
		"auto-20261203T160000Z": true, "auto-20261203T160000": false, "auto-latest": false,
		"xauto-20261203T160000Z": false, "auto-20261203T160000Z.old": false, ".tmp-auto-20261203T160000Z-1": false,
	} {
		if _, ok := parseAutoName(name); ok != want {
			t.Errorf("parseAutoName(%q) = %v, want %v", name, ok, want)
		}
	}
}

func TestWriteAuto(t *testing.T) {
	root := t.TempDir()
	b := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	dir, m, err := WriteAuto(context.Background(), twoShards(t), Local(root), b, "n1")
	if err != nil {
		t.Fatal(err)
	}
	if dir.String() != filepath.Join(root, "auto-20261203T170000Z") || m.Keys() != 4 {
		t.Fatalf("WriteAuto: %s %+v", dir, m)
	}
	if _, err := Verify(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	// The same boundary again (another node on a shared volume): skipped.
	if _, _, err := WriteAuto(context.Background(), twoShards(t), Local(root), b, "n2"); !errors.Is(err, ErrExists) {
		t.Fatalf("second WriteAuto: %v, want ErrExists", err)
	}
	if got, _ := ReadManifest(context.Background(), dir); got.Source != "n1" {
		t.Fatalf("backup overwritten: source %q", got.Source)
	}
	// A failed backup leaves nothing: no final name, no temporary one.
	c := twoShards(t)
	c.fail = map[int32]error{1: errors.New("stream broke")}
	if _, _, err := WriteAuto(context.Background(), c, Local(root), b.Add(time.Hour), "n1"); err == nil {
		t.Fatal("WriteAuto succeeded on a broken stream")
	}
	if names := dirNames(t, root); !slices.Equal(names, []string{"auto-20261203T170000Z"}) {
		t.Fatalf("after a failed backup: %v", names)
	}
}

func TestWriteAutoRenamesWhenComplete(t *testing.T) {
	root := t.TempDir()
	b := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	final := filepath.Join(root, AutoName(b))
	c := twoShards(t)
	// While shard 1 streams, the final name must not exist yet and the
	// backup must be in a temporary directory that is not an auto-* one.
	var seen []string
	c2 := &hookClient{fakeClient: c, before: func(shard int32) {
		if shard != 1 {
			return
		}
		if _, err := os.Stat(final); err == nil {
			t.Errorf("%s exists before the backup is complete", final)
		}
		seen = dirNames(t, root)
	}}
	if _, _, err := WriteAuto(context.Background(), c2, Local(root), b, "n1"); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || !strings.HasPrefix(seen[0], tmpPrefix+AutoName(b)) {
		t.Fatalf("during the backup root held %v, want one temporary directory", seen)
	}
	if names := dirNames(t, root); !slices.Equal(names, []string{AutoName(b)}) {
		t.Fatalf("after the backup root holds %v", names)
	}
	st, err := os.Stat(final)
	if err != nil || st.Mode().Perm() != 0o750 {
		t.Fatalf("final directory: %v %v", st, err)
	}
}

type hookClient struct {
	*fakeClient
	before func(shard int32)
}

func (c *hookClient) ExportShard(ctx context.Context, in *adminv1.ExportShardRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[adminv1.ExportShardResponse], error) {
	c.before(in.GetShard())
	return c.fakeClient.ExportShard(ctx, in, opts...)
}

func dirNames(t *testing.T, root string) []string {
	t.Helper()
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestPrune(t *testing.T) {
	others := []string{"auto-latest", "nightly", "auto-20261203T160000Z.old", ".tmp-auto-20261203T150000Z-123"}
	autos := []string{"auto-20261201T000000Z", "auto-20261203T150000Z", "auto-20261202T000000Z", "auto-20261203T160000Z"} // unsorted
	tests := []struct {
		keep int
		want []string // auto-* left
	}{
		{keep: 0, want: nil},
		{keep: 1, want: []string{"auto-20261203T160000Z"}},
		{keep: 2, want: []string{"auto-20261203T150000Z", "auto-20261203T160000Z"}},
		{keep: 4, want: []string{"auto-20261201T000000Z", "auto-20261202T000000Z", "auto-20261203T150000Z", "auto-20261203T160000Z"}},
		{keep: 7, want: []string{"auto-20261201T000000Z", "auto-20261202T000000Z", "auto-20261203T150000Z", "auto-20261203T160000Z"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("keep %d", tc.keep), func(t *testing.T) {
			root := t.TempDir()
			for _, d := range append(slices.Clone(others), autos...) {
				if err := os.Mkdir(filepath.Join(root, d), 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, d, ManifestName), []byte("{}"), 0o640); err != nil {
					t.Fatal(err)
				}
			}
			// A file with a backup's name is not a backup.
			if err := os.WriteFile(filepath.Join(root, "auto-20261130T000000Z"), nil, 0o640); err != nil {
				t.Fatal(err)
			}
			removed, err := Prune(context.Background(), Local(root), tc.keep)
			if err != nil {
				t.Fatal(err)
			}
			if len(removed) != len(autos)-len(tc.want) {
				t.Fatalf("removed %v", removed)
			}
			want := append(slices.Clone(others), tc.want...)
			want = append(want, "auto-20261130T000000Z")
			slices.Sort(want)
			if got := dirNames(t, root); !slices.Equal(got, want) {
				t.Fatalf("left %v, want %v", got, want)
			}
		})
	}
}
