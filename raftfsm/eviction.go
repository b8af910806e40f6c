package raftfsm

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
)

// Memory accounting and eviction candidates (maxmemory).
//
// The engine keeps a running estimate of the bytes its keys cost, the sum
// of MEMORY USAGE (default sampling) over all keys. Every change to the
// keyspace goes through put, remove, own or SetWithExpire: put and remove
// add and subtract an entry's figure; an entry about to be mutated in
// place is queued and measured again once the batch is applied (settle).
// The estimate is node-local bookkeeping, never part of the replicated
// state; only the leader acts on it, by proposing deletions.
//
// Access metadata for LRU and LFU policies lives in each entry as atomics
// (readers update it under the read lock): the last access in seconds,
// and Redis's logarithmic access counter with its decay clock. It is not
// replicated either: after a failover the new leader ranks keys by what
// it saw itself.

// entryMemory estimates what e costs (MEMORY USAGE with default samples).
func entryMemory(e *entry) int64 {
	return memEntryOverhead + int64(len(e.key)) + valueMemory(e.val, memSamplesDefault)
}

// markDirty queues e to be measured again at the next settle.
func (db *DB) markDirty(e *entry) {
	if !e.dirty {
		e.dirty = true
		db.dirtyEnts = append(db.dirtyEnts, e)
	}
}

// settle measures again the entries mutated since the last settle.
func (db *DB) settle() {
	for _, e := range db.dirtyEnts {
		if e.dirty { // not removed meanwhile
			m := entryMemory(e)
			db.used += m - e.mem
			e.mem = m
			e.dirty = false
		}
	}
	clear(db.dirtyEnts)
	db.dirtyEnts = db.dirtyEnts[:0]
}

// UsedMemory returns the keyspace's estimated size in bytes. It settles
// pending changes, so it needs the write side (tests, Apply); readers use
// FSM.UsedMemory.
func (db *DB) UsedMemory() int64 {
	db.settle()
	return db.used
}

// ---- access metadata ----------------------------------------------------------

// Redis's LFU parameters (lfu-log-factor 10, lfu-decay-time 1 minute).
const (
	lfuInitVal   = 5
	lfuLogFactor = 10
)

// access is an entry's LRU/LFU state.
type access struct {
	atime atomic.Uint32 // last access, Unix ms modulo 2^32 (idle times up to 49 days)
	lfu   atomic.Uint32 // minutes clock (16 bits) << 8 | logarithmic counter (8 bits)
}

// What accesses record (DB.tracking). Every access records its time, as
// Redis's LRU clock does, so that OBJECT IDLETIME means something under
// noeviction too (a read pays one atomic store: BenchmarkExecGetLRU); the
// LFU policies also keep the counter (OBJECT FREQ; OBJECT IDLETIME then
// answers Redis's error). TrackNone, recording nothing, is for comparison
// in benchmarks.
const (
	TrackLRU uint32 = iota // the zero value: a new DB records access times
	TrackLFU
	TrackNone
)

// TrackingFor returns what policy needs recorded.
func TrackingFor(policy string) uint32 {
	switch policy {
	case PolicyAllKeysLFU, PolicyVolatileLFU:
		return TrackLFU
	}
	return TrackLRU
}

// touch records an access at now (Unix ms). coin seeds the draw that
// decides whether the LFU counter grows (the entry's seed in Apply, the
// reader's otherwise, mixed with the key).
func (a *access) touch(mode uint32, now int64, coin uint64) {
	ms := uint32(now)
	if a.atime.Load() != ms {
		a.atime.Store(ms)
	}
	if mode != TrackLFU {
		return
	}
	old := a.lfu.Load()
	c := lfuDecayed(old, now)
	if c < 255 {
		base := float64(0)
		if c > lfuInitVal {
			base = float64(c - lfuInitVal)
		}
		if base == 0 || unitFloat(coin) < 1/(base*lfuLogFactor+1) {
			c++
		}
	}
	if nv := lfuMinutes(now)<<8 | c; nv != old {
		a.lfu.Store(nv)
	}
}

// unitFloat maps x to [0, 1) through a splitmix64 finalizer.
func unitFloat(x uint64) float64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

func lfuMinutes(now int64) uint32 { return uint32(now/60000) & 0xffff }

// lfuDecayed is the counter less one per minute since its last access.
func lfuDecayed(v uint32, now int64) uint32 {
	c := v & 0xff
	if v == 0 {
		return lfuInitVal // never touched: as a new key
	}
	elapsed := (lfuMinutes(now) - v>>8) & 0xffff
	if elapsed >= c {
		return 0
	}
	return c - elapsed
}

// idleMillis returns how long ago e was last accessed; an entry never
// touched here (loaded from a snapshot) counts as idle for 49 days.
func (a *access) idleMillis(now int64) int64 {
	at := a.atime.Load()
	if at == 0 {
		return 1<<32 - 1
	}
	return int64(uint32(now) - at)
}

// idleSeconds is OBJECT IDLETIME (0 for an entry never touched here).
func (a *access) idleSeconds(now int64) int64 {
	if a.atime.Load() == 0 {
		return 0
	}
	return a.idleMillis(now) / 1000
}

// ---- eviction candidates -----------------------------------------------------

// Eviction policies (maxmemory-policy).
const (
	PolicyNoEviction     = "noeviction"
	PolicyAllKeysLRU     = "allkeys-lru"
	PolicyAllKeysLFU     = "allkeys-lfu"
	PolicyAllKeysRandom  = "allkeys-random"
	PolicyVolatileLRU    = "volatile-lru"
	PolicyVolatileLFU    = "volatile-lfu"
	PolicyVolatileRandom = "volatile-random"
	PolicyVolatileTTL    = "volatile-ttl"
)

