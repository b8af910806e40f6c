package gateway

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/raftcache/raftcache/raftfsm"
)

// Client-side caching (Redis 7.0 src/tracking.c), per node as in Redis
// Cluster. CLIENT TRACKING ON makes this node remember the keys a client
// reads (default mode) or the key prefixes it wants to hear about (BCAST);
// when a key is modified the client, or the client it redirects to, gets an
// invalidation message.
//
// Modifications come from the engine: every replica applies every write, and
// the FSM hands the keys each applied batch touched (or "all" for a flush or
// a snapshot restore) to InvalidateKeys on its apply goroutine. So a client
// of a follower (READONLY) is invalidated by a write made through the leader,
// and expiry, eviction and slot-migration deletes invalidate as writes do.
// The engine records keys only while this node has tracking clients
// (TrackingSource).
//
// Messages go through the target's push sink (pubsub.go), which never blocks
// the apply goroutine and writes a message after the replies of the pipeline
// being served. Differences from Redis:
//   - NOLOOP: a modification arrives through the Raft log without the
//     identity of the client that made it. While a NOLOOP client's pipeline
//     writes are in flight (runWrites), the invalidations it would get for
//     the keys those writes touch are held, and the server counts how many
//     times the engine reports each such key; the engine reports the
//     client's own entry exactly once, before Write returns. If the count
//     exceeds what the client's own commands account for, someone else
//     modified the key too and the invalidation is sent; if the write
//     failed it is sent as well. Writes of EXEC, blocking commands and
//     the undeclared keys of scripts are not held back: the client gets
//     invalidations for them (never fewer messages than needed).
//   - A RESP3 REDIRECT target gets messages only once it has a push sink
//     (it subscribed to a channel or enabled tracking itself).
//   - The declared keys of EVAL/EVALSHA/FCALL are remembered whether or not
//     the script reads (Redis: only if it calls a read-only command).
//   - The keys of XREAD BLOCK and of reads queued in MULTI are remembered
//     before they run (Redis: after), so a transaction that writes a key
//     and then reads it sends one invalidation more than Redis.

// TrackingSource is implemented by backends whose engine can report the keys
// of applied writes; EnableTrackingSink(true) asks it to start recording them
// (called when this node gets its first tracking client, false after the
// last one leaves).
type TrackingSource interface {
	EnableTrackingSink(on bool)
}

// trackState is one tracking client's configuration: immutable once built,
// except broken (under tracker.mu).
type trackState struct {
	c        *client
	sink     *pushSink // c's own writer (RESP3 pushes, tracking-redir-broken)
	redirect int64
	bcast    bool
	optin    bool
	optout   bool
	noloop   bool
	prefixes []string // BCAST prefixes, sorted; "" when none was given
	broken   bool     // the redirect target is gone
	loop     *loopWindow
}

// loopWindow is a NOLOOP client's writes in flight (under tracker.mu).
type loopWindow struct {
	own     map[string]int  // times the engine will report each key for these writes
	seen    map[string]int  // times the engine reported each key meanwhile
	pending map[string]bool // invalidations held until the writes return
}

// touchCounts counts the keys of cmds as the engine's change feed reports
// them (raftfsm keyWaiters.noteCommand): key positions of every command
// that is not read-only.
func touchCounts(cmds [][][]byte) map[string]int {
	var m map[string]int
	for _, args := range cmds {
		cmd := raftfsm.Lookup(args[0])
		if cmd == nil || cmd.Flags&raftfsm.FlagReadOnly != 0 {
			continue
		}
		for _, i := range cmd.KeyPositions(args) {
			if i > 0 && i < len(args) {
				if m == nil {
					m = map[string]int{}
				}
				m[string(args[i])]++
			}
		}
	}
	return m
}

// noloopBegin opens c's NOLOOP window for cmds; false if there is none.
func (s *Server) noloopBegin(c *client, cmds [][][]byte) bool {
	st := c.trk
	if st == nil || !st.noloop {
		return false
	}
	own := touchCounts(cmds)
	if own == nil {
		return false
	}
	s.trk.mu.Lock()
	st.loop = &loopWindow{own: own, seen: map[string]int{}, pending: map[string]bool{}}
	s.trk.mu.Unlock()
	return true
}

