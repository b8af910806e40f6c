package shard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/raft"
)

// Snapshot takes a Raft snapshot of this replica now (SAVE and BGSAVE):
// the engine's state is written to the snapshot store and the log before
// it may be compacted, as the snapshot threshold would do later. Having
// nothing new since the last snapshot is not an error.
func (r *Replica) Snapshot(ctx context.Context) error {
	if r.closed() {
		return ErrClosed
	}
	select {
	case err := <-r.futureErr(r.raft.Snapshot()):
		if err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
			return fmt.Errorf("shard: snapshot: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shard: snapshot: %w", ctx.Err())
	}
}

// LastSnapshot returns when this replica's newest snapshot was taken, or
// the zero time if it has none. File snapshots are named
// term-index-milliseconds (hashicorp/raft's snapshot store).
func (r *Replica) LastSnapshot() time.Time {
	list, err := r.stores.snaps.List()
	if err != nil || len(list) == 0 {
		return time.Time{}
	}
	id := list[0].ID // newest first
	ms, err := strconv.ParseInt(id[strings.LastIndexByte(id, '-')+1:], 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}
