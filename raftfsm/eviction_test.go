package raftfsm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// recount is the estimate computed from scratch.
func recount(db *DB) int64 {
	var sum int64
	db.keys.Scan(func(e *entry) bool {
		sum += entryMemory(e)
		return true
	})
	return sum
}

// TestMemoryAccounting runs random writes of every kind, with and without a
// live snapshot (copy-on-write entries), and checks after each that the
// running estimate equals the sum over the keys computed from scratch.
func TestMemoryAccounting(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	d := newTestDB(t)
	key := func() string { return "k" + strconv.Itoa(rng.IntN(40)) }
	val := func() string { return string(make([]byte, rng.IntN(300))) }
	ops := []func() []string{
		func() []string { return []string{"SET", key(), val()} },
		func() []string { return []string{"APPEND", key(), val()} },
		func() []string { return []string{"SETRANGE", key(), strconv.Itoa(rng.IntN(50)), val()} },
		func() []string { return []string{"DEL", key(), key()} },
		func() []string { return []string{"RPUSH", key(), val(), val()} },
		func() []string { return []string{"LPOP", key()} },
		func() []string { return []string{"HSET", key(), "f" + strconv.Itoa(rng.IntN(9)), val()} },
		func() []string { return []string{"SADD", key(), val()} },
		func() []string { return []string{"ZADD", key(), strconv.Itoa(rng.IntN(9)), val()} },
		func() []string { return []string{"INCR", key()} },
		func() []string { return []string{"RENAME", key(), key()} },
		func() []string { return []string{"SET", key(), val(), "PX", strconv.Itoa(1 + rng.IntN(5))} },
		func() []string { return []string{"EXPIRE", key(), "100"} },
		func() []string {
			return []string{"EVAL", "redis.call('rpush', KEYS[1], ARGV[1]) return 1", "1", key(), val()}
		},
	}
	var snap *fsmSnapshot
	for i := 0; i < 3000; i++ {
		switch {
		case i%500 == 100:
			// A live snapshot makes mutations copy their entries.
			d.db.gen++
			d.db.liveSnaps.Add(1)
			snap = &fsmSnapshot{db: d.db}
		case i%500 == 300 && snap != nil:
			snap.Release()
			snap = nil
		case i == 2500:
			d.do("FLUSHALL")
		}
		d.advance(1) // keys with a PX TTL expire and are deleted lazily
		args := ops[rng.IntN(len(ops))]()
		d.do(args...)
		if got, want := d.db.UsedMemory(), recount(d.db); got != want {
			t.Fatalf("after %d ops (%q): estimate %d, recount %d", i, args, got, want)
		}
	}
}