// noloopEnd closes c's window: a held invalidation is sent when the engine
// reported its key more often than c's own writes did, or when they failed.
func (s *Server) noloopEnd(c *client, ok bool) {
	st := c.trk
	s.trk.mu.Lock()
	defer s.trk.mu.Unlock()
	w := st.loop
	st.loop = nil
	if w == nil {
		return
	}
	keys := make([]string, 0, len(w.pending))
	for k := range w.pending {
		if !ok || w.seen[k] > w.own[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		s.sendTracking(st, []string{k}, false)
	}
}

// holdOwn removes from keys those st's NOLOOP window holds back.
func (st *trackState) holdOwn(keys []string) []string {
	w := st.loop
	if w == nil {
		return keys
	}
	out := keys[:0:0]
	for _, k := range keys {
		if w.own[k] > 0 {
			w.pending[k] = true
			continue
		}
		out = append(out, k)
	}
	return out
}

// tracker is a node's tracking state.
type tracker struct {
	mu      sync.Mutex
	clients map[int64]*trackState
	// table maps a key read by default-mode clients to their ids
	// (Redis's TrackingTable); an entry is dropped once invalidated.
	// Ids of clients that stopped tracking are skipped lazily, as in Redis.
	table map[string]map[int64]struct{}
	items int64 // client ids in table, summed over keys (tracking_total_items)
	// maxKeys is tracking-table-max-keys (0: no bound); overLimit counts
	// the limit passes in a row that ended still over it (effort grows).
	maxKeys   atomic.Int64
	overLimit int
}

func newTracker() *tracker {
	return &tracker{clients: map[int64]*trackState{}, table: map[string]map[int64]struct{}{}}
}

// dropKey removes k's entry from the table. Under mu.
func (t *tracker) dropKey(k string) (map[int64]struct{}, bool) {
	ids, ok := t.table[k]
	if ok {
		delete(t.table, k)
		t.items -= int64(len(ids))
	}
	return ids, ok
}

// clearTable forgets every remembered key. Under mu.
func (t *tracker) clearTable() {
	clear(t.table)
	t.items = 0
}

// trackingLimit keeps the key table within tracking-table-max-keys, as
// Redis's trackingLimitUsedSlots: it forgets keys picked at random (Go's
// map order) and invalidates them for the clients that read them, as if
// they had been modified. The effort is bounded (100 keys, 100 more for
// each pass in a row that could not get under the limit) so a lowered
// limit does not stall the caller; the 100 ms tick and later reads finish
// the job.
func (s *Server) trackingLimit() {
	t := s.trk
	max := t.maxKeys.Load()
	if max <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if int64(len(t.table)) <= max {
		t.overLimit = 0
		return
	}
	effort := 100 * (t.overLimit + 1)
	one := make([]string, 1)
	for k := range t.table {
		if effort == 0 {
			break
		}
		effort--
		ids, _ := t.dropKey(k)
		for id := range ids {
			if st := t.clients[id]; st != nil && !st.bcast {
				one[0] = k
				s.sendTracking(st, one, false)
			}
		}
		if int64(len(t.table)) <= max {
			t.overLimit = 0
			return
		}
	}
	t.overLimit++
}

// trackingTotals is INFO's tracking_total_keys, _items and _prefixes (the
// distinct BCAST prefixes; BCAST without PREFIX counts the empty one).
func (s *Server) trackingTotals() (keys, items, prefixes int64) {
	t := s.trk
	t.mu.Lock()
	defer t.mu.Unlock()
	seen := map[string]bool{}
	for _, st := range t.clients {
		if !st.bcast {
			continue
		}
		if len(st.prefixes) == 0 {
			seen[""] = true
		}
		for _, p := range st.prefixes {
			seen[p] = true
		}
	}
	return int64(len(t.table)), t.items, int64(len(seen))
}

// trackingClients is INFO's tracking_clients.
func (s *Server) trackingClients() int {
	s.trk.mu.Lock()
	defer s.trk.mu.Unlock()
	return len(s.trk.clients)
}

// setTracking installs (st != nil) or removes c's state and turns the
// engine's recording on or off as the count crosses zero.
func (s *Server) setTracking(c *client, st *trackState) {
	t := s.trk
	t.mu.Lock()
	before := len(t.clients)
	if st != nil {
		t.clients[c.id] = st
	} else {
		delete(t.clients, c.id)
	}
	after := len(t.clients)
	if after == 0 {
		t.clearTable()
	}
	t.mu.Unlock()
	c.trk = st
	c.trkShared.Store(st)
	if st == nil {
		c.trkCaching = false
	}
	if (before == 0) != (after == 0) {
		if src, ok := s.backend.(TrackingSource); ok {
			src.EnableTrackingSink(after > 0)
		}
	}
}

// trackingClosed forgets a disconnected or RESET client's tracking state.
func (s *Server) trackingClosed(c *client) {
	if c.trk != nil {
		s.setTracking(c, nil)
	}
}

// trackingBroken reports whether st's REDIRECT target was found gone.
func (s *Server) trackingBroken(st *trackState) bool {
	s.trk.mu.Lock()
	defer s.trk.mu.Unlock()
	return st.broken
}

// trackReads reports whether the keys of a read c runs now are to be
// remembered (default mode, subject to OPTIN/OPTOUT and CLIENT CACHING).
func (c *client) trackReads() bool {
	st := c.trk
	if st == nil || st.bcast {
		return false
	}
	if st.optin && !c.trkCaching || st.optout && c.trkCaching {
		return false
	}
	return true
}

// rememberKeys records that client id read the keys of args. Called under
// the engine's read lock, so that a write applied after the read finds the
// entry.
func (s *Server) rememberKeys(id int64, cmd *raftfsm.Command, args [][]byte) {
	if cmd == nil || cmd.Flags&raftfsm.FlagReadOnly == 0 && !isScriptCall(cmd.Name) {
		return
	}
	if _, inner, ok := raftfsm.SplitScriptACL(args); ok {
		args = inner
	}
	pos := cmd.KeyPositions(args)
	if len(pos) == 0 {
		return
	}
	t := s.trk
	t.mu.Lock()
	for _, i := range pos {
		if i <= 0 || i >= len(args) {
			continue
		}
		ids := t.table[string(args[i])]
		if ids == nil {
			ids = map[int64]struct{}{}
			t.table[string(args[i])] = ids
		}
		if _, ok := ids[id]; !ok {
			ids[id] = struct{}{}
			t.items++
		}
	}
	over := t.maxKeys.Load() > 0 && int64(len(t.table)) > t.maxKeys.Load()
	t.mu.Unlock()
	if over {
		s.trackingLimit()
	}
}

// isScriptCall: EVAL, EVALSHA and FCALL run in the log as writes, but Redis
// tracks their declared keys when the script reads; the gateway cannot know
// whether it will, so it remembers them before proposing (at worst an extra
// invalidation).
func isScriptCall(name string) bool {
	return name == "eval" || name == "evalsha" || name == "fcall"
}

// InvalidateKeys is the engine's tracking sink: keys were modified by an
// applied batch (all: every key, after a flush or a snapshot restore). It
// runs on the apply goroutine and never blocks.
func (s *Server) InvalidateKeys(keys [][]byte, all bool) {
	t := s.trk
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.clients) == 0 {
		return
	}
	if all {
		for _, st := range t.clients {
			s.sendTracking(st, nil, true)
		}
		t.clearTable()
		return
	}
	// Default mode: one message per key in modification order, as Redis;
	// BCAST: the batch's keys sorted (Redis's per-prefix radix tree).
	counts := make(map[string]int, len(keys))
	ordered := make([]string, 0, len(keys))
	for _, k := range keys {
		if counts[string(k)]++; counts[string(k)] == 1 {
			ordered = append(ordered, string(k))
		}
	}
	sorted := slices.Sorted(slices.Values(ordered))
	for _, st := range t.clients {
		if w := st.loop; w != nil {
			for k := range w.own {
				w.seen[k] += counts[k]
			}
		}
	}
	one := make([]string, 1)
	for _, k := range ordered {
		ids, ok := t.dropKey(k)
		if !ok {
			continue
		}
		for id := range ids {
			st := t.clients[id]
			if st == nil || st.bcast {
				continue
			}
			one[0] = k
			if keep := st.holdOwn(one); len(keep) > 0 {
				s.sendTracking(st, keep, false)
			}
		}
	}
	var match []string
	for _, st := range t.clients {
		if !st.bcast {
			continue
		}
		// One message per prefix, as Redis sends per prefix per cycle.
		for _, p := range st.prefixes {
			match = match[:0]
			for _, k := range sorted {
				if strings.HasPrefix(k, p) {
					match = append(match, k)
				}
			}
			if keep := st.holdOwn(match); len(keep) > 0 {
				s.sendTracking(st, keep, false)
			}
		}
	}
}

