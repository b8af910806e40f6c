package slots

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// evenMap returns the map a fresh n-shard cluster starts with: shard i owns
// SplitEven(n)[i] at version 1.
func evenMap(t *testing.T, n int) *Map {
	t.Helper()
	m := NewMap()
	for i, p := range SplitEven(n) {
		if !m.Merge(Claim{Shard: ShardID(i), Slots: p, Version: 1}) {
			t.Fatalf("claim of shard %d changed nothing", i)
		}
	}
	return m
}

type owner struct {
	shard   ShardID
	version uint64
	ok      bool
}

func ownerOf(m *Map, s Slot) owner {
	sh, v, ok := m.Owner(s)
	return owner{sh, v, ok}
}

func TestMapMerge(t *testing.T) {
	type step struct {
		claim   Claim
		changed bool
	}
	tests := []struct {
		name  string
		steps []step
		check map[Slot]owner
	}{
		{
			name:  "first claim assigns",
			steps: []step{{Claim{3, []Range{{0, 9}}, 1}, true}},
			check: map[Slot]owner{0: {3, 1, true}, 9: {3, 1, true}, 10: {}},
		},
		{
			name:  "shard 0 is a real shard",
			steps: []step{{Claim{0, []Range{{5, 5}}, 1}, true}},
			check: map[Slot]owner{5: {0, 1, true}, 4: {}},
		},
		{
			name:  "version 0 ignored",
			steps: []step{{Claim{3, []Range{{0, 9}}, 0}, false}},
			check: map[Slot]owner{0: {}},
		},
		{
			name: "higher version wins",
			steps: []step{
				{Claim{1, []Range{{0, 9}}, 1}, true},
				{Claim{2, []Range{{5, 5}}, 2}, true},
			},
			check: map[Slot]owner{4: {1, 1, true}, 5: {2, 2, true}, 6: {1, 1, true}},
		},
		{
			name: "lower version loses",
			steps: []step{
				{Claim{2, []Range{{5, 5}}, 2}, true},
				{Claim{1, []Range{{0, 9}}, 1}, true}, // changes 0-4 and 6-9 only
				{Claim{1, []Range{{5, 5}}, 1}, false},
			},
			check: map[Slot]owner{5: {2, 2, true}, 9: {1, 1, true}},
		},
		{
			name: "same claim twice is idempotent",
			steps: []step{
				{Claim{1, []Range{{0, 9}}, 4}, true},
				{Claim{1, []Range{{0, 9}}, 4}, false},
			},
			check: map[Slot]owner{3: {1, 4, true}},
		},
		{
			name: "equal version: higher shard wins",
			steps: []step{
				{Claim{1, []Range{{0, 9}}, 3}, true},
				{Claim{2, []Range{{5, 5}}, 3}, true},
				{Claim{1, []Range{{5, 5}}, 3}, false},
			},
			check: map[Slot]owner{5: {2, 3, true}, 6: {1, 3, true}},
		},
		{
			name: "equal version: higher shard wins in reverse order",
			steps: []step{
				{Claim{2, []Range{{5, 5}}, 3}, true},
				{Claim{1, []Range{{0, 9}}, 3}, true},
			},
			check: map[Slot]owner{5: {2, 3, true}, 6: {1, 3, true}},
		},
		{
			name: "out of range and empty ranges ignored",
			steps: []step{
				{Claim{1, []Range{{9, 3}, {16384, 20000}}, 1}, false},
				{Claim{1, []Range{{16383, math.MaxUint16}}, 1}, true},
			},
			check: map[Slot]owner{16383: {1, 1, true}, 16382: {}, 16384: {}},
		},
		{
			name: "max version",
			steps: []step{
				{Claim{1, []Range{{0, 0}}, math.MaxUint64}, true},
				{Claim{7, []Range{{0, 0}}, math.MaxUint64}, true},
			},
			check: map[Slot]owner{0: {7, math.MaxUint64, true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMap()
			for i, st := range tt.steps {
				if got := m.Merge(st.claim); got != st.changed {
					t.Fatalf("step %d: Merge(%+v) changed = %v, want %v", i, st.claim, got, st.changed)
				}
			}
			for s, want := range tt.check {
				if got := ownerOf(m, s); got != want {
					t.Errorf("Owner(%d) = %+v, want %+v", s, got, want)
				}
			}
		})
	}
}

func TestMapZeroValue(t *testing.T) {
	var m Map
	if m.Assigned() != 0 || m.MaxVersion() != 0 || m.Runs() != nil || m.Shards() != nil || m.Claims() != nil {
		t.Fatal("zero Map not empty")
	}
	if !m.Equal(NewMap()) {
		t.Fatal("zero Map != NewMap()")
	}
}

func TestMapRunsSplit(t *testing.T) {
	m := evenMap(t, 3)
	wantRuns := []Run{{Range{0, 5460}, 0}, {Range{5461, 10922}, 1}, {Range{10923, 16383}, 2}}
	if got := m.Runs(); !slices.Equal(got, wantRuns) {
		t.Fatalf("Runs = %v, want %v", got, wantRuns)
	}
	if m.Assigned() != Count || m.MaxVersion() != 1 {
		t.Fatalf("Assigned %d MaxVersion %d", m.Assigned(), m.MaxVersion())
	}
	before := m.Clone()

	// Move slot 12182 (key "foo") from shard 2 to shard 0, as in the live
	// Redis trace: 10923-16383 becomes three runs.
	m.Merge(Claim{Shard: 0, Slots: []Range{{12182, 12182}}, Version: m.MaxVersion() + 1})
	wantRuns = []Run{
		{Range{0, 5460}, 0}, {Range{5461, 10922}, 1},
		{Range{10923, 12181}, 2}, {Range{12182, 12182}, 0}, {Range{12183, 16383}, 2},
	}
	if got := m.Runs(); !slices.Equal(got, wantRuns) {
		t.Fatalf("Runs after move = %v, want %v", got, wantRuns)
	}
	if got, want := FormatRanges(m.Ranges(0)), "0-5460 12182"; got != want {
		t.Fatalf("Ranges(0) = %q, want %q", got, want)
	}
	if got, want := FormatRanges(m.Ranges(2)), "10923-12181 12183-16383"; got != want {
		t.Fatalf("Ranges(2) = %q, want %q", got, want)
	}
	if m.Ranges(9) != nil {
		t.Fatal("unknown shard owns slots")
	}
	if m.MaxVersion() != 2 || m.Assigned() != Count {
		t.Fatalf("MaxVersion %d Assigned %d", m.MaxVersion(), m.Assigned())
	}
	if m.Equal(before) || !before.Equal(evenMap(t, 3)) {
		t.Fatal("Clone is not independent")
	}

	// Ranges and Runs merge across versions of one shard.
	m.Merge(Claim{Shard: 0, Slots: []Range{{5461, 5461}}, Version: 3})
	if got, want := FormatRanges(m.Ranges(0)), "0-5461 12182"; got != want {
		t.Fatalf("Ranges(0) = %q, want %q", got, want)
	}
	if got := m.Runs()[0]; got != (Run{Range{0, 5461}, 0}) {
		t.Fatalf("first run = %v", got)
	}
	wantClaims := []Claim{
		{0, []Range{{0, 5460}}, 1}, {0, []Range{{12182, 12182}}, 2}, {0, []Range{{5461, 5461}}, 3},
		{1, []Range{{5462, 10922}}, 1},
		{2, []Range{{10923, 12181}, {12183, 16383}}, 1},
	}
	if got := m.Claims(); fmt.Sprint(got) != fmt.Sprint(wantClaims) {
		t.Fatalf("Claims = %v, want %v", got, wantClaims)
	}
	if got := m.Shards(); !slices.Equal(got, []ShardID{0, 1, 2}) {
		t.Fatalf("Shards = %v", got)
	}

	// Unassigned slots are absent from Runs.
	p := NewMap()
	p.Merge(Claim{Shard: 4, Slots: []Range{{10, 20}, {22, 30}}, Version: 1})
	p.Merge(Claim{Shard: 4, Slots: []Range{{31, 31}}, Version: 5})
	if got, want := p.Runs(), []Run{{Range{10, 20}, 4}, {Range{22, 31}, 4}}; !slices.Equal(got, want) {
		t.Fatalf("Runs = %v, want %v", got, want)
	}
	if p.Assigned() != 21 {
		t.Fatalf("Assigned = %d", p.Assigned())
	}
}

// randomClaims returns claims over a small shard and version space so that
// conflicts, including equal-version conflicts, are frequent.
func randomClaims(rng *rand.Rand, n int) []Claim {
	out := make([]Claim, n)
	for i := range out {
		c := Claim{Shard: ShardID(rng.IntN(5)), Version: uint64(rng.IntN(5))}
		for j := rng.IntN(4); j >= 0; j-- {
			a := Slot(rng.IntN(Count))
			b := a + Slot(rng.IntN(3000))
			if rng.IntN(10) == 0 {
				b = a - 1 // empty
			}
			c.Slots = append(c.Slots, Range{a, b})
		}
		out[i] = c
	}
	return out
}

// TestMapMergeOrderIndependent: any order (and any repetition) of the same
// claims yields the same map, and that map is the per-slot maximum of
// (version, shard).
func TestMapMergeOrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for iter := 0; iter < 100; iter++ {
		claims := randomClaims(rng, 1+rng.IntN(12))
		ref := NewMap()
		for _, c := range claims {
			ref.Merge(c)
		}
		// Model: per slot, the max (version, shard) among claims with version > 0.
		for s := 0; s < Count; s++ {
			var want owner
			for _, c := range claims {
				if c.Version == 0 {
					continue
				}
				for _, r := range c.Slots {
					if r.Contains(Slot(s)) && (c.Version > want.version || (c.Version == want.version && c.Shard > want.shard)) {
						want = owner{c.Shard, c.Version, true}
					}
				}
			}
			if got := ownerOf(ref, Slot(s)); got != want {
				t.Fatalf("iter %d slot %d: %+v, want %+v (claims %v)", iter, s, got, want, claims)
			}
		}
		for k := 0; k < 5; k++ {
			perm := slices.Clone(claims)
			rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			perm = append(perm, perm[:rng.IntN(len(perm)+1)]...) // replays
			m := NewMap()
			for _, c := range perm {
				m.Merge(c)
			}
			if !m.Equal(ref) {
				t.Fatalf("iter %d: merge order changed the result", iter)
			}
			if !bytes.Equal(m.Encode(), ref.Encode()) {
				t.Fatalf("iter %d: equal maps encode differently", iter)
			}
		}
		// Claims() rebuilds the map.
		rebuilt := NewMap()
		for _, c := range ref.Claims() {
			rebuilt.Merge(c)
		}
		if !rebuilt.Equal(ref) {
			t.Fatalf("iter %d: Claims() does not rebuild the map", iter)
		}
	}
}

