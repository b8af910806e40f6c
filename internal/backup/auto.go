package backup

import (
	"context"
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

// WriteAuto writes the automatic backup of boundary into ROOT/AutoName(boundary):
// it describes the cluster through c, writes every shard into a temporary
// directory under root and renames it once complete, so the name only
// ever holds a whole backup. It returns ErrExists, and writes nothing, if
// the backup is there already (or appears meanwhile).
func WriteAuto(ctx context.Context, c Client, root string, boundary time.Time, source string) (dir string, m *Manifest, err error) {
	name := AutoName(boundary)
	dir = filepath.Join(root, name)
	if _, err := os.Stat(dir); err == nil {
		return dir, nil, ErrExists
	} else if !errors.Is(err, os.ErrNotExist) {
		return dir, nil, err
	}
	d, err := c.DescribeCluster(ctx, &adminv1.DescribeClusterRequest{})
	if err != nil {
		return dir, nil, fmt.Errorf("describe cluster: %w", err)
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
	if m, err = Write(ctx, c, tmp, d.GetShards(), source, time.Now()); err != nil {
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
// keep, and returns the paths removed. It touches nothing but directories
// named as AutoName names them.
func Prune(root string, keep int) ([]string, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var autos []string
	for _, e := range ents {
		if _, ok := parseAutoName(e.Name()); ok && e.IsDir() {
			autos = append(autos, e.Name())
		}
	}
	sort.Strings(autos) // oldest first
	var removed []string
	var errs []error
	for len(autos) > max(keep, 0) {
		p := filepath.Join(root, autos[0])
		autos = autos[1:]
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}
