package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/raftcache/raftcache/internal/backup"
	"github.com/raftcache/raftcache/raftfsm"
)

// Backups. "snapshot create DIR" asks every shard's leader for a
// point-in-time copy of its data (ExportShard) and writes one file per
// shard plus manifest.json, in a directory (the operator keeps, copies or
// archives it) or an S3 prefix. "snapshot restore DIR" writes the keys back through any
// node's RESP port with RESTORE ... ABSTTL, so a backup restores into any
// cluster whatever its shard count and slot layout (ElastiCache restores
// into a new cluster the same way).

func (c *cli) snapshotCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Back up the cluster's data to a directory or S3, list backups, restore one",
		Long: `Every DIR or ROOT is a local directory or s3://bucket/prefix (AWS S3, or any
S3-compatible store with --s3-endpoint). S3 credentials are the AWS SDK's:
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN), the shared
credentials file (~/.aws/credentials, AWS_PROFILE), or an EC2/ECS instance role.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&c.s3.Endpoint, "s3-endpoint", os.Getenv("RAFTCACHE_S3_ENDPOINT"), "S3 API address for a store other than AWS: host[:port] (HTTPS) or http://host[:port]; default: $RAFTCACHE_S3_ENDPOINT")
	pf.StringVar(&c.s3.Region, "s3-region", "", "the bucket's region (default: $AWS_REGION, else asked of the store)")
	cmd.AddCommand(c.snapshotCreateCmd(), c.snapshotListCmd(), c.snapshotRestoreCmd(), c.snapshotCopyCmd(), c.snapshotDeleteCmd(),
		c.snapshotImportRDBCmd(), c.snapshotExportRDBCmd())
	return cmd
}

// location opens a DIR or ROOT argument.
func (c *cli) location(where string) (backup.Location, error) {
	loc, err := backup.Open(where, c.s3)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return loc, nil
}

func (c *cli) snapshotCreateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "create DIR",
		Short: "Write a point-in-time copy of every shard (one file each) and manifest.json to DIR (new or empty; or s3://bucket/prefix)",
		Args:  nArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := c.location(args[0])
			if err != nil {
				return err
			}
			if err := emptyTarget(dir); err != nil {
				return err
			}
			if _, ok := dir.(backup.Local); !ok {
				if _, err := backup.ReadManifest(cmd.Context(), dir); err == nil {
					return usagef("%s already holds a backup", dir)
				} else if !errors.Is(err, os.ErrNotExist) {
					return err // the store refused (credentials, bucket, endpoint)
				}
			}
			d, err := c.describe(cmd.Context())
			if err != nil {
				return err
			}
			a, err := c.admin()
			if err != nil {
				return err
			}
			m, err := backup.Write(cmd.Context(), a, dir, d.GetShards(), c.addr, time.Now(), "")
			if err != nil {
				return err
			}
			if c.json {
				return printJSONValue(c.stdout, m)
			}
			w := table(c.stdout)
			fmt.Fprintln(w, "SHARD\tSLOTS\tNODE\tINDEX\tKEYS\tBYTES")
			for _, s := range m.Shards {
				fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%d\t%d\n", s.Shard, s.Slots, s.Node, s.Index, s.Keys, s.Bytes)
			}
			_ = w.Flush()
			fmt.Fprintf(c.stdout, "snapshot %s: %d shards, %d keys, %d bytes\n", dir, len(m.Shards), m.Keys(), m.Size())
			return nil
		},
	}
}

func (c *cli) snapshotCopyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "copy SRC DST",
		Short: "Copy a backup between locations (a directory or s3://bucket/prefix), checking every file",
		Args:  nArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := c.location(args[0])
			if err != nil {
				return err
			}
			dst, err := c.location(args[1])
			if err != nil {
				return err
			}
			if err := emptyTarget(dst); err != nil { // Copy refuses an S3 prefix holding a backup
				return err
			}
			m, err := backup.Copy(cmd.Context(), src, dst)
			if err != nil {
				return err
			}
			if c.json {
				return printJSONValue(c.stdout, m)
			}
			fmt.Fprintf(c.stdout, "copied %s to %s: %d shards, %d keys, %d bytes\n", src, dst, len(m.Shards), m.Keys(), m.Size())
			return nil
		},
	}
}

func (c *cli) snapshotDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete DIR",
		Short: "Delete a backup (a directory or s3://bucket/prefix holding a manifest.json) and all its files",
		Args:  nArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := c.location(args[0])
			if err != nil {
				return err
			}
			m, err := backup.Delete(cmd.Context(), dir)
			if err != nil {
				return err
			}
			if c.json {
				return printJSONValue(c.stdout, m)
			}
			fmt.Fprintf(c.stdout, "deleted %s (%d shards, %d keys, taken %s)\n", dir, len(m.Shards), m.Keys(), m.Created.Format(time.RFC3339))
			return nil
		},
	}
}

// printJSONValue prints v (a manifest, a listing, a result) as indented
// JSON; c.printJSON is its counterpart for protobuf messages.
func printJSONValue(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func (c *cli) snapshotListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list [ROOT]",
		Short: "List the snapshots in ROOT (default .; or s3://bucket/prefix): directories holding a manifest.json",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("list: want at most 1 argument, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			where := "."
			if len(args) == 1 {
				where = args[0]
			}
			root, err := c.location(where)
			if err != nil {
				return err
			}
			names, err := root.List(cmd.Context())
			if err != nil {
				return err
			}
			type listed struct {
				Name     string           `json:"name"`
				Manifest *backup.Manifest `json:"manifest"`
			}
			var out []listed
			for _, name := range names {
				m, err := backup.ReadManifest(cmd.Context(), root.Join(name))
				if errors.Is(err, os.ErrNotExist) {
					continue
				}
				if err != nil {
					fmt.Fprintln(c.stderr, "raftcachectl: skipping", err)
					continue
				}
				out = append(out, listed{Name: name, Manifest: m})
			}
			sort.Slice(out, func(i, j int) bool { return out[i].Manifest.Created.Before(out[j].Manifest.Created) })
			if c.json {
				if out == nil {
					out = []listed{}
				}
				return printJSONValue(c.stdout, out)
			}
			if len(out) == 0 {
				fmt.Fprintln(c.stdout, "no snapshots")
				return nil
			}
			w := table(c.stdout)
			fmt.Fprintln(w, "NAME\tCREATED\tSHARDS\tKEYS\tBYTES")
			for _, l := range out {
				fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\n", l.Name, l.Manifest.Created.Format(time.RFC3339), len(l.Manifest.Shards), l.Manifest.Keys(), l.Manifest.Size())
			}
			return w.Flush()
		},
	}
}

func (c *cli) snapshotRestoreCmd() *cobra.Command {
	var replace bool
	cmd := &cobra.Command{
		Use:   "restore DIR",
		Short: "Write a snapshot's keys into the cluster (any shard count or slot layout)",
		Long: `restore checks every file of the snapshot (SHA-256 and checksums) before it
