package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	adminv1 "github.com/raftcache/raftcache/proto/raftcache/admin/v1"
	"github.com/raftcache/raftcache/slots"
)

// The migrate fault (rows 12 and 13 of consistency-and-chaos.md): for the
// whole run a migrator moves slot ranges that hold workload keys between
// shards through the admin API, while the nemesis kills, pauses and
// partitions nodes, so faults land in the middle of moves. A move whose
// operation failed or was lost (its node died) is issued again: moves
// resume from the shards' logs, which is the property under test. After
// healing, CheckSlots verifies that every slot has exactly one owner and
// that no key sits on a shard that does not own its slot.

// FaultMigrate moves slots between shards in the background for the whole
// run (process runtime, 3 shards).
const FaultMigrate = "migrate"

// migrateNodes is the cluster size the migrate fault needs: three shards,
// so a slot has somewhere to go and the moves cross every pair.
const migrateNodes = 9

// CheckMigrate refuses the migrate fault where it cannot run: a
// single-shard cluster has no other shard to move slots to, and the docker
// runtime does not publish the nodes' gRPC ports.
func CheckMigrate(runtime string, nodes int, faults []string) error {
	if !slices.Contains(faults, FaultMigrate) {
		return nil
	}
	if runtime == RuntimeDocker {
		return fmt.Errorf("chaos: fault %s drives the nodes' gRPC admin API: process runtime only", FaultMigrate)
	}
	if nodes != migrateNodes {
		return fmt.Errorf("chaos: fault %s moves slots between shards: it needs --nodes %d (3 shards), not %d (one shard)", FaultMigrate, migrateNodes, nodes)
	}
	return nil
}

// nemesisFaults drops the faults the nemesis does not inject itself (the
// migrator runs beside it).
func nemesisFaults(faults []string) []string {
	return slices.DeleteFunc(slices.Clone(faults), func(f string) bool { return f == FaultMigrate })
}

// Move is one slot move of the migrate fault: one request, issued again
// until the slots are at the target.
type Move struct {
	Slots       string   `json:"slots"` // ranges, as CLUSTER NODES writes them
	Count       int      `json:"count"` // slots
	From        int      `json:"from"`  // shard id (admin API) that owned them when the move began
	To          int      `json:"to"`
	Parallelism int      `json:"parallelism"`
	Start       Duration `json:"start"` // since the run started
	End         Duration `json:"end"`
	// Outcome: done, or stuck (not done when the harness gave up after
	// healing: a violation).
	Outcome string   `json:"outcome"`
	Retries int      `json:"retries"`          // issues after the first
	Ops     []string `json:"ops"`              // admin operation ids, one per issue that started
	Errors  []string `json:"errors,omitempty"` // why issues failed (the first few)
	// Faults are the nemesis events in effect during the move; Hit counts
	// those that struck a node of its source or target shard.
	Faults []string `json:"faults,omitempty"`
	Hit    int      `json:"hit"`
	// AfterRun: the move was still going when the workload stopped.
	AfterRun bool `json:"after_run,omitempty"`
	// Cut: node-to-node gRPC between the source and target shards was cut
	// both ways for this long, shortly after the move began (row 13).
	Cut Duration `json:"cut,omitempty"`
	// leaders of the source and target shards when the move was planned:
	// half the moves run on one of them, so that a leader fault also takes
	// the operation down and the move must be issued again.
	leaders []string
}

// Done reports whether the move completed.
func (m Move) Done() bool { return m.Outcome == moveDone }

const (
	moveDone  = "done"
	moveStuck = "stuck"
	// maxMoveErrors bounds the errors kept per move.
	maxMoveErrors = 8
)

// migNode is what the migrator knows of a node; copied at the start, so it
// never reads the nemesis's node state.
type migNode struct {
	id, grpc string
}

// Migrator runs the migrate fault.
type Migrator struct {
	nodes  []migNode
	wl     *Workload
	rng    *rand.Rand
	faults *FaultMatrix // for the cuts between shards (nil: none)
	clock  func() int64
	logf   func(format string, args ...any)
	avoid  map[slots.Slot]bool // the nemesis's failover probe keys stay put

	// life bounds every move, including the one still running when the
	// run ends; Finish cancels it when its wait runs out.
	life   context.Context
	cancel context.CancelFunc
	done   chan struct{}

	connMu sync.Mutex
	conns  map[string]*grpc.ClientConn

	mu        sync.Mutex
	moves     []Move
	nodeShard map[string]int // node id -> shard id, from DescribeCluster
}

