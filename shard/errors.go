package shard

import "errors"

var (
	// ErrNotLeader means this replica is not the leader; the request was
	// definitely not applied. Route it to Leader().
	ErrNotLeader = errors.New("shard: not the leader")
	// ErrUncertain means a write was proposed but its outcome is unknown: it
	// may or may not be applied. It must never be reported as a clean failure.
	ErrUncertain = errors.New("shard: outcome unknown")
	// ErrClosed means the replica has been closed; the request was not
	// proposed.
	ErrClosed = errors.New("shard: replica closed")
	// ErrTimeout means the request could not be handed to raft in time; it
	// was definitely not applied.
	ErrTimeout = errors.New("shard: not proposed in time")
)