writes anything, then writes each key with RESTORE ... ABSTTL through the
cluster's RESP ports: keys keep their absolute expiry, keys that have expired
since the snapshot are skipped. A key that already exists is left alone and
counted (the command then fails) unless --replace is given.`,
		Args: nArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir, err := c.location(args[0])
			if err != nil {
				return err
			}
			m, err := backup.Verify(cmd.Context(), dir)
			if err != nil {
				return err
			}
			rc, err := c.clusterClient(cmd.Context())
			if err != nil {
				return err
			}
			defer rc.Close()
			// One writer per file, all at once: each keeps one pipeline in
			// flight, so the rate is bounded by round trips, not the cluster.
			results := make([]restoreResult, len(m.Shards))
			libs := make([][][]byte, len(m.Shards))
			errs := make([]error, len(m.Shards))
			prog := c.startKeyProgress(m.Keys())
			var wg sync.WaitGroup
			for i, s := range m.Shards {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var err error
					if libs[i], err = restoreShard(cmd.Context(), rc, dir, s.File, replace, &results[i], &prog.done); err != nil {
						errs[i] = fmt.Errorf("%s: %w", s.File, err)
					}
				}()
			}
			wg.Wait()
			prog.finish()
			res := sumResults(results)
			if err := errors.Join(errs...); err != nil {
				return err
			}
			if err := restoreLibraries(cmd.Context(), rc, libs, replace, &res); err != nil {
				return err
			}
			return c.reportRestore(res, dir.String(), "since the snapshot")
		},
	}
	cmd.Flags().BoolVar(&replace, "replace", false, "overwrite keys that already exist")
	return cmd
}

// clusterClient is a go-redis cluster client to the live nodes' RESP
// ports, with the CLI's TLS and RESP credentials.
func (c *cli) clusterClient(ctx context.Context) (*redis.ClusterClient, error) {
	d, err := c.describe(ctx)
	if err != nil {
		return nil, err
	}
	var addrs []string
	for _, n := range d.GetNodes() {
		if n.GetAlive() && n.GetShard() >= 0 && n.GetRespAddr() != "" {
			addrs = append(addrs, n.GetRespAddr())
		}
	}
	if len(addrs) == 0 {
		return nil, errors.New("the cluster reports no live node with a RESP address")
	}
	tc, err := c.tls.config()
	if err != nil {
		return nil, err
	}
	pw, err := c.respPassword()
	if err != nil {
		return nil, err
	}
	return redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, TLSConfig: tc, Username: c.resp.user, Password: pw}), nil
}

// sumResults adds up the key counts of several writers.
func sumResults(results []restoreResult) (res restoreResult) {
	for _, r := range results {
		res.Restored += r.Restored
		res.Expired += r.Expired
		res.Existing += r.Existing
	}
	return res
}

// reportRestore prints what a restore or import did; keys or libraries
// that existed and were left alone make it fail (exit 1).
func (c *cli) reportRestore(res restoreResult, from, expiredSince string) error {
	if c.json {
		if err := printJSONValue(c.stdout, res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(c.stdout, "restored %d keys from %s (%d expired %s, skipped; %d already existed)\n",
			res.Restored, from, res.Expired, expiredSince, res.Existing)
		if res.Libraries+res.LibrariesExisting > 0 {
			fmt.Fprintf(c.stdout, "restored %d function libraries, counted per shard (%d already existed)\n", res.Libraries, res.LibrariesExisting)
		}
	}
	if res.LibrariesExisting > 0 {
		return fmt.Errorf("%d keys and %d function libraries already existed and were left alone (--replace overwrites them)", res.Existing, res.LibrariesExisting)
	}
	if res.Existing > 0 {
		return fmt.Errorf("%d keys already existed and were left alone (--replace overwrites them)", res.Existing)
	}
	return nil
}

type restoreResult struct {
	Restored          uint64 `json:"restored"`
	Expired           uint64 `json:"expired"`
	Existing          uint64 `json:"existing"`
	Libraries         uint64 `json:"libraries"`
	LibrariesExisting uint64 `json:"libraries_existing"`
	OtherDatabases    uint64 `json:"other_databases,omitempty"` // import-rdb: keys of databases not imported
}

// restoreLibraries loads the function libraries found in the shard files
// (each shard keeps its own copy; they are usually the same) on every
// shard of the cluster, whatever its shape now.
func restoreLibraries(ctx context.Context, rc *redis.ClusterClient, perShard [][][]byte, replace bool, res *restoreResult) error {
	codes := distinctLibraries(perShard)
	if len(codes) == 0 {
		return nil
	}
	var mu sync.Mutex
	return rc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		for _, code := range codes {
			load := m.FunctionLoad
			if replace {
				load = m.FunctionLoadReplace
			}
			err := load(ctx, code).Err()
			mu.Lock()
			switch {
			case err == nil:
				res.Libraries++
			case strings.Contains(err.Error(), "already exists"):
				res.LibrariesExisting++
			}
			mu.Unlock()
			if err != nil && !strings.Contains(err.Error(), "already exists") {
				return fmt.Errorf("FUNCTION LOAD on %s: %w", m.Options().Addr, err)
			}
		}
		return nil
	})
}

// distinctLibraries is the function libraries of every shard, each once,
// in the order first seen (each shard keeps its own copy).
func distinctLibraries(perShard [][][]byte) []string {
	seen := map[string]bool{}
	var codes []string
	for _, libs := range perShard {
		for _, code := range libs {
			if !seen[string(code)] {
				seen[string(code)] = true
				codes = append(codes, string(code))
			}
		}
	}
	return codes
}

// emptyTarget refuses a destination directory that is not empty (an S3
// prefix is checked for a manifest by the command).
func emptyTarget(dst backup.Location) error {
	if l, ok := dst.(backup.Local); ok {
		if ents, err := os.ReadDir(string(l)); err == nil && len(ents) > 0 {
			return usagef("%s is not empty", l)
		}
	}
	return nil
}

// restoreBatch is how many RESTOREs go in one pipeline.
const restoreBatch = 1024

// restorer writes keys with RESTORE ... ABSTTL, restoreBatch to a
// pipeline, counting what happened in res; keys expired by now are
// skipped and counted.
type restorer struct {
	ctx     context.Context
	pipe    redis.Pipeliner
	pend    []*redis.StatusCmd
	replace bool
	now     int64
	res     *restoreResult
	done    *atomic.Uint64 // keys dealt with, for the progress line
}

func newRestorer(ctx context.Context, rc *redis.ClusterClient, replace bool, res *restoreResult, done *atomic.Uint64) *restorer {
	return &restorer{ctx: ctx, pipe: rc.Pipeline(), replace: replace, now: time.Now().UnixMilli(), res: res, done: done}
}

// key queues one key (ScanSnapshot's and ScanRDB's callback).
func (r *restorer) key(key []byte, exp int64, dump []byte) error {
	if exp != 0 && exp <= r.now {
		r.res.Expired++
		r.done.Add(1)
		return nil
	}
	args := []any{"RESTORE", string(key), exp, string(dump)}
	if r.replace {
		args = append(args, "REPLACE")
	}
	args = append(args, "ABSTTL")
	cmd := redis.NewStatusCmd(r.ctx, args...)
	_ = r.pipe.Process(r.ctx, cmd)
	r.pend = append(r.pend, cmd)
	if len(r.pend) >= restoreBatch {
		return r.flush()
	}
	return nil
}

// flush sends the queued keys and counts their replies.
func (r *restorer) flush() error {
	if len(r.pend) == 0 {
		return nil
	}
	_, _ = r.pipe.Exec(r.ctx) // errors are per command
	r.done.Add(uint64(len(r.pend)))
	for _, c := range r.pend {
		switch err := c.Err(); {
		case err == nil:
			r.res.Restored++
		case strings.HasPrefix(err.Error(), "BUSYKEY"):
			r.res.Existing++
		default:
			return fmt.Errorf("RESTORE %s: %w", c.Args()[1], err)
		}
	}
	r.pend = r.pend[:0]
	return nil
}

// restoreShard RESTOREs a shard file's keys and returns its function
// libraries.
func restoreShard(ctx context.Context, rc *redis.ClusterClient, dir backup.Location, file string, replace bool, res *restoreResult, done *atomic.Uint64) ([][]byte, error) {
	f, err := dir.Open(ctx, file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := newRestorer(ctx, rc, replace, res, done)
	hdr, err := raftfsm.ScanSnapshot(f, r.key)
	if err != nil {
		return nil, err
	}
	return hdr.Libraries, r.flush()
}