func TestMapEncodeDecode(t *testing.T) {
	moved := evenMap(t, 3)
	moved.Merge(Claim{Shard: 0, Slots: []Range{{12182, 12182}}, Version: 2})
	sparse := NewMap()
	sparse.Merge(Claim{Shard: math.MaxUint32, Slots: []Range{{16383, 16383}}, Version: math.MaxUint64})
	sparse.Merge(Claim{Shard: 0, Slots: []Range{{0, 0}}, Version: 1})
	checker := NewMap() // 8192 segments: worst case
	for s := 0; s < Count; s += 2 {
		checker.Merge(Claim{Shard: ShardID(s % 3), Slots: []Range{{Slot(s), Slot(s)}}, Version: uint64(s + 1)})
	}
	alternating := NewMap() // 16384 adjacent segments, no gaps
	for s := 0; s < Count; s++ {
		alternating.Merge(Claim{Shard: ShardID(s % 2), Slots: []Range{{Slot(s), Slot(s)}}, Version: 1})
	}
	tests := []struct {
		name    string
		m       *Map
		maxSize int
	}{
		{"empty", NewMap(), 2},
		{"one shard", evenMap(t, 1), 10},
		{"three shards", evenMap(t, 3), 24},
		{"three shards, one slot moved", moved, 40},
		{"ten shards", evenMap(t, 10), 100},
		{"sparse", sparse, 30},
		{"checker", checker, 8 * Count},
		{"alternating", alternating, 8 * Count},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.m.Encode()
			if len(b) > tt.maxSize {
				t.Errorf("encoded size %d > %d", len(b), tt.maxSize)
			}
			t.Logf("%d bytes", len(b))
			got, err := DecodeMap(b)
			if err != nil {
				t.Fatalf("DecodeMap: %v", err)
			}
			if !got.Equal(tt.m) {
				t.Fatal("round trip changed the map")
			}
			if !bytes.Equal(got.Encode(), b) {
				t.Fatal("re-encoding differs")
			}
		})
	}
}