// NewMigrator prepares the migrate fault over c, moving the slots of wl's
// keys; clock is the history's clock.
func NewMigrator(c *ProcCluster, wl *Workload, seed uint64, clock func() int64, logf func(string, ...any)) (*Migrator, error) {
	if c.Runtime != RuntimeProcess || c.Shards < 2 {
		return nil, fmt.Errorf("chaos: fault %s needs a process cluster of 3 shards", FaultMigrate)
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	m := &Migrator{wl: wl, rng: rand.New(rand.NewPCG(seed, 0x319)), faults: c.Faults, clock: clock, logf: logf,
		avoid: map[slots.Slot]bool{}, done: make(chan struct{}), conns: map[string]*grpc.ClientConn{}}
	for _, p := range c.Procs {
		m.nodes = append(m.nodes, migNode{id: p.ID, grpc: grpcAddr(p)})
	}
	for s := 0; s < c.Shards; s++ {
		m.avoid[slots.OfString(c.ProbeKey(s))] = true
	}
	m.life, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

func grpcAddr(p *Proc) string { return "127.0.0.1:" + strconv.Itoa(p.Port+grpcPortOffset) }

// Run moves slots until ctx is done; the move under way then goes on until
// it completes or Finish gives up.
func (m *Migrator) Run(ctx context.Context) {
	defer close(m.done)
	sleepCtx(ctx, m.jitter(time.Second, 2*time.Second))
	for ctx.Err() == nil && m.life.Err() == nil {
		mv, ok := m.plan(ctx)
		if !ok {
			sleepCtx(ctx, 500*time.Millisecond)
			continue
		}
		m.logf("migrate: slots %s (%d) shard %d -> %d, parallelism %d", mv.Slots, mv.Count, mv.From, mv.To, mv.Parallelism)
		m.execute(ctx, &mv)
		cut := ""
		if mv.Cut > 0 {
			cut = fmt.Sprintf(", shards cut from each other for %v", time.Duration(mv.Cut).Round(time.Millisecond))
		}
		m.logf("migrate: slots %s shard %d -> %d %s after %v, %d retries%s%s", mv.Slots, mv.From, mv.To, mv.Outcome,
			time.Duration(mv.End-mv.Start).Round(time.Millisecond), mv.Retries, cut, lastErr(mv.Errors))
		m.mu.Lock()
		m.moves = append(m.moves, mv)
		m.mu.Unlock()
		sleepCtx(ctx, m.jitter(500*time.Millisecond, 2*time.Second))
	}
}

func lastErr(errs []string) string {
	if len(errs) == 0 {
		return ""
	}
	return " (last error: " + errs[len(errs)-1] + ")"
}

// Finish waits up to wait for the move under way (call it after healing,
// once Run's context is done), then stops the migrator and returns every
// move, each with the nemesis events that overlapped it.
func (m *Migrator) Finish(wait time.Duration, events []Event) []Move {
	select {
	case <-m.done:
	case <-time.After(wait):
		m.cancel()
		<-m.done
	}
	m.cancel()
	m.connMu.Lock()
	for a, cc := range m.conns {
		_ = cc.Close()
		delete(m.conns, a)
	}
	m.connMu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	return markOverlaps(slices.Clone(m.moves), events, m.nodeShard)
}

// markOverlaps lists, for each move, the nemesis events whose fault was in
// effect at some instant of the move, and counts those that hit a node of
// its source or target shard (nodeShard: node id -> shard id).
func markOverlaps(moves []Move, events []Event, nodeShard map[string]int) []Move {
	for i := range moves {
		mv := &moves[i]
		for _, ev := range events {
			healed := ev.Healed
			if healed < ev.At {
				healed = ev.At
			}
			if ev.At > mv.End || healed < mv.Start {
				continue
			}
			mv.Faults = append(mv.Faults, fmt.Sprintf("%s %s at %v", ev.Fault, strings.Join(ev.Nodes, ","),
				time.Duration(ev.At).Round(time.Millisecond)))
			if slices.ContainsFunc(ev.Nodes, func(id string) bool {
				sh, ok := nodeShard[id]
				return ok && (sh == mv.From || sh == mv.To)
			}) {
				mv.Hit++
			}
		}
	}
	return moves
}

func (m *Migrator) jitter(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(m.rng.Int64N(int64(hi-lo)+1))
}

func (m *Migrator) conn(addr string) (*grpc.ClientConn, error) {
	m.connMu.Lock()
	defer m.connMu.Unlock()
	if cc, ok := m.conns[addr]; ok {
		return cc, nil
	}
	// Nodes die and come back all the time: reconnect within a second
	// instead of gRPC's default backoff of up to two minutes.
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 100 * time.Millisecond,
			Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second}, MinConnectTimeout: time.Second}))
	if err != nil {
		return nil, fmt.Errorf("chaos: grpc %s: %w", addr, err)
	}
	m.conns[addr] = cc
	return cc, nil
}

