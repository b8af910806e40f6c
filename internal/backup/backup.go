// Package backup writes and reads cluster backups: one file per shard in
// the engine's snapshot format (Redis DUMP payloads, raftfsm.ScanSnapshot)
// plus manifest.json, in a directory or an S3 prefix (Location).
// raftcachectl snapshot create writes them; a node's automatic backups
// (node/autobackup.go) write the same layout under --backup-dir, so
// raftcachectl snapshot list/restore read both.
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

// Write exports every shard of shards that owns a slot into dir and then
// writes the manifest. Shards are copied one after the other: a backup is
// consistent per shard, not across shards. tag, when not empty, goes into
// the shard files' names (shard-N-TAG.rcsnap), so that two writers of one
// S3 prefix never overwrite each other's files (WriteAuto).
func Write(ctx context.Context, c Client, dir Location, shards []*adminv1.Shard, source string, created time.Time, tag string) (*Manifest, error) {
	m := &Manifest{Version: 1, Created: created.UTC(), Source: source}
	for _, sh := range shards {
		if len(sh.GetSlots()) == 0 {
			continue // owns no slot, holds no key
		}
		file := fmt.Sprintf("shard-%d.rcsnap", sh.GetId())
		if tag != "" {
			file = fmt.Sprintf("shard-%d-%s.rcsnap", sh.GetId(), tag)
		}
		ms, err := ExportShard(ctx, c, dir, sh, file)
		if err != nil {
			return nil, fmt.Errorf("shard %d: %w", sh.GetId(), err)
		}
		m.Shards = append(m.Shards, ms)
	}
	if err := WriteManifest(ctx, dir, m); err != nil {
		return nil, err
	}
	return m, nil
}

// ExportShard streams one shard's copy into a staged file of dir, checks
// it (checksum, key count), and only then commits it as file.
func ExportShard(ctx context.Context, c Client, dir Location, sh *adminv1.Shard, file string) (Shard, error) {
	ms := Shard{Shard: sh.GetId(), Slots: FormatRanges(sh.GetSlots(), -1), File: file}
	st, err := c.ExportShard(ctx, &adminv1.ExportShardRequest{Shard: sh.GetId()})
	if err != nil {
		return ms, err
	}
	err = Put(ctx, dir, file, func(f *os.File) error {
		h := sha256.New()
		w := io.MultiWriter(f, h)
		for {
			msg, err := st.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if msg.GetNode() != "" {
				ms.Node, ms.Index = msg.GetNode(), msg.GetIndex()
			}
			n, err := w.Write(msg.GetData())
			if err != nil {
				return err
			}
			ms.Bytes += int64(n)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		hdr, err := raftfsm.ScanSnapshot(f, nil)
		if err != nil {
			return fmt.Errorf("received a damaged copy: %w", err)
		}
		ms.Keys, ms.SHA256 = hdr.Keys, hex.EncodeToString(h.Sum(nil))
		return nil
	})
	return ms, err
}

// WriteManifest writes m as DIR/manifest.json (staged, then committed).
func WriteManifest(ctx context.Context, dir Location, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return Put(ctx, dir, ManifestName, func(f *os.File) error {
		_, err := f.Write(append(b, '\n'))
		return err
	})
}

// ReadManifest reads DIR/manifest.json; a location without one gives an
// error that is os.ErrNotExist.
func ReadManifest(ctx context.Context, dir Location) (*Manifest, error) {
	r, err := dir.Open(ctx, ManifestName)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir.Join(ManifestName), err)
	}
	if len(b) > maxManifest {
		return nil, fmt.Errorf("%s: larger than %d bytes, not a manifest", dir.Join(ManifestName), maxManifest)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", dir.Join(ManifestName), err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("%s: unknown manifest version %d", dir, m.Version)
	}
	for _, s := range m.Shards {
		if err := checkName(s.File); err != nil {
			return nil, fmt.Errorf("%s: shard %d: %w", dir.Join(ManifestName), s.Shard, err)
		}
	}
	return &m, nil
}

// maxManifest bounds what ReadManifest reads (a manifest of thousands of
// shards is well under it).
const maxManifest = 16 << 20

// VerifyShardFile checks a shard file against the manifest and its own
// checksum, and returns its header.
func VerifyShardFile(ctx context.Context, dir Location, s Shard) (raftfsm.SnapshotHeader, error) {
	f, err := dir.Open(ctx, s.File)
	if err != nil {
		return raftfsm.SnapshotHeader{}, err
	}
	defer f.Close()
	h := sha256.New()
	hdr, err := raftfsm.ScanSnapshot(io.TeeReader(f, h), nil)
	if err != nil {
		return hdr, fmt.Errorf("%s: %w", s.File, err)
	}
	if _, err := io.Copy(h, f); err != nil { // anything after the trailer
		return hdr, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != s.SHA256 || hdr.Keys != s.Keys {
		return hdr, fmt.Errorf("%s does not match the manifest (sha256 %s, %d keys; manifest: %s, %d keys)", s.File, got, hdr.Keys, s.SHA256, s.Keys)
	}
	return hdr, nil
}

// Verify reads DIR's manifest and checks every shard file against it.
func Verify(ctx context.Context, dir Location) (*Manifest, error) {
	m, err := ReadManifest(ctx, dir)
	if err != nil {
		return nil, err
	}
	for _, s := range m.Shards {
		if _, err := VerifyShardFile(ctx, dir, s); err != nil {
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

// Copy copies the backup at src to dst (which must hold no backup): each
// shard file is checked against the manifest's SHA-256 as it goes, and the
// manifest is written last, so dst holds a backup only once all of it is
// there. Local to S3, S3 to local, or within either.
func Copy(ctx context.Context, src, dst Location) (*Manifest, error) {
	if _, err := ReadManifest(ctx, dst); err == nil {
		return nil, fmt.Errorf("%s already holds a backup", dst)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	m, err := ReadManifest(ctx, src)
	if err != nil {
		return nil, err
	}
	for _, s := range m.Shards {
		if err := copyFile(ctx, src, dst, s); err != nil {
			return nil, err
		}
	}
	return m, WriteManifest(ctx, dst, m)
}

func copyFile(ctx context.Context, src, dst Location, s Shard) error {
	r, err := src.Open(ctx, s.File)
	if err != nil {
		return err
	}
	defer r.Close()
	return Put(ctx, dst, s.File, func(f *os.File) error {
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(f, h), r); err != nil {
			return fmt.Errorf("%s: %w", s.File, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != s.SHA256 {
			return fmt.Errorf("%s does not match the manifest (sha256 %s; manifest: %s)", s.File, got, s.SHA256)
		}
		return nil
	})
}

// Delete removes the backup at dir and everything below it. It refuses a
// location that holds no manifest, so that a mistyped path never removes
// anything but a backup.
func Delete(ctx context.Context, dir Location) (*Manifest, error) {
	m, err := ReadManifest(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("%s: not a backup: %w", dir, err)
	}
	return m, dir.RemoveAll(ctx)
}