func TestDecodeMapErrors(t *testing.T) {
	good := evenMap(t, 3).Encode()
	tests := []struct {
		name string
		b    []byte
	}{
		{"nil", nil},
		{"format only", []byte{1}},
		{"unknown format", []byte{2, 0}},
		{"trailing byte", append(slices.Clone(good), 0)},
		{"truncated", good[:len(good)-1]},
		{"too many segments", []byte{1, 0x81, 0x80, 0x01}}, // 16385
		{"count larger than data", []byte{1, 5, 0, 0, 1, 1}},
		{"version 0", []byte{1, 1, 0, 0, 1, 0}},
		{"overrun by length", []byte{1, 1, 0, 0x80, 0x80, 0x01, 1, 1}},         // length 16385
		{"overrun at end", []byte{1, 1, 0x80, 0x80, 0x01, 0, 1, 1}},            // skip 16384
		{"overrun by sum", []byte{1, 2, 0, 0xff, 0x7f, 1, 1, 0, 0, 2, 1}},      // 0-16383 then one more
		{"shard too big", []byte{1, 1, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x10, 1}}, // 1<<32
		{"non-minimal varint", []byte{1, 1, 0, 0, 0x81, 0x00, 1}},
		{"non-minimal count", []byte{1, 0x80, 0x00}},
		{"varint overflow", []byte{1, 1, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"not maximal", []byte{1, 2, 0, 0, 1, 1, 0, 0, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeMap(tt.b)
			if err == nil {
				t.Fatalf("DecodeMap(% x) = %v, want error", tt.b, m.Runs())
			}
			if !errors.Is(err, ErrCorruptMap) {
				t.Fatalf("error %v does not wrap ErrCorruptMap", err)
			}
		})
	}
	// Adjacent segments that differ only in version are maximal and valid.
	if _, err := DecodeMap([]byte{1, 2, 0, 0, 1, 1, 0, 0, 1, 2}); err != nil {
		t.Fatalf("valid adjacent segments rejected: %v", err)
	}
}

func FuzzDecodeMap(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 0})
	f.Add([]byte{1, 2, 0, 0, 1, 1, 0, 0, 1, 1})
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 5; i++ {
		m := NewMap()
		for _, c := range randomClaims(rng, 4) {
			m.Merge(c)
		}
		f.Add(m.Encode())
	}
	for _, n := range []int{1, 3, 7} {
		m := NewMap()
		for i, p := range SplitEven(n) {
			m.Merge(Claim{Shard: ShardID(i), Slots: p, Version: 1})
		}
		f.Add(m.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMap(b)
		if err != nil {
			if m != nil {
				t.Fatal("map returned with error")
			}
			return
		}
		// Only canonical encodings are accepted.
		if enc := m.Encode(); !bytes.Equal(enc, b) {
			t.Fatalf("Encode(DecodeMap(% x)) = % x", b, enc)
		}
		// Claims, Runs and Ranges agree with Owner.
		rebuilt := NewMap()
		for _, c := range m.Claims() {
			rebuilt.Merge(c)
		}
		if !rebuilt.Equal(m) {
			t.Fatal("Claims() does not rebuild the map")
		}
		n := 0
		for _, r := range m.Runs() {
			for s := int(r.Start); s <= int(r.End); s++ {
				if sh, _, ok := m.Owner(Slot(s)); !ok || sh != r.Shard {
					t.Fatalf("run %v disagrees with Owner(%d)", r, s)
				}
			}
			n += r.Len()
		}
		if n != m.Assigned() {
			t.Fatalf("runs cover %d slots, Assigned = %d", n, m.Assigned())
		}
	})
}

