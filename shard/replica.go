package shard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/raftfsm"
)

// Replica is this node's member of one Raft group.
type Replica struct {
	cfg    Config
	log    *slog.Logger
	fsm    *raftfsm.FSM
	raft   *raft.Raft
	stores *stores
	trans  raft.Transport
	tcp    *tcpStream    // the TCP stream layer under trans (nil for a supplied transport)
	guard  *diskGuard    // fail-stop on disk errors and stalls (diskguard.go)
	raftUp chan struct{} // closed when New is done (r.raft is set if it succeeded): a disk failure closes the replica only then

	waiters   waiters
	reqBase   uint64
	reqSeq    atomic.Uint64
	lastStamp atomic.Int64

	// readyTerm is the term whose no-op this replica applied as leader;
	// linearizable reads are served only while it equals the current term.
	readyTerm atomic.Uint64
	stateMu   sync.Mutex
	stateCh   chan struct{} // closed and replaced on leadership/readiness changes

	readMu   sync.Mutex
	readNext *readBatch    // batch collecting readers for the next VerifyLeader
	readKick chan struct{} // wakes readLoop

	observer *raft.Observer
	obsCh    chan raft.Observation
	fo       failover // fast failover (failover.go)

	contactObs *raft.Observer // failed/resumed heartbeats (contact.go)
	contactCh  chan raft.Observation
	contacts   contacts

	ev evictor // maxmemory (evict.go)

	ctx       context.Context // cancelled by Close
	cancel    context.CancelFunc
	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// New opens the stores, bootstraps the group if they are empty and
// Bootstrap is set, and starts raft and the replica's loops.
func New(cfg Config) (*Replica, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("node_id", cfg.ID)
	hl := newHclog(logger, "raft")

	st, err := openStores(cfg, hl)
	if err != nil {
		return nil, err
	}
	trans, tcp, err := newTransport(cfg, hl)
	if err != nil {
		st.close()
		return nil, err
	}
	fail := func(err error) (*Replica, error) {
		if c, ok := trans.(raft.WithClose); ok && cfg.Transport == nil {
			c.Close()
		}
		st.close()
		return nil, err
	}
	rc := cfg.raftConfig(hl)
	if len(cfg.Bootstrap) > 0 {
		has, err := raft.HasExistingState(st.logs, st.stable, st.snaps)
		if err != nil {
			return fail(fmt.Errorf("shard: check existing state: %w", err))
		}
		if !has {
			conf := raft.Configuration{Servers: cfg.Bootstrap}
			if err := raft.BootstrapCluster(rc, st.logs, st.stable, st.snaps, trans, conf); err != nil {
				return fail(fmt.Errorf("shard: bootstrap: %w", err))
			}
		}
	}

	r := &Replica{
		cfg:       cfg,
		log:       logger,
		fsm:       cfg.FSM,
		stores:    st,
		trans:     trans,
		reqBase:   rand.Uint64(),
		stateCh:   make(chan struct{}),
		readKick:  make(chan struct{}, 1),
		obsCh:     make(chan raft.Observation, 64),
		contactCh: make(chan raft.Observation, 256),
		closing:   make(chan struct{}),
		ev:        evictor{kick: make(chan struct{}, 1)},
		raftUp:    make(chan struct{}),
		tcp:       tcp,
	}
	r.guard = newDiskGuard(cfg.ID, cfg.Faults, cfg.DiskStallTimeout, r.diskFailed)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.waiters.init()
	// Install the hook before raft replays the log so no applied entry is
	// missed.
	r.fsm.SetOnApply(r.waiters.deliver)

	// raft gets the transport with commit indexes clamped (commitclamp.go)
	// and heartbeats that change the term kept off the fast path
	// (heartbeat.go); r.trans stays the wrapped one, for fencing and
	// CloseStreams.
	rtrans := clampCommits(trans)
	ra, err := raft.NewRaft(rc, r.fsm, r.guard.logStore(st.logs), r.guard.stableStore(st.stable), st.snaps, rtrans)
	if err != nil {
		close(r.raftUp)
		r.cancel()
		r.guard.close()
		return fail(fmt.Errorf("shard: start raft: %w", err))
	}
	r.raft = ra
	bindRaft(rtrans, ra)
	r.observer = raft.NewObserver(r.obsCh, false, func(o *raft.Observation) bool {
		switch d := o.Data.(type) {
		case raft.RaftState:
			r.observeState(d)
			return true
		case raft.LeaderObservation, raft.RequestPreVoteRequest:
			return true
		}
		return false
	})
	ra.RegisterObserver(r.observer)
	r.contactObs = newContactObserver(r.contactCh)
	ra.RegisterObserver(r.contactObs)

	r.wg.Add(5)
	go r.contactLoop()
	go r.leadershipLoop()
	go r.readLoop()
	go r.expireLoop()
	go r.evictLoop()
	if !cfg.DisableFastFailover {
		r.wg.Add(1)
		go r.failoverLoop()
	}
	close(r.raftUp)
	return r, nil
}

// Close stops the loops and raft and closes the stores. Writes still
// waiting get ErrUncertain, reads ErrClosed. Idempotent.
func (r *Replica) Close() error {
	r.closeOnce.Do(func() {
		close(r.closing)
		r.cancel()
		r.raft.DeregisterObserver(r.observer)
		r.raft.DeregisterObserver(r.contactObs)
		// Shutdown also closes the transport (raft.WithClose). Writes held
		// by the disk guard are released once raft knows it is shutting
		// down: its goroutines must return for Shutdown to complete.
		sf := r.raft.Shutdown()
		r.guard.close()
		err := sf.Error()
		if nt, ok := r.trans.(*raft.NetworkTransport); ok {
			nt.CloseStreams() // drop pooled outbound connections: peers' handlers exit
		}
		r.wg.Wait()
		r.closeErr = errors.Join(err, r.stores.close())
		if r.closeErr != nil {
			r.closeErr = fmt.Errorf("shard: close: %w", r.closeErr)
		}
	})
	return r.closeErr
}

// diskFailed is the disk guard's fatal callback (its own goroutine): the
// replica stops, and the owner hears of it.
func (r *Replica) diskFailed(err error) {
	r.log.Error("disk failure: stopping this replica (fail-stop); restart it on a healthy disk", "err", err)
	if r.cfg.OnFatal != nil {
		go r.cfg.OnFatal(err)
	}
	<-r.raftUp
	if r.raft != nil {
		r.fence()
		_ = r.Close()
	}
}

// fence cuts the replica's Raft traffic at once. Close waits for raft's
// goroutines, so for a write hanging on a real disk, and meanwhile raft
// would go on heartbeating as leader: its followers would never elect a
// successor (hashicorp/raft #503). raft closes the transport again in
// Shutdown, which is harmless.
func (r *Replica) fence() {
	if r.tcp != nil {
		r.tcp.fence() // no new outbound connections
	}
	if nt, ok := r.trans.(*raft.NetworkTransport); ok {
		nt.CloseStreams() // drop the pooled ones
	}
	if c, ok := r.trans.(raft.WithClose); ok {
		_ = c.Close() // stop accepting (in-memory: disconnect)
	}
}

// DiskErr returns the disk failure that stopped this replica, or nil.
func (r *Replica) DiskErr() error { return r.guard.err() }

func (r *Replica) closed() bool {
	select {
	case <-r.closing:
		return true
	default:
		return false
	}
}

// Raft returns the underlying raft instance for membership operations.
func (r *Replica) Raft() *raft.Raft { return r.raft }

// FSM returns the engine this replica drives.
func (r *Replica) FSM() *raftfsm.FSM { return r.fsm }

// IsLeader reports whether this replica is the leader right now (it may
// not yet be Ready, and it may already be deposed without knowing).
func (r *Replica) IsLeader() bool { return r.raft.State() == raft.Leader }

// Leader returns the current leader as known locally ("" if none).
func (r *Replica) Leader() (id string, addr string) {
	a, i := r.raft.LeaderWithID()
	return string(i), string(a)
}

// WaitLeader blocks until some leader is known or ctx ends.
func (r *Replica) WaitLeader(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if id, _ := r.Leader(); id != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("shard: wait for leader: %w", ctx.Err())
		case <-r.closing:
			return ErrClosed
		case <-t.C:
		}
	}
}

