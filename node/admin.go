package node

import (
	"context"
	"errors"
	"io"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/slots"
)

// adminServer serves raftcache.admin.v1.Admin. Any node accepts any call:
// calls that need a shard's leader are forwarded to it over NodeControl,
// and long operations run on this node (ops.go).
type adminServer struct {
	adminv1.UnimplementedAdminServer
	n *Node
}

// describeTimeout bounds the per-shard leader queries of DescribeCluster;
// a shard whose leader does not answer in time is described from gossip.
const describeTimeout = 2 * time.Second

func (a *adminServer) DescribeCluster(ctx context.Context, _ *adminv1.DescribeClusterRequest) (*adminv1.DescribeClusterResponse, error) {
	return a.n.describe(ctx)
}

func (n *Node) describe(ctx context.Context) (*adminv1.DescribeClusterResponse, error) {
	n.refreshView()
	v := n.view.Load()
	resp := &adminv1.DescribeClusterResponse{AnsweredBy: n.cfg.NodeID, SlotsAssigned: uint32(v.smap.Assigned())}
	ids := map[int]bool{}
	for s := range v.shards {
		ids[s] = true
	}
	for _, s := range v.smap.Shards() {
		ids[int(s)] = true
	}
	var shardIDs []int
	for s := range ids {
		shardIDs = append(shardIDs, s)
	}
	sort.Ints(shardIDs)

	// Ask every shard's leader for its Raft view, in parallel.
	statuses := make([]*adminv1.NodeStatusResponse, len(shardIDs))
	var wg sync.WaitGroup
	qctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	for i, s := range shardIDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			leader, ok := n.findLeader(qctx, s)
			if !ok {
				return
			}
			c, err := n.control(leader.NodeID)
			if err != nil {
				return
			}
			if st, err := c.NodeStatus(qctx, &adminv1.NodeStatusRequest{}); err == nil && st.GetLeader() && int(st.GetShard()) == s {
				statuses[i] = st
			}
		}()
	}
	wg.Wait()

	nonvoter := map[string]bool{}
	for i, s := range shardIDs {
		rs := v.smap.Ranges(slots.ShardID(s))
		sh := &adminv1.Shard{Id: int32(s), Keys: -1, Slots: toPBRanges(rs), SlotCount: uint32(rangesLen(rs))}
		if m, ok := v.leaders[s]; ok {
			sh.Leader = m.NodeID
			sh.Term = m.Term
		}
		if st := statuses[i]; st != nil {
			sh.Leader, sh.Term, sh.CommitIndex, sh.Keys = st.GetNode(), st.GetTerm(), st.GetCommitIndex(), st.GetKeys()
			for _, srv := range st.GetServers() {
				sh.Members = append(sh.Members, srv.GetId())
				if srv.GetSuffrage() == adminv1.Suffrage_SUFFRAGE_NONVOTER {
					nonvoter[srv.GetId()] = true
				}
			}
		} else {
			for _, m := range v.shards[s] {
				sh.Members = append(sh.Members, m.NodeID)
			}
		}
		sort.Strings(sh.Members)
		resp.Shards = append(resp.Shards, sh)
	}
	for _, m := range v.members {
		// A node with a TLS port beside its plaintext one is named by the
		// TLS port: the admin API of such a cluster speaks TLS, and
		// raftcachectl's RESP connections (acl, snapshot restore) use the
		// same TLS settings as its gRPC ones.
		respAddr := m.RESP
		if a := m.tlsAddr(); a != "" {
			respAddr = a
		}
		nd := &adminv1.Node{
			Id: m.NodeID, ClusterId: ClusterID(m.NodeID), Az: m.AZ, RespAddr: respAddr, RaftAddr: m.Raft,
			GossipAddr: m.Gossip, GrpcAddr: m.GRPC, Shard: int32(m.Shard), Alive: m.Alive, AppliedIndex: m.Applied,
		}
		switch {
		case m.Shard < 0 && !m.Spare:
			nd.Shard = -1 // still forming (UNSPECIFIED role)
		case m.Shard < 0:
			nd.Role = adminv1.NodeRole_NODE_ROLE_SPARE
			nd.Shard = -1
			if m.Alive {
				resp.Spares = append(resp.Spares, m.NodeID)
			}
		case v.leaders[m.Shard].NodeID == m.NodeID:
			nd.Role = adminv1.NodeRole_NODE_ROLE_LEADER
		case nonvoter[m.NodeID]:
			nd.Role = adminv1.NodeRole_NODE_ROLE_NONVOTER
		default:
			nd.Role = adminv1.NodeRole_NODE_ROLE_REPLICA
		}
		resp.Nodes = append(resp.Nodes, nd)
	}
	return resp, nil
}

func toPBRanges(rs []slots.Range) []*adminv1.SlotRange {
	out := make([]*adminv1.SlotRange, 0, len(rs))
	for _, r := range rs {
		out = append(out, &adminv1.SlotRange{Start: uint32(r.Start), End: uint32(r.End)})
	}
	return out
}

