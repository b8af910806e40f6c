package raftfsm

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Blocking list and sorted-set commands (BLPOP BRPOP BLMOVE BRPOPLPUSH
// BLMPOP BZPOPMIN BZPOPMAX BZMPOP).
//
// In the engine each of them is one non-blocking attempt, applied from the
// log like any write: it pops when there is something to pop and otherwise
// replies the null Redis sends on timeout (or inside MULTI, where Redis
// never blocks). Blocking itself lives in the gateway: it proposes the
// attempt, and on a null reply waits for a write on the keys (FSM.WaitKeys)
// and proposes it again. Every replica therefore applies the same
// deterministic attempts, and a blocked client holds no replicated state.

func init() {
	Register(
		Command{Name: "blpop", Arity: -3, Flags: FlagWrite | FlagBlocking, First: 1, Last: -2, Step: 1, Exec: blpopCommand},
		Command{Name: "brpop", Arity: -3, Flags: FlagWrite | FlagBlocking, First: 1, Last: -2, Step: 1, Exec: brpopCommand},
		Command{Name: "brpoplpush", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagBlocking, First: 1, Last: 2, Step: 1, Exec: brpoplpushCommand},
		Command{Name: "blmove", Arity: 6, Flags: FlagWrite | FlagDenyOOM | FlagBlocking, First: 1, Last: 2, Step: 1, Exec: blmoveCommand},
		Command{Name: "blmpop", Arity: -5, Flags: FlagWrite | FlagBlocking | FlagMovableKeys, Keys: zsKeysNumkeys(2, 0), Exec: blmpopCommand},
		Command{Name: "bzpopmin", Arity: -3, Flags: FlagWrite | FlagFast | FlagBlocking, First: 1, Last: -2, Step: 1, Exec: bzpopminCommand},
		Command{Name: "bzpopmax", Arity: -3, Flags: FlagWrite | FlagFast | FlagBlocking, First: 1, Last: -2, Step: 1, Exec: bzpopmaxCommand},
		Command{Name: "bzmpop", Arity: -5, Flags: FlagWrite | FlagBlocking | FlagMovableKeys, Keys: zsKeysNumkeys(2, 0), Exec: bzmpopCommand},
	)
}

var (
	errTimeoutNotFloat = Err("ERR timeout is not a float or out of range")
	errTimeoutNegative = Err("ERR timeout is negative")
)

// parseTimeout parses a blocking timeout in seconds into milliseconds
// (0 = forever), as getTimeoutFromObjectOrReply does with UNIT_SECONDS.
func parseTimeout(b []byte) (int64, Reply, bool) {
	f, ok := parseLongDouble(b)
	if !ok {
		return 0, errTimeoutNotFloat, false
	}
	ms := math.Ceil(f * 1000)
	// Redis casts to long long: on x86 an out-of-range value (inf, huge
	// timeouts) becomes LLONG_MIN, which Redis 7.0 then calls negative.
	if ms < 0 || ms >= math.MaxInt64 || math.IsInf(ms, 0) {
		return 0, errTimeoutNegative, false
	}
	return int64(ms), Reply{}, true
}

// parseLongDouble accepts what Redis's string2ld (strtold) accepts: decimal
// and hex floats, inf; no spaces, no NaN, no overflow.
func parseLongDouble(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 5000 || b[0] == ' ' || b[0] == '\t' || b[0] == '\n' {
		return 0, false
	}
	s := string(b)
	body := strings.TrimLeft(s, "+-")
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') && !strings.ContainsAny(body, "pP") {
		s += "p0" // strtold takes hex without an exponent; strconv needs one
	}
	if strings.Contains(s, "_") {
		return 0, false // strconv accepts digit separators in prefixed forms
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		low := strings.ToLower(strings.TrimLeft(s, "+-"))
		if low != "inf" && low != "infinity" {
			return 0, false
		}
		f = math.Inf(1)
		if s[0] == '-' {
			f = math.Inf(-1)
		}
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// lookupWrite returns key's live value without touching the hit/miss
// statistics (Redis's lookupKeyWrite does not count either).
func (c *Ctx) lookupWrite(key []byte) Value {
	if e := c.lookup(key); e != nil {
		return e.val
	}
	return nil
}

func blpopCommand(c *Ctx, args [][]byte) Reply { return blockingPop(c, args, true) }
func brpopCommand(c *Ctx, args [][]byte) Reply { return blockingPop(c, args, false) }

// blockingPop is BLPOP/BRPOP: the first key holding a list gives one
// element; a key of another type met first is WRONGTYPE.
func blockingPop(c *Ctx, args [][]byte, left bool) Reply {
	if _, r, ok := parseTimeout(args[len(args)-1]); !ok {
		return r
	}
	for _, key := range args[1 : len(args)-1] {
		switch c.lookupWrite(key).(type) {
		case nil:
			continue
		case *listValue:
		default:
			return ErrWrongType
		}
		l := c.GetMut(key).(*listValue)
		var v string
		if left {
			v = l.PopFront()
		} else {
			v = l.PopBack()
		}
		c.notify(NotifyList, popEvent(left), key)
		listDeleteIfEmpty(c, key, l)
		return Array([]Reply{Bulk(string(key)), Bulk(v)})
	}
	return NilArray()
}

// blmoveCommand is BLMOVE src dst LEFT|RIGHT LEFT|RIGHT timeout. With
// nothing to move it replies a null bulk, as Redis does when it may not
// block (MULTI); the gateway answers a timeout with a null array itself.
func blmoveCommand(c *Ctx, args [][]byte) Reply {
	from, ok := parseWhere(args[3])
	if !ok {
		return ErrSyntax
	}
	to, ok := parseWhere(args[4])
	if !ok {
		return ErrSyntax
	}
	if _, r, ok := parseTimeout(args[5]); !ok {
		return r
	}
	return lmoveGeneric(c, args[1], args[2], from, to)
}

func brpoplpushCommand(c *Ctx, args [][]byte) Reply {
	if _, r, ok := parseTimeout(args[3]); !ok {
		return r
	}
	return lmoveGeneric(c, args[1], args[2], false, true)
}

// mpopCheck validates B[LZ]MPOP's numkeys, where and COUNT arguments in
// Redis's order (they are parsed before the timeout).
func mpopCheck(args [][]byte, zset bool) Reply {
	const numkeysIdx = 2
	nk, ok := ParseInt(args[numkeysIdx])
	if !ok || nk < 1 {
		return errNumkeys
	}
	if nk > int64(len(args)) {
		return ErrSyntax
	}
	whereIdx := numkeysIdx + int(nk) + 1
	if whereIdx >= len(args) {
		return ErrSyntax
	}
	w := args[whereIdx]
	if zset && !EqFold(w, "min") && !EqFold(w, "max") || !zset && !EqFold(w, "left") && !EqFold(w, "right") {
		return ErrSyntax
	}
	count := false
	for j := whereIdx + 1; j < len(args); j++ {
		if !count && EqFold(args[j], "count") && j+1 < len(args) {
			j++
			if n, ok := ParseInt(args[j]); !ok || n < 1 {
				return errCountPositive
			}
			count = true
			continue
		}
		return ErrSyntax
	}
	return Reply{}
}

// dropTimeout turns B[LZ]MPOP timeout numkeys ... into [LZ]MPOP numkeys ...
func dropTimeout(args [][]byte) [][]byte {
	out := make([][]byte, 0, len(args)-1)
	out = append(out, args[0])
	return append(out, args[2:]...)
}

func blmpopCommand(c *Ctx, args [][]byte) Reply {
	if r := mpopCheck(args, false); r.IsError() {
		return r
	}
	if _, r, ok := parseTimeout(args[1]); !ok {
		return r
	}
	return lmpopCommand(c, dropTimeout(args))
}

func bzmpopCommand(c *Ctx, args [][]byte) Reply {
	if r := mpopCheck(args, true); r.IsError() {
		return r
	}
	if _, r, ok := parseTimeout(args[1]); !ok {
		return r
	}
	return zmpopCommand(c, dropTimeout(args))
}

func bzpopminCommand(c *Ctx, args [][]byte) Reply { return bzpopGeneric(c, args, false) }
func bzpopmaxCommand(c *Ctx, args [][]byte) Reply { return bzpopGeneric(c, args, true) }

// bzpopGeneric is BZPOPMIN/BZPOPMAX: [key, member, score] from the first
// key holding a sorted set (flat in RESP2 and RESP3 alike).
func bzpopGeneric(c *Ctx, args [][]byte, max bool) Reply {
	if _, r, ok := parseTimeout(args[len(args)-1]); !ok {
		return r
	}
	for _, key := range args[1 : len(args)-1] {
		switch c.lookupWrite(key).(type) {
		case nil:
			continue
		case *zsetValue:
		default:
			return ErrWrongType
		}
		z := c.GetMut(key).(*zsetValue)
		flat := zsPop(c, key, z, 1, max)
		return Array([]Reply{Bulk(string(key)), flat[0], flat[1]})
	}
	return NilArray()
}

// ---- what the gateway needs to block ------------------------------------------

// BlockingTimeout returns the timeout in milliseconds (0 = block forever)
// of a blocking command's arguments; ok is false when it is malformed.
func BlockingTimeout(args [][]byte) (ms int64, ok bool) {
	if xreadBlocks(args) {
		return xreadBlockTimeout(args)
	}
	idx := -1
	switch Lower(args[0]) {
	case "blpop", "brpop", "bzpopmin", "bzpopmax":
		idx = len(args) - 1
	case "blmove":
		idx = 5
	case "brpoplpush":
		idx = 3
	case "blmpop", "bzmpop":
		idx = 1
	}
	if idx < 1 || idx >= len(args) {
		return 0, false
	}
	ms, _, ok = parseTimeout(args[idx])
	return ms, ok
}

// BlockingKeys returns the keys a blocking command waits on (BLMOVE waits
// on its source only), nil if args are malformed.
func BlockingKeys(args [][]byte) [][]byte {
	if xreadBlocks(args) {
		return xreadBlockingKeys(args)
	}
	switch Lower(args[0]) {
	case "blpop", "brpop", "bzpopmin", "bzpopmax":
		if len(args) < 3 {
			return nil
		}
		return args[1 : len(args)-1]
	case "blmove", "brpoplpush":
		if len(args) < 3 {
			return nil
		}
		return args[1:2]
	case "blmpop", "bzmpop":
		pos := zsKeysNumkeys(2, 0)(args)
		if pos == nil {
			return nil
		}
		return args[pos[0] : pos[len(pos)-1]+1]
	}
	return nil
}

// BlockingReady reports whether a retry of the blocking command args could
// pop something at time now: one of its keys holds a value of the type it
// pops. A key of another type does not count: Redis keeps such a client
// blocked rather than failing it. It only reads (any lock mode will do).
func BlockingReady(db *DB, now int64, args [][]byte) bool {
	zset := len(args[0]) > 1 && (args[0][1] == 'z' || args[0][1] == 'Z')
	c := Ctx{DB: db, Now: now}
	if xreadBlocks(args) {
		return xreadReady(&c, args)
	}
	for _, key := range BlockingKeys(args) {
		switch c.lookupWrite(key).(type) {
		case *listValue:
			if !zset {
				return true
			}
		case *zsetValue:
			if zset {
				return true
			}
		}
	}
	return false
}

// ---- change feed: FSM.WaitKeys -------------------------------------------------

// keyWaiter is one WaitKeys call; ch is buffered so a wake never blocks Apply.
type keyWaiter struct{ ch chan struct{} }

func (w *keyWaiter) wake() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// keyWaiters is the FSM's change feed. Apply records the keys it touches
// only while someone waits (n > 0) or an enabled tracking sink is installed
// (client-side caching), and after the batch wakes the waiters and hands
// the keys to the sink.
type keyWaiters struct {
	n      atomic.Int64
	sink   atomic.Pointer[func(keys [][]byte, all bool)]
	sinkOn atomic.Bool // the sink wants keys (the gateway has tracking clients)
	mu     sync.Mutex
	byKey  map[string]map[*keyWaiter]struct{}
	all    map[*keyWaiter]struct{}

	// Written by the apply goroutine only, delivered after each batch.
	touched  []string
	wakeAll  bool
	anything bool
}

func (kw *keyWaiters) add(w *keyWaiter, keys [][]byte) {
	kw.mu.Lock()
	if kw.byKey == nil {
		kw.byKey = make(map[string]map[*keyWaiter]struct{})
		kw.all = make(map[*keyWaiter]struct{})
	}
	kw.all[w] = struct{}{}
	for _, k := range keys {
		set := kw.byKey[string(k)]
		if set == nil {
			set = make(map[*keyWaiter]struct{})
			kw.byKey[string(k)] = set
		}
		set[w] = struct{}{}
	}
	kw.n.Add(1)
	kw.mu.Unlock()
}

func (kw *keyWaiters) remove(w *keyWaiter, keys [][]byte) {
	kw.mu.Lock()
	delete(kw.all, w)
	for _, k := range keys {
		if set := kw.byKey[string(k)]; set != nil {
			delete(set, w)
			if len(set) == 0 {
				delete(kw.byKey, string(k))
			}
		}
	}
	kw.n.Add(-1)
	kw.mu.Unlock()
}

// recording reports whether applied keys must be recorded.
func (kw *keyWaiters) recording() bool {
	return kw.n.Load() != 0 || kw.sinkOn.Load() && kw.sink.Load() != nil
}

// noteCommand records the keys an applied command touched. Called by the
// apply goroutine for every applied command while recording.
func (kw *keyWaiters) noteCommand(args [][]byte) {
	if len(args) == 0 || !kw.recording() {
		return
	}
	cmd := Lookup(args[0])
	if cmd == nil || cmd.Flags&FlagReadOnly != 0 {
		// A read applied from the log (XREAD BLOCK's attempts, a script's
		// reads) modifies nothing: no waiter to wake, nothing to invalidate.
		return
	}
	if cmd.Name == "flushall" || cmd.Name == "flushdb" {
		kw.wakeAll, kw.anything = true, true
		return
	}
	for _, i := range cmd.KeyPositions(args) {
		if i > 0 && i < len(args) {
			kw.touched = append(kw.touched, string(args[i]))
			kw.anything = true
		}
	}
}

// noteKeys records keys touched by an OpExpire, OpEvict, OpImport or
// OpMigDel entry.
func (kw *keyWaiters) noteKeys(keys [][]byte) {
	if !kw.recording() {
		return
	}
	for _, k := range keys {
		kw.touched = append(kw.touched, string(k))
		kw.anything = true
	}
}

// noteAll wakes every waiter after the batch (flush, snapshot restore).
func (kw *keyWaiters) noteAll() { kw.wakeAll, kw.anything = true, true }

// deliver wakes the waiters of the keys recorded since the last delivery
// and hands the keys to the tracking sink (outside the engine lock).
func (kw *keyWaiters) deliver() {
	if !kw.anything {
		return
	}
	if fn := kw.sink.Load(); fn != nil && kw.sinkOn.Load() {
		var keys [][]byte
		if !kw.wakeAll {
			keys = make([][]byte, len(kw.touched))
			for i, k := range kw.touched {
				keys[i] = []byte(k)
			}
		}
		(*fn)(keys, kw.wakeAll)
	}
	kw.mu.Lock()
	if kw.wakeAll {
		for w := range kw.all {
			w.wake()
		}
	} else {
		for _, k := range kw.touched {
			for w := range kw.byKey[k] {
				w.wake()
			}
		}
	}
	kw.mu.Unlock()
	clear(kw.touched)
	kw.touched = kw.touched[:0]
	kw.wakeAll, kw.anything = false, false
}

// WaitKeys blocks until a write touching one of keys (or a flush, or a
// snapshot restore) has been applied on this node after the call started,
// or until ctx ends. The waiter is unregistered before it returns.
func (f *FSM) WaitKeys(ctx context.Context, keys [][]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &keyWaiter{ch: make(chan struct{}, 1)}
	f.kw.add(w, keys)
	defer f.kw.remove(w, keys)
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SetTrackingSink installs fn (nil removes it) to receive, after each
// applied batch and outside the engine lock, the keys the batch touched, or
// all=true after a flush or a snapshot restore. It is called on the apply
// goroutine and must not block or keep keys beyond the call. Keys are
// recorded only while EnableTrackingSink(true) is in effect, so that a node
// without tracking clients pays nothing.
func (f *FSM) SetTrackingSink(fn func(keys [][]byte, all bool)) {
	if fn == nil {
		f.kw.sink.Store(nil)
		return
	}
	f.kw.sink.Store(&fn)
}

// EnableTrackingSink turns the recording of keys for the tracking sink on
// or off (the gateway turns it on when its first tracking client appears).
func (f *FSM) EnableTrackingSink(on bool) { f.kw.sinkOn.Store(on) }

// Waiters returns the number of WaitKeys calls in progress.
func (f *FSM) Waiters() int { return int(f.kw.n.Load()) }
