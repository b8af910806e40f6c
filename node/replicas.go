package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// Replica management: a spare node joins a shard (JoinShard), the shard's
// leader adds it as a non-voter, it catches up (from a snapshot when the
// leader's log is compacted), and it is promoted to voter. Removal is the
// reverse: RemoveServer on the leader (after moving leadership away), then
// the node closes its replica, moves its Raft directory aside and becomes
// a spare again. Design §5.

const (
	// MaxShardMembers is the largest Raft group (1 leader + 5 replicas).
	MaxShardMembers = 6
	// caughtUpLag is how many log entries a replica may trail its leader's
	// commit index and still count as caught up (promotion, failover).
	caughtUpLag = 64
	// catchUpTimeout bounds how long AddReplica waits for a new replica to
	// catch up before giving up (it stays a non-voter; rerun to resume).
	catchUpTimeout    = 10 * time.Minute
	membershipTimeout = 10 * time.Second
)

// controlServer serves NodeControl: the node-to-node side of the admin API.
type controlServer struct {
	adminv1.UnimplementedNodeControlServer
	n *Node
}

func (c *controlServer) NodeStatus(ctx context.Context, req *adminv1.NodeStatusRequest) (*adminv1.NodeStatusResponse, error) {
	return c.n.nodeStatus(req.GetSlotKeys(), req.GetSlotBytes())
}

func (n *Node) nodeStatus(slotKeys, slotBytes bool) (*adminv1.NodeStatusResponse, error) {
	resp := &adminv1.NodeStatusResponse{Node: n.cfg.NodeID, Shard: -1, AppliedIndex: n.fsm.AppliedIndex()}
	f := n.form.Load()
	r := n.rep()
	if f == nil || r == nil {
		return resp, nil
	}
	resp.Shard = int32(f.Shard)
	rs, ver := n.owned()
	resp.SlotClaim, resp.SlotClaimVersion = slots.FormatRanges(rs), ver
	resp.LeaderId, _ = r.Leader()
	st := r.Stats()
	resp.Term, _ = strconv.ParseUint(st["term"], 10, 64)
	resp.LastIndex, _ = strconv.ParseUint(st["last_log_index"], 10, 64)
	resp.CommitIndex, _ = strconv.ParseUint(st["commit_index"], 10, 64)
	if !r.IsLeader() {
		return resp, nil
	}
	resp.Leader = true
	cf := r.Raft().GetConfiguration()
	if err := cf.Error(); err != nil {
		return nil, status.Errorf(codes.Unavailable, "node %s: raft configuration: %v", n.cfg.NodeID, err)
	}
	unreach := r.UnreachablePeers()
	for _, s := range cf.Configuration().Servers {
		suf := adminv1.Suffrage_SUFFRAGE_VOTER
		if s.Suffrage != raft.Voter {
			suf = adminv1.Suffrage_SUFFRAGE_NONVOTER
		}
		srv := &adminv1.RaftServer{Id: string(s.ID), Address: string(s.Address), Suffrage: suf}
		if last, ok := unreach[string(s.ID)]; ok {
			srv.UnreachableSince = timestamppb.New(last)
		}
		resp.Servers = append(resp.Servers, srv)
	}
	n.fsm.View(func(db *raftfsm.DB) {
		resp.Keys = int64(db.Len())
		if slotKeys {
			resp.SlotKeys = make([]uint32, slots.Count)
			for s := range resp.SlotKeys {
				resp.SlotKeys[s] = uint32(db.CountInSlot(slots.Slot(s)))
			}
		}
		if slotBytes {
			resp.SlotBytes = db.SlotMemory()
		}
	})
	return resp, nil
}