// Ready reports whether this replica is the leader and has applied the
// no-op of its term, so that it can serve linearizable reads.
func (r *Replica) Ready() bool {
	if r.closed() || r.raft.State() != raft.Leader {
		return false
	}
	return r.readyTerm.Load() == r.raft.CurrentTerm()
}

// Stats returns raft's statistics plus the engine's applied index.
func (r *Replica) Stats() map[string]string {
	m := r.raft.Stats()
	m["fsm_applied_index"] = strconv.FormatUint(r.fsm.AppliedIndex(), 10)
	m["ready"] = strconv.FormatBool(r.Ready())
	return m
}

// LeadershipTransfer hands leadership to server id ("" = the most
// up-to-date follower) and waits for the outcome.
func (r *Replica) LeadershipTransfer(ctx context.Context, id string) error {
	if r.closed() {
		return ErrClosed
	}
	var f raft.Future
	if id == "" {
		f = r.raft.LeadershipTransfer()
	} else {
		cf := r.raft.GetConfiguration()
		if err := cf.Error(); err != nil {
			return fmt.Errorf("shard: leadership transfer: %w", err)
		}
		var addr raft.ServerAddress
		for _, s := range cf.Configuration().Servers {
			if s.ID == raft.ServerID(id) {
				addr = s.Address
			}
		}
		if addr == "" {
			return fmt.Errorf("shard: leadership transfer: %q is not a member", id)
		}
		f = r.raft.LeadershipTransferToServer(raft.ServerID(id), addr)
	}
	select {
	case err := <-r.futureErr(f):
		if errors.Is(err, raft.ErrNotLeader) {
			return fmt.Errorf("shard: leadership transfer: %w", ErrNotLeader)
		}
		if err != nil {
			return fmt.Errorf("shard: leadership transfer: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shard: leadership transfer: %w", ctx.Err())
	}
}

// leadershipLoop watches leadership changes. On each gain it applies a
// no-op of the new term (the barrier linearizable reads wait for), and it
// wakes readers waiting for readiness on every change. Observations can be
// dropped when the channel is full, so a ticker reconciles as well.
func (r *Replica) leadershipLoop() {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.HeartbeatTimeout / 4)
	defer t.Stop()
	for {
		r.reconcile()
		select {
		case <-r.closing:
			return
		case o := <-r.obsCh:
			if pv, ok := o.Data.(raft.RequestPreVoteRequest); ok {
				r.onPreVote(pv)
			}
		case <-t.C:
		}
	}
}

