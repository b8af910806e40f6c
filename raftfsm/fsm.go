package raftfsm

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/raftcache/raftcache/slots"
)

// ApplyResult is what Apply returns for an OpCommands entry: one reply per
// command. Business errors (WRONGTYPE...) are replies, never Go errors.
type ApplyResult struct {
	ReqID   uint64
	Replies []Reply
}

// FSM adapts the engine to hashicorp/raft. Apply holds the write lock for a
// whole batch; readers take the read lock through View.
type FSM struct {
	mu      sync.RWMutex
	db      *DB
	applied atomic.Uint64 // index of the last entry applied to db
	// installs counts snapshot installs (Restore, Reset): across one, an
	// entry's apply hook may never have run here.
	installs atomic.Uint64
	// chain is the applied-log hash (loghash.go), under mu; logHash
	// publishes it with its index after every batch.
	chain      uint64
	chainKnown bool
	logHash    atomic.Pointer[LogHash]
	// hashLogEvery, when > 0, logs the hash at every index it divides
	// (SetHashLogEvery; loghash.go).
	hashLogEvery atomic.Uint64
	lastTime     atomic.Int64 // largest entry time applied: the leader never stamps below it
	logger       *slog.Logger

	waitMu sync.Mutex
	waitCh chan struct{} // closed and replaced after every applied batch

	onApply atomic.Pointer[func(*ApplyResult)]

	// slotView is a copy of the slot table published after every change,
	// so that routing reads it without taking the engine lock.
	slotView atomic.Pointer[slotView]

	kw keyWaiters // change feed for WaitKeys (blocking.go)

	used     atomic.Int64  // the keyspace's estimated bytes after the last batch (eviction.go)
	tracking atomic.Uint32 // access tracking for the eviction policy, kept across restores

	notifyMask atomic.Uint32                     // NotifyClass collected (notify.go)
	notifySink atomic.Pointer[func([]KeyEvent)]  // receives each batch's keyspace events
	pubSink    atomic.Pointer[func([]Published)] // receives each batch's script messages

	scriptACL   atomic.Pointer[ScriptACL]      // checker compiler, kept across restores (scriptacl.go)
	scriptCalls atomic.Pointer[ScriptCallFunc] // observer of scripts' commands, kept across restores
}

// NewFSM returns an FSM over an empty database. logger may be nil.
func NewFSM(logger *slog.Logger) *FSM {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &FSM{db: NewDB(), logger: logger, waitCh: make(chan struct{}), chainKnown: true}
}

// SetOnApply installs a hook called (outside the lock) for every applied
// entry that carries a request id, on leaders and followers alike.
func (f *FSM) SetOnApply(fn func(*ApplyResult)) { f.onApply.Store(&fn) }

// View runs fn with the database under the read lock.
func (f *FSM) View(fn func(db *DB)) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.db)
}

// AppliedIndex returns the Raft index of the last entry applied to the engine.
func (f *FSM) AppliedIndex() uint64 { return f.applied.Load() }

// Installs counts the snapshots installed so far (Restore, Reset). While it
// stays the same, every entry up to AppliedIndex went through the apply
// hook (SetOnApply) here, which runs before AppliedIndex passes the entry.
func (f *FSM) Installs() uint64 { return f.installs.Load() }

// LastTime returns the largest entry time applied (Unix ms).
func (f *FSM) LastTime() int64 { return f.lastTime.Load() }