func (c *controlServer) JoinShard(ctx context.Context, req *adminv1.JoinShardRequest) (*adminv1.JoinShardResponse, error) {
	if req.GetShard() < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "bad shard id %d", req.GetShard())
	}
	var boot []raftServer
	self := false
	for _, s := range req.GetBootstrap() {
		if s.GetId() == "" || s.GetAddress() == "" {
			return nil, status.Error(codes.InvalidArgument, "bootstrap server without id or address")
		}
		boot = append(boot, raftServer{ID: s.GetId(), Address: s.GetAddress()})
		self = self || s.GetId() == c.n.cfg.NodeID
	}
	if len(boot) > 0 && !self {
		return nil, status.Errorf(codes.InvalidArgument, "bootstrap list of shard %d does not include node %s", req.GetShard(), c.n.cfg.NodeID)
	}
	if req.GetSlots() != "" {
		if _, err := slots.ParseRanges(req.GetSlots()); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "slots %q: %v", req.GetSlots(), err)
		}
	}
	if err := c.n.joinShard(int(req.GetShard()), boot, req.GetSlots()); err != nil {
		return nil, err
	}
	return &adminv1.JoinShardResponse{}, nil
}

func (c *controlServer) LeaveShard(ctx context.Context, req *adminv1.LeaveShardRequest) (*adminv1.LeaveShardResponse, error) {
	if err := c.n.leaveShard(int(req.GetShard()), req.GetDissolve()); err != nil {
		return nil, err
	}
	return &adminv1.LeaveShardResponse{}, nil
}

// leaderReplica checks that this node leads shard and returns its Raft.
func (n *Node) leaderRaft(shard int) (*raft.Raft, error) {
	f, r := n.form.Load(), n.rep()
	if f == nil || r == nil || f.Shard != shard {
		return nil, status.Errorf(codes.Unavailable, "node %s does not replicate shard %d", n.cfg.NodeID, shard)
	}
	if !r.IsLeader() {
		return nil, status.Errorf(codes.Unavailable, "node %s is not the leader of shard %d", n.cfg.NodeID, shard)
	}
	return r.Raft(), nil
}

func raftErr(what string, err error) error {
	if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) || errors.Is(err, raft.ErrLeadershipTransferInProgress) {
		return status.Errorf(codes.Unavailable, "%s: %v", what, err)
	}
	if errors.Is(err, raft.ErrRaftShutdown) {
		return status.Errorf(codes.Unavailable, "%s: %v", what, err)
	}
	return status.Errorf(codes.Internal, "%s: %v", what, err)
}

func (c *controlServer) ChangeMembership(ctx context.Context, req *adminv1.ChangeMembershipRequest) (*adminv1.ChangeMembershipResponse, error) {
	n := c.n
	shard, id := int(req.GetShard()), req.GetNode()
	if id == "" {
		return nil, status.Error(codes.InvalidArgument, "node id is required")
	}
	ra, err := n.leaderRaft(shard)
	if err != nil {
		return nil, err
	}
	cf := ra.GetConfiguration()
	if err := cf.Error(); err != nil {
		return nil, raftErr("raft configuration", err)
	}
	var cur *raft.Server
	servers := cf.Configuration().Servers
	for i := range servers {
		if string(servers[i].ID) == id {
			cur = &servers[i]
		}
	}
	var f raft.IndexFuture
	switch req.GetChange() {
	case adminv1.MembershipChange_MEMBERSHIP_CHANGE_ADD_NONVOTER:
		if cur != nil {
			return &adminv1.ChangeMembershipResponse{Index: cf.Index()}, nil // already a member
		}
		if len(servers) >= MaxShardMembers {
			return nil, status.Errorf(codes.FailedPrecondition, "shard %d already has %d members (the maximum)", shard, MaxShardMembers)
		}
		if req.GetAddress() == "" {
			return nil, status.Error(codes.InvalidArgument, "raft address is required to add a node")
		}
		f = ra.AddNonvoter(raft.ServerID(id), raft.ServerAddress(req.GetAddress()), 0, membershipTimeout)
	case adminv1.MembershipChange_MEMBERSHIP_CHANGE_PROMOTE:
		if cur == nil {
			return nil, status.Errorf(codes.FailedPrecondition, "node %s is not a member of shard %d", id, shard)
		}
		if cur.Suffrage == raft.Voter {
			return &adminv1.ChangeMembershipResponse{Index: cf.Index()}, nil
		}
		f = ra.AddVoter(cur.ID, cur.Address, 0, membershipTimeout)
	case adminv1.MembershipChange_MEMBERSHIP_CHANGE_REMOVE:
		if cur == nil {
			return &adminv1.ChangeMembershipResponse{Index: cf.Index()}, nil
		}
		if id == n.cfg.NodeID {
			return nil, status.Errorf(codes.FailedPrecondition, "node %s leads shard %d: transfer leadership before removing it", id, shard)
		}
		f = ra.RemoveServer(cur.ID, 0, membershipTimeout)
	default:
		return nil, status.Errorf(codes.InvalidArgument, "unknown membership change %v", req.GetChange())
	}
	if err := f.Error(); err != nil {
		return nil, raftErr(fmt.Sprintf("shard %d: %s %s", shard, req.GetChange(), id), err)
	}
	n.cfg.Logger.Info("raft membership changed", "shard_id", shard, "change", req.GetChange().String(), "node", id, "index", f.Index())
	return &adminv1.ChangeMembershipResponse{Index: f.Index()}, nil
}

