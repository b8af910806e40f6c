package gateway

import (
	"context"
	"errors"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"weak"

	"github.com/raftcache/raftcache/raftfsm"
	"github.com/raftcache/raftcache/slots"
)

// Blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX
// BZMPOP, and XREAD/XREADGROUP with BLOCK) outside MULTI.
//
// The engine executes a blocking command as one non-blocking attempt (a
// write through the log). When the attempt finds nothing, the connection
// blocks here: it handles nothing else until it is served, times out, the
// client disconnects or the server closes, as in Redis.
//
// While blocked, a client is registered in its server's blockQueue under the
// keys it waits on. It is marked pending when one of them may have changed:
// by Backend.WaitKeys (the FSM's change feed, which sees every write applied
// on this node), and directly by any write this gateway performs on the
// keys. Pending clients take turns in arrival order, one at a time: a turn
// checks with a local read whether a retry could pop anything and, only
// then, proposes the attempt again. So waiters on a key are served first
// come, first served (best effort: a client that blocks while others are
// being served may overtake them, and a write that reaches the FSM without
// passing through this gateway wakes waiters through WaitKeys only).
//
// A client is registered before its first attempt, so arrival order is
// dispatch order. Connection goroutines do not run in the order their data
// arrived, though: commands dispatched within blockTie of each other count
// as simultaneous and the older connection goes first (Redis test suites
// open their clients in the order they then use them). So a first attempt
// starts blockTie after its registration, once the earlier simultaneous
// ones on the same keys are done: a blocking command costs blockTie more
// latency than the write it is. A write on the keys of a first attempt still in flight
// waits for it (at most blockServeWait): a BLPOP sent before an LPUSH is
// applied before it, as Redis would process them.
//
// A write from a non-blocked client waits (at most blockServeWait) for the
// blocked clients it woke, and the ones they woke in turn, to be served
// before its reply goes out, so that a client pushing to a list sees the
// effects of the pops it caused, as with Redis's handleClientsBlockedOnKeys.

const (
	blockTick      = 100 * time.Millisecond // disconnect checks while blocked
	blockBackstop  = 10                     // ticks between self-checks (missed wake-ups)
	blockServeWait = time.Second            // longest a writer waits for woken clients
	blockTie       = 2 * time.Millisecond   // registrations closer than this are simultaneous
	blockSeqStep   = 1 << 16                // room to order simultaneous registrations
)

// blocker is one blocked client.
type blocker struct {
	seq        uint64
	client     int64     // client id: connection age, for ties
	at         time.Time // registration
	gone       bool
	attempting bool // first attempt in flight
	blocked    bool // counted in blocked_clients
	keys       []string
	pending    bool
	root       uint64 // oldest writer generation waiting for this client's turn, 0 = none
	turn       uint64 // root of the turn in progress
}

// blockQueue holds a server's blocked clients.
type blockQueue struct {
	mu      sync.Mutex
	refs    int // registered blockers; the queue is dropped at 0
	blocked int // blockers past their first attempt (INFO blocked_clients)
	seq     uint64
	gen     uint64
	byKey   map[string][]*blocker
	pending []*blocker // sorted by seq (arrival order)
	recent  []*blocker // registered within blockTie
	busy    *blocker   // client taking its turn
	changed chan struct{}
}

var (
	blockedTotal atomic.Int64 // blocked clients in the process: the writers' fast path
	queuesMu     sync.Mutex
	queues       = map[*Server]*blockQueue{}
)