// WaitApplied blocks until the engine has applied index idx or ctx ends.
func (f *FSM) WaitApplied(ctx context.Context, idx uint64) error {
	for {
		f.waitMu.Lock()
		ch := f.waitCh
		f.waitMu.Unlock()
		if f.applied.Load() >= idx {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (f *FSM) advance(idx uint64) {
	f.applied.Store(idx)
	f.waitMu.Lock()
	close(f.waitCh)
	f.waitCh = make(chan struct{})
	f.waitMu.Unlock()
}

// Apply implements raft.FSM.
func (f *FSM) Apply(l *raft.Log) interface{} {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch implements raft.BatchingFSM: one lock for the whole batch.
func (f *FSM) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	var results []*ApplyResult
	// Decoding needs no engine state: done before the lock, so that reads
	// do not wait behind it (a migration's import entries carry megabytes
	// of DUMP payloads to check and parse).
	pre := make([]prepared, len(logs))
	for i, l := range logs {
		if l.Type == raft.LogCommand {
			pre[i] = prepare(l)
		}
	}
	f.mu.Lock()
	f.armEvents()
	every := f.hashLogEvery.Load()
	var marks []hashMark
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue
		}
		f.chain = chainEntry(f.chain, l.Index, l.Term, l.Data)
		if every > 0 && l.Index%every == 0 {
			marks = append(marks, hashMark{l.Index, l.Term, f.chain})
		}
		res := f.applyEntry(l, pre[i])
		out[i] = res
		if res != nil && res.ReqID != 0 {
			results = append(results, res)
		}
	}
	f.db.settle()
	f.used.Store(f.db.used)
	evs, pubs := f.takeEvents()
	if len(logs) > 0 {
		f.logHash.Store(&LogHash{Index: logs[len(logs)-1].Index, Hash: f.chain, Known: f.chainKnown})
	}
	f.mu.Unlock()
	f.logMarks(marks)
	f.kw.deliver()
	f.deliverEvents(evs)
	f.deliverPublished(pubs)
	if hook := f.onApply.Load(); hook != nil {
		for _, r := range results {
			(*hook)(r)
		}
	}
	// The applied index moves after the hook: a proposer that sees it pass
	// its entry without a result knows another entry took that index
	// (shard.Replica.resolve).
	if len(logs) > 0 {
		f.advance(logs[len(logs)-1].Index)
	}
	return out
}

// prepared is a log entry decoded outside the engine lock.
type prepared struct {
	e *Entry
	// vals holds an OpImport entry's values, one per command (nil where
	// the command is malformed).
	vals []Value
}

func prepare(l *raft.Log) prepared {
	e, err := DecodeEntry(l.Data)
	if err != nil {
		// A corrupt entry would make replicas diverge: stop (fail-stop).
		panic(fmt.Sprintf("raftfsm: apply index %d: %v", l.Index, err))
	}
	p := prepared{e: e}
	if e.Op == OpImport {
		p.vals = decodeImport(e.Cmds)
	}
	return p
}

func (f *FSM) applyEntry(l *raft.Log, p prepared) *ApplyResult {
	e := p.e
	if e.Time > f.lastTime.Load() {
		f.lastTime.Store(e.Time)
	}
	switch e.Op {
	case OpCommands:
		f.db.SetVersionBase(l.Index)
		exec := func(c *Ctx, args [][]byte) Reply {
			c.note = f.kw.noteCommand
			c.p = e.Params
			r := f.execSafe(c, args, l.Index)
			f.kw.noteCommand(args)
			return r
		}
		return &ApplyResult{ReqID: e.ReqID, Replies: ApplyCommands(f.db, e.Time, e.Seed, e.Cmds, exec)}
	case OpExpire:
		c := NewCtx(f.db, e.Time, true, e.Seed)
		for _, cmd := range e.Cmds {
			for _, key := range cmd {
				c.lookup(key) // deletes the key if it is expired at e.Time
			}
			f.kw.noteKeys(cmd)
		}
		return &ApplyResult{ReqID: e.ReqID}
	case OpNoop:
		return &ApplyResult{ReqID: e.ReqID}
	case OpSlots:
		out := make([]Reply, len(e.Cmds))
		for i, cmd := range e.Cmds {
			out[i] = applySlotCmd(f.db, cmd)
		}
		f.publishSlots()
		return &ApplyResult{ReqID: e.ReqID, Replies: out}
	case OpImport:
		f.db.SetVersionBase(l.Index)
		r := applyImport(f.db, e.Time, e.Cmds, p.vals)
		for _, cmd := range e.Cmds {
			if len(cmd) > 0 {
				f.kw.noteKeys(cmd[:1])
			}
		}
		return &ApplyResult{ReqID: e.ReqID, Replies: []Reply{r}}
	case OpEvict:
		c := NewCtx(f.db, e.Time, true, e.Seed)
		out := make([]Reply, len(e.Cmds))
		for i, cmd := range e.Cmds {
			out[i] = evictKey(c, cmd)
			f.kw.noteKeys(cmd)
		}
		return &ApplyResult{ReqID: e.ReqID, Replies: out}
	case OpMigDel:
		r := applyMigDel(f.db, e.Cmds)
		for _, cmd := range e.Cmds {
			if len(cmd) > 0 {
				f.kw.noteKeys(cmd[:1]) // a cached copy of a moved key is stale
			}
		}
		return &ApplyResult{ReqID: e.ReqID, Replies: []Reply{r}}
	default:
		if e.Op&OpIgnoreUnknown != 0 {
			return &ApplyResult{ReqID: e.ReqID}
		}
		panic(fmt.Sprintf("raftfsm: apply index %d: unknown op %d", l.Index, e.Op))
	}
}

// execSafe runs one command; a panic (a bug in a command) becomes an error
// reply. Every replica panics at the same point, so they stay identical.
func (f *FSM) execSafe(c *Ctx, args [][]byte, index uint64) (r Reply) {
	defer func() {
		if p := recover(); p != nil {
			f.logger.Error("command panicked in apply", "index", index, "cmd", string(args[0]), "panic", p, "stack", string(debug.Stack()))
			r = Err("ERR internal error")
		}
	}()
	return Exec(c, args)
}

// Snapshot implements raft.FSM in O(1): it freezes a copy-on-write view of
// the keyspace; Persist streams it while Apply goes on.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := *f.db.slotTab // 256 KB copy: cheap next to a snapshot's I/O
	s := &fsmSnapshot{
		keys:     f.db.keys.Copy(),
		slotTab:  &st,
		libs:     f.db.libs,
		index:    f.applied.Load(),
		lastTime: f.lastTime.Load(),
		logHash:  f.chain,
		hashed:   f.chainKnown,
		db:       f.db,
	}
	f.db.liveSnaps.Add(1)
	f.db.gen++ // entries from now on are owned by the live database only
	return s, nil
}