func TestEvictionCandidates(t *testing.T) {
	d := newTestDB(t)
	d.db.tracking.Store(TrackLFU) // LFU records the access time too
	for i := 0; i < 100; i++ {
		k := fmt.Sprintf("k%02d", i)
		if i < 10 {
			d.do("SET", k, "v", "EX", strconv.Itoa(1000-i)) // k09 expires first
		} else {
			d.do("SET", k, "v")
		}
	}
	// Read every key but k50 later: k50 is the least recently used.
	d.advance(10_000)
	for i := 0; i < 100; i++ {
		if i != 50 {
			d.read("GET", fmt.Sprintf("k%02d", i))
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	now := d.now
	got := d.db.EvictionCandidates(PolicyVolatileTTL, 5, 3, now, rng, nil)
	if !slices.Equal(got, []string{"k09", "k08", "k07"}) {
		t.Fatalf("volatile-ttl: %v", got)
	}
	for _, k := range d.db.EvictionCandidates(PolicyVolatileRandom, 5, 20, now, rng, nil) {
		if k >= "k10" {
			t.Fatalf("volatile-random picked %s, which has no TTL", k)
		}
	}
	if got := d.db.EvictionCandidates(PolicyNoEviction, 5, 3, now, rng, nil); got != nil {
		t.Fatalf("noeviction: %v", got)
	}
	// With samples covering the keyspace, LRU finds k50.
	if got := d.db.EvictionCandidates(PolicyAllKeysLRU, 400, 1, now, rng, nil); !slices.Equal(got, []string{"k50"}) {
		t.Fatalf("allkeys-lru: %v", got)
	}
	// LFU: k20 read many times is never the least frequently used.
	for i := 0; i < 200; i++ {
		Exec(NewCtx(d.db, now, false, uint64(i)), [][]byte{[]byte("GET"), []byte("k20")})
	}
	for _, k := range d.db.EvictionCandidates(PolicyAllKeysLFU, 20, 30, now, rng, nil) {
		if k == "k20" {
			t.Fatal("allkeys-lfu picked the most used key")
		}
	}
	got = d.db.EvictionCandidates(PolicyAllKeysRandom, 5, 10, now, rng, nil)
	if len(got) != 10 || len(slices.Compact(slices.Sorted(slices.Values(got)))) != 10 {
		t.Fatalf("allkeys-random: %v (want 10 distinct)", got)
	}
	// Under LFU, OBJECT FREQ is the counter and IDLETIME Redis's error;
	// under the other policies the other way round.
	f20, f50 := show(d.read("OBJECT", "FREQ", "k20")), show(d.read("OBJECT", "FREQ", "k50"))
	if n20, _ := strconv.Atoi(strings.Trim(f20, "()")); f20 == f50 || n20 <= lfuInitVal {
		t.Fatalf("OBJECT FREQ k20 = %s, k50 = %s: want k20's grown past %d", f20, f50, lfuInitVal)
	}
	if r := show(d.read("OBJECT", "IDLETIME", "k50")); !strings.HasPrefix(r, "!ERR An LFU maxmemory policy is selected") {
		t.Fatalf("OBJECT IDLETIME under LFU = %s", r)
	}
	d.db.tracking.Store(TrackLRU)
	if r := show(d.read("OBJECT", "FREQ", "k20")); !strings.HasPrefix(r, "!ERR An LFU maxmemory policy is not selected") {
		t.Fatalf("OBJECT FREQ under LRU = %s", r)
	}
	if r := show(d.read("OBJECT", "IDLETIME", "k50")); r != "(10)" {
		t.Fatalf("OBJECT IDLETIME k50 = %s, want (10)", r)
	}
	if r := show(d.read("OBJECT", "IDLETIME", "k51")); r != "(0)" {
		t.Fatalf("OBJECT IDLETIME k51 = %s, want (0)", r)
	}
}

// TestIdleTimeDefault: a new DB (noeviction, as a node starts) records
// access times, so OBJECT IDLETIME counts from the last read or write,
// and OBJECT, TTL and TYPE do not count as accesses.
func TestIdleTimeDefault(t *testing.T) {
	d := newTestDB(t)
	d.do("SET", "k", "v")
	d.advance(3_000)
	d.read("TTL", "k")
	d.read("TYPE", "k")
	if r := show(d.read("OBJECT", "IDLETIME", "k")); r != "(3)" {
		t.Fatalf("OBJECT IDLETIME after 3 s = %s", r)
	}
	d.read("GET", "k")
	d.advance(2_000)
	if r := show(d.read("OBJECT", "IDLETIME", "k")); r != "(2)" {
		t.Fatalf("OBJECT IDLETIME 2 s after a GET = %s", r)
	}
	if r := show(d.read("OBJECT", "FREQ", "k")); !strings.HasPrefix(r, "!ERR An LFU maxmemory policy is not selected") {
		t.Fatalf("OBJECT FREQ = %s", r)
	}
}

// TestEvictionPool: with 5 samples per pick, the pool carried across calls
// makes the keys evicted one at a time far closer to the least recently
// used than sampling alone (Redis's eviction pool), and a pooled key read
// since is judged by that read.
func TestEvictionPool(t *testing.T) {
	run := func(pool *EvictionPool) (oldest int) {
		d := newTestDB(t)
		d.db.tracking.Store(TrackLRU)
		for i := 0; i < 200; i++ {
			d.do("SET", fmt.Sprintf("k%03d", i), "v")
		}
		for i := 0; i < 200; i++ { // k000 read first: the least recently used
			d.advance(10)
			d.read("GET", fmt.Sprintf("k%03d", i))
		}
		rng := rand.New(rand.NewPCG(5, 6))
		for i := 0; i < 40; i++ {
			got := d.db.EvictionCandidates(PolicyAllKeysLRU, 5, 1, d.now, rng, pool)
			if len(got) != 1 {
				t.Fatalf("pick %d: %v", i, got)
			}
			if got[0] < "k060" {
				oldest++
			}
			d.do("DEL", got[0])
		}
		return oldest
	}
	without, with := run(nil), run(&EvictionPool{})
	t.Logf("of 40 keys evicted one at a time, among the 60 least recently used: %d with the pool, %d without", with, without)
	if with < 36 || with <= without {
		t.Fatalf("%d of 40 evicted keys among the 60 least recently used with the pool (%d without)", with, without)
	}

	d := newTestDB(t)
	d.db.tracking.Store(TrackLRU)
	for i := 0; i < 50; i++ {
		d.do("SET", fmt.Sprintf("k%03d", i), "v")
	}
	for i := 0; i < 50; i++ {
		d.advance(10)
		d.read("GET", fmt.Sprintf("k%03d", i))
	}
	pool := &EvictionPool{}
	rng := rand.New(rand.NewPCG(7, 8))
	first := d.db.EvictionCandidates(PolicyAllKeysLRU, 500, 1, d.now, rng, pool) // samples covering the keyspace
	if !slices.Equal(first, []string{"k000"}) || len(pool.keys) != EvictionPoolSize || pool.keys[0] != "k001" {
		t.Fatalf("first pick %v, pool %v: want k000 evicted and k001.. pooled", first, pool.keys)
	}
	d.do("DEL", "k000") // evicted
	d.advance(10)
	d.read("GET", "k001") // now the most recently used
	if got := d.db.EvictionCandidates(PolicyAllKeysLRU, 1, 1, d.now, rng, pool); !slices.Equal(got, []string{"k002"}) {
		t.Fatalf("after reading the pooled k001: picked %v, want k002", got)
	}
}

// TestEvictionBatch: a batch of n candidates (the evictor frees memory
// by batches) comes from samples x n keys at once, so it takes the least
// recently used keys, not the keys read a moment ago that a pick-by-pick
// selection reaches once its best candidates are spent.
func TestEvictionBatch(t *testing.T) {
	d := newTestDB(t)
	d.db.tracking.Store(TrackLRU)
	groups := []struct {
		prefix string
		n      int
	}{{"old", 120}, {"hot", 40}, {"new", 40}} // in order of their last access
	for _, g := range groups {
		for i := 0; i < g.n; i++ {
			d.do("SET", fmt.Sprintf("%s:%03d", g.prefix, i), "v")
		}
	}
	for _, g := range groups {
		for i := 0; i < g.n; i++ {
			d.advance(10)
			d.read("GET", fmt.Sprintf("%s:%03d", g.prefix, i))
		}
	}
	rng := rand.New(rand.NewPCG(9, 10))
	got := d.db.EvictionCandidates(PolicyAllKeysLRU, 5, 100, d.now, rng, &EvictionPool{})
	if len(got) != 100 {
		t.Fatalf("%d candidates, want 100", len(got))
	}
	for _, k := range got {
		if !strings.HasPrefix(k, "old:") {
			t.Fatalf("batch of 100 picked %s, with 120 keys used less recently", k)
		}
	}
}
