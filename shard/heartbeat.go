package shard

import (
	"errors"

	"github.com/hashicorp/raft"
)

// errHeartbeatMainLoop answers a heartbeat the fast path must not handle;
// the leader retries, and its replication reaches raft's main goroutine.
var errHeartbeatMainLoop = errors.New("shard: heartbeat changes this replica's term or state: refused on the fast path")

// SetHeartbeatHandler narrows hashicorp/raft's heartbeat fast path to the
// heartbeats that change nothing but the leader's last contact.
//
// Why: with the fast path, NetworkTransport's connection goroutine runs
// raft's appendEntries for a heartbeat itself, concurrently with raft's
// main goroutine, and a heartbeat from a newer term sets this replica's
// current term and makes it a follower from there (hashicorp/raft v1.7.3;
// upstream hashicorp/raft#695, fix proposed in #701, unreleased). A
// deposed leader whose main goroutine is in dispatchLogs at that moment
// reads the NEW term and writes its clients' entries under it. Its log
// then holds entries labelled with the new leader's term that the new
// leader never wrote; the new leader's entries at the same indexes look
// like duplicates (same index, same term) and are skipped instead of
// replacing them, so once the commit index covers them the deposed leader
// applies and acknowledges its own writes, which no other replica has,
// and never applies the new leader's. A paused leader resuming with
// clients' writes queued makes this likely: a 9-node chaos run
// (2026-12-04) saw three SETs acknowledged by such a replica and lost, and
// an RPUSH the real leader acknowledged missing on it (docs/CHAOS.md).
//
// So a heartbeat takes the fast path only while this replica is a
// follower in the heartbeat's own term: then appendEntries only notes the
// leader and the contact time. Any other heartbeat (a newer term, or this
// replica a candidate or leader) is refused with an error, which the leader
// counts as a failed heartbeat (no contact, no leadership confirmation);
// the leader's replication RPCs, which always go through raft's main
// goroutine, make the term change there, where it cannot overlap
// dispatchLogs. The check cannot go stale unsafely: the term only grows,
// and a heartbeat of an older term changes nothing. Before bindRaft every
// heartbeat is refused (raft's first moments).
//
// The fast path itself stays for the steady state: a follower whose main
// goroutine is busy with a slow log write still answers heartbeats, so the
// leader keeps its lease (350 ms) on a loaded disk.
func (c *clampTransport) SetHeartbeatHandler(fn func(raft.RPC)) {
	if fn == nil {
		c.Transport.SetHeartbeatHandler(nil)
		return
	}
	c.Transport.SetHeartbeatHandler(func(rpc raft.RPC) {
		if a, ok := rpc.Command.(*raft.AppendEntriesRequest); ok && c.heartbeatFast(a.Term) {
			fn(rpc)
			return
		}
		rpc.Respond(nil, errHeartbeatMainLoop)
	})
}

// heartbeatFast reports whether a heartbeat of term may run on the fast
// path: this replica is a follower in that very term.
func (c *clampTransport) heartbeatFast(term uint64) bool {
	v := c.view.Load()
	return v != nil && (*v).State() == raft.Follower && (*v).CurrentTerm() == term
}

// termView is what the heartbeat check reads of raft (*raft.Raft has it).
type termView interface {
	State() raft.RaftState
	CurrentTerm() uint64
}

// bindRaft gives the transport raft was given the instance it serves, for
// the heartbeat check. tr is what clampCommits returned.
func bindRaft(tr raft.Transport, r termView) {
	switch t := tr.(type) {
	case *clampTransport:
		t.view.Store(&r)
	case clampPreVote:
		t.view.Store(&r)
	}
}
