package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/raftcache/raftcache/internal/backup"
	"github.com/raftcache/raftcache/raftfsm"
)

// RDB files in and out: "snapshot import-rdb FILE..." loads what redis-server
// (or ElastiCache's export) saved into the cluster, "snapshot export-rdb
// DIR FILE" turns a backup into one RDB file that redis-server loads. FILE
// is a path or s3://bucket/prefix/name.

func (c *cli) snapshotImportRDBCmd() *cobra.Command {
	var replace bool
	var db uint64
	cmd := &cobra.Command{
		Use:   "import-rdb FILE...",
		Short: "Write the keys (and function libraries) of Redis RDB files into the cluster",
		Long: `import-rdb reads RDB files as redis-server's SAVE/BGSAVE writes them (RDB
versions up to 12: Redis 2.x to 7.4, Valkey 7 and 8), each from a path or
s3://bucket/prefix/name: one file, or one per shard of a Redis Cluster or
ElastiCache backup. It checks every file whole (checksum, every value)
before it writes anything, then writes each key of database --db with
RESTORE ... ABSTTL through the cluster's RESP ports, as snapshot restore does:
absolute expiries kept, keys already expired skipped, existing keys left alone
and counted (the command then fails) unless --replace. Values of types a
cluster cannot hold (module values, hashes with field expiry) fail the check.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("import-rdb: want at least one FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			files := make([][]byte, len(args))
			var libs [][][]byte
			var other, total uint64
			for i, where := range args {
				data, release, err := c.readRDB(ctx, where)
				if err != nil {
					return err
				}
				defer release()
				noKey := func([]byte, int64, []byte) error { return nil }
				info, err := raftfsm.ScanRDB(data, db, noKey)
				if err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
				files[i] = data
				libs = append(libs, info.Libraries)
				other += info.OtherDBKeys
				total += info.Keys
			}
			rc, err := c.clusterClient(ctx)
			if err != nil {
				return err
			}
			defer rc.Close()
			results := make([]restoreResult, len(args))
			prog := c.startKeyProgress(total)
			for i, data := range files {
				if results[i], err = importKeys(ctx, rc, data, db, replace, &prog.done); err != nil {
					prog.finish()
					return fmt.Errorf("%s: %w", args[i], err)
				}
			}
			prog.finish()
			res := sumResults(results)
			if err := restoreLibraries(ctx, rc, libs, replace, &res); err != nil {
				return err
			}
			res.OtherDatabases = other
			if other > 0 && !c.json {
				fmt.Fprintf(c.stdout, "%d keys of databases other than %d were not imported (a cluster has one database; --db picks it)\n", other, db)
			}
			return c.reportRestore(res, strings.Join(args, ", "), "already")
		},
	}
	cmd.Flags().BoolVar(&replace, "replace", false, "overwrite keys that already exist")
	cmd.Flags().Uint64Var(&db, "db", 0, "the file's database to import")
	return cmd
}

// importWriters is how many pipelines import-rdb keeps in flight: one
// writer is bound by round trips (snapshot restore has one per shard file).
const importWriters = 4

// importKeys RESTOREs the keys of database db of the RDB file in data with
// importWriters writers, fed in batches by the one scan of the file.
func importKeys(ctx context.Context, rc *redis.ClusterClient, data []byte, db uint64, replace bool, done *atomic.Uint64) (restoreResult, error) {
	type entry struct {
		key, dump []byte
		exp       int64
	}
	batches := make(chan []entry, importWriters)
	results := make([]restoreResult, importWriters)
	errs := make([]error, importWriters)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for w := range importWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRestorer(ctx, rc, replace, &results[w], done)
			for b := range batches {
				for _, e := range b {
					if err := r.key(e.key, e.exp, e.dump); err != nil && errs[w] == nil {
						errs[w] = err
						cancel() // stop the scan
					}
				}
			}
			if err := r.flush(); err != nil && errs[w] == nil {
				errs[w] = err
			}
		}()
	}
	var batch []entry
	_, scanErr := raftfsm.ScanRDB(data, db, func(key []byte, exp int64, dump []byte) error {
		// The slices are only valid during the call: the batch keeps copies.
		batch = append(batch, entry{key: bytes.Clone(key), dump: bytes.Clone(dump), exp: exp})
		if len(batch) < restoreBatch {
			return nil
		}
		select {
		case batches <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
		batch = nil
		return nil
	})
	if scanErr == nil && len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	res := sumResults(results)
	if err := errors.Join(errs...); err != nil {
		return res, err
	}
	return res, scanErr
}

// readRDB maps a local RDB file, or downloads one from S3 into a
// temporary file and maps that; release unmaps (and removes it).
func (c *cli) readRDB(ctx context.Context, where string) ([]byte, func(), error) {
	loc, name, err := backup.OpenFile(where, c.s3)
	if err != nil {
		return nil, nil, usagef("%v", err)
	}
	var f *os.File
	cleanup := func() {}
	if l, ok := loc.(backup.Local); ok {
		if f, err = os.Open(filepath.Join(string(l), name)); err != nil {
			return nil, nil, err
		}
	} else {
		r, err := loc.Open(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		defer r.Close()
		if f, err = os.CreateTemp("", "raftcache-import-*.rdb"); err != nil {
			return nil, nil, err
		}
		cleanup = func() { _ = os.Remove(f.Name()) }
		if _, err := io.Copy(f, r); err != nil {
			f.Close()
			cleanup()
			return nil, nil, fmt.Errorf("download %s: %w", where, err)
		}
	}
	defer f.Close() // a mapping outlives its descriptor
	data, unmap, err := mapFile(f)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return data, func() { unmap(); cleanup() }, nil
}

// exportResult is what export-rdb reports.
type exportResult struct {
	Keys      uint64 `json:"keys"`
	Expired   uint64 `json:"expired"`
	Libraries int    `json:"libraries"`
	File      string `json:"file"`
}

func (c *cli) snapshotExportRDBCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "export-rdb DIR FILE",
		Short: "Write a backup's keys (and function libraries) as one RDB file that redis-server loads",
		Long: `export-rdb checks every file of the backup DIR (a directory or
s3://bucket/prefix), then writes all its keys, with their absolute expiries,
into one RDB file (version 10: redis-server 7.0 and later, Valkey, ElastiCache
load it) at FILE, a path or s3://bucket/prefix/name; keys expired by now are
left out. The file appears under its name only once complete.`,
		Args: nArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			dir, err := c.location(args[0])
			if err != nil {
				return err
			}
			out, name, err := backup.OpenFile(args[1], c.s3)
			if err != nil {
				return usagef("%v", err)
			}
			m, err := backup.ReadManifest(ctx, dir)
			if err != nil {
				return err
			}
			// Check every file first, and gather the function libraries
			// (each shard keeps a copy): the file starts with them.
			var perShard [][][]byte
			for _, s := range m.Shards {
				hdr, err := backup.VerifyShardFile(ctx, dir, s)
				if err != nil {
					return err
				}
				perShard = append(perShard, hdr.Libraries)
			}
			var libs [][]byte
			for _, code := range distinctLibraries(perShard) {
				libs = append(libs, []byte(code))
			}
			res := exportResult{Libraries: len(libs), File: args[1]}
			err = backup.Put(ctx, out, name, func(f *os.File) error {
				w := raftfsm.NewRDBWriter(f, []string{"redis-bits", "64", "ctime", strconv.FormatInt(time.Now().Unix(), 10),
					"raftcache-backup", m.Created.Format(time.RFC3339)}, libs)
				now := time.Now().UnixMilli()
				for _, s := range m.Shards {
					r, err := dir.Open(ctx, s.File)
					if err != nil {
						return err
					}
					_, err = raftfsm.ScanSnapshot(r, func(key []byte, exp int64, dump []byte) error {
						if exp != 0 && exp <= now {
							res.Expired++
							return nil
						}
						return w.Key(key, exp, dump)
					})
					r.Close()
					if err != nil {
						return fmt.Errorf("%s: %w", s.File, err)
					}
				}
				res.Keys = w.Keys()
				return w.Close()
			})
			if err != nil {
				return err
			}
			if c.json {
				return printJSONValue(c.stdout, res)
			}
			fmt.Fprintf(c.stdout, "exported %d keys and %d function libraries from %s to %s (%d expired, left out)\n",
				res.Keys, res.Libraries, dir, args[1], res.Expired)
			return nil
		},
	}
}
