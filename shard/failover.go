package shard

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/raft"
)

// Fast failover. hashicorp/raft starts an election only when a follower's
// heartbeat timer (a random HeartbeatTimeout..2x, checked against the last
// contact) fires, and a voter rejects a (pre-)vote while it still knows a
// leader, so with a crashed leader the election usually waits for the
// SECOND follower's timer: HeartbeatTimeout to 3x after the last contact
// (the timer's period is random and checked against the contact). Two shortcuts,
// both only ever lead to an ordinary pre-vote + vote (raft's safety is
// untouched; the worst a wrong guess costs is an election):
//
//  1. Crash evidence. A follower whose leader has been silent for
//     HeartbeatTimeout/4 dials the leader's Raft address once. "Connection
//     refused" means no Raft runs there any more (the process died or shut
//     down; a paused or cut-off leader does not refuse). The follower then
//     lowers its heartbeat/election timeouts to LeaderLeaseTimeout
//     (raft.ReloadConfig; raft checks the timer at once) so that it
//     campaigns as soon as the leader has been silent for the lease. The
//     followers stagger by rank so the preferred one campaigns after the
//     others have cleared their leader (see campaignDelay).
//  2. Pre-vote reaction (groups of 2-3 voters). A follower that receives a
//     pre-vote request when its own heartbeat timeout has already expired
//     (raft only waits for its randomised timer to notice), or when it has
//     crash evidence for its leader, campaigns at once instead of only
//     rejecting: the requester has no leader any more, so it grants, and
//     the election takes the FIRST follower timeout instead of the second
//     (in the crash case: the preferred follower campaigns right after the
//     helper, never both at once, which would split the vote). A node in
//     the failed leader's AZ does not react to a requester from another AZ.
//
// The timeouts go back to the configured values once a leader is known
// again (or after 2 x ElectionTimeout).
//
//  3. AZ correction. Both shortcuts only bias the race, and a loaded machine
//     or a paused/partitioned leader can still let a follower in the failed
//     leader's AZ win. A leader whose candidacy began after its leader went
//     silent (an election caused by a failure, not a transfer) and which
//     shares the failed leader's AZ hands leadership, once its no-op has
//     committed, to a voter in another AZ that shows no sign of being down
//     (preferOtherAZ). That costs one leadership transfer (a round trip
//     plus catch-up) and makes the AZ preference an outcome, not a bias.

// failover is the replica's fast-failover state, shared by failoverLoop
// and the pre-vote reaction (leadershipLoop) under mu.
type failover struct {
	mu          sync.Mutex
	probed      time.Time // last contact value already probed
	campaignAt  time.Time // scheduled campaign (zero: none)
	failedID    string    // leader the scheduled campaign replaces
	gone        string    // leader whose Raft port refused a connection
	lowered     bool      // timeouts reloaded to the lease
	loweredAt   time.Time
	loweredFrom string // leader id when lowered

	lastLeader  string       // last leader this replica followed (never itself)
	failureRun  atomic.Bool  // the current candidacy began after the leader went silent
	corrections atomic.Int64 // AZ corrections started (tests)
}

// errLeaderGone reports whether err from dialing the leader's Raft address
// proves that nothing listens there.
func errLeaderGone(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

func (r *Replica) failoverLoop() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.HeartbeatTimeout / 20)
	defer t.Stop()
	for {
		select {
		case <-r.closing:
			return
		case <-t.C:
		}
		r.failoverTick()
	}
}

func (r *Replica) failoverTick() {
	fo := &r.fo
	state := r.raft.State()
	leaderAddr, leaderID := r.raft.LeaderWithID()
	last := r.raft.LastContact()
	age := time.Since(last)
	fresh := state == raft.Follower && leaderID != "" && age < r.cfg.HeartbeatTimeout/4

	fo.mu.Lock()
	if state == raft.Follower && leaderID != "" && string(leaderID) != r.cfg.ID {
		fo.lastLeader = string(leaderID)
	}
	if fo.lowered && (state == raft.Leader || (leaderID != "" && string(leaderID) != fo.loweredFrom) ||
		time.Since(fo.loweredAt) > 2*r.cfg.ElectionTimeout) {
		r.restoreTimeoutsLocked()
	}
	if fo.gone != "" && (fresh || state == raft.Leader || (leaderID != "" && string(leaderID) != fo.gone)) {
		fo.gone = "" // a leader is alive again
	}
	if state != raft.Follower || leaderID == "" || fresh {
		fo.campaignAt = time.Time{}
		fo.mu.Unlock()
		return
	}
	probe := fo.campaignAt.IsZero() && !fo.probed.Equal(last)
	if probe {
		fo.probed = last
	}
	fo.mu.Unlock()

	if probe {
		c, err := net.DialTimeout("tcp", string(leaderAddr), r.cfg.HeartbeatTimeout/4)
		if err == nil {
			c.Close()
		} else if errLeaderGone(err) {
			at := last.Add(r.cfg.LeaderLeaseTimeout).Add(r.campaignDelay(string(leaderID)))
			fo.mu.Lock()
			fo.gone = string(leaderID)
			r.scheduleLocked(string(leaderID), at)
			fo.mu.Unlock()
			r.log.Info("shard leader unreachable (connection refused): campaigning early",
				"leader", string(leaderID), "silent", age.Round(time.Millisecond), "in", time.Until(at).Round(time.Millisecond))
		}
	}
	fo.mu.Lock()
	if !fo.campaignAt.IsZero() && !time.Now().Before(fo.campaignAt) {
		fo.campaignAt = time.Time{}
		if string(leaderID) == fo.failedID {
			r.lowerTimeoutsLocked(fo.failedID, "leader unreachable")
		}
	}
	fo.mu.Unlock()
}

