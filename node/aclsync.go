package node

import (
	"context"
	"math/rand/v2"
	"time"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
)

// ACL users alike on every node (the gateway's aclsync.go has the why).
// Each node publishes in gossip a digest of its users' states; once a second a node picks, at random, a live member
// whose digest differs from its own, fetches that node's user states over
// gRPC (NodeControl.GetUsers) and merges them user by user, the newer
// stamp winning. Merging is commutative and idempotent, so nodes converge
// whatever the order; a node that was down or cut off during a change
// catches up within about a second of rejoining.

// ACLSource is the gateway's side: this node's users and their stamps
// (cmd adapts gateway.Server to it).
type ACLSource interface {
	SetACLOrigin(origin string)
	ACLStamp() (at uint64, origin string, sum uint64)
	ACLStates() []ACLUserState
	MergeACLUsers(states []ACLUserState) (int, error)
}

// ACLUserState is one user's last change: its ACL LIST line, or its
// deletion, and its stamp (gateway.ACLUserState).
type ACLUserState struct {
	Name, Line string // Line is "" when deleted
	At         uint64
	Origin     string
	Deleted    bool
}

// aclSyncEvery is how often a node compares ACL stamps.
const aclSyncEvery = time.Second

// SetACLSource connects the node to its gateway's users (call before the
// gateway serves clients). Changes made there carry this node's id.
func (n *Node) SetACLSource(src ACLSource) {
	src.SetACLOrigin(n.cfg.NodeID)
	n.aclSrc.Store(&src)
}

func (n *Node) aclSource() ACLSource {
	if p := n.aclSrc.Load(); p != nil {
		return *p
	}
	return nil
}

func (n *Node) aclSyncLoop(ctx context.Context) {
	t := time.NewTicker(aclSyncEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := n.syncACL(ctx); err != nil {
			n.cfg.Logger.Debug("acl sync", "err", err)
		}
	}
}

// syncACL merges the user states of a live member, picked at random among
// those whose digest differs from this node's.
func (n *Node) syncACL(ctx context.Context) error {
	src := n.aclSource()
	if src == nil {
		return nil
	}
	_, _, own := src.ACLStamp()
	all, _ := n.gossip.snapshot()
	var differ []Member
	for _, m := range all {
		if m.Alive && m.NodeID != n.cfg.NodeID && m.ACLSum != own && m.ACLSum != 0 {
			differ = append(differ, m)
		}
	}
	if len(differ) == 0 {
		return nil // a member with nothing stamped has nothing to give: it pulls from us
	}
	// At random: a member that holds nothing new for us (it lacks what we
	// have) must not shadow one that does.
	m := differ[rand.IntN(len(differ))]
	c, err := n.control(m.NodeID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := c.GetUsers(ctx, &adminv1.GetUsersRequest{})
	if err != nil {
		return err
	}
	states := make([]ACLUserState, len(resp.GetStates()))
	for i, st := range resp.GetStates() {
		states[i] = ACLUserState{Name: st.GetName(), Line: st.GetLine(), Deleted: st.GetDeleted(),
			At: st.GetStampMs(), Origin: st.GetStampOrigin()}
	}
	_, err = src.MergeACLUsers(states)
	return err
}

// GetUsers implements NodeControl: this node's user states (and, for the
// record, its users as ACL LIST lines with its newest stamp).
func (c *controlServer) GetUsers(ctx context.Context, req *adminv1.GetUsersRequest) (*adminv1.GetUsersResponse, error) {
	src := c.n.aclSource()
	if src == nil {
		return &adminv1.GetUsersResponse{}, nil
	}
	at, origin, _ := src.ACLStamp()
	resp := &adminv1.GetUsersResponse{StampMs: at, StampOrigin: origin}
	for _, st := range src.ACLStates() {
		resp.States = append(resp.States, &adminv1.UserState{Name: st.Name, Line: st.Line, Deleted: st.Deleted,
			StampMs: st.At, StampOrigin: st.Origin})
		if !st.Deleted {
			resp.Users = append(resp.Users, st.Line)
		}
	}
	return resp, nil
}