// Tests for migration.go.
func TestMigrationFormat(t *testing.T) {
	const id = "9c6ee8b5c5c2e1d0a0b3a8f7e6d5c4b3a2918070"
	tests := []struct {
		m      Migration
		token  string
		text   string
		status string
	}{
		{Migration{12182, Migrating, 2}, "[12182->-" + id + "]", "slot 12182 migrating to shard 2", "migrating"},
		{Migration{0, Importing, 7}, "[0-<-" + id + "]", "slot 0 importing from shard 7", "importing"},
		{Migration{5, Stable, 0}, "", "slot 5 stable", "stable"},
		{Migration{5, MigrationState(9), 1}, "", "slot 5 MigrationState(9) shard 1", "MigrationState(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := tt.m.Format(id); got != tt.token {
				t.Errorf("Format = %q, want %q", got, tt.token)
			}
			if got := tt.m.String(); got != tt.text {
				t.Errorf("String = %q, want %q", got, tt.text)
			}
			if got := tt.m.State.String(); got != tt.status {
				t.Errorf("State.String = %q, want %q", got, tt.status)
			}
		})
	}
}

func TestFormatMigrations(t *testing.T) {
	ids := map[ShardID]string{1: "aaaa", 2: "bbbb"}
	nodeID := func(s ShardID) string { return ids[s] }
	tests := []struct {
		name string
		ms   []Migration
		want string
	}{
		{"none", nil, ""},
		{"only stable", []Migration{{1, Stable, 1}}, ""},
		{"sorted by slot", []Migration{{900, Importing, 2}, {12, Migrating, 1}, {40, Stable, 1}},
			"[12->-aaaa] [900-<-bbbb]"},
		{"duplicate slot keeps first", []Migration{{7, Migrating, 1}, {7, Importing, 2}}, "[7->-aaaa]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatMigrations(tt.ms, nodeID); got != tt.want {
				t.Fatalf("FormatMigrations = %q, want %q", got, tt.want)
			}
		})
	}
}