// Restore implements raft.FSM: it replaces all state with the snapshot's.
// It never goes back in time. hashicorp/raft installs whatever snapshot a
// leader's replication sends, and a replication goroutine left over from a
// member removed and re-added under the same id (a wiped node rejoining)
// can send an older snapshot after newer entries were applied here:
// restoring it would roll back committed writes until the next commit.
// Refused, raft reports the install as failed.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	db, hdr, err := ReadSnapshot(rc)
	if err != nil {
		return fmt.Errorf("raftfsm: restore: %w", err)
	}
	if applied := f.applied.Load(); hdr.Index < applied {
		return fmt.Errorf("raftfsm: restore: snapshot at index %d is older than the applied index %d: refused", hdr.Index, applied)
	}
	f.install(db, hdr)
	return nil
}

// Reset empties the engine (keys, slot table, applied index, entry time),
// as a node released from its shard needs before it joins another; unlike
// Restore it goes back to index 0.
func (f *FSM) Reset() { f.install(NewDB(), SnapshotHeader{LogHashKnown: true}) }

// install replaces all state with db as of hdr's index and entry time.
func (f *FSM) install(db *DB, hdr SnapshotHeader) {
	f.mu.Lock()
	f.db = db
	db.tracking.Store(f.tracking.Load())
	db.scriptACL.Store(f.scriptACL.Load())
	db.scriptCalls.Store(f.scriptCalls.Load())
	f.used.Store(db.UsedMemory())
	f.publishSlots()
	f.kw.noteAll()
	f.chain, f.chainKnown = hdr.LogHash, hdr.LogHashKnown
	f.logHash.Store(&LogHash{Index: hdr.Index, Hash: hdr.LogHash, Known: hdr.LogHashKnown})
	f.mu.Unlock()
	f.lastTime.Store(hdr.LastTime)
	f.installs.Add(1)
	f.advance(hdr.Index)
	f.kw.deliver()
}

// slotView is a published slot table with its owned ranges, computed once
// per change rather than on every gossip tick that reads them.
type slotView struct {
	slotTable
	owned    []slots.Range
	ownedVer uint64
}

// publishSlots copies the slot table for lock-free readers (under f.mu).
func (f *FSM) publishSlots() {
	v := &slotView{slotTable: *f.db.slotTab}
	v.owned, v.ownedVer = v.ownedRanges()
	f.slotView.Store(v)
}

// SlotInfo returns slot s's entry in the ownership record without taking
// the engine lock (routing); ok is false until the log has recorded
// ownership.
func (f *FSM) SlotInfo(s slots.Slot) (SlotInfo, bool) {
	st := f.slotView.Load()
	if st == nil || !st.init {
		return SlotInfo{}, false
	}
	return st.slots[s], true
}

// OwnedRanges is DB.OwnedRanges without the engine lock; ok is false until
// the log has recorded ownership.
func (f *FSM) OwnedRanges() ([]slots.Range, uint64, bool) {
	st := f.slotView.Load()
	if st == nil || !st.init {
		return nil, 0, false
	}
	return slices.Clone(st.owned), st.ownedVer, true
}

// UsedMemory returns the keyspace's estimated size in bytes (the sum of
// MEMORY USAGE over its keys) after the last applied batch.
func (f *FSM) UsedMemory() int64 { return f.used.Load() }

// SetTracking sets what key accesses record (TrackingFor the eviction
// policy). The node calls it as its maxmemory-policy changes.
func (f *FSM) SetTracking(mode uint32) {
	if f.tracking.Swap(mode) != mode {
		f.mu.RLock()
		f.db.tracking.Store(mode)
		f.mu.RUnlock()
	}
}

// Digest returns a hash of the whole engine state (keys, TTLs, values), for
// determinism checks: replicas that applied the same log have equal digests.
func (f *FSM) Digest() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return digestDB(f.db)
}

// ScriptCallFunc is told each command a script called: its error reply
// ("" if none), and whether it was refused before it ran (rejected: ACL,
// arity, a write in a read-only script, a key of another slot ...).
type ScriptCallFunc func(args [][]byte, errText string, rejected bool)

// SetScriptCallSink has fn shown every command a script runs on this
// replica, in the order they run, once each ran or was refused, whether
// applied from the log or served as a read (MONITOR, INFO commandstats).
// fn must not block or keep args; nil removes it.
func (f *FSM) SetScriptCallSink(fn ScriptCallFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.db.SetScriptCallSink(fn)
	f.scriptCalls.Store(f.db.scriptCalls.Load()) // for the DB a restore installs
}

// SetScriptCallSink is FSM.SetScriptCallSink for a DB used on its own.
func (db *DB) SetScriptCallSink(fn ScriptCallFunc) {
	if fn == nil {
		db.scriptCalls.Store(nil)
		return
	}
	db.scriptCalls.Store(&fn)
}