func (c *controlServer) TransferLeadership(ctx context.Context, req *adminv1.TransferLeadershipRequest) (*adminv1.TransferLeadershipResponse, error) {
	n := c.n
	shard := int(req.GetShard())
	if _, err := n.leaderRaft(shard); err != nil {
		return nil, err
	}
	r := n.rep()
	if r == nil {
		return nil, status.Errorf(codes.Unavailable, "node %s left shard %d", n.cfg.NodeID, shard)
	}
	if req.GetTarget() == n.cfg.NodeID {
		return &adminv1.TransferLeadershipResponse{NewLeader: n.cfg.NodeID}, nil
	}
	tctx, cancel := context.WithTimeout(ctx, membershipTimeout)
	defer cancel()
	if err := r.LeadershipTransfer(tctx, req.GetTarget()); err != nil {
		return nil, status.Errorf(codes.Aborted, "shard %d: leadership transfer: %v", shard, err)
	}
	// Wait until this node knows the new leader.
	for {
		if id, _ := r.Leader(); id != "" && id != n.cfg.NodeID {
			return &adminv1.TransferLeadershipResponse{NewLeader: id}, nil
		}
		select {
		case <-tctx.Done():
			return nil, status.Errorf(codes.DeadlineExceeded, "shard %d: no new leader after the transfer", shard)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// joinShard makes this spare node a replica of shard: with bootstrap it
// founds the group with that voter list, without it starts empty and
// waits for the shard's leader to add it. The assignment is saved first,
// so a restart resumes the replica. Joining the shard it already
// replicates is a no-op.
func (n *Node) joinShard(shard int, bootstrap []raftServer, slotRanges string) error {
	n.memberMu.Lock()
	defer n.memberMu.Unlock()
	if f := n.form.Load(); f != nil {
		if f.Shard == shard {
			return nil
		}
		return status.Errorf(codes.FailedPrecondition, "node %s already replicates shard %d", n.cfg.NodeID, f.Shard)
	}
	if !n.spare.Load() {
		return status.Errorf(codes.FailedPrecondition, "node %s is not a spare (it is still forming a shard)", n.cfg.NodeID)
	}
	if hasState(n.raftDir()) {
		// Left over from a shard this node left (interrupted release).
		if err := n.moveAside(shard); err != nil {
			return status.Errorf(codes.Internal, "node %s: %v", n.cfg.NodeID, err)
		}
	}
	n.fsm.Reset()
	form := formation{Shard: shard, Slots: slotRanges, Joined: true, Bootstrap: bootstrap}
	if err := n.saveFormation(form); err != nil {
		return status.Errorf(codes.Internal, "node %s: %v", n.cfg.NodeID, err)
	}
	var voters []raft.Server
	for _, s := range bootstrap {
		voters = append(voters, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(s.ID), Address: raft.ServerAddress(s.Address)})
	}
	if err := n.startReplica(n.runCtx, form, voters); err != nil {
		return status.Errorf(codes.Internal, "%v", err)
	}
	n.cfg.Logger.Info("joined shard", "node_id", n.cfg.NodeID, "shard_id", shard, "founder", len(voters) > 0)
	n.publishSelf(nil)
	n.refreshView()
	return nil
}

// leaveShard closes this node's replica of shard (it has been removed from
// the group, or the whole shard is dissolved), records that the node is a
// spare, moves the Raft directory aside and empties the engine.
func (n *Node) leaveShard(shard int, dissolve bool) error {
	n.memberMu.Lock()
	defer n.memberMu.Unlock()
	f := n.form.Load()
	if f == nil {
		if n.spare.Load() {
			return nil // already left
		}
		return status.Errorf(codes.FailedPrecondition, "node %s has no shard yet", n.cfg.NodeID)
	}
	if f.Shard != shard {
		return status.Errorf(codes.FailedPrecondition, "node %s replicates shard %d, not %d", n.cfg.NodeID, f.Shard, shard)
	}
	r := n.rep()
	if r != nil && r.IsLeader() && !dissolve {
		return status.Errorf(codes.FailedPrecondition, "node %s leads shard %d: transfer leadership and remove it from the group first", n.cfg.NodeID, shard)
	}
	n.mu.Lock()
	n.replica = nil
	n.form.Store(nil)
	n.mu.Unlock()
	if r != nil {
		if err := r.Close(); err != nil {
			n.cfg.Logger.Warn("closing replica on leave", "shard_id", shard, "err", err)
		}
	}
	// The spare marker first: a crash before the move below leaves a spare
	// with a stale Raft directory, which joinShard moves aside.
	if err := n.saveFormation(formation{Shard: -1}); err != nil {
		return status.Errorf(codes.Internal, "node %s: %v", n.cfg.NodeID, err)
	}
	if err := n.moveAside(shard); err != nil {
		return status.Errorf(codes.Internal, "node %s: %v", n.cfg.NodeID, err)
	}
	n.fsm.Reset()
	n.spare.Store(true)
	n.cfg.Logger.Info("left shard: now a spare", "node_id", n.cfg.NodeID, "shard_id", shard)
	n.publishSelf(nil)
	n.refreshView()
	return nil
}

// moveAside renames the Raft directory to removed-shard<S>-<time>/raft.
func (n *Node) moveAside(shard int) error {
	if _, err := os.Stat(n.raftDir()); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	dir := filepath.Join(n.cfg.DataDir, fmt.Sprintf("removed-shard%d-%s", shard, time.Now().UTC().Format("20060102T150405.000000")))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("move raft dir aside: %w", err)
	}
	if err := os.Rename(n.raftDir(), filepath.Join(dir, "raft")); err != nil {
		return fmt.Errorf("move raft dir aside: %w", err)
	}
	return nil
}

// shardStatus asks shard's leader for its status (Raft configuration).
func (n *Node) shardStatus(ctx context.Context, shard int, slotKeys bool) (*adminv1.NodeStatusResponse, error) {
	return n.shardStatusReq(ctx, shard, &adminv1.NodeStatusRequest{SlotKeys: slotKeys})
}

// shardStatusReq asks shard's leader for its status.
func (n *Node) shardStatusReq(ctx context.Context, shard int, req *adminv1.NodeStatusRequest) (*adminv1.NodeStatusResponse, error) {
	var resp *adminv1.NodeStatusResponse
	err := n.onLeader(ctx, shard, func(ctx context.Context, c adminv1.NodeControlClient, leader Member) error {
		st, err := c.NodeStatus(ctx, req)
		if err != nil {
			return err
		}
		if !st.GetLeader() || int(st.GetShard()) != shard {
			return status.Errorf(codes.Unavailable, "node %s no longer leads shard %d", leader.NodeID, shard)
		}
		resp = st
		return nil
	})
	return resp, err
}

// nodeStatusOf asks node id for its status.
func (n *Node) nodeStatusOf(ctx context.Context, id string) (*adminv1.NodeStatusResponse, error) {
	c, err := n.control(id)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return c.NodeStatus(ctx, &adminv1.NodeStatusRequest{})
}

// knownShard checks that shard exists as far as this node knows.
func (n *Node) knownShard(shard int) error {
	v := n.view.Load()
	if v == nil || len(v.shards[shard]) == 0 {
		return status.Errorf(codes.InvalidArgument, "unknown shard %d", shard)
	}
	return nil
}

func findServer(st *adminv1.NodeStatusResponse, id string) *adminv1.RaftServer {
	for _, s := range st.GetServers() {
		if s.GetId() == id {
			return s
		}
	}
	return nil
}

// failover transfers shard's leadership to target, or without a target to
// a caught-up voter, preferring one in another AZ than the leader's.
func (n *Node) failover(ctx context.Context, shard int, target string) (*adminv1.FailoverResponse, error) {
	if err := n.knownShard(shard); err != nil {
		return nil, err
	}
	if _, ok := n.member(target); target != "" && !ok {
		return nil, status.Errorf(codes.InvalidArgument, "unknown node %q", target)
	}
	start := time.Now()
	st, err := n.shardStatus(ctx, shard, false)
	if err != nil {
		return nil, err
	}
	prev := st.GetNode()
	if target != "" {
		s := findServer(st, target)
		if s == nil || s.GetSuffrage() != adminv1.Suffrage_SUFFRAGE_VOTER {
			if _, ok := n.member(target); !ok {
				return nil, status.Errorf(codes.InvalidArgument, "unknown node %q", target)
			}
			return nil, status.Errorf(codes.InvalidArgument, "node %s is not a voting member of shard %d", target, shard)
		}
		if target == prev {
			return &adminv1.FailoverResponse{Shard: int32(shard), PreviousLeader: prev, NewLeader: prev, Took: durationpb.New(0)}, nil
		}
	} else {
		target, err = n.pickFailoverTarget(ctx, st)
		if err != nil {
			return nil, err
		}
	}
	var newLeader string
	err = n.onLeader(ctx, shard, func(ctx context.Context, c adminv1.NodeControlClient, leader Member) error {
		if leader.NodeID == target {
			newLeader = target
			return nil
		}
		resp, err := c.TransferLeadership(ctx, &adminv1.TransferLeadershipRequest{Shard: int32(shard), Target: target})
		if err != nil {
			return err
		}
		newLeader = resp.GetNewLeader()
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Wait until the new leader serves (it applied its term's no-op), so a
	// client retrying right after the call finds a working leader.
	deadline := time.Now().Add(membershipTimeout)
	for {
		ns, err := n.nodeStatusOf(ctx, newLeader)
		if err == nil && ns.GetLeader() {
			break
		}
		if time.Now().After(deadline) {
			return nil, status.Errorf(codes.DeadlineExceeded, "shard %d: %s did not take over leadership", shard, newLeader)
		}
		select {
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	n.cfg.Logger.Info("failover", "shard_id", shard, "from", prev, "to", newLeader)
	return &adminv1.FailoverResponse{Shard: int32(shard), PreviousLeader: prev, NewLeader: newLeader, Took: durationpb.New(time.Since(start))}, nil
}

// pickFailoverTarget chooses a caught-up voter of the leader's shard,
// preferring another AZ than the leader's (ElastiCache's TestFailover).
func (n *Node) pickFailoverTarget(ctx context.Context, leaderStatus *adminv1.NodeStatusResponse) (string, error) {
	leaderAZ := ""
	if m, ok := n.member(leaderStatus.GetNode()); ok {
		leaderAZ = m.AZ
	}
	type cand struct {
		id      string
		otherAZ bool
		applied uint64
	}
	var cands []cand
	for _, s := range leaderStatus.GetServers() {
		if s.GetId() == leaderStatus.GetNode() || s.GetSuffrage() != adminv1.Suffrage_SUFFRAGE_VOTER {
			continue
		}
		m, ok := n.member(s.GetId())
		if !ok || !m.Alive {
			continue
		}
		ns, err := n.nodeStatusOf(ctx, s.GetId())
		if err != nil || ns.GetAppliedIndex()+caughtUpLag < leaderStatus.GetCommitIndex() {
			continue
		}
		cands = append(cands, cand{id: s.GetId(), otherAZ: m.AZ != leaderAZ, applied: ns.GetAppliedIndex()})
	}
	if len(cands) == 0 {
		return "", status.Errorf(codes.FailedPrecondition, "shard %d has no caught-up replica to fail over to", leaderStatus.GetShard())
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.otherAZ != b.otherAZ {
			return a.otherAZ
		}
		if a.applied != b.applied {
			return a.applied > b.applied
		}
		return a.id < b.id
	})
	return cands[0].id, nil
}

// startAddReplica validates an AddReplica call and starts its operation.
func (n *Node) startAddReplica(ctx context.Context, shard int, node string) (*op, string, error) {
	if err := n.knownShard(shard); err != nil {
		return nil, "", err
	}
	if _, ok := n.member(node); node != "" && !ok {
		return nil, "", status.Errorf(codes.InvalidArgument, "unknown node %q", node)
	}
	st, err := n.shardStatus(ctx, shard, false)
	if err != nil {
		return nil, "", err
	}
	var target Member
	if node != "" {
		m, _ := n.member(node)
		if !m.Alive {
			return nil, "", status.Errorf(codes.FailedPrecondition, "node %s is not alive", node)
		}
		if s := findServer(st, node); s != nil && s.GetSuffrage() == adminv1.Suffrage_SUFFRAGE_VOTER {
			return nil, "", status.Errorf(codes.AlreadyExists, "node %s is already a voting member of shard %d", node, shard)
		}
		if m.Shard >= 0 && m.Shard != shard {
			return nil, "", status.Errorf(codes.FailedPrecondition, "node %s replicates shard %d; remove it there first", node, m.Shard)
		}
		if m.Shard < 0 && !m.Spare {
			return nil, "", status.Errorf(codes.FailedPrecondition, "node %s is not a spare yet (still forming)", node)
		}
		target = m
	} else {
		azs := map[string]int{}
		for _, s := range st.GetServers() {
			if m, ok := n.member(s.GetId()); ok {
				azs[m.AZ]++
			}
		}
		picked := pickSpares(n.spares(), 1, azs)
		if len(picked) == 0 {
			return nil, "", status.Errorf(codes.FailedPrecondition, "no spare nodes: start a node with --spare (or dev --spares N) first")
		}
		target = picked[0]
	}
	if findServer(st, target.NodeID) == nil && len(st.GetServers()) >= MaxShardMembers {
		return nil, "", status.Errorf(codes.FailedPrecondition, "shard %d already has %d members (the maximum)", shard, MaxShardMembers)
	}
	o := n.newOp(adminv1.OperationKind_OPERATION_KIND_ADD_REPLICA, shard, fmt.Sprintf("add node %s (%s) to shard %d", target.NodeID, target.AZ, shard))
	if err := n.reserved.reserve([]string{target.NodeID}, o.id()); err != nil {
		o.finish(err)
		return nil, "", err
	}
	n.run(o, func(ctx context.Context, o *op) error {
		defer n.reserved.release([]string{target.NodeID})
		return n.addReplica(ctx, o, shard, target)
	})
	return o, target.NodeID, nil
}

// addReplica: the node starts an empty replica, the leader adds it as a
// non-voter, it catches up, the leader promotes it.
func (n *Node) addReplica(ctx context.Context, o *op, shard int, m Member) error {
	o.setStep("starting a replica of shard %d on %s", shard, m.NodeID)
	c, err := n.control(m.NodeID)
	if err != nil {
		return err
	}
	v := n.view.Load()
	jctx, cancel := context.WithTimeout(ctx, membershipTimeout)
	_, err = c.JoinShard(jctx, &adminv1.JoinShardRequest{Shard: int32(shard), Slots: slots.FormatRanges(v.smap.Ranges(slots.ShardID(shard)))})
	cancel()
	if err != nil {
		return fmt.Errorf("node %s: join shard %d: %w", m.NodeID, shard, err)
	}
	o.setStep("adding %s to shard %d as a non-voter", m.NodeID, shard)
	if err := n.changeMembership(ctx, shard, adminv1.MembershipChange_MEMBERSHIP_CHANGE_ADD_NONVOTER, m); err != nil {
		return err
	}
	if err := n.waitCaughtUp(ctx, o, shard, m.NodeID); err != nil {
		return err
	}
	o.setStep("promoting %s to voter", m.NodeID)
	if err := n.changeMembership(ctx, shard, adminv1.MembershipChange_MEMBERSHIP_CHANGE_PROMOTE, m); err != nil {
		return err
	}
	n.waitGossipShard(ctx, o, shard, m.NodeID)
	return nil
}

// waitGossipShard waits (up to membershipTimeout) until this node's gossip
// view shows node in shard, so that DescribeCluster and CLUSTER SLOTS here
// agree with the operation once it reports done: the node publishes its
// shard when it joins, but the update can reach this node after a fast
// catch-up has finished. The membership change itself is done already; a
// view that stays behind is logged, not an error.
func (n *Node) waitGossipShard(ctx context.Context, o *op, shard int, node string) {
	o.setStep("waiting for gossip to show %s in shard %d", node, shard)
	deadline := time.Now().Add(membershipTimeout)
	for {
		if m, ok := n.member(node); ok && m.Shard == shard {
			return
		}
		if time.Now().After(deadline) {
			n.cfg.Logger.Warn("gossip does not show the added replica in its shard yet", "node", node, "shard", shard)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (n *Node) changeMembership(ctx context.Context, shard int, change adminv1.MembershipChange, m Member) error {
	err := n.onLeader(ctx, shard, func(ctx context.Context, c adminv1.NodeControlClient, _ Member) error {
		_, err := c.ChangeMembership(ctx, &adminv1.ChangeMembershipRequest{Shard: int32(shard), Change: change, Node: m.NodeID, Address: m.Raft})
		return err
	})
	if err != nil {
		return fmt.Errorf("shard %d: %s %s: %w", shard, change, m.NodeID, err)
	}
	return nil
}

// waitCaughtUp waits until node has applied what the leader had committed
// when the wait began and trails the leader's commit index by at most
// caughtUpLag entries.
func (n *Node) waitCaughtUp(ctx context.Context, o *op, shard int, node string) error {
	ctx, cancel := context.WithTimeout(ctx, catchUpTimeout)
	defer cancel()
	var first uint64
	for {
		st, err := n.shardStatus(ctx, shard, false)
		if err != nil {
			return fmt.Errorf("shard %d: waiting for %s to catch up: %w", shard, node, err)
		}
		if first == 0 {
			first = st.GetCommitIndex()
		}
		ns, err := n.nodeStatusOf(ctx, node)
		if err == nil && int(ns.GetShard()) != shard {
			// It dropped the replica (e.g. it judged itself removed, or
			// restarted as a spare): waiting would only run into the
			// timeout; a rerun starts it again.
			return fmt.Errorf("shard %d: %s no longer runs a replica of the shard while catching up (run add-replica again)", shard, node)
		}
		if err == nil {
			applied := ns.GetAppliedIndex()
			o.setStep("%s catching up: applied index %d of %d", node, applied, st.GetCommitIndex())
			if applied >= first && applied+caughtUpLag >= st.GetCommitIndex() {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("shard %d: %s did not catch up in %v (it stays a non-voter; run add-replica again to resume): %w", shard, node, catchUpTimeout, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// startRemoveReplica validates a RemoveReplica call and starts it.
func (n *Node) startRemoveReplica(ctx context.Context, shard int, node string) (*op, error) {
	if node == "" {
		return nil, status.Error(codes.InvalidArgument, "node is required")
	}
	if err := n.knownShard(shard); err != nil {
		return nil, err
	}
	m, ok := n.member(node)
	if !ok {
		return nil, status.Errorf(codes.InvalidArgument, "unknown node %q", node)
	}
	st, err := n.shardStatus(ctx, shard, false)
	if err != nil {
		return nil, err
	}
	inGroup := findServer(st, node) != nil
	if !inGroup && m.Shard != shard {
		return nil, status.Errorf(codes.InvalidArgument, "node %s is not a member of shard %d", node, shard)
	}
	if inGroup {
		voters := 0
		for _, s := range st.GetServers() {
			if s.GetSuffrage() == adminv1.Suffrage_SUFFRAGE_VOTER {
				voters++
			}
		}
		if voters <= 1 && findServer(st, node).GetSuffrage() == adminv1.Suffrage_SUFFRAGE_VOTER {
			return nil, status.Errorf(codes.FailedPrecondition, "node %s is the last voter of shard %d (remove the shard instead)", node, shard)
		}
	}
	o := n.newOp(adminv1.OperationKind_OPERATION_KIND_REMOVE_REPLICA, shard, fmt.Sprintf("remove node %s from shard %d", node, shard))
	n.run(o, func(ctx context.Context, o *op) error { return n.removeReplica(ctx, o, shard, m, inGroup) })
	return o, nil
}

func (n *Node) removeReplica(ctx context.Context, o *op, shard int, m Member, inGroup bool) error {
	if inGroup {
		if leader, ok := n.shardLeader(shard); ok && leader.NodeID == m.NodeID {
			o.setStep("moving leadership of shard %d away from %s", shard, m.NodeID)
			err := n.onLeader(ctx, shard, func(ctx context.Context, c adminv1.NodeControlClient, leader Member) error {
				if leader.NodeID != m.NodeID {
					return nil
				}
				_, err := c.TransferLeadership(ctx, &adminv1.TransferLeadershipRequest{Shard: int32(shard)})
				return err
			})
			if err != nil {
				return fmt.Errorf("shard %d: moving leadership away from %s: %w", shard, m.NodeID, err)
			}
		}
		o.setStep("removing %s from shard %d's Raft group", m.NodeID, shard)
		if err := n.removeFromGroup(ctx, shard, m); err != nil {
			return err
		}
	}
	o.setStep("releasing %s as a spare", m.NodeID)
	return n.release(ctx, shard, m.NodeID, false)
}

// removeFromGroup removes m from shard's Raft configuration; if m leads the
// shard meanwhile (a new election), the remove is retried after the
// leadership moved.
func (n *Node) removeFromGroup(ctx context.Context, shard int, m Member) error {
	return n.onLeader(ctx, shard, func(ctx context.Context, c adminv1.NodeControlClient, leader Member) error {
		if leader.NodeID == m.NodeID {
			if _, err := c.TransferLeadership(ctx, &adminv1.TransferLeadershipRequest{Shard: int32(shard)}); err != nil {
				return err
			}
			return status.Errorf(codes.Unavailable, "leadership moved away from %s", m.NodeID)
		}
		_, err := c.ChangeMembership(ctx, &adminv1.ChangeMembershipRequest{Shard: int32(shard), Change: adminv1.MembershipChange_MEMBERSHIP_CHANGE_REMOVE, Node: m.NodeID})
		return err
	})
}

// release tells node to drop its replica of shard and become a spare,
// retrying for a while if it is unreachable.
func (n *Node) release(ctx context.Context, shard int, node string, dissolve bool) error {
	ctx, cancel := context.WithTimeout(ctx, leaderCallTimeout)
	defer cancel()
	for {
		c, err := n.control(node)
		if err == nil {
			_, err = c.LeaveShard(ctx, &adminv1.LeaveShardRequest{Shard: int32(shard), Dissolve: dissolve})
			if err == nil {
				return nil
			}
		}
		if code := status.Code(err); code != codes.Unavailable && code != codes.DeadlineExceeded || ctx.Err() != nil {
			return fmt.Errorf("node %s: release from shard %d: %w", node, shard, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s: release from shard %d (it is out of the Raft group; rerun the operation once it is reachable): %w", node, shard, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
