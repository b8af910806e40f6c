package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Location is where a backup, or a root of backups, lives: a directory on
// this machine (Local) or a prefix in an S3 bucket (S3). Names are single
// path elements (a shard file, manifest.json, a backup's name under a
// root).
type Location interface {
	// String is the location as the user gives it: a path or
	// s3://bucket/prefix.
	String() string
	// Join is the location of name below this one.
	Join(name string) Location
	// Stage creates a local file to write name's content into; Commit then
	// makes it visible under name, or Discard drops it. Readers never see
	// a part-written file under name.
	Stage(name string) (*os.File, error)
	// Commit publishes a file from Stage (synced and closed here) as name.
	Commit(ctx context.Context, name string, f *os.File) error
	// Discard closes and removes a file from Stage that is not committed.
	Discard(f *os.File)
	// Open reads name; an error for a missing name is os.ErrNotExist.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// List names what lies directly below: directories, or S3 prefixes.
	List(ctx context.Context) ([]string, error)
	// RemoveAll removes the location and everything below it.
	RemoveAll(ctx context.Context) error
}

// Put writes name under loc through a staged file: fill writes it (and may
// read it back: the file is open read-write); if fill fails the file is
// dropped, else committed. Readers never see a part-written name.
func Put(ctx context.Context, loc Location, name string, fill func(f *os.File) error) error {
	f, err := loc.Stage(name)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		loc.Discard(f)
		return err
	}
	return loc.Commit(ctx, name, f)
}

// discard closes and removes a staged file (both kinds of Location).
func discard(f *os.File) {
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// Open parses where: s3://bucket[/prefix] is an S3 location (opt gives
// the endpoint; credentials come from the environment, S3Options), and
// anything else is a local directory.
func Open(where string, opt S3Options) (Location, error) {
	if IsS3(where) {
		return OpenS3(where, opt)
	}
	if where == "" {
		return nil, errors.New("backup location: empty")
	}
	return Local(where), nil
}

// OpenFile splits where, a file's path or s3://bucket/prefix/name, into
// the Location holding it and its name there.
func OpenFile(where string, opt S3Options) (Location, string, error) {
	if IsS3(where) {
		bucket, key, err := ParseS3URL(where)
		if err != nil {
			return nil, "", err
		}
		if key == "" || strings.HasSuffix(where, "/") {
			return nil, "", fmt.Errorf("%q: no object name (want s3://bucket/prefix/name)", where)
		}
		parent, name := "", key
		if i := strings.LastIndexByte(key, '/'); i >= 0 {
			parent, name = key[:i], key[i+1:]
		}
		loc, err := OpenS3("s3://"+bucket+"/"+parent, opt)
		return loc, name, err
	}
	if where == "" || strings.HasSuffix(where, string(filepath.Separator)) {
		return nil, "", fmt.Errorf("%q: not a file name", where)
	}
	return Local(filepath.Dir(where)), filepath.Base(where), nil
}

// Local is a directory on this machine.
type Local string

func (l Local) String() string { return string(l) }

func (l Local) Join(name string) Location { return Local(filepath.Join(string(l), name)) }

func (l Local) path(name string) string { return filepath.Join(string(l), name) }

// Stage creates DIR/name.tmp (and DIR): committing is a rename there.
func (l Local) Stage(name string) (*os.File, error) {
	if err := os.MkdirAll(string(l), 0o750); err != nil {
		return nil, err
	}
	return os.Create(l.path(name) + ".tmp")
}

func (l Local) Commit(_ context.Context, name string, f *os.File) error {
	if err := f.Sync(); err != nil {
		discard(f)
		return err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), l.path(name)); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	return nil
}

func (Local) Discard(f *os.File) { discard(f) }

func (l Local) Open(_ context.Context, name string) (io.ReadCloser, error) {
	return os.Open(l.path(name))
}

func (l Local) List(context.Context) ([]string, error) {
	ents, err := os.ReadDir(string(l))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

func (l Local) RemoveAll(context.Context) error { return os.RemoveAll(string(l)) }

// checkName refuses names that are not one path element: they would
// escape the location (or, in S3, make prefixes List cannot see).
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("backup location: bad name %q", name)
	}
	return nil
}
