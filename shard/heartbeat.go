package shard

import "github.com/hashicorp/raft"

// SetHeartbeatHandler refuses hashicorp/raft's heartbeat fast path: every
// heartbeat reaches raft's main goroutine like any other AppendEntries.
//
// Why: with the fast path, NetworkTransport's connection goroutine runs
// raft's appendEntries for a heartbeat itself, concurrently with the main
// goroutine, and a heartbeat from a newer term sets this replica's current
// term and makes it a follower from there (hashicorp/raft v1.7.3; upstream
// hashicorp/raft#695, fix proposed in #701, unreleased). A deposed leader
// whose main goroutine is in dispatchLogs at that moment reads the NEW term
// and writes its clients' entries under it. Its log then holds entries
// labelled with the new leader's term that the new leader never wrote; the
// new leader's entries at the same indexes look like duplicates (same
// index, same term) and are skipped instead of replacing them, so once the
// commit index covers them the deposed leader applies and acknowledges its
// own writes, which no other replica has, and never applies the new
// leader's. A paused leader resuming with clients' writes queued makes
// this likely: a 9-node chaos run (2026-12-04) saw three SETs acknowledged
// by such a replica and lost, and an RPUSH acknowledged by the real leader
// missing on it, at the same applied index (docs/CHAOS.md).
//
// On the main goroutine a term change and dispatchLogs never overlap. The
// cost: a follower handles a heartbeat after the log write in progress, so
// a disk slower than the heartbeat timeout can cost an election that the
// fast path would have avoided (the disk guard stops a replica whose
// writes stall for longer anyway).
func (c *clampTransport) SetHeartbeatHandler(func(raft.RPC)) {}