// lookupClient returns the connected client id, or nil.
func (s *Server) lookupClient(id int64) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[id]
}

// sendTracking sends st's client (or its redirect target) an invalidation
// of keys, or of every key (null), as sendTrackingMessage does. Under
// tracker.mu.
func (s *Server) sendTracking(st *trackState, keys []string, null bool) {
	srcResp := st.c.protocol()
	target, sink, redirected := st.c, st.sink, false
	if st.redirect != 0 {
		r := s.lookupClient(st.redirect)
		if r == nil {
			st.broken = true
			if srcResp > 2 {
				msg := appendPushLen(nil, 2, 3)
				msg = appendBulk(msg, "tracking-redir-broken")
				msg = appendInt(msg, st.redirect)
				st.sink.push(msg)
			}
			return
		}
		target, sink, redirected = r, r.psink.Load(), true
	}
	if sink == nil {
		return
	}
	var msg []byte
	if target.protocol() > 2 {
		msg = append(msg, ">2\r\n$10\r\ninvalidate\r\n"...)
	} else if redirected && target.pubsubMode() {
		msg = append(msg, "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"...)
	} else {
		return // RESP2 has no push messages on the same connection
	}
	if null {
		// Redis writes the tracking client's own null (shared.null[c->resp]).
		msg = appendNull(msg, srcResp)
	} else {
		msg = appendArrayLen(msg, len(keys))
		for _, k := range keys {
			msg = appendBulk(msg, k)
		}
	}
	sink.push(msg)
}