// maxEvictionSamples bounds the keys one EvictionCandidates call samples.
const maxEvictionSamples = 1 << 14

// EvictionPoolSize is how many candidates an EvictionPool keeps (Redis's
// EVPOOL_SIZE).
const EvictionPoolSize = 16

// EvictionPool keeps the best eviction candidates seen by earlier samples,
// across calls, as Redis's eviction pool does: with 5 samples per pick,
// the key evicted is then close to the least recently (or frequently) used
// one rather than merely the worst of 5. It belongs to the leader's
// evictor goroutine (one caller at a time), is not replicated state, and
// holds keys only: scores are computed again from the entries at each use,
// so a key read since it was pooled is judged by that read.
type EvictionPool struct {
	keys []string
}

// evictScore ranks e for policy at now: lower is evicted first.
func evictScore(e *entry, policy string, now int64) int64 {
	switch policy {
	case PolicyAllKeysLRU, PolicyVolatileLRU:
		return -e.acc.idleMillis(now)
	case PolicyAllKeysLFU, PolicyVolatileLFU:
		return int64(lfuDecayed(e.acc.lfu.Load(), now))<<33 - e.acc.idleMillis(now)
	}
	return 0
}

// EvictionCandidates picks up to n keys to evict under policy at now: the
// earliest expiring for volatile-ttl; random ones for the random policies;
// otherwise the n least recently or least frequently used among samples
// random keys per key wanted and the candidates pool kept from earlier
// calls (Redis's approximation and its eviction pool; pool may be nil).
// Volatile policies pick only keys with a TTL. It returns nothing for
// noeviction or when no key qualifies. Read lock.
func (db *DB) EvictionCandidates(policy string, samples, n int, now int64, rng *rand.Rand, pool *EvictionPool) []string {
	volatile := false
	switch policy {
	case PolicyVolatileLRU, PolicyVolatileLFU, PolicyVolatileRandom, PolicyVolatileTTL:
		volatile = true
	case PolicyAllKeysLRU, PolicyAllKeysLFU, PolicyAllKeysRandom:
	default:
		return nil
	}
	if policy == PolicyVolatileTTL {
		var out []string
		db.expires.Scan(func(it expItem) bool {
			out = append(out, it.key)
			return len(out) < n
		})
		return out
	}
	size := db.keys.Len()
	if volatile {
		size = db.expires.Len()
	}
	if size == 0 {
		return nil
	}
	pick := func() *entry {
		i := rng.IntN(size)
		if !volatile {
			e, _ := db.keys.GetAt(i)
			return e
		}
		it, _ := db.expires.GetAt(i)
		return db.find([]byte(it.key))
	}
	var out []string
	if policy == PolicyAllKeysRandom || policy == PolicyVolatileRandom {
		seen := make(map[string]bool, n)
		for tries := 0; len(out) < n && tries < 4*n; tries++ {
			if e := pick(); e != nil && !seen[e.key] {
				seen[e.key] = true
				out = append(out, e.key)
			}
		}
		return out
	}
	type cand struct {
		e     *entry
		score int64
	}
	// The pool's keys still there (and still with a TTL for a volatile
	// policy), scored as of now.
	var cands []cand
	if pool != nil {
		for _, k := range pool.keys {
			if e := db.find([]byte(k)); e != nil && (!volatile || e.exp != 0) {
				cands = append(cands, cand{e, evictScore(e, policy, now)})
			}
		}
	}
	// samples per key wanted, all taken first, then the n best: Redis
	// evicts one key per command, while a batch of n picked one at a time
	// from 5 fresh samples each drains the pool of old keys after a few
	// picks and then takes recently used ones.
	inCands := make(map[*entry]bool, len(cands))
	for _, c := range cands {
		inCands[c.e] = true
	}
	want := min(max(samples, 1)*n, maxEvictionSamples)
	for s := 0; s < want; s++ {
		if e := pick(); e != nil && !inCands[e] {
			inCands[e] = true
			cands = append(cands, cand{e, evictScore(e, policy, now)})
		}
	}
	// Ties by key, so the choice does not depend on sampling order.
	slices.SortFunc(cands, func(a, b cand) int {
		if a.score != b.score {
			return cmp.Compare(a.score, b.score)
		}
		return strings.Compare(a.e.key, b.e.key)
	})
	k := min(n, len(cands))
	for _, c := range cands[:k] {
		out = append(out, c.e.key)
	}
	cands = cands[k:min(len(cands), k+EvictionPoolSize)]
	if pool != nil {
		pool.keys = pool.keys[:0]
		for _, c := range cands {
			pool.keys = append(pool.keys, c.e.key)
		}
	}
	return out
}

// evictKey applies one command of an OpEvict entry: [key]. It replies 1
// when the key was deleted, 0 when it was already gone, and the redirect
// when its slot no longer belongs here (the new owner keeps it).
func evictKey(c *Ctx, cmd [][]byte) Reply {
	if len(cmd) != 1 {
		return Int(0)
	}
	key := cmd[0]
	if r, ok := checkCommand(c, [][]byte{[]byte("del"), key}); !ok {
		return r
	}
	if !c.Delete(key) {
		return Int(0)
	}
	c.DB.dirty++
	c.notify(NotifyEvicted, "evicted", key)
	return Int(1)
}