func rangesLen(rs []slots.Range) int {
	total := 0
	for _, r := range rs {
		total += r.Len()
	}
	return total
}

func (a *adminServer) Failover(ctx context.Context, req *adminv1.FailoverRequest) (*adminv1.FailoverResponse, error) {
	return a.n.failover(ctx, int(req.GetShard()), req.GetTargetNode())
}

func (a *adminServer) AddReplica(ctx context.Context, req *adminv1.AddReplicaRequest) (*adminv1.AddReplicaResponse, error) {
	o, node, err := a.n.startAddReplica(ctx, int(req.GetShard()), req.GetNode())
	if err != nil {
		return nil, err
	}
	pb, _ := o.snapshot()
	return &adminv1.AddReplicaResponse{Operation: pb, Node: node}, nil
}

func (a *adminServer) RemoveReplica(ctx context.Context, req *adminv1.RemoveReplicaRequest) (*adminv1.RemoveReplicaResponse, error) {
	o, err := a.n.startRemoveReplica(ctx, int(req.GetShard()), req.GetNode())
	if err != nil {
		return nil, err
	}
	pb, _ := o.snapshot()
	return &adminv1.RemoveReplicaResponse{Operation: pb}, nil
}

func (a *adminServer) AddShard(ctx context.Context, req *adminv1.AddShardRequest) (*adminv1.AddShardResponse, error) {
	o, shard, nodes, err := a.n.startAddShard(ctx, req)
	if err != nil {
		return nil, err
	}
	pb, _ := o.snapshot()
	return &adminv1.AddShardResponse{Operation: pb, Shard: int32(shard), Nodes: nodes}, nil
}

func (a *adminServer) RemoveShard(ctx context.Context, req *adminv1.RemoveShardRequest) (*adminv1.RemoveShardResponse, error) {
	o, err := a.n.startRemoveShard(ctx, req)
	if err != nil {
		return nil, err
	}
	pb, _ := o.snapshot()
	return &adminv1.RemoveShardResponse{Operation: pb}, nil
}

func (a *adminServer) MigrateSlots(ctx context.Context, req *adminv1.MigrateSlotsRequest) (*adminv1.MigrateSlotsResponse, error) {
	o, err := a.n.startMigrateSlots(ctx, req)
	if err != nil {
		return nil, err
	}
	pb, _ := o.snapshot()
	return &adminv1.MigrateSlotsResponse{Operation: pb}, nil
}

func (a *adminServer) Rebalance(ctx context.Context, req *adminv1.RebalanceRequest) (*adminv1.RebalanceResponse, error) {
	o, plan, err := a.n.startRebalance(ctx, req)
	if err != nil {
		return nil, err
	}
	resp := &adminv1.RebalanceResponse{Plan: plan}
	if o != nil {
		resp.Operation, _ = o.snapshot()
	}
	return resp, nil
}

// Operations live on the node that runs them; other nodes forward.

func (a *adminServer) GetOperation(ctx context.Context, req *adminv1.GetOperationRequest) (*adminv1.GetOperationResponse, error) {
	owner, err := opOwner(req.GetId())
	if err != nil {
		return nil, err
	}
	if owner != a.n.cfg.NodeID {
		c, err := a.n.adminClient(owner)
		if err != nil {
			return nil, status.Errorf(codes.NotFound, "operation %s: %v", req.GetId(), err)
		}
		return c.GetOperation(ctx, req)
	}
	o, ok := a.n.lookupOp(req.GetId())
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no operation %s (a node forgets its operations when it restarts)", req.GetId())
	}
	pb, _ := o.snapshot()
	return &adminv1.GetOperationResponse{Operation: pb}, nil
}