// scheduleLocked plans a campaign against leader at (the earliest plan
// wins). fo.mu is held.
func (r *Replica) scheduleLocked(leader string, at time.Time) {
	fo := &r.fo
	if fo.campaignAt.IsZero() || fo.failedID != leader || at.Before(fo.campaignAt) {
		fo.campaignAt, fo.failedID = at, leader
	}
}

// onPreVote is the pre-vote reaction (see the top of this file).
func (r *Replica) onPreVote(req raft.RequestPreVoteRequest) {
	if r.cfg.DisableFastFailover || r.closed() || r.raft.State() != raft.Follower {
		return
	}
	_, leaderID := r.raft.LeaderWithID()
	from := string(req.ID)
	if leaderID == "" || from == "" || from == string(leaderID) || from == r.cfg.ID {
		return
	}
	last := r.raft.LastContact()
	r.fo.mu.Lock()
	gone := r.fo.gone == string(leaderID)
	r.fo.mu.Unlock()
	if !gone && time.Since(last) < r.cfg.HeartbeatTimeout {
		// Our own heartbeat timeout has not expired and we have no proof
		// that the leader died: raft rejects the request, as it should (a
		// node that restarted or was cut off must not depose a live leader).
		return
	}
	voters := r.voters()
	if len(voters) > 3 || !slices.Contains(voters, from) {
		// With more voters several followers would react at once and split
		// the vote; they rely on crash evidence and their own timers.
		return
	}
	if z := r.cfg.Zone; z != nil {
		failedAZ := z(string(leaderID))
		if failedAZ != "" && z(r.cfg.ID) == failedAZ && z(from) != failedAZ {
			return // let the candidate outside the failed AZ win
		}
	}
	// raft campaigns only once the leader has been silent for the lowered
	// heartbeat timeout (the lease): campaign then, or at once.
	at := last.Add(r.cfg.LeaderLeaseTimeout)
	r.fo.mu.Lock()
	defer r.fo.mu.Unlock()
	if !time.Now().Before(at) {
		r.fo.campaignAt = time.Time{}
		r.lowerTimeoutsLocked(string(leaderID), "pre-vote from "+from)
		return
	}
	r.scheduleLocked(string(leaderID), at)
}

// campaignDelay staggers the followers of a failed leader: the q-1 least
// preferred (q = quorum) go first and clear their leader (their pre-votes
// fail), the most preferred follows one step later and finds q-1 voters
// without a leader, so it wins; the rest come last, as a fallback.
// Preference: not in the failed leader's AZ, then node id.
func (r *Replica) campaignDelay(failed string) time.Duration {
	// The preferred follower normally reacts to the helpers' pre-votes
	// (onPreVote); its own campaign is the fallback when none arrives.
	step := r.cfg.HeartbeatTimeout / 4
	all := r.voters()
	var fs []string
	for _, id := range all {
		if id != failed {
			fs = append(fs, id)
		}
	}
	if len(fs) == 0 {
		return 0
	}
	failedAZ := ""
	if r.cfg.Zone != nil {
		failedAZ = r.cfg.Zone(failed)
	}
	penalty := func(id string) int {
		if failedAZ != "" && r.cfg.Zone(id) == failedAZ {
			return 1
		}
		return 0
	}
	slices.SortFunc(fs, func(a, b string) int {
		if pa, pb := penalty(a), penalty(b); pa != pb {
			return pa - pb
		}
		if a < b {
			return -1
		}
		if a > b {
			return 1
		}
		return 0
	})
	helpers := len(all)/2 + 1 - 1
	i := slices.Index(fs, r.cfg.ID)
	switch {
	case i < 0:
		return 0
	case i >= len(fs)-helpers && i > 0:
		return 0 // a helper
	case i == 0:
		return step
	default:
		return 2 * step
	}
}

// voters returns the voter ids of the latest configuration.
func (r *Replica) voters() []string {
	f := r.raft.GetConfiguration()
	if f.Error() != nil {
		return nil
	}
	var ids []string
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			ids = append(ids, string(s.ID))
		}
	}
	return ids
}