func (r *Replica) reconcile() {
	r.notifyState()
	if r.raft.State() != raft.Leader {
		return
	}
	term := r.raft.CurrentTerm()
	if r.readyTerm.Load() == term {
		return
	}
	e := raftfsm.Entry{Op: raftfsm.OpNoop, Time: r.stamp()}
	f := r.raft.Apply(raftfsm.EncodeEntry(nil, &e), r.cfg.ElectionTimeout)
	err := <-r.futureErr(f)
	// Success while the term is unchanged means the no-op was committed by
	// this leader in that term: every entry committed before is applied.
	if err == nil && r.raft.CurrentTerm() == term {
		r.readyTerm.Store(term)
		r.log.Debug("leader ready", "term", term, "index", f.Index())
		r.afterElection()
	} else if err != nil {
		r.log.Debug("leader barrier failed", "term", term, "err", err)
	}
	r.notifyState()
}

// notifyState wakes everyone waiting on stateCh.
func (r *Replica) notifyState() {
	r.stateMu.Lock()
	close(r.stateCh)
	r.stateCh = make(chan struct{})
	r.stateMu.Unlock()
}

// StateChanged returns a channel closed at the next leadership or
// readiness change seen by this replica (and at least every
// HeartbeatTimeout/4).
func (r *Replica) StateChanged() <-chan struct{} { return r.stateChanged() }

func (r *Replica) stateChanged() <-chan struct{} {
	r.stateMu.Lock()
	defer r.stateMu.Unlock()
	return r.stateCh
}

// futureErr waits for f in a goroutine so that callers can also select on
// their context. raft leaves some futures unanswered forever after Shutdown
// (entries still in the apply channel or the FSM queue), so f is first
// bound to r.closing; see bindShutdown.
func (r *Replica) futureErr(f raft.Future) <-chan error {
	ch := make(chan error, 1)
	if immediate(f) {
		// raft's errorFuture answers at once.
		ch <- f.Error()
		return ch
	}
	if !bindShutdown(f, r.closing) {
		bindWarn.Do(func() {
			r.log.Warn("cannot bind raft future to shutdown; a future left unanswered by raft shutdown leaks a goroutine")
		})
	}
	go func() { ch <- f.Error() }()
	return ch
}

var bindWarn sync.Once

var shutdownChType = reflect.TypeOf((chan struct{})(nil))

// bindShutdown sets the ShutdownCh of raft's deferError embedded in f, which
// makes f.Error() return raft.ErrRaftShutdown once ch is closed. raft sets
// that field only for its internal futures and never touches it for apply,
// barrier, verify or transfer futures, so writing it here races with
// nothing. It reports whether the field was found (hashicorp/raft v1.7).
func bindShutdown(f raft.Future, ch chan struct{}) bool {
	v := reflect.ValueOf(f)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return false
	}
	fv := v.Elem().FieldByName("ShutdownCh")
	if !fv.IsValid() || !fv.CanSet() || fv.Type() != shutdownChType {
		return false
	}
	if fv.IsNil() {
		fv.Set(reflect.ValueOf(ch))
	}
	return true
}
