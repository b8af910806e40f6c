package raftfsm

import (
	"sync/atomic"
	"unsafe"

	"github.com/raftcache/raftcache/slots"
	"github.com/tidwall/btree"
)

// Value is a stored value of one of the Redis types.
type Value interface {
	// Type is the TYPE reply: string, list, set, zset or hash.
	Type() string
	// Clone returns a deep copy. The engine clones a value before mutating it
	// in place while a snapshot still shares it (copy-on-write per value).
	Clone() Value
}

// entry is one key. Entries shared with a live snapshot (gen < db.gen) are
// never mutated in place; see DB.own.
type entry struct {
	pos uint64 // slot<<48 | 48-bit FNV-1a of the key: tree order and SCAN cursor
	key string
	exp int64 // absolute expiry, Unix ms; 0 = none
	val Value
	gen uint64
	ver uint64 // modification version (WATCH); see DB.KeyVersion
	// Memory accounting and access metadata (eviction.go), node-local.
	mem   int64 // estimated bytes, as of the last settle
	dirty bool  // queued to be measured again
	acc   access
}

func entryLess(a, b *entry) bool {
	if a.pos != b.pos {
		return a.pos < b.pos
	}
	return a.key < b.key
}

type expItem struct {
	at  int64
	key string
}

func expLess(a, b expItem) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.key < b.key
}

// Stats are counters reported by INFO. Hits and misses are updated by
// concurrent readers, so they are atomic.
type Stats struct {
	ExpiredKeys atomic.Int64
	Hits        atomic.Int64
	Misses      atomic.Int64
}

// DB is the keyspace: every key ordered by (slot, hash, key) so that one
// slot's keys are one contiguous range (CLUSTER COUNTKEYSINSLOT, slot
// migration) and SCAN has a stable numeric cursor.
//
// Concurrency: the FSM holds the write lock while applying and readers hold
// the read lock; DB itself does no locking.
type DB struct {
	keys *btree.BTreeG[*entry]
	// index finds a key's entry in one hash probe (GET's path); the tree
	// keeps the order that SCAN, slot moves and snapshots walk. Both hold
	// the same entries; only put, remove, own and Flush change them.
	index      map[string]*entry
	expires    *btree.BTreeG[expItem]
	slotCounts [slots.Count]int32
	gen        uint64
	liveSnaps  atomic.Int32
	dirty      int64
	verSeq     uint64 // last version handed out to an entry
	slotTab    *slotTable
	Stats      *Stats
	used       int64         // estimated bytes of all keys (eviction.go)
	tracking   atomic.Uint32 // TrackNone, TrackLRU or TrackLFU (eviction.go)
	dirtyEnts  []*entry      // mutated since the last settle
	libs       *libraries    // Redis 7 function libraries (functions.go); nil = none
	notifyMask NotifyClass   // keyspace event classes the current batch collects
	events     []KeyEvent    // collected by c.notify, taken after each batch (notify.go)
	published  []Published   // PUBLISH calls of scripts, taken after each batch (notify.go)
	// scriptACL compiles the rules of stamped script commands
	// (scriptacl.go); nil refuses their calls.
	scriptACL atomic.Pointer[ScriptACL]
	// scriptCalls, when set, is shown every command a script runs, after
	// it ran (MONITOR's "lua" lines, command statistics); it must not
	// block.
	scriptCalls atomic.Pointer[ScriptCallFunc]
}

// NewDB returns an empty database.
func NewDB() *DB {
	return &DB{
		keys:    btree.NewBTreeGOptions(entryLess, btree.Options{NoLocks: true}),
		index:   make(map[string]*entry),
		expires: btree.NewBTreeGOptions(expLess, btree.Options{NoLocks: true}),
		gen:     1,
		Stats:   &Stats{},
		slotTab: newSlotTable(),
	}
}

