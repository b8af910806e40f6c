package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
)

// Automatic backups are directories ROOT/auto-<boundary>, the boundary a
// UTC timestamp such as 20261203T170000Z: names sort as times do.
const (
	AutoPrefix = "auto-"
	autoLayout = "20060102T150405Z"
	// tmpPrefix starts the name a backup is written under before it is
	// renamed; it never matches AutoPrefix, so neither Prune nor
	// raftcachectl snapshot list (no manifest yet) takes it for a backup.
	tmpPrefix = ".tmp-"
)

// ErrExists reports that the backup of a boundary is already there
// (another node wrote it).
var ErrExists = errors.New("backup already exists")

// AutoName is the directory name of the automatic backup of boundary t.
func AutoName(t time.Time) string { return AutoPrefix + t.UTC().Format(autoLayout) }

// parseAutoName reports whether name is an automatic backup's name.
func parseAutoName(name string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(name, AutoPrefix)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(autoLayout, rest)
	return t, err == nil && t.Format(autoLayout) == rest
}

// WriteAuto writes the automatic backup of boundary into
// ROOT/AutoName(boundary) and returns where it went: it describes the
// cluster through c and writes every shard. It returns ErrExists, and
// leaves what is there alone, if that backup is there already (or appears
// meanwhile).
//
// In a directory the backup is written under a temporary name and renamed
// once complete, so the name only ever holds a whole backup. S3 has no
// rename: the shard files go under the final prefix with names of this
// attempt's own (shard-N-TAG.rcsnap), and manifest.json, uploaded last,
// makes them a backup; two nodes racing for one boundary (leadership
// moved) each leave a manifest that matches its own files.
func WriteAuto(ctx context.Context, c Client, root Location, boundary time.Time, source string) (Location, *Manifest, error) {
	if l, ok := root.(Local); ok {
		dir, m, err := writeAutoLocal(ctx, c, string(l), boundary, source)
		return Local(dir), m, err
	}
	dir := root.Join(AutoName(boundary))
	if _, err := ReadManifest(ctx, dir); err == nil {
		return dir, nil, ErrExists
	} else if !errors.Is(err, os.ErrNotExist) {
		return dir, nil, err
	}
	shards, err := clusterShards(ctx, c)
	if err != nil {
		return dir, nil, err
	}
	var nonce [4]byte
	_, _ = rand.Read(nonce[:])
	tag := hex.EncodeToString(nonce[:])
	// Write's manifest goes last; it is checked for once more just
	// before, which narrows (cannot close) the window of a race.
	m, err := Write(ctx, c, &checkedManifest{Location: dir}, shards, source, time.Now(), tag)
	if errors.Is(err, ErrExists) {
		return dir, nil, ErrExists
	}
	return dir, m, err
}

// clusterShards is the cluster's shards as c describes them.
func clusterShards(ctx context.Context, c Client) ([]*adminv1.Shard, error) {
	d, err := c.DescribeCluster(ctx, &adminv1.DescribeClusterRequest{})
	if err != nil {
		return nil, fmt.Errorf("describe cluster: %w", err)
	}
	return d.GetShards(), nil
}

// checkedManifest is a Location whose manifest is committed only while
// none is there.
type checkedManifest struct{ Location }

func (c *checkedManifest) Commit(ctx context.Context, name string, f *os.File) error {
	if name == ManifestName {
		if _, err := ReadManifest(ctx, c.Location); err == nil {
			c.Discard(f)
			return ErrExists
		}
	}
	return c.Location.Commit(ctx, name, f)
}

// writeAutoLocal is WriteAuto into a directory.
func writeAutoLocal(ctx context.Context, c Client, root string, boundary time.Time, source string) (dir string, m *Manifest, err error) {
	name := AutoName(boundary)
	dir = filepath.Join(root, name)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil, ErrExists
	} else if !errors.Is(err, os.ErrNotExist) {
		return dir, nil, err
	}
	shards, err := clusterShards(ctx, c)
	if err != nil {
		return dir, nil, err
	}
	if err := os.MkdirAll(root, 0o750); err != nil {
		return dir, nil, err
	}
	tmp, err := os.MkdirTemp(root, tmpPrefix+name+"-")
	if err != nil {
		return dir, nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	if m, err = Write(ctx, c, Local(tmp), shards, source, time.Now(), ""); err != nil {
		return dir, nil, err
	}
	if err = os.Chmod(tmp, 0o750); err != nil { // MkdirTemp makes it 0700
		return dir, nil, err
	}
	if _, serr := os.Stat(dir); serr == nil {
		return dir, nil, ErrExists // written meanwhile (a shared volume)
	}
	// Renaming onto a directory that exists (and is not empty) fails.
	if err = os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil {
			err = ErrExists
		}
		return dir, nil, err
	}
	syncDir(root)
	return dir, m, nil
}

// syncDir makes a rename in dir durable (best effort).
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		_ = f.Sync()
		_ = f.Close()
	}
}

// Prune removes the oldest automatic backups under root beyond the newest
// keep, and returns what it removed. It touches nothing but names of
// AutoName's form. One without a manifest (an S3 upload that failed; a
// directory is renamed only once complete) does not count as a backup:
// it is removed if a complete backup is newer (a newer one may still be
// being written).
func Prune(ctx context.Context, root Location, keep int) ([]string, error) {
	names, err := root.List(ctx)
	if err != nil {
		return nil, err
	}
	var autos []string
	for _, n := range names {
		if _, ok := parseAutoName(n); ok {
			autos = append(autos, n)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(autos))) // newest first
	var drop []string
	complete := 0 // seen so far, newer than n
	for _, n := range autos {
		// A manifest that does not parse still marks a backup.
		if _, err := ReadManifest(ctx, root.Join(n)); err != nil && errors.Is(err, os.ErrNotExist) {
			if complete > 0 {
				drop = append(drop, n)
			}
			continue
		}
		if complete >= max(keep, 0) {
			drop = append(drop, n)
		}
		complete++
	}
	var removed []string
	var errs []error
	for i := len(drop) - 1; i >= 0; i-- { // oldest first
		loc := root.Join(drop[i])
		if err := loc.RemoveAll(ctx); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, loc.String())
	}
	return removed, errors.Join(errs...)
}
