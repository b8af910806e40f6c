package raftfsm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
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
	got := d.db.EvictionCandidates(PolicyVolatileTTL, 5, 3, now, rng)
	if !slices.Equal(got, []string{"k09", "k08", "k07"}) {
		t.Fatalf("volatile-ttl: %v", got)
	}
	for _, k := range d.db.EvictionCandidates(PolicyVolatileRandom, 5, 20, now, rng) {
		if k >= "k10" {
			t.Fatalf("volatile-random picked %s, which has no TTL", k)
		}
	}
	if got := d.db.EvictionCandidates(PolicyNoEviction, 5, 3, now, rng); got != nil {
		t.Fatalf("noeviction: %v", got)
	}
	// With samples covering the keyspace, LRU finds k50.
	if got := d.db.EvictionCandidates(PolicyAllKeysLRU, 400, 1, now, rng); !slices.Equal(got, []string{"k50"}) {
		t.Fatalf("allkeys-lru: %v", got)
	}
	// LFU: k20 read many times is never the least frequently used.
	for i := 0; i < 200; i++ {
		Exec(NewCtx(d.db, now, false, uint64(i)), [][]byte{[]byte("GET"), []byte("k20")})
	}
	for _, k := range d.db.EvictionCandidates(PolicyAllKeysLFU, 20, 30, now, rng) {
		if k == "k20" {
			t.Fatal("allkeys-lfu picked the most used key")
		}
	}
	got = d.db.EvictionCandidates(PolicyAllKeysRandom, 5, 10, now, rng)
	if len(got) != 10 || len(slices.Compact(slices.Sorted(slices.Values(got)))) != 10 {
		t.Fatalf("allkeys-random: %v (want 10 distinct)", got)
	}
	if r := show(d.read("OBJECT", "IDLETIME", "k50")); r != "(10)" {
		t.Fatalf("OBJECT IDLETIME k50 = %s, want (10)", r)
	}
	if r := show(d.read("OBJECT", "IDLETIME", "k51")); r != "(0)" {
		t.Fatalf("OBJECT IDLETIME k51 = %s, want (0)", r)
	}
}