// blockedClients returns the number of clients blocked on this server
// (INFO clients blocked_clients).
func (s *Server) blockedClients() int {
	held := int(s.pause.waiting.Load()) // CLIENT PAUSE's postponed clients
	if blockedTotal.Load() == 0 {
		return held
	}
	queuesMu.Lock()
	q := queues[s]
	queuesMu.Unlock()
	if q == nil {
		return held
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return held + q.blocked
}

// register adds a blocked client waiting on keys.
func (s *Server) register(c *client, keys [][]byte) (*blockQueue, *blocker) {
	queuesMu.Lock()
	q := queues[s]
	if q == nil {
		q = &blockQueue{byKey: make(map[string][]*blocker), changed: make(chan struct{})}
		queues[s] = q
	}
	q.refs++
	queuesMu.Unlock()
	blockedTotal.Add(1)

	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	q.seq += blockSeqStep
	b := &blocker{seq: q.seq, client: c.id, at: now, attempting: true}
	keep := q.recent[:0]
	for _, x := range q.recent {
		if x.gone || now.Sub(x.at) > blockTie {
			continue
		}
		keep = append(keep, x)
		if x.client > b.client && x.seq <= b.seq {
			b.seq = x.seq - 1 // simultaneous, and x's connection is younger
		}
	}
	clear(q.recent[len(keep):])
	q.recent = append(keep, b)
	for _, k := range keys {
		ks := string(k)
		dup := false
		for _, have := range b.keys {
			dup = dup || have == ks
		}
		if dup {
			continue // BLPOP k k: one registration
		}
		b.keys = append(b.keys, ks)
		q.byKey[ks] = append(q.byKey[ks], b)
	}
	return q, b
}

func (s *Server) unregister(q *blockQueue, b *blocker) {
	q.mu.Lock()
	for _, k := range b.keys {
		list := q.byKey[k]
		for i, x := range list {
			if x == b {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(q.byKey, k)
		} else {
			q.byKey[k] = list
		}
	}
	q.unpend(b)
	if q.busy == b {
		q.busy = nil
	}
	if b.blocked {
		q.blocked--
	}
	b.attempting, b.gone = false, true
	q.broadcast()
	q.mu.Unlock()

	blockedTotal.Add(-1)
	queuesMu.Lock()
	q.refs--
	if q.refs == 0 && queues[s] == q {
		delete(queues, s)
	}
	queuesMu.Unlock()
}

// queueOf returns the server's queue if any client is blocked.
func (s *Server) queueOf() *blockQueue {
	if blockedTotal.Load() == 0 {
		return nil
	}
	queuesMu.Lock()
	defer queuesMu.Unlock()
	return queues[s]
}

// blockAfterAttempt records that b's first attempt found nothing: b is
// now blocked.
func (q *blockQueue) blockAfterAttempt(b *blocker) {
	q.mu.Lock()
	b.attempting, b.blocked = false, true
	q.blocked++
	q.broadcast()
	q.mu.Unlock()
}

// awaitAttempts waits until no first attempt on one of keys (all: any key)
// is in flight, and no blocking command registered on them less than
// blockTie ago: one dispatched at the same time as this write may still be
// on its way, and Redis would have run it first if it arrived first.
func (q *blockQueue) awaitAttempts(ctx context.Context, keys []string, all bool) {
	limit := time.NewTimer(blockServeWait)
	defer limit.Stop()
	for {
		now := time.Now()
		var settle time.Duration // until the youngest registration is blockTie old
		inFlight := false
		check := func(b *blocker) {
			inFlight = inFlight || b.attempting
			if d := blockTie - now.Sub(b.at); d > settle {
				settle = d
			}
		}
		q.mu.Lock()
		if all {
			for _, list := range q.byKey {
				for _, b := range list {
					check(b)
				}
			}
		} else {
			for _, k := range keys {
				for _, b := range q.byKey[k] {
					check(b)
				}
			}
		}
		ch := q.changed
		q.mu.Unlock()
		if !inFlight && settle <= 0 {
			return
		}
		var tick <-chan time.Time
		if settle > 0 {
			tick = time.After(settle)
		}
		select {
		case <-ch:
		case <-tick:
		case <-limit.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// awaitFirstAttempt delays b's first attempt (see the top of the file).
func (q *blockQueue) awaitFirstAttempt(ctx context.Context, b *blocker) {
	select {
	case <-time.After(time.Until(b.at.Add(blockTie))):
	case <-ctx.Done():
		return
	}
	limit := time.NewTimer(blockServeWait)
	defer limit.Stop()
	for {
		earlier := false
		q.mu.Lock()
		for _, k := range b.keys {
			for _, x := range q.byKey[k] {
				earlier = earlier || x.attempting && x.seq < b.seq
			}
		}
		ch := q.changed
		q.mu.Unlock()
		if !earlier {
			return
		}
		select {
		case <-ch:
		case <-limit.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// beforeWrites is called before this gateway proposes writes for a client
// that is not blocked: see awaitAttempts. One atomic load when nobody blocks.
func (s *Server) beforeWrites(cmds [][][]byte) {
	q := s.queueOf()
	if q == nil {
		return
	}
	keys, all := writtenKeys(cmds)
	if len(keys) == 0 && !all {
		return
	}
	q.awaitAttempts(s.ctx, keys, all)
}

func (q *blockQueue) broadcast() {
	close(q.changed)
	q.changed = make(chan struct{})
}

func (q *blockQueue) unpend(b *blocker) {
	if !b.pending {
		return
	}
	for i, x := range q.pending {
		if x == b {
			q.pending = append(q.pending[:i], q.pending[i+1:]...)
			break
		}
	}
	b.pending = false
}

// mark makes b pending on behalf of writer generation root (0 = none).
func (q *blockQueue) mark(b *blocker, root uint64) {
	if root != 0 && (b.root == 0 || root < b.root) {
		b.root = root
	}
	if q.busy == b && root != 0 && (b.turn == 0 || root < b.turn) {
		// The turn in progress may be what serves that writer: the clients
		// it wakes in turn must be waited for on the writer's behalf.
		b.turn = root
	}
	if b.pending {
		return
	}
	b.pending = true
	i := sort.Search(len(q.pending), func(i int) bool { return q.pending[i].seq > b.seq })
	q.pending = append(q.pending, nil)
	copy(q.pending[i+1:], q.pending[i:])
	q.pending[i] = b
}

// touch marks every client blocked on one of keys (all: every client).
// newRoot asks for a new writer generation, which it returns.
func (q *blockQueue) touch(keys []string, all bool, root uint64, newRoot bool) uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	if newRoot {
		q.gen++
		root = q.gen
	}
	n := len(q.pending)
	if all {
		for _, list := range q.byKey {
			for _, b := range list {
				q.mark(b, root)
			}
		}
	} else {
		for _, k := range keys {
			for _, b := range q.byKey[k] {
				q.mark(b, root)
			}
		}
	}
	if len(q.pending) != n || root != 0 {
		q.broadcast()
	}
	return root
}

// wait returns true when it is b's turn (the caller must call endTurn), or
// false when ctx ends or tick fires first.
func (q *blockQueue) wait(ctx context.Context, b *blocker, tick <-chan time.Time) bool {
	for {
		q.mu.Lock()
		if b.pending && q.busy == nil && q.pending[0] == b {
			q.unpend(b)
			q.busy = b
			b.turn, b.root = b.root, 0
			q.mu.Unlock()
			return true
		}
		ch := q.changed
		q.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		case <-tick:
			return false
		}
	}
}

func (q *blockQueue) endTurn(b *blocker) {
	q.mu.Lock()
	if q.busy == b {
		q.busy = nil
	}
	b.turn = 0
	q.broadcast()
	q.mu.Unlock()
}

// waitServed waits until no client woken on behalf of writer generation
// root (or an older one) is still waiting for, or taking, its turn.
func (q *blockQueue) waitServed(ctx context.Context, root uint64) {
	timer := time.NewTimer(blockServeWait)
	defer timer.Stop()
	for {
		q.mu.Lock()
		waiting := q.busy != nil && q.busy.turn != 0 && q.busy.turn <= root
		for _, b := range q.pending {
			waiting = waiting || b.root != 0 && b.root <= root
		}
		ch := q.changed
		q.mu.Unlock()
		if !waiting {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// writtenKeys returns the keys cmds write (all: a flush touches every key).
func writtenKeys(cmds [][][]byte) (keys []string, all bool) {
	for _, args := range cmds {
		_, args, _ = raftfsm.SplitScriptACL(args)
		cmd := raftfsm.Lookup(args[0])
		if cmd == nil || cmd.Flags&raftfsm.FlagWrite == 0 {
			continue
		}
		if cmd.Name == "flushall" || cmd.Name == "flushdb" {
			return nil, true
		}
		for _, i := range cmd.KeyPositions(args) {
			if i > 0 && i < len(args) {
				keys = append(keys, string(args[i]))
			}
		}
	}
	return keys, false
}

// wakeBlocked is called after this gateway applied writes for a client that
// is not blocked: it wakes the clients blocked on the written keys and waits
// for them to be served. It costs one atomic load when nobody is blocked.
func (s *Server) wakeBlocked(cmds [][][]byte) {
	q := s.queueOf()
	if q == nil {
		return
	}
	keys, all := writtenKeys(cmds)
	if len(keys) == 0 && !all {
		return
	}
	root := q.touch(keys, all, 0, true)
	q.waitServed(s.ctx, root)
}

// isNoData reports whether an attempt found nothing to pop.
func isNoData(r *raftfsm.Reply) bool {
	return r.Kind == raftfsm.KindNil || r.Kind == raftfsm.KindNilArray
}

// attempt proposes one attempt of a blocking command.
func (s *Server) attempt(args [][]byte) (raftfsm.Reply, error) {
	ctx, cancel := context.WithTimeout(s.ctx, writeTimeout)
	defer cancel()
	replies, err := s.safeWrite(ctx, [][][]byte{args})
	if err == nil && len(replies) != 1 {
		err = errInternal
	}
	if err != nil {
		return raftfsm.Reply{}, err
	}
	return replies[0], nil
}

// runBlocking serves a blocking command outside MULTI (see the top of the file).
func (s *Server) runBlocking(c *client, cmd *command, args [][]byte, slot int) {
	cmd.calls.Add(1)
	start := time.Now()
	// The slow log counts the attempts, not the time spent blocked.
	var busy time.Duration
	orig := args
	defer func() { s.slowlogMaybe(c, cmd, orig, busy) }()
	if c.trackReads() {
		// XREAD BLOCK is a read for client tracking (Redis tracks it as it
		// runs): its keys are remembered before the first attempt, so any
		// later write invalidates them.
		s.rememberKeys(c.id, cmd.engine, args)
	}
	timed := func(f func()) {
		t := time.Now()
		f()
		busy += time.Since(t)
	}
	keys := raftfsm.BlockingKeys(args)
	if len(keys) == 0 {
		// Malformed: the engine answers with the error.
		if r, err := s.attempt(args); err != nil {
			s.replyError(c, cmd, errorText(err, true, slot))
		} else {
			s.appendEngineReply(c, cmd, &r)
		}
		return
	}
	q, b := s.register(c, keys)
	release := sync.OnceFunc(func() { s.unregister(q, b) })
	defer release()
	q.awaitFirstAttempt(s.ctx, b)
	if cmd.name == "xread" {
		// XREAD's $ means the last ID when the command came: fixed here,
		// so that retries do not read it again.
		if err := s.backend.Read(s.ctx, false, func(db *raftfsm.DB, now int64) {
			args = raftfsm.BlockingPrepare(db, now, args)
		}); err != nil {
			s.replyError(c, cmd, errorText(err, false, slot))
			return
		}
	}
	var r raftfsm.Reply
	var err error
	timed(func() { r, err = s.attempt(args) })
	if err != nil {
		s.replyError(c, cmd, errorText(err, true, slot))
		return
	}
	if !isNoData(&r) {
		release() // before waking others, so as not to wait for ourselves
		s.appendEngineReply(c, cmd, &r)
		if r.Kind != raftfsm.KindError {
			s.wakeBlocked([][][]byte{args})
		}
		return
	}
	ms, ok := raftfsm.BlockingTimeout(args)
	if !ok {
		s.appendEngineReply(c, cmd, &r) // cannot happen: the engine validated args
		return
	}
	q.blockAfterAttempt(b)
	const forever = 100 * 365 * 24 * time.Hour
	deadline := time.Now().Add(forever) // timeout 0 (and absurdly long ones)
	if ms > 0 && ms < int64(forever/time.Millisecond) {
		deadline = start.Add(time.Duration(ms) * time.Millisecond)
	}
	dctx, cancelDeadline := context.WithDeadline(s.ctx, deadline)
	defer cancelDeadline()
	ctx, cancelCause := context.WithCancelCause(dctx)
	cancel := func() { cancelCause(nil) }
	c.unblock.Store(&cancelCause)
	defer c.unblock.Store(nil)
	// keys alias the command's arguments, which stay valid while this
	// connection is blocked here; the feed goroutine ends before we return.
	var feed sync.WaitGroup
	defer feed.Wait()
	defer cancel()
	feed.Add(1)
	go func() {
		defer feed.Done()
		s.feedBlocked(ctx, q, b, keys)
	}()

	tick := time.NewTicker(blockTick)
	defer tick.Stop()
	ticks := 0
	for {
		if !q.wait(ctx, b, tick.C) {
			if err := ctx.Err(); err != nil {
				switch cause := context.Cause(ctx); {
				case errors.Is(cause, errUnblockTimeout):
					nr := raftfsm.NilArray()
					s.appendEngineReply(c, cmd, &nr)
					return
				case errors.Is(cause, errUnblockError):
					s.replyError(c, cmd, "UNBLOCKED client unblocked via CLIENT UNBLOCK")
					return
				}
				if errors.Is(err, context.DeadlineExceeded) && s.ctx.Err() == nil {
					nr := raftfsm.NilArray() // Redis answers a timeout with a null array
					s.appendEngineReply(c, cmd, &nr)
				}
				return
			}
			if !connAlive(c) {
				return
			}
			if ticks++; ticks%blockBackstop == 0 {
				// WaitKeys only reports writes applied after it started:
				// one landing between two calls would go unnoticed.
				q.touch(b.keys, false, 0, false)
			}
			continue
		}
		var done bool
		timed(func() { done = s.retryBlocked(c, cmd, args, slot, q, b) })
		q.endTurn(b)
		if done {
			return
		}
	}
}

// feedBlocked turns the backend's change feed into marks on the queue.
func (s *Server) feedBlocked(ctx context.Context, q *blockQueue, b *blocker, keys [][]byte) {
	for ctx.Err() == nil {
		err := s.backend.WaitKeys(ctx, keys)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			// A failing feed must not spin; the backstop still polls.
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		q.touch(b.keys, false, 0, false)
	}
}

// retryBlocked is one turn of a blocked client: a local read decides whether
// a retry could pop anything, and only then is the attempt proposed again.
// It reports whether the client got its reply.
func (s *Server) retryBlocked(c *client, cmd *command, args [][]byte, slot int, q *blockQueue, b *blocker) bool {
	ready, aborted := true, false
	var abort raftfsm.Reply
	err := s.backend.Read(s.ctx, true, func(db *raftfsm.DB, now int64) {
		if abort, aborted = raftfsm.BlockingAbort(db, now, args); !aborted {
			ready = raftfsm.BlockingReady(db, now, args)
		}
	})
	if err == nil && aborted {
		s.appendEngineReply(c, cmd, &abort) // XREADGROUP whose key or group went away
		return true
	}
	if err == nil && !ready {
		return false
	}
	r, err := s.attempt(args)
	if err != nil {
		s.replyError(c, cmd, errorText(err, true, slot))
		return true
	}
	if isNoData(&r) {
		return false // another client was served first
	}
	s.appendEngineReply(c, cmd, &r)
	if r.Kind != raftfsm.KindError {
		// Pass the wake-up on (BLMOVE's destination may have waiters),
		// on behalf of the writer that woke this client.
		keys, _ := writtenKeys([][][]byte{args})
		q.mu.Lock()
		root := b.turn
		q.mu.Unlock()
		q.touch(keys, false, root, false)
	}
	return true
}

// connAlive reports whether the client is still connected. While blocked
// nothing reads the socket, so a closed connection is detected by peeking.
func connAlive(c *client) bool {
	if c.killed.Load() {
		return false
	}
	raw := c.raw
	if g, ok := raw.(*guardConn); ok {
		raw = g.Conn
	}
	tc, isTLS := raw.(*tlsConn)
	if isTLS {
		raw = tc.raw
	}
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := true
	var buf [1]byte
	cerr := rc.Control(func(fd uintptr) {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == nil && n == 0:
			alive = false // orderly shutdown by the peer
		case err == nil && (isTLS || n > 0) && peerHungUp(int(fd)):
			// Data is pending (a pipelined command, or a TLS
			// close_notify, which TLS 1.3 encrypts like any data), but the
			// peer has also shut its side down.
			alive = false
		case err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR):
			alive = false
		}
	})
	return cerr == nil && alive
}

// ---- WATCH ------------------------------------------------------------------

// watchSet is a client's watched keys with the versions they had when
// watched (raftfsm.DB.KeyVersion). A key watched twice keeps its first
// version, as in Redis.
type watchSet struct {
	keys [][]byte
	vers []uint64
}

// Watch sets live beside the client, keyed by a weak pointer to it (client
// ids are per server, not per process); a cleanup drops a client's set when
// the client is collected (a connection closed while watching).
var (
	watchMu    sync.Mutex
	watches    = map[weak.Pointer[client]]*watchSet{}
	anyWatches atomic.Int64 // len(watches): EXEC's fast path
)

func watchesOf(c *client) *watchSet {
	if anyWatches.Load() == 0 {
		return nil
	}
	watchMu.Lock()
	defer watchMu.Unlock()
	return watches[weak.Make(c)]
}

// unwatchAll forgets c's watched keys (UNWATCH, EXEC, DISCARD, RESET).
func unwatchAll(c *client) {
	if anyWatches.Load() == 0 {
		return
	}
	dropWatches(weak.Make(c))
}

func dropWatches(k weak.Pointer[client]) {
	watchMu.Lock()
	if _, ok := watches[k]; ok {
		delete(watches, k)
		anyWatches.Add(-1)
	}
	watchMu.Unlock()
}

func addWatches(c *client, keys [][]byte, vers []uint64) {
	watchMu.Lock()
	defer watchMu.Unlock()
	k := weak.Make(c)
	ws := watches[k]
	if ws == nil {
		ws = &watchSet{}
		watches[k] = ws
		anyWatches.Add(1)
		runtime.AddCleanup(c, dropWatches, k)
	}
	for i, k := range keys {
		dup := false
		for _, have := range ws.keys {
			dup = dup || string(have) == string(k)
		}
		if !dup {
			ws.keys = append(ws.keys, k)
			ws.vers = append(ws.vers, vers[i])
		}
	}
}

// watchKeys serves WATCH outside MULTI: it records the current version of
// each key, read linearizably through the backend.
func (s *Server) watchKeys(c *client, args [][]byte) {
	keys := make([][]byte, len(args)-1)
	var slot slots.Slot
	for i, a := range args[1:] {
		keys[i] = append([]byte(nil), a...)
		sl := slots.Of(a)
		if i > 0 && sl != slot {
			s.replyError(c, nil, "CROSSSLOT Keys in request don't hash to the same slot")
			return
		}
		slot = sl
	}
	if msg := s.backend.Route(slot, false, c.readonly, false); msg != "" {
		s.replyError(c, nil, msg)
		return
	}
	vers := make([]uint64, len(keys))
	err := s.backend.Read(s.ctx, false, func(db *raftfsm.DB, now int64) {
		for i, k := range keys {
			vers[i] = db.KeyVersion(k, now)
		}
	})
	if err != nil {
		s.replyError(c, nil, errorText(err, false, int(slot)))
		return
	}
	addWatches(c, keys, vers)
	c.out = append(c.out, "+OK\r\n"...)
}

// watchedUnchanged checks c's watched keys with a read, for an EXEC that
// proposes nothing (only gateway commands queued): with no write to order
// against, a linearizable read is as good as a check inside the log.
func (s *Server) watchedUnchanged(ws *watchSet) (bool, error) {
	ok := true
	err := s.backend.Read(s.ctx, false, func(db *raftfsm.DB, now int64) {
		for i, k := range ws.keys {
			if db.KeyVersion(k, now) != ws.vers[i] {
				ok = false
			}
		}
	})
	return ok, err
}

// appendNullArray writes EXEC's reply for a transaction aborted by WATCH
// (*-1, or the RESP3 null).
func appendNullArray(b []byte, resp int) []byte {
	r := raftfsm.NilArray()
	return appendReply(b, &r, resp)
}

// CLIENT UNBLOCK ends another client's blocking command, as if it timed out
// (default) or with an -UNBLOCKED error.
var (
	errUnblockTimeout = errors.New("unblocked: timeout")
	errUnblockError   = errors.New("unblocked: error")
)

func clientUnblockCmd(s *Server, c *client, args [][]byte) {
	id, ok := raftfsm.ParseInt(args[2])
	if !ok {
		s.replyError(c, nil, "ERR value is not an integer or out of range")
		return
	}
	cause := errUnblockTimeout
	if len(args) == 4 {
		switch {
		case raftfsm.EqFold(args[3], "timeout"):
		case raftfsm.EqFold(args[3], "error"):
			cause = errUnblockError
		default:
			s.replyError(c, nil, "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	} else if len(args) > 4 {
		s.replyError(c, nil, "ERR syntax error")
		return
	}
	s.mu.Lock()
	target := s.clients[id]
	s.mu.Unlock()
	n := int64(0)
	if target != nil {
		if f := target.unblock.Load(); f != nil {
			(*f)(cause)
			n = 1
		}
	}
	c.out = appendInt(c.out, n)
}
