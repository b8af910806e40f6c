package node

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/raftcache/raftcache/internal/backup"
	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/slots"
)

// Automatic backups (ElastiCache's daily snapshot with a retention limit):
// with Config.BackupInterval set, every node wakes at each interval
// boundary of the wall clock (floor(now/interval), so every node names the
// same boundary) and exactly one acts: the Raft leader of the shard that
// owns slot 0, as its own log says. It writes the whole cluster's backup
// (every shard, through this node's own admin API, so each shard's leader
// exports it after a read barrier) into BackupDir/auto-<boundary> (a
// directory: written under a temporary name and renamed once complete; an
// S3 prefix: manifest uploaded last, backup.WriteAuto), skips the boundary
// if that backup exists already (leadership moved within the interval and
// the old leader wrote it to a shared volume or bucket), then removes the
// oldest auto-* backups beyond BackupRetain. Failures are logged and counted
// (INFO persistence); they never stop the node.

// DefaultBackupRetain is how many automatic backups are kept by default.
const DefaultBackupRetain = 7

// minBackupTimeout bounds one automatic backup when the interval is
// shorter: a backup otherwise has until the next boundary.
const minBackupTimeout = time.Minute

type autoBackupState struct {
	mu      sync.Mutex
	last    string // directory of the last backup this node wrote
	lastErr bool   // the last attempt (backup or pruning) failed
	written int64
	failed  int64
	skipped int64 // boundaries whose backup another node had written
}

// boundaryAfter is the first interval boundary after now.
func boundaryAfter(now time.Time, iv time.Duration) time.Time {
	return time.Unix(0, (now.UnixNano()/int64(iv)+1)*int64(iv)).UTC()
}

// autoBackupLoop runs on every node while BackupInterval is set.
func (n *Node) autoBackupLoop(ctx context.Context) {
	iv := n.cfg.BackupInterval
	if iv <= 0 {
		return
	}
	next := boundaryAfter(time.Now(), iv)
	for {
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if time.Now().Before(next) {
			continue // the wall clock was stepped back meanwhile
		}
		n.autoBackup(ctx, next)
		next = boundaryAfter(time.Now(), iv)
	}
}

// autoBackupActs reports whether this node takes the automatic backups
// now: it leads the shard that owns slot 0.
func (n *Node) autoBackupActs() bool {
	return n.IsLeader() && n.ownsSlot(slots.Slot(0))
}

// autoBackup writes the backup of boundary if this node is the one to,
// then prunes.
func (n *Node) autoBackup(ctx context.Context, boundary time.Time) {
	if !n.autoBackupActs() {
		return
	}
	log := n.cfg.Logger.With("node_id", n.cfg.NodeID, "backup", backup.AutoName(boundary))
	bctx, cancel := context.WithTimeout(ctx, max(n.cfg.BackupInterval, minBackupTimeout))
	defer cancel()
	root, err := backup.Open(n.cfg.BackupDir, n.backupS3())
	if err != nil { // Validate opened it once already
		log.Error("automatic backup failed", "dir", n.cfg.BackupDir, "err", err)
		n.autoBackups.fail()
		return
	}
	var dir backup.Location
	var m *backup.Manifest
	// A shard without a leader at the boundary (an election) is retried
	// until half the interval has passed, not counted as a failure at once.
	until := boundary.Add(min(n.cfg.BackupInterval/2, maxBackupRetry))
	err = retryUnavailable(bctx, until, backupRetryWait(n.cfg.BackupInterval), func() error {
		if !n.autoBackupActs() {
			return errNotActing
		}
		var err error
		dir, m, err = n.writeAutoBackup(bctx, root, boundary)
		if status.Code(err) == codes.Unavailable {
			log.Warn("automatic backup attempt failed: a shard is unavailable", "err", err)
		}
		return err
	})
	if errors.Is(err, errNotActing) {
		return // leadership moved meanwhile: the new leader acts from the next boundary
	}
	if err != nil && !errors.Is(err, backup.ErrExists) && ctx.Err() != nil {
		return // cut by shutdown: the temporary directory is gone, nothing to count
	}
	st := &n.autoBackups
	switch {
	case errors.Is(err, backup.ErrExists):
		log.Info("automatic backup already written by another node, skipped", "dir", dir.String())
		st.mu.Lock()
		st.skipped++
		st.mu.Unlock()
	case err != nil:
		log.Error("automatic backup failed", "dir", n.cfg.BackupDir, "err", err)
		st.fail()
		return
	default:
		log.Info("automatic backup written", "dir", dir.String(), "shards", len(m.Shards), "keys", m.Keys(), "bytes", m.Size())
		st.mu.Lock()
		st.written++
		st.last, st.lastErr = dir.String(), false
		st.mu.Unlock()
	}
	removed, err := backup.Prune(bctx, root, n.cfg.BackupRetain)
	for _, p := range removed {
		log.Info("old automatic backup removed", "dir", p)
	}
	if err != nil {
		log.Error("removing old automatic backups failed", "dir", n.cfg.BackupDir, "err", err)
		st.fail()
	}
}

// fail counts a failed attempt (a backup, or removing old ones).
func (st *autoBackupState) fail() {
	st.mu.Lock()
	st.failed++
	st.lastErr = true
	st.mu.Unlock()
}

// maxBackupRetry bounds how long an automatic backup retries a shard that
// is unavailable (a long interval's half would be hours).
const maxBackupRetry = 5 * time.Minute

var errNotActing = errors.New("this node no longer takes the automatic backups")

// backupRetryWait is the pause between attempts: a tenth of the interval,
// at most a second.
func backupRetryWait(iv time.Duration) time.Duration {
	return min(max(iv/10, 10*time.Millisecond), time.Second)
}

// retryUnavailable runs fn until it returns anything but a gRPC
// Unavailable error, or until the next attempt would start after until
// (or ctx ends); it returns fn's last error.
func retryUnavailable(ctx context.Context, until time.Time, wait time.Duration, fn func() error) error {
	for {
		err := fn()
		if status.Code(err) != codes.Unavailable || time.Now().Add(wait).After(until) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// writeAutoBackup writes the backup through this node's own admin API
// (its gRPC client connections carry the token and TLS).
func (n *Node) writeAutoBackup(ctx context.Context, root backup.Location, boundary time.Time) (backup.Location, *backup.Manifest, error) {
	c, err := n.grpc.conn(n.GRPCAddr())
	if err != nil {
		return root, nil, err
	}
	return backup.WriteAuto(ctx, adminv1.NewAdminClient(c), root, boundary, n.GRPCAddr())
}

// autoBackupInfo is the INFO persistence lines of automatic backups
// (after Redis's rdb_last_bgsave_status: ok until an attempt fails).
func (n *Node) autoBackupInfo() []string {
	st := &n.autoBackups
	st.mu.Lock()
	defer st.mu.Unlock()
	status := "ok"
	if st.lastErr {
		status = "err"
	}
	return []string{"raftcache_last_auto_backup:" + st.last, "raftcache_last_auto_backup_status:" + status,
		"raftcache_auto_backups:" + strconv.FormatInt(st.written, 10),
		"raftcache_auto_backups_failed:" + strconv.FormatInt(st.failed, 10),
		"raftcache_auto_backups_skipped:" + strconv.FormatInt(st.skipped, 10)}
}

// backupS3 is the S3 options of automatic backups: shard files wait for
// their upload under the data directory unless told otherwise.
func (n *Node) backupS3() backup.S3Options {
	o := n.cfg.BackupS3
	if o.TempDir == "" {
		o.TempDir = filepath.Join(n.cfg.DataDir, "backup-upload")
	}
	return o
}
