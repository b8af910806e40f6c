// Package shard runs one replica of one Raft group: hashicorp/raft over
// raft-boltdb/v2 (fsync on) and a file snapshot store, driving the raftfsm
// engine.
//
// Writes (propose.go) become one log entry per call, stamped by the leader
// with its clock and a random seed. An outcome that raft cannot vouch for
// (leadership lost after the entry was enqueued, shutdown, the caller giving
// up) is never reported as a clean failure: the replica keeps waiting for the
// entry to be applied (matched by request id through the FSM apply hook), or
// after a lost leadership for another entry to be applied at its index
// (then ErrNotLeader: the write can never apply), and otherwise returns
// ErrUncertain.
//
// Linearizable reads (read.go) follow the read-index recipe hashicorp/raft
// lacks: the leader first applies a no-op of its own term, then each batch of
// concurrent readers notes the commit index, confirms leadership with one
// VerifyLeader round, and waits until the FSM has applied the noted index.
//
// Active expiry (expire.go) is decided by the leader and replicated as log
// entries, so every replica deletes the same keys at the same log position.
package shard
