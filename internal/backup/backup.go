// Package backup writes and reads cluster backups: one file per shard in
// the engine's snapshot format (Redis DUMP payloads, raftfsm.ScanSnapshot)
// plus manifest.json. raftcachectl snapshot create writes them where it
// runs; a node's automatic backups (node/autobackup.go) write the same
// layout under --backup-dir, so raftcachectl snapshot list/restore read
// both.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/raftfsm"
)

// ManifestName is the manifest's file name in a backup directory.
const ManifestName = "manifest.json"

// Client is the part of the admin API a backup needs
// (adminv1.AdminClient has it).
type Client interface {
	DescribeCluster(ctx context.Context, in *adminv1.DescribeClusterRequest, opts ...grpc.CallOption) (*adminv1.DescribeClusterResponse, error)
	ExportShard(ctx context.Context, in *adminv1.ExportShardRequest, opts ...grpc.CallOption) (grpc.ServerStreamingClient[adminv1.ExportShardResponse], error)
}

// Manifest describes a backup directory.
type Manifest struct {
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Source  string    `json:"source"` // the address it was taken through
	Shards  []Shard   `json:"shards"`
}

// Shard is one shard's file in a backup.
type Shard struct {
	Shard  int32  `json:"shard"`
	Slots  string `json:"slots"` // owned when taken (for the record)
	File   string `json:"file"`
	Node   string `json:"node"`  // the leader that took it
	Index  uint64 `json:"index"` // Raft index it reflects
	Keys   uint64 `json:"keys"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Keys is the number of keys in the backup.
func (m *Manifest) Keys() (n uint64) {
	for _, s := range m.Shards {
		n += s.Keys
	}
	return n
}

// Size is the backup's size in bytes (shard files).
func (m *Manifest) Size() (n int64) {
	for _, s := range m.Shards {
		n += s.Bytes
	}
	return n
}

// Write exports every shard of shards that owns a slot into dir (which
// must exist) and then writes the manifest. Shards are copied one after
// the other: a backup is consistent per shard, not across shards.
func Write(ctx context.Context, c Client, dir string, shards []*adminv1.Shard, source string, created time.Time) (*Manifest, error) {
	m := &Manifest{Version: 1, Created: created.UTC(), Source: source}
	for _, sh := range shards {
		if len(sh.GetSlots()) == 0 {
			continue // owns no slot, holds no key
		}
		ms, err := ExportShard(ctx, c, dir, sh)
		if err != nil {
			return nil, fmt.Errorf("shard %d: %w", sh.GetId(), err)
		}
		m.Shards = append(m.Shards, ms)
	}
	if err := WriteManifest(dir, m); err != nil {
		return nil, err
	}
	return m, nil
}

// ExportShard streams one shard's copy into DIR/shard-N.rcsnap and checks
// it (checksum, key count) before it counts as written.
func ExportShard(ctx context.Context, c Client, dir string, sh *adminv1.Shard) (Shard, error) {
	ms := Shard{Shard: sh.GetId(), Slots: FormatRanges(sh.GetSlots(), -1), File: fmt.Sprintf("shard-%d.rcsnap", sh.GetId())}
	st, err := c.ExportShard(ctx, &adminv1.ExportShardRequest{Shard: sh.GetId()})
	if err != nil {
		return ms, err
	}
	path := filepath.Join(dir, ms.File)
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return ms, err
	}
	defer os.Remove(path + ".tmp") // gone once renamed
	defer f.Close()
	h := sha256.New()
	w := io.MultiWriter(f, h)
	for {
		msg, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return ms, err
		}
		if msg.GetNode() != "" {
			ms.Node, ms.Index = msg.GetNode(), msg.GetIndex()
		}
		n, err := w.Write(msg.GetData())
		if err != nil {
			return ms, err
		}
		ms.Bytes += int64(n)
	}
	if err := f.Sync(); err != nil {
		return ms, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return ms, err
	}
	hdr, err := raftfsm.ScanSnapshot(f, nil)
	if err != nil {
		return ms, fmt.Errorf("received a damaged copy: %w", err)
	}
	ms.Keys, ms.SHA256 = hdr.Keys, hex.EncodeToString(h.Sum(nil))
	if err := f.Close(); err != nil {
		return ms, err
	}
	return ms, os.Rename(path+".tmp", path)
}

// WriteManifest writes m as DIR/manifest.json (through a temporary file).
func WriteManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ManifestName+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, ManifestName))
}

// ReadManifest reads DIR/manifest.json; a directory without one gives an
// error that is os.ErrNotExist.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestName), err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("%s: unknown manifest version %d", dir, m.Version)
	}
	return &m, nil
}

// VerifyShardFile checks a shard file against the manifest and its own
// checksum.
func VerifyShardFile(dir string, s Shard) error {
	f, err := os.Open(filepath.Join(dir, s.File))
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	hdr, err := raftfsm.ScanSnapshot(io.TeeReader(f, h), nil)
	if err != nil {
		return fmt.Errorf("%s: %w", s.File, err)
	}
	if _, err := io.Copy(h, f); err != nil { // anything after the trailer
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != s.SHA256 || hdr.Keys != s.Keys {
		return fmt.Errorf("%s does not match the manifest (sha256 %s, %d keys; manifest: %s, %d keys)", s.File, got, hdr.Keys, s.SHA256, s.Keys)
	}
	return nil
}

// Verify reads DIR's manifest and checks every shard file against it.
func Verify(dir string) (*Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	for _, s := range m.Shards {
		if err := VerifyShardFile(dir, s); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// FormatRanges renders slot ranges as "0-5460,5462"; with max >= 0 at most
// max ranges, then "(+N more)". No range is "-".
func FormatRanges(rs []*adminv1.SlotRange, max int) string {
	if len(rs) == 0 {
		return "-"
	}
	var parts []string
	for i, r := range rs {
		if i == max {
			parts = append(parts, fmt.Sprintf("(+%d more)", len(rs)-max))
			break
		}
		if r.GetStart() == r.GetEnd() {
			parts = append(parts, strconv.Itoa(int(r.GetStart())))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", r.GetStart(), r.GetEnd()))
		}
	}
	return strings.Join(parts, ",")
}
