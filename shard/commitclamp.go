package shard

import (
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// clampCommits wraps the transport raft sends through so that no
// AppendEntries request this replica sends as leader tells a follower to
// commit past the last entry the request proves the follower shares with
// the leader (its PrevLogEntry plus the entries it carries).
//
// Why: hashicorp/raft (v1.7.3, appendEntries) sets a follower's commit
// index to min(leaderCommit, last index of its whole log), where the Raft
// paper says min(leaderCommit, index of the last new entry). A deposed
// leader still holds the entries it appended in its own term but never
// replicated; they lie past what the new leader has matched so far. An
// AppendEntries that matches the common prefix and carries no entries, or
// entries that end before that stale suffix (a lagging follower's catch-up
// batch, or a request whose entries were chosen before the leader's commit
// index moved on), makes hashicorp/raft apply those stale entries to the
// FSM as committed. The new leader's entries at the same indexes replace
// them in the log moments later, but raft never applies an index twice:
// the replica keeps state no other replica has, at the same applied index
// (the same bug class as atomix/copycat#265 and rabbitmq/ra#508; the
// divergence in docs/CHAOS.md "Open finding" has this shape).
// TestCommitClampStaleSuffix shows both behaviours.
//
// Clamping gives exactly the paper's rule: the entries up to
// PrevLogEntry+len(Entries) are in the follower's log once it accepts the
// request and match the leader's, so committing them is safe, and nothing
// beyond is committed until a later request covers it. A caught-up
// follower loses nothing: its requests reach the leader's last index,
// which the commit index never exceeds.
//
// It is done where requests are sent, not where they are received: every
// leader of a raftcache shard is a raftcache replica, and the sending side
// needs no extra goroutine or channel hop per RPC (a receiving wrapper
// would have to relay raft's RPC channel). During a rolling upgrade from a
// version without it, a leader still on the old version does not clamp.
func clampCommits(t raft.Transport) raft.Transport {
	c := &clampTransport{Transport: t}
	if _, ok := t.(raft.WithPreVote); ok {
		// raft enables pre-vote only when its transport has it: keep it.
		return clampPreVote{c}
	}
	return c
}

// clampTransport is the wrapper. Closing it closes the wrapped transport
// (raft calls Close on Shutdown, as it would on the wrapped one).
type clampTransport struct {
	raft.Transport
	view atomic.Pointer[termView] // the raft served, for the heartbeat check (heartbeat.go)
}

// clampPreVote is clampTransport over a transport with pre-vote.
type clampPreVote struct{ *clampTransport }

func (c clampPreVote) RequestPreVote(id raft.ServerID, target raft.ServerAddress, args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	return c.Transport.(raft.WithPreVote).RequestPreVote(id, target, args, resp)
}

// AppendEntries implements raft.Transport.
func (c *clampTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	clampCommit(args)
	return c.Transport.AppendEntries(id, target, args, resp)
}

// AppendEntriesPipeline implements raft.Transport.
func (c *clampTransport) AppendEntriesPipeline(id raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	p, err := c.Transport.AppendEntriesPipeline(id, target)
	if err != nil {
		return nil, err
	}
	return clampPipeline{p}, nil
}

type clampPipeline struct{ raft.AppendPipeline }

func (p clampPipeline) AppendEntries(args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	clampCommit(args)
	return p.AppendPipeline.AppendEntries(args, resp)
}

// clampCommit lowers a's LeaderCommitIndex to the last index a proves the
// receiver shares with the leader. raft reads the field of a request it
// built only to send it, so changing it in place is safe.
func clampCommit(a *raft.AppendEntriesRequest) {
	last := a.PrevLogEntry
	if n := len(a.Entries); n > 0 {
		last = a.Entries[n-1].Index
	}
	if a.LeaderCommitIndex > last {
		a.LeaderCommitIndex = last
	}
}

// Close implements raft.WithClose: it closes the wrapped transport if that
// can be closed.
func (c *clampTransport) Close() error {
	if wc, ok := c.Transport.(raft.WithClose); ok {
		return wc.Close()
	}
	return nil
}