func (a *adminServer) ListOperations(ctx context.Context, req *adminv1.ListOperationsRequest) (*adminv1.ListOperationsResponse, error) {
	n := a.n
	resp := &adminv1.ListOperationsResponse{Operations: n.listOps()}
	if !req.GetAllNodes() {
		return resp, nil
	}
	v := n.view.Load()
	var mu sync.Mutex
	var wg sync.WaitGroup
	qctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	for _, m := range v.members {
		if m.NodeID == n.cfg.NodeID || !m.Alive || m.GRPC == "" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := n.adminClient(m.NodeID)
			if err != nil {
				return
			}
			r, err := c.ListOperations(qctx, &adminv1.ListOperationsRequest{})
			if err != nil {
				return
			}
			mu.Lock()
			resp.Operations = append(resp.Operations, r.GetOperations()...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.SliceStable(resp.Operations, func(i, j int) bool {
		return resp.Operations[i].GetStarted().AsTime().Before(resp.Operations[j].GetStarted().AsTime())
	})
	return resp, nil
}

// watchInterval is how often a watcher gets an update while nothing
// changed (rates and ETA move with time).
const watchInterval = time.Second

func (a *adminServer) WatchOperation(req *adminv1.WatchOperationRequest, stream adminv1.Admin_WatchOperationServer) error {
	n := a.n
	owner, err := opOwner(req.GetId())
	if err != nil {
		return err
	}
	ctx := stream.Context()
	if owner != n.cfg.NodeID {
		c, err := n.adminClient(owner)
		if err != nil {
			return status.Errorf(codes.NotFound, "operation %s: %v", req.GetId(), err)
		}
		up, err := c.WatchOperation(ctx, req)
		if err != nil {
			return err
		}
		for {
			msg, err := up.Recv()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			if err := stream.Send(msg); err != nil {
				return err
			}
		}
	}
	o, ok := n.lookupOp(req.GetId())
	if !ok {
		return status.Errorf(codes.NotFound, "no operation %s (a node forgets its operations when it restarts)", req.GetId())
	}
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
	for {
		pb, changed := o.snapshot()
		if err := stream.Send(&adminv1.WatchOperationResponse{Operation: pb}); err != nil {
			return err
		}
		if pb.GetState() != adminv1.OperationState_OPERATION_STATE_RUNNING {
			return nil
		}
		select {
		case <-changed:
			// Coalesce bursts of progress updates, but send a new step
			// or the end at once: a short step would otherwise never
			// show in the watcher's progress lines.
			if cur, _ := o.snapshot(); cur.GetStep() != pb.GetStep() || cur.GetState() != pb.GetState() {
				continue
			}
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				return status.FromContextError(ctx.Err()).Err()
			}
		case <-tick.C:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-n.runCtx.Done():
			return status.Errorf(codes.Unavailable, "node %s is shutting down", n.cfg.NodeID)
		}
	}
}

// reservations are nodes reserved by running operations of this node (a spare
// being added), so two operations never pick the same one.
type reservations struct {
	mu    sync.Mutex
	nodes map[string]string // node -> op id
}

func (r *reservations) reserve(ids []string, op string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if by, ok := r.nodes[id]; ok {
			return status.Errorf(codes.FailedPrecondition, "node %s is in use by operation %s", id, by)
		}
	}
	if r.nodes == nil {
		r.nodes = map[string]string{}
	}
	for _, id := range ids {
		r.nodes[id] = op
	}
	return nil
}

func (r *reservations) release(ids []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		delete(r.nodes, id)
	}
}

func (r *reservations) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.nodes[id]
	return ok
}

// spares returns the alive spare nodes not reserved, sorted by id.
func (n *Node) spares() []Member {
	v := n.view.Load()
	if v == nil {
		return nil
	}
	var out []Member
	for _, m := range v.members {
		if m.Alive && m.Shard < 0 && m.Spare && !n.reserved.has(m.NodeID) {
			out = append(out, m)
		}
	}
	return out
}

// pickSpares picks count spares spread over AZs, preferring AZs not in
// avoid (the AZs a shard already has) and then the least used AZs.
func pickSpares(spares []Member, count int, avoid map[string]int) []Member {
	used := map[string]int{}
	for az, c := range avoid {
		used[az] = c
	}
	pool := append([]Member(nil), spares...)
	var out []Member
	for len(out) < count && len(pool) > 0 {
		best := 0
		for i := 1; i < len(pool); i++ {
			a, b := pool[i], pool[best]
			if used[a.AZ] != used[b.AZ] {
				if used[a.AZ] < used[b.AZ] {
					best = i
				}
				continue
			}
			if a.NodeID < b.NodeID {
				best = i
			}
		}
		out = append(out, pool[best])
		used[pool[best].AZ]++
		pool = append(pool[:best], pool[best+1:]...)
	}
	return out
}

func memberIDs(ms []Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.NodeID
	}
	return out
}

// Spares returns the ids of the alive spare nodes this node knows.
func (n *Node) Spares() []string {
	if n.view.Load() == nil {
		return nil
	}
	var out []string
	for _, m := range n.view.Load().members {
		if m.Alive && m.Shard < 0 && m.Spare {
			out = append(out, m.NodeID)
		}
	}
	return out
}

// AliveNodes returns how many nodes (this one included) gossip reports alive.
func (n *Node) AliveNodes() int {
	v := n.view.Load()
	if v == nil {
		return 1
	}
	c := 0
	for _, m := range v.members {
		if m.Alive {
			c++
		}
	}
	return c
}

// ShardSizes returns, per shard, how many alive members this node's gossip
// view shows (what its CLUSTER SLOTS lists for the shard).
func (n *Node) ShardSizes() map[int]int {
	out := map[int]int{}
	v := n.view.Load()
	if v == nil {
		return out
	}
	for _, m := range v.members {
		if m.Alive && m.Shard >= 0 {
			out[m.Shard]++
		}
	}
	return out
}

// IsSpare reports whether this node has no shard and waits for one.
func (n *Node) IsSpare() bool { return n.spare.Load() }