// keyPos computes the tree position of key. The low 48 bits are never 0 so
// that no position equals the SCAN start/end cursor.
func keyPos(key []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range key {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return uint64(slots.Of(key))<<48 | (h&(1<<48-1) | 1)
}

func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// find returns key's entry, expired or not.
func (db *DB) find(key []byte) *entry { return db.index[string(key)] }

// Len returns the number of keys, including expired ones not yet removed.
func (db *DB) Len() int { return db.keys.Len() }

// Dirty returns the number of successful writes applied (INFO rdb_changes_since_last_save).
func (db *DB) Dirty() int64 { return db.dirty }

// CountInSlot returns the number of keys stored in slot s.
func (db *DB) CountInSlot(s slots.Slot) int { return int(db.slotCounts[s]) }

// KeysInSlot returns up to n keys of slot s.
func (db *DB) KeysInSlot(s slots.Slot, n int) []string {
	var out []string
	db.keys.Ascend(&entry{pos: uint64(s) << 48}, func(e *entry) bool {
		if e.pos>>48 != uint64(s) || len(out) >= n {
			return false
		}
		out = append(out, e.key)
		return true
	})
	return out
}

// own makes e safe to mutate in place: if a live snapshot may share it, a
// copy (with a cloned value) replaces it in the tree.
// Owning an entry means it is about to change, so it takes a new version.
func (db *DB) own(e *entry) *entry {
	if e.gen == db.gen || db.liveSnaps.Load() == 0 {
		e.gen = db.gen
		e.ver = db.nextVer()
		db.markDirty(e)
		return e
	}
	ne := &entry{pos: e.pos, key: e.key, exp: e.exp, val: e.val.Clone(), gen: db.gen, ver: db.nextVer(), mem: e.mem}
	ne.acc.atime.Store(e.acc.atime.Load())
	ne.acc.lfu.Store(e.acc.lfu.Load())
	e.dirty = false // superseded: ne carries its size
	db.keys.Set(ne)
	db.index[ne.key] = ne
	db.markDirty(ne)
	return ne
}

func (db *DB) remove(e *entry) {
	db.used -= e.mem
	e.dirty = false
	db.keys.Delete(e)
	delete(db.index, e.key)
	if e.exp != 0 {
		db.expires.Delete(expItem{e.exp, e.key})
	}
	db.slotCounts[e.pos>>48]--
}

func (db *DB) put(key []byte, v Value, exp int64) *entry {
	ne := &entry{pos: keyPos(key), key: string(key), exp: exp, val: v, gen: db.gen, ver: db.nextVer()}
	db.markDirty(ne) // measured at settle: commands often fill a new value after storing it
	db.keys.Set(ne)
	db.index[ne.key] = ne
	db.slotCounts[ne.pos>>48]++
	if exp != 0 {
		db.expires.Set(expItem{exp, ne.key})
	}
	return ne
}

func (db *DB) setExp(e *entry, at int64) {
	if e.exp != 0 {
		db.expires.Delete(expItem{e.exp, e.key})
	}
	e.exp = at
	if at != 0 {
		db.expires.Set(expItem{at, e.key})
	}
}

// nextVer returns a fresh modification version. Versions only grow, so a
// key deleted and created again never gets back a version it had.
func (db *DB) nextVer() uint64 {
	db.verSeq++
	return db.verSeq
}

// SetVersionBase makes the versions handed out from now on start above
// base<<20 (the FSM passes the log index before applying an entry), so that
// versions depend on the log position only, not on how many modifications a
// replica has seen since it started or restored a snapshot.
func (db *DB) SetVersionBase(base uint64) {
	if b := base << 20; b > db.verSeq {
		db.verSeq = b
	}
}

// KeyVersion returns key's modification version at time now (Unix ms): it
// changes whenever the key is created, mutated, replaced, deleted or has
// its TTL changed. 0 means absent or expired, so a watched key that expires
// counts as modified while a key that was already expired when watched does
// not (Redis 7.0 WATCH semantics).
func (db *DB) KeyVersion(key []byte, now int64) uint64 {
	e := db.find(key)
	if e == nil || e.exp != 0 && e.exp <= now {
		return 0
	}
	return e.ver
}

// Flush removes every key.
func (db *DB) Flush() {
	db.keys = btree.NewBTreeGOptions(entryLess, btree.Options{NoLocks: true})
	db.index = make(map[string]*entry)
	db.expires = btree.NewBTreeGOptions(expLess, btree.Options{NoLocks: true})
	db.slotCounts = [slots.Count]int32{}
	db.used = 0
	for _, e := range db.dirtyEnts {
		e.dirty = false
	}
	db.dirtyEnts = db.dirtyEnts[:0]
}

// ExpiredKeys returns up to n keys whose expiry is at or before now. The
// leader proposes their deletion (active expiry through the log).
func (db *DB) ExpiredKeys(now int64, n int) []string {
	var out []string
	db.expires.Scan(func(it expItem) bool {
		if it.at > now || len(out) >= n {
			return false
		}
		out = append(out, it.key)
		return true
	})
	return out
}

// ExpiresCount returns the number of keys with a TTL.
func (db *DB) ExpiresCount() int { return db.expires.Len() }

// ---- what commands use ------------------------------------------------------

// lookup returns key's live entry. An expired key is invisible; while
// applying a log entry it is also deleted (lazy expiry, deterministic
// because c.Now is the entry's time).
func (c *Ctx) lookup(key []byte) *entry {
	e := c.DB.find(key)
	if e == nil {
		return nil
	}
	if e.exp != 0 && e.exp <= c.Now {
		if c.Write {
			c.DB.remove(e)
			c.DB.Stats.ExpiredKeys.Add(1)
			c.notify(NotifyExpired, "expired", key)
		}
		return nil
	}
	return e
}

// lookupFlags are Redis's lookupKeyGeneric flags, for the lookups that
// differ from lookupKeyRead's (Get).
type lookupFlags uint8

const (
	lookNoTouch  lookupFlags = 1 << iota // LOOKUP_NOTOUCH: the access time stays
	lookNoNotify                         // LOOKUP_NONOTIFY: a miss is no keymiss event
	lookWrite                            // lookupKeyWrite: no stats, no keymiss
)

// lookupWith returns key's live entry or nil, counting the lookup in the
// keyspace stats, touching the entry and reporting a keymiss as flags
// allow. A keymiss is collected for the gateway on the read path and
// notified directly for what is applied from the log.
func (c *Ctx) lookupWith(key []byte, flags lookupFlags) *entry {
	e := c.lookup(key)
	if e == nil {
		if flags&lookWrite != 0 {
			return nil
		}
		c.DB.Stats.Misses.Add(1)
		if flags&lookNoNotify == 0 {
			if c.missed != nil {
				*c.missed = append(*c.missed, append([]byte(nil), key...))
			}
			c.notify(NotifyKeyMiss, "keymiss", key)
		}
		return nil
	}
	if flags&lookWrite == 0 {
		c.DB.Stats.Hits.Add(1)
	}
	if flags&lookNoTouch == 0 {
		c.touch(e)
	}
	return e
}

// valueOf is e's value, nil for no entry.
func valueOf(e *entry) Value {
	if e == nil {
		return nil
	}
	return e.val
}

// Get returns key's live value or nil, as Redis's lookupKeyRead: the value
// must not be mutated, and a miss counts in the stats and is a keymiss
// event (the reads of transactions and scripts, and the keys writes read
// as Redis's lookupKeyRead does: SUNIONSTORE's and PFMERGE's sources,
// GETDEL's key, SET ... GET's). A key a write changes is looked up
// without one, and outside the keyspace stats (getWrite, lookup, GetMut),
// as lookupKeyWrite.
func (c *Ctx) Get(key []byte) Value { return valueOf(c.lookupWith(key, 0)) }

// getNoTouch is Get without updating the key's access time (TTL, TYPE,
// EXISTS, so OBJECT IDLETIME is left alone).
func (c *Ctx) getNoTouch(key []byte) Value { return valueOf(c.lookupWith(key, lookNoTouch)) }

// lookupNoTouch is OBJECT's and MEMORY USAGE's look at key (Redis's
// objectCommandLookup: counted in the stats, no touch, no keymiss).
func (c *Ctx) lookupNoTouch(key []byte) *entry { return c.lookupWith(key, lookNoTouch|lookNoNotify) }

// getWrite is a write's read-only look at key before it decides to change
// it (ZADD's type check, SMOVE's, XGROUP's): the value must not be
// mutated, the access counts for LRU/LFU, nothing counts in the stats.
func (c *Ctx) getWrite(key []byte) Value { return valueOf(c.lookupWith(key, lookWrite)) }

// GetMut returns key's live value, safe to mutate in place, or nil.
// Only for writes.
func (c *Ctx) GetMut(key []byte) Value {
	e := c.lookup(key)
	if e == nil {
		return nil
	}
	e = c.DB.own(e)
	c.touch(e)
	return e.val
}

// Exists reports whether key is live.
func (c *Ctx) Exists(key []byte) bool { return c.lookup(key) != nil }

// Set stores v under key and clears any TTL (SET semantics).
func (c *Ctx) Set(key []byte, v Value) { c.SetWithExpire(key, v, 0) }

// SetWithExpire stores v under key with absolute expiry at (0 = none).
func (c *Ctx) SetWithExpire(key []byte, v Value, at int64) {
	e := c.lookup(key)
	if e == nil || e.gen != c.DB.gen && c.DB.liveSnaps.Load() != 0 {
		// New, or shared with a snapshot: a new entry rather than a
		// mutation.
		if e != nil {
			c.DB.remove(e)
		} else {
			c.notify(NotifyNew, "new", key)
		}
		c.touch(c.DB.put(key, v, at))
		return
	}
	e.gen = c.DB.gen
	e.ver = c.DB.nextVer()
	e.val = v
	c.DB.markDirty(e)
	c.DB.setExp(e, at)
	c.touch(e)
}

// touch records an access to e for LRU/LFU eviction. The counter's coin
// comes from the context's seed and the key, so Apply stays deterministic
// and nothing is allocated.
func (c *Ctx) touch(e *entry) {
	mode := c.DB.tracking.Load()
	if mode == TrackNone {
		return
	}
	e.acc.touch(mode, c.Now, c.seed^e.pos)
}

// SetKeepTTL stores v under key keeping its TTL (KEEPTTL, SETRANGE...).
func (c *Ctx) SetKeepTTL(key []byte, v Value) {
	at := int64(0)
	if e := c.lookup(key); e != nil {
		at = e.exp
	}
	c.SetWithExpire(key, v, at)
}

// Delete removes key; it reports whether a live key was removed.
func (c *Ctx) Delete(key []byte) bool {
	e := c.lookup(key)
	if e == nil {
		return false
	}
	c.DB.remove(e)
	return true
}

// Expiry returns key's absolute expiry (0 = none) and whether key is live.
func (c *Ctx) Expiry(key []byte) (int64, bool) {
	e := c.lookup(key)
	if e == nil {
		return 0, false
	}
	return e.exp, true
}

// SetExpiry sets key's absolute expiry (0 removes it); it reports whether
// key is live. An expiry at or before c.Now deletes the key, as Redis does.
func (c *Ctx) SetExpiry(key []byte, at int64) bool {
	e := c.lookup(key)
	if e == nil {
		return false
	}
	if at != 0 && at <= c.Now {
		c.DB.remove(e)
		return true
	}
	e = c.DB.own(e)
	c.DB.setExp(e, at)
	return true
}

// ScanKeys visits live keys from cursor in (slot, hash) order, at least
// count of them unless the end is reached, and returns the next cursor
// (0 at the end). Keys present for a whole SCAN are returned at least once.
func (c *Ctx) ScanKeys(cursor uint64, count int, fn func(key string, v Value)) uint64 {
	var last, next uint64
	n := 0
	c.DB.keys.Ascend(&entry{pos: cursor}, func(e *entry) bool {
		// Stop only between two positions, so a resumed scan never skips
		// keys that share one position.
		if n >= count && e.pos != last {
			next = e.pos
			return false
		}
		last = e.pos
		n++
		if e.exp == 0 || e.exp > c.Now {
			fn(e.key, e.val)
		}
		return true
	})
	return next
}

// EachKey visits every live key in order until fn returns false.
func (c *Ctx) EachKey(fn func(key string, v Value) bool) {
	c.DB.keys.Scan(func(e *entry) bool {
		if e.exp != 0 && e.exp <= c.Now {
			return true
		}
		return fn(e.key, e.val)
	})
}

// RandomKey returns a random live key, or "" and false when there is none.
func (c *Ctx) RandomKey() (string, bool) {
	n := c.DB.keys.Len()
	for try := 0; try < 100 && n > 0; try++ {
		e, _ := c.DB.keys.GetAt(c.Rand().IntN(n))
		if e.exp == 0 || e.exp > c.Now {
			return e.key, true
		}
	}
	// Mostly expired keys: fall back to a linear walk.
	var key string
	found := false
	c.EachKey(func(k string, _ Value) bool { key, found = k, true; return false })
	return key, found
}