func (m *Migrator) admin(n migNode) (adminv1.AdminClient, error) {
	cc, err := m.conn(n.grpc)
	if err != nil {
		return nil, err
	}
	return adminv1.NewAdminClient(cc), nil
}

// describe asks the nodes in random order for DescribeCluster until one
// answers with every slot assigned.
func (m *Migrator) describe(ctx context.Context) (*adminv1.DescribeClusterResponse, error) {
	var last error
	for _, i := range m.rng.Perm(len(m.nodes)) {
		c, err := m.admin(m.nodes[i])
		if err != nil {
			last = err
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		d, err := c.DescribeCluster(cctx, &adminv1.DescribeClusterRequest{})
		cancel()
		if err == nil && d.GetSlotsAssigned() == slots.Count {
			return d, nil
		}
		if err == nil {
			err = fmt.Errorf("%s sees %d slots assigned", m.nodes[i].id, d.GetSlotsAssigned())
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("chaos: describe cluster: %w", last)
}

// ownerMap returns each slot's shard as d describes it (-1 = none) and the
// shard ids.
func ownerMap(d *adminv1.DescribeClusterResponse) ([]int, []int) {
	owner := make([]int, slots.Count)
	for i := range owner {
		owner[i] = -1
	}
	var ids []int
	for _, sh := range d.GetShards() {
		ids = append(ids, int(sh.GetId()))
		for _, r := range sh.GetSlots() {
			for s := r.GetStart(); s <= r.GetEnd() && s < slots.Count; s++ {
				owner[s] = int(sh.GetId())
			}
		}
	}
	return owner, ids
}

// plan picks the next move: the slots of one to three live workload keys
// of one shard, or a run of 16-256 slots around one key's slot that one
// shard owns, to a random other shard.
func (m *Migrator) plan(ctx context.Context) (Move, bool) {
	d, err := m.describe(ctx)
	if err != nil {
		return Move{}, false
	}
	owner, ids := ownerMap(d)
	m.mu.Lock()
	if m.nodeShard == nil {
		m.nodeShard = map[string]int{}
	}
	for _, n := range d.GetNodes() {
		if n.GetShard() >= 0 {
			m.nodeShard[n.GetId()] = int(n.GetShard())
		}
	}
	m.mu.Unlock()
	if len(ids) < 2 {
		return Move{}, false
	}
	keys := m.wl.liveKeys()
	var set []slots.Slot
	from := -1
	for _, i := range m.rng.Perm(len(keys)) {
		s := slots.OfString(keys[i])
		if m.avoid[s] || owner[s] < 0 {
			continue
		}
		if from < 0 {
			from = owner[s]
		}
		if owner[s] == from && !slices.Contains(set, s) {
			set = append(set, s)
		}
	}
	if from < 0 {
		return Move{}, false
	}
	if m.rng.IntN(3) == 0 {
		set = set[:min(len(set), 1+m.rng.IntN(3))]
	} else {
		set = m.runAround(set[0], 16+m.rng.IntN(241), owner)
	}
	var bits [slots.Count]bool
	for _, s := range set {
		bits[s] = true
	}
	rs := slots.RangesOf(bits[:])
	to := from
	for to == from {
		to = ids[m.rng.IntN(len(ids))]
	}
	mv := Move{Slots: slots.FormatRanges(rs), Count: len(set), From: from, To: to, Parallelism: 1 + m.rng.IntN(4)}
	for _, sh := range d.GetShards() {
		if id := sh.GetLeader(); id != "" && (int(sh.GetId()) == from || int(sh.GetId()) == to) {
			mv.leaders = append(mv.leaders, id)
		}
	}
	return mv, true
}

// runAround returns up to n consecutive slots containing s, all owned by
// s's owner and none of them a probe key's slot.
func (m *Migrator) runAround(s slots.Slot, n int, owner []int) []slots.Slot {
	lo := max(int(s)-m.rng.IntN(n), 0)
	hi := min(lo+n-1, slots.Count-1)
	ok := func(x int) bool { return x >= lo && x <= hi && owner[x] == owner[s] && !m.avoid[slots.Slot(x)] }
	a, b := int(s), int(s)
	for ok(a - 1) {
		a--
	}
	for ok(b + 1) {
		b++
	}
	out := make([]slots.Slot, 0, b-a+1)
	for x := a; x <= b; x++ {
		out = append(out, slots.Slot(x))
	}
	return out
}

// execute issues mv until its slots are at the target: the operation
// failed (a leader died under it, a node was unreachable) or was lost (its
// node was killed) means issue it again. It gives up only when the
// migrator's life ends (Finish), which makes the move stuck.
func (m *Migrator) execute(runCtx context.Context, mv *Move) {
	// A third of the moves get their shards cut from each other (gRPC, both
	// ways) for 1-3 s, 0-300 ms after the operation started.
	var cutDone chan struct{}
	cut := m.faults != nil && m.rng.IntN(3) == 0
	cutAfter, cutHold := m.jitter(0, 300*time.Millisecond), m.jitter(time.Second, 3*time.Second)
	defer func() {
		if cutDone != nil {
			<-cutDone // healed before the next move
		}
	}()
	mv.Start = Duration(m.clock())
	defer func() { // runs before the wait for the heal
		mv.End = Duration(m.clock())
		mv.AfterRun = runCtx.Err() != nil
	}()
	rs, err := slots.ParseRanges(mv.Slots)
	if err != nil { // plan formats them: cannot happen
		mv.Outcome, mv.Errors = moveStuck, []string{err.Error()}
		return
	}
	req := &adminv1.MigrateSlotsRequest{TargetShard: int32(mv.To), Parallelism: uint32(mv.Parallelism), PausePercent: proto.Uint32(0)}
	for _, r := range rs {
		req.Slots = append(req.Slots, &adminv1.SlotRange{Start: uint32(r.Start), End: uint32(r.End)})
	}
	for attempt := 0; ; attempt++ {
		if m.life.Err() != nil {
			mv.Outcome = moveStuck
			return
		}
		if attempt > 0 {
			mv.Retries++
			sleepCtx(m.life, min(time.Duration(attempt)*200*time.Millisecond, time.Second))
		}
		id, runner, err := m.issue(req, mv.leaders)
		if err != nil {
			m.noteErr(mv, "issue: "+err.Error())
			continue
		}
		mv.Ops = append(mv.Ops, id)
		if cut && cutDone == nil {
			cutDone = make(chan struct{})
			mv.Cut = Duration(cutHold)
			go m.cutShards(mv.From, mv.To, cutAfter, cutHold, cutDone)
		}
		ok, why := m.wait(id, runner)
		if ok {
			mv.Outcome = moveDone
			return
		}
		m.noteErr(mv, id+": "+why)
	}
}

func (m *Migrator) noteErr(mv *Move, msg string) {
	if len(mv.Errors) < maxMoveErrors {
		mv.Errors = append(mv.Errors, msg)
	} else {
		mv.Errors[maxMoveErrors-1] = msg // keep the latest
	}
}

// issue sends the request to the nodes in random order until one starts
// the operation; it returns the operation id and the node running it. Half
// the time the nodes in prefer go first.
func (m *Migrator) issue(req *adminv1.MigrateSlotsRequest, prefer []string) (string, migNode, error) {
	var last error
	order := m.rng.Perm(len(m.nodes))
	if m.rng.IntN(2) == 0 {
		slices.SortStableFunc(order, func(a, b int) int {
			pa, pb := slices.Contains(prefer, m.nodes[a].id), slices.Contains(prefer, m.nodes[b].id)
			switch {
			case pa && !pb:
				return -1
			case pb && !pa:
				return 1
			}
			return 0
		})
	}
	for _, i := range order {
		n := m.nodes[i]
		c, err := m.admin(n)
		if err != nil {
			last = err
			continue
		}
		ctx, cancel := context.WithTimeout(m.life, 5*time.Second)
		resp, err := c.MigrateSlots(ctx, req)
		cancel()
		if err != nil {
			last = fmt.Errorf("%s: %w", n.id, err)
			if st := status.Code(err); st == codes.InvalidArgument || st == codes.FailedPrecondition || m.life.Err() != nil {
				break // the same answer from every node
			}
			continue
		}
		return resp.GetOperation().GetId(), n, nil
	}
	if last == nil {
		last = errors.New("no node")
	}
	return "", migNode{}, last
}

// wait polls the operation on the node that runs it until it ends. It
// reports false with a reason when the operation failed or was lost: the
// node forgot it (restarted), refused connections (killed), or did not
// answer for 30 s.
func (m *Migrator) wait(id string, runner migNode) (bool, string) {
	c, err := m.admin(runner)
	if err != nil {
		return false, err.Error()
	}
	refused := 0
	answered := time.Now()
	for {
		if m.life.Err() != nil {
			return false, "gave up waiting for the operation"
		}
		ctx, cancel := context.WithTimeout(m.life, 2*time.Second)
		resp, err := c.GetOperation(ctx, &adminv1.GetOperationRequest{Id: id})
		cancel()
		switch {
		case err == nil:
			refused, answered = 0, time.Now()
			op := resp.GetOperation()
			switch op.GetState() {
			case adminv1.OperationState_OPERATION_STATE_DONE:
				return true, ""
			case adminv1.OperationState_OPERATION_STATE_FAILED:
				return false, "failed: " + op.GetError()
			}
		case status.Code(err) == codes.NotFound:
			return false, "lost: " + runner.id + " forgot it (restarted)"
		case status.Code(err) == codes.Unavailable:
			if refused++; refused >= 3 {
				return false, "lost: " + runner.id + " unreachable: " + err.Error()
			}
		default: // a paused node: the operation resumes with it
			if time.Since(answered) > 30*time.Second {
				return false, "lost: " + runner.id + " silent for 30 s: " + err.Error()
			}
		}
		sleepCtx(m.life, 200*time.Millisecond)
	}
}

// cutShards cuts node-to-node gRPC between the nodes of two shards, both
// ways, after a delay and for hold, then heals it and closes done. The
// nodes enforce it on the connections they dial (shard.Faults.Dialer).
func (m *Migrator) cutShards(a, b int, after, hold time.Duration, done chan struct{}) {
	defer close(done)
	m.mu.Lock()
	var links [][2]string
	for _, x := range m.nodes {
		for _, y := range m.nodes {
			sx, okx := m.nodeShard[x.id]
			sy, oky := m.nodeShard[y.id]
			if okx && oky && ((sx == a && sy == b) || (sx == b && sy == a)) {
				links = append(links, [2]string{x.grpc, y.grpc})
			}
		}
	}
	m.mu.Unlock()
	time.Sleep(after)
	if err := m.faults.CutLinks(links); err != nil {
		m.logf("migrate: cutting shards %d and %d: %v", a, b, err)
	}
	time.Sleep(hold)
	if err := m.faults.CutLinks(nil); err != nil {
		m.logf("migrate: healing the cut between shards %d and %d: %v", a, b, err)
	}
}

// liveKeys returns the keys the workload uses now, every family.
func (w *Workload) liveKeys() []string {
	var out []string
	for _, f := range families {
		p := w.pools[f]
		p.mu.Lock()
		for _, k := range p.active {
			out = append(out, k.name)
		}
		p.mu.Unlock()
	}
	return out
}