// lowerTimeoutsLocked makes raft's heartbeat check fire now with the lease
// as timeout: this follower campaigns if it has not heard from the leader
// for that long. fo.mu is held.
func (r *Replica) lowerTimeoutsLocked(leader, why string) {
	fo := &r.fo
	if fo.lowered {
		return
	}
	rc := r.raft.ReloadableConfig()
	rc.HeartbeatTimeout = r.cfg.LeaderLeaseTimeout
	rc.ElectionTimeout = r.cfg.LeaderLeaseTimeout
	if err := r.raft.ReloadConfig(rc); err != nil {
		r.log.Warn("fast failover: lowering raft timeouts failed", "err", err)
		return
	}
	fo.lowered, fo.loweredAt, fo.loweredFrom = true, time.Now(), leader
	r.log.Info("campaigning early", "failed_leader", leader, "reason", why)
}

func (r *Replica) restoreTimeoutsLocked() {
	rc := r.raft.ReloadableConfig()
	rc.HeartbeatTimeout = r.cfg.HeartbeatTimeout
	rc.ElectionTimeout = r.cfg.ElectionTimeout
	if err := r.raft.ReloadConfig(rc); err != nil {
		r.log.Warn("fast failover: restoring raft timeouts failed", "err", err)
		return
	}
	r.fo.lowered = false
}

// observeState runs inside raft's goroutine at each state change (the
// observer's filter), so the leader's silence is measured when the
// candidacy starts, not when the observation is read: raft only campaigns
// on a timeout once the leader has been silent for at least the lowered
// heartbeat timeout (the lease), while a transfer's TimeoutNow arrives
// right after the old leader's last append. Only atomics here: fo.mu is
// held around raft.ReloadConfig.
func (r *Replica) observeState(st raft.RaftState) {
	switch st {
	case raft.Candidate:
		if time.Since(r.raft.LastContact()) >= r.cfg.LeaderLeaseTimeout/2 {
			r.fo.failureRun.Store(true)
		}
	case raft.Follower:
		r.fo.failureRun.Store(false)
	}
}

// afterElection runs once per term (reconcile), when this replica's
// leadership is ready (its no-op committed): the AZ correction of a
// failure election. lastLeader is kept by failoverTick, which runs
// unless fast failover is disabled.
func (r *Replica) afterElection() {
	fo := &r.fo
	if !fo.failureRun.Swap(false) || r.cfg.DisableFastFailover {
		return
	}
	fo.mu.Lock()
	failed := fo.lastLeader
	fo.mu.Unlock()
	if failed == "" {
		return
	}
	fo.corrections.Add(1)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.preferOtherAZ(failed)
	}()
}

// preferOtherAZ hands leadership to a voter outside the AZ of failed when
// this leader shares that AZ; it returns the target ("" if none) and the
// transfer's outcome.
func (r *Replica) preferOtherAZ(failed string) (string, error) {
	cf := r.raft.GetConfiguration()
	if cf.Error() != nil || r.cfg.Zone == nil {
		return "", cf.Error()
	}
	unreachable := r.UnreachablePeers()
	var voters []raft.Server
	for _, s := range cf.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			voters = append(voters, s)
		}
	}
	target := otherAZSuccessor(r.cfg.ID, failed, voters, r.cfg.Zone, func(s raft.Server) bool {
		_, bad := unreachable[string(s.ID)]
		return bad || peerDown(string(s.Address), r.cfg.HeartbeatTimeout/4)
	})
	if target == "" {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(r.ctx, 2*r.cfg.ElectionTimeout)
	defer cancel()
	err := r.LeadershipTransfer(ctx, target)
	if err != nil {
		r.log.Warn("moving leadership out of the failed leader's AZ failed", "failed_leader", failed, "target", target, "err", err)
	} else {
		r.log.Info("moved leadership out of the failed leader's AZ", "failed_leader", failed, "target", target)
	}
	return target, err
}

// otherAZSuccessor picks the voter that should lead instead of self after
// failed: "" unless self is in failed's (known) AZ; otherwise the first
// voter by id outside that AZ (and with a known AZ) that down does not
// rule out.
func otherAZSuccessor(self, failed string, voters []raft.Server, zone func(string) string, down func(raft.Server) bool) string {
	failedAZ := zone(failed)
	if failedAZ == "" || zone(self) != failedAZ {
		return ""
	}
	var cands []raft.Server
	for _, s := range voters {
		id := string(s.ID)
		if az := zone(id); id != self && id != failed && az != "" && az != failedAZ {
			cands = append(cands, s)
		}
	}
	slices.SortFunc(cands, func(a, b raft.Server) int { return strings.Compare(string(a.ID), string(b.ID)) })
	for _, s := range cands {
		if !down(s) {
			return string(s.ID)
		}
	}
	return ""
}

// peerDown reports whether dialing addr proves that no Raft listens there
// (refused) or that it cannot be reached (timeout). Addresses that are not
// TCP (the in-memory transport's) prove nothing. A paused process still
// accepts connections; raft's transfer then times out and leadership stays.
func peerDown(addr string, timeout time.Duration) bool {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err == nil {
		c.Close()
		return false
	}
	var ne net.Error
	return errLeaderGone(err) || (errors.As(err, &ne) && ne.Timeout())
}
