package node

import (
	"errors"

	"github.com/hashicorp/raft"
)

// ErrNotShardLeader refuses WAIT on a node that does not lead its shard.
var ErrNotShardLeader = errors.New("not the shard's leader")

// ReplicaAcks is WAIT's count (gateway): how many other members of this
// leader's shard hold the log up to target (0: the commit index now, which
// covers every write this node acknowledged), and that commit index. A
// member counts when gossip shows it applied that far; a committed entry
// is on a majority of the voters, so never fewer than half of them count.
func (n *Node) ReplicaAcks(target uint64) (acked int, commit uint64, err error) {
	r := n.rep()
	if r == nil || !r.IsLeader() {
		return 0, 0, ErrNotShardLeader
	}
	ra := r.Raft()
	commit = ra.CommitIndex()
	if target == 0 {
		target = commit
	}
	f := ra.GetConfiguration()
	if err := f.Error(); err != nil {
		return 0, commit, err
	}
	voters := 0
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			voters++
		}
		if string(s.ID) == n.cfg.NodeID {
			continue
		}
		if m, ok := n.member(string(s.ID)); ok && m.Alive && m.Applied >= target {
			acked++
		}
	}
	if target <= commit && acked < voters/2 {
		acked = voters / 2
	}
	return acked, commit, nil
}