// pubsubMode reports, from any goroutine, whether c is subscribed to a
// channel or pattern (Redis's CLIENT_PUBSUB).
func (c *client) pubsubMode() bool {
	p := c.psState.Load()
	if p == nil {
		return false
	}
	h := c.srv.pubsub
	h.mu.RLock()
	defer h.mu.RUnlock()
	return p.total() > 0
}

// ---- CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO -------------------------

const errPrefixOverlap = "Prefixes for a single client must not overlap."

func clientTrackingCmd(s *Server, c *client, args [][]byte) {
	var redir int64
	var bcast, optin, optout, noloop bool
	var prefixes []string
	for j := 3; j < len(args); j++ {
		more := len(args) - 1 - j
		switch a := args[j]; {
		case raftfsm.EqFold(a, "redirect") && more > 0:
			j++
			if redir != 0 {
				s.replyError(c, nil, "ERR A client can only redirect to a single other client")
				return
			}
			n, ok := raftfsm.ParseInt(args[j])
			if !ok {
				s.replyError(c, nil, "ERR value is not an integer or out of range")
				return
			}
			if n == 0 || s.lookupClient(n) == nil {
				s.replyError(c, nil, "ERR The client ID you want redirect to does not exist")
				return
			}
			redir = n
		case raftfsm.EqFold(a, "bcast"):
			bcast = true
		case raftfsm.EqFold(a, "optin"):
			optin = true
		case raftfsm.EqFold(a, "optout"):
			optout = true
		case raftfsm.EqFold(a, "noloop"):
			noloop = true
		case raftfsm.EqFold(a, "prefix") && more > 0:
			j++
			prefixes = append(prefixes, string(args[j]))
		default:
			s.replyError(c, nil, "ERR syntax error")
			return
		}
	}
	switch {
	case raftfsm.EqFold(args[2], "off"):
		s.trackingClosed(c)
		c.out = append(c.out, "+OK\r\n"...)
		return
	case !raftfsm.EqFold(args[2], "on"):
		s.replyError(c, nil, "ERR syntax error")
		return
	}
	old := c.trk
	if !bcast && len(prefixes) > 0 {
		s.replyError(c, nil, "ERR PREFIX option requires BCAST mode to be enabled")
		return
	}
	if old != nil && old.bcast != bcast {
		s.replyError(c, nil, "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
		return
	}
	if bcast && (optin || optout) {
		s.replyError(c, nil, "ERR OPTIN and OPTOUT are not compatible with BCAST")
		return
	}
	if optin && optout {
		s.replyError(c, nil, "ERR You can't specify both OPTIN mode and OPTOUT mode")
		return
	}
	if old != nil && (optin && old.optout || optout && old.optin) {
		s.replyError(c, nil, "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
		return
	}
	var have []string
	if old != nil && old.bcast {
		have = old.prefixes
	}
	if bcast {
		if msg := prefixCollision(have, prefixes); msg != "" {
			s.replyError(c, nil, msg)
			return
		}
	}
	st := &trackState{c: c, sink: s.pubsubFor(c).sink, redirect: redir, bcast: bcast, optin: optin, optout: optout, noloop: noloop}
	if bcast {
		// Prefixes accumulate across CLIENT TRACKING ON calls, as in Redis.
		set := slices.Clone(have)
		if len(prefixes) == 0 {
			prefixes = []string{""}
		}
		for _, p := range prefixes {
			if !slices.Contains(set, p) {
				set = append(set, p)
			}
		}
		slices.Sort(set)
		st.prefixes = set
	}
	s.setTracking(c, st)
	c.out = append(c.out, "+OK\r\n"...)
}

// prefixCollision is checkPrefixCollisionsOrReply: "" when no two prefixes
// (new against existing, new against new) would both match a key.
func prefixCollision(have, add []string) string {
	overlap := func(a, b string) bool {
		n := min(len(a), len(b))
		return a[:n] == b[:n]
	}
	for i, p := range add {
		for _, h := range have {
			if overlap(h, p) {
				return "ERR Prefix '" + p + "' overlaps with an existing prefix '" + h + "'. " + errPrefixOverlap
			}
		}
		for _, q := range add[i+1:] {
			if overlap(p, q) {
				return "ERR Prefix '" + p + "' overlaps with another provided prefix '" + q + "'. " + errPrefixOverlap
			}
		}
	}
	return ""
}

func clientCachingCmd(s *Server, c *client, args [][]byte) {
	st := c.trk
	if st == nil {
		s.replyError(c, nil, "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch {
	case raftfsm.EqFold(args[2], "yes"):
		if !st.optin {
			s.replyError(c, nil, "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case raftfsm.EqFold(args[2], "no"):
		if !st.optout {
			s.replyError(c, nil, "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		s.replyError(c, nil, "ERR syntax error")
		return
	}
	c.trkCaching = true
	c.out = append(c.out, "+OK\r\n"...)
}

func clientGetRedirCmd(s *Server, c *client, args [][]byte) {
	if c.trk == nil {
		c.out = appendInt(c.out, -1)
		return
	}
	c.out = appendInt(c.out, c.trk.redirect)
}

func clientTrackingInfoCmd(s *Server, c *client, args [][]byte) {
	st := c.trk
	flags := []string{"off"}
	redir := int64(-1)
	var prefixes []string
	if st != nil {
		flags[0] = "on"
		if st.bcast {
			flags = append(flags, "bcast")
		}
		if st.optin {
			flags = append(flags, "optin")
			if c.trkCaching {
				flags = append(flags, "caching-yes")
			}
		}
		if st.optout {
			flags = append(flags, "optout")
			if c.trkCaching {
				flags = append(flags, "caching-no")
			}
		}
		if st.noloop {
			flags = append(flags, "noloop")
		}
		if s.trackingBroken(st) {
			flags = append(flags, "broken_redirect")
		}
		redir = st.redirect
		prefixes = st.prefixes
	}
	c.out = appendMapLen(c.out, 3, c.resp)
	c.out = appendBulk(c.out, "flags")
	c.out = appendSetLen(c.out, len(flags), c.resp)
	for _, f := range flags {
		c.out = appendBulk(c.out, f)
	}
	c.out = appendBulk(c.out, "redirect")
	c.out = appendInt(c.out, redir)
	c.out = appendBulk(c.out, "prefixes")
	c.out = appendArrayLen(c.out, len(prefixes))
	for _, p := range prefixes {
		c.out = appendBulk(c.out, p)
	}
}

// endCaching is Redis's resetClient rule: CLIENT CACHING applies to the
// next command only (inside MULTI, to the transaction).
func (c *client) endCaching(name []byte) {
	if c.trkCaching && !c.multi && !raftfsm.EqFold(name, "client") {
		c.trkCaching = false
	}
}
