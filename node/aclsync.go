package node

import (
	"context"
	"time"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
)

// ACL users alike on every node (the gateway's aclsync.go has the why).
// Each node publishes the stamp of its users' last change in gossip; once a
// second a node compares the live members' stamps with its own and, if one
// is newer, fetches that node's users over gRPC (NodeControl.GetUsers) and
// installs them. A node that was down or cut off during a change catches up
// within about a second of rejoining; a change made on two nodes at once
// ends with the newer one everywhere.

// ACLSource is the gateway's side: this node's users and their stamp.
type ACLSource interface {
	SetACLOrigin(origin string)
	ACLStamp() (at uint64, origin string)
	ACLUsers() (lines []string, at uint64, origin string)
	ReplaceACLUsers(lines []string, at uint64, origin string) (bool, error)
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

// stampNewer orders ACL stamps as gateway.ACLStamp.Newer does.
func stampNewer(at uint64, origin string, thanAt uint64, thanOrigin string) bool {
	if at != thanAt {
		return at > thanAt
	}
	return origin > thanOrigin
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

// syncACL takes the users of the live member with the newest stamp, if it
// is newer than this node's.
func (n *Node) syncACL(ctx context.Context) error {
	src := n.aclSource()
	if src == nil {
		return nil
	}
	ownAt, ownOrigin := src.ACLStamp()
	all, _ := n.gossip.snapshot()
	var best Member
	for _, m := range all {
		if m.Alive && m.NodeID != n.cfg.NodeID && stampNewer(m.ACLAt, m.ACLOrigin, best.ACLAt, best.ACLOrigin) {
			best = m
		}
	}
	if best.NodeID == "" || !stampNewer(best.ACLAt, best.ACLOrigin, ownAt, ownOrigin) {
		return nil
	}
	c, err := n.control(best.NodeID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := c.GetUsers(ctx, &adminv1.GetUsersRequest{})
	if err != nil {
		return err
	}
	_, err = src.ReplaceACLUsers(resp.GetUsers(), resp.GetStampMs(), resp.GetStampOrigin())
	return err
}

// GetUsers implements NodeControl: this node's users and their stamp.
func (c *controlServer) GetUsers(ctx context.Context, req *adminv1.GetUsersRequest) (*adminv1.GetUsersResponse, error) {
	src := c.n.aclSource()
	if src == nil {
		return &adminv1.GetUsersResponse{}, nil
	}
	lines, at, origin := src.ACLUsers()
	return &adminv1.GetUsersResponse{Users: lines, StampMs: at, StampOrigin: origin}, nil
}
