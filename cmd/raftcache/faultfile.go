package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/raftcache/raftcache/shard"
)

// watchFaultFile applies the shard.FaultSpec in path (JSON) to faults now
// and whenever the file changes, until ctx is done. A missing file means no
// faults. This is the chaos harness's handle on a real process's Raft
// transport (`raftcache server --fault-file`); never use it in production.
func watchFaultFile(ctx context.Context, path string, faults *shard.Faults, logger *slog.Logger) error {
	last, err := applyFaultFile(path, faults, nil)
	if err != nil {
		return err
	}
	go func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			raw, err := applyFaultFile(path, faults, last)
			if err != nil {
				logger.Warn("fault file unreadable; keeping the previous faults", "path", path, "err", err)
				continue
			}
			last = raw
		}
	}()
	return nil
}

// applyFaultFile reads path and applies it when its content differs from
// prev; it returns the content read.
func applyFaultFile(path string, faults *shard.Faults, prev []byte) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		raw, err = []byte("{}"), nil
	}
	if err != nil {
		return prev, fmt.Errorf("fault file: %w", err)
	}
	if prev != nil && string(raw) == string(prev) {
		return prev, nil
	}
	var spec shard.FaultSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return prev, fmt.Errorf("fault file %s: %w", path, err)
	}
	faults.Set(spec)
	return raw, nil
}
