package slots

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// ErrCorruptMap is wrapped by every DecodeMap error.
var ErrCorruptMap = errors.New("slots: corrupt slot map encoding")

// ShardID identifies a shard (one Raft group). Every value, including 0, is
// a valid shard id: the Map marks unassigned slots by version 0, not by a
// reserved shard id.
type ShardID uint32

// Claim is a shard's statement that it owns Slots at Version. Versions are
// cluster-wide and start at 1; a claim at Version 0 means nothing and is
// ignored by Merge. A shard owning slots at different versions publishes one
// Claim per version.
type Claim struct {
	Shard   ShardID
	Slots   []Range
	Version uint64
}

// Run is a maximal run of consecutive slots owned by one shard.
type Run struct {
	Range
	Shard ShardID
}

// Map is the cluster's slot map: for every slot, the owning shard and the
// version of the claim that gave it that owner.
//
// A slot with version 0 is unassigned (its shard is then always 0, so that
// Equal can compare the arrays directly). Merge is a join: per slot it keeps
// the greater (version, shard) pair, so the result does not depend on the
// order in which claims arrive and merging a claim twice is harmless. Two
// different shards claiming one slot at the same version is a bug elsewhere
// (versions are allocated through Raft), but every node must still pick the
// same winner: the higher shard id wins.
//
// The zero Map is empty and ready to use. A Map is not safe for concurrent
// mutation; publish a Clone and treat published maps as read-only.
type Map struct {
	shard   [Count]ShardID
	version [Count]uint64
}

// NewMap returns an empty map (every slot unassigned).
func NewMap() *Map { return new(Map) }

// Owner returns the shard owning s and the version of its claim; ok is false
// if s is unassigned or not a valid slot.
func (m *Map) Owner(s Slot) (shard ShardID, version uint64, ok bool) {
	if s >= Count || m.version[s] == 0 {
		return 0, 0, false
	}
	return m.shard[s], m.version[s], true
}

// Merge applies c to every slot it names where (c.Version, c.Shard) is
// greater than the slot's current (version, shard), and reports whether any
// slot changed. Slots beyond Count and empty ranges in c are ignored.
func (m *Map) Merge(c Claim) (changed bool) {
	if c.Version == 0 {
		return false
	}
	for _, r := range c.Slots {
		if r.Start > r.End || r.Start >= Count {
			continue
		}
		for s := int(r.Start); s <= int(min(r.End, Count-1)); s++ {
			v := m.version[s]
			if c.Version > v || (c.Version == v && c.Shard > m.shard[s]) {
				m.shard[s], m.version[s] = c.Shard, c.Version
				changed = true
			}
		}
	}
	return changed
}

// Ranges returns the slots owned by shard as sorted maximal runs.
func (m *Map) Ranges(shard ShardID) []Range {
	var out []Range
	m.segments(func(r Range, sh ShardID, _ uint64) {
		if sh != shard {
			return
		}
		if n := len(out); n > 0 && int(out[n-1].End)+1 == int(r.Start) {
			out[n-1].End = r.End // same shard, different version
			return
		}
		out = append(out, r)
	})
	return out
}

// Runs returns the maximal runs of consecutive slots with the same owner in
// ascending slot order; unassigned slots are absent. This is the shape of
// CLUSTER SLOTS.
func (m *Map) Runs() []Run {
	var out []Run
	m.segments(func(r Range, sh ShardID, _ uint64) {
		if n := len(out); n > 0 && out[n-1].Shard == sh && int(out[n-1].End)+1 == int(r.Start) {
			out[n-1].End = r.End
			return
		}
		out = append(out, Run{r, sh})
	})
	return out
}

// Claims returns claims that rebuild m when merged into an empty map: one
// per (shard, version) pair, ordered by shard then version, each with sorted
// maximal ranges.
func (m *Map) Claims() []Claim {
	var out []Claim
	m.segments(func(r Range, sh ShardID, v uint64) {
		i, found := slices.BinarySearchFunc(out, Claim{Shard: sh, Version: v}, cmpClaim)
		if !found {
			out = slices.Insert(out, i, Claim{Shard: sh, Version: v})
		}
		out[i].Slots = append(out[i].Slots, r) // segments ascend and never touch with equal keys
	})
	return out
}

func cmpClaim(a, b Claim) int {
	switch {
	case a.Shard != b.Shard:
		if a.Shard < b.Shard {
			return -1
		}
		return 1
	case a.Version < b.Version:
		return -1
	case a.Version > b.Version:
		return 1
	}
	return 0
}

// Shards returns the shards owning at least one slot, ascending.
func (m *Map) Shards() []ShardID {
	var out []ShardID
	m.segments(func(_ Range, sh ShardID, _ uint64) {
		if i, found := slices.BinarySearch(out, sh); !found {
			out = slices.Insert(out, i, sh)
		}
	})
	return out
}

// Assigned returns the number of assigned slots.
func (m *Map) Assigned() int {
	n := 0
	for _, v := range m.version {
		if v != 0 {
			n++
		}
	}
	return n
}

// MaxVersion returns the highest version of any slot (0 for an empty map).
// A new claim must use a version above it to win everywhere.
func (m *Map) MaxVersion() uint64 {
	var hi uint64
	for _, v := range m.version {
		hi = max(hi, v)
	}
	return hi
}

// Clone returns an independent copy of m.
func (m *Map) Clone() *Map {
	c := *m
	return &c
}

// Equal reports whether m and o assign every slot to the same shard at the
// same version.
func (m *Map) Equal(o *Map) bool {
	return m.version == o.version && m.shard == o.shard
}

// segments calls fn for each maximal run of assigned slots with the same
// (shard, version), in ascending slot order.
func (m *Map) segments(fn func(r Range, shard ShardID, version uint64)) {
	for s := 0; s < Count; {
		v := m.version[s]
		if v == 0 {
			s++
			continue
		}
		sh := m.shard[s]
		e := s
		for e+1 < Count && m.version[e+1] == v && m.shard[e+1] == sh {
			e++
		}
		fn(Range{Slot(s), Slot(e)}, sh, v)
		s = e + 1
	}
}

// mapFormat is the first byte of an encoded Map.
const mapFormat = 1

// Encode returns a compact binary form of m, for gossip metadata and
// snapshots. Layout: a format byte (1), uvarint segment count, then per
// maximal (shard, version) segment in ascending order: uvarint number of
// unassigned slots skipped since the previous segment, uvarint length-1,
// uvarint shard, uvarint version. An even 3-shard map takes 17 bytes. The
// encoding is canonical: equal maps encode to equal bytes.
func (m *Map) Encode() []byte {
	b := []byte{mapFormat, 0}
	n, next := 0, 0
	m.segments(func(r Range, sh ShardID, v uint64) {
		b = binary.AppendUvarint(b, uint64(int(r.Start)-next))
		b = binary.AppendUvarint(b, uint64(r.End-r.Start))
		b = binary.AppendUvarint(b, uint64(sh))
		b = binary.AppendUvarint(b, v)
		next = int(r.End) + 1
		n++
	})
	if n < 0x80 {
		b[1] = byte(n)
		return b
	}
	// Rare (128+ segments): re-frame with a multi-byte count.
	out := binary.AppendUvarint([]byte{mapFormat}, uint64(n))
	return append(out, b[2:]...)
}

// DecodeMap parses the output of Encode. It accepts only canonical
// encodings (so Encode(DecodeMap(b)) == b), never panics, and allocates
// nothing proportional to claimed counts.
func DecodeMap(b []byte) (*Map, error) {
	d := decoder{b: b}
	if len(b) == 0 || b[0] != mapFormat {
		return nil, fmt.Errorf("%w: unknown format", ErrCorruptMap)
	}
	d.b = b[1:]
	n := d.uvarint()
	if d.err == nil && n > Count {
		return nil, fmt.Errorf("%w: %d segments", ErrCorruptMap, n)
	}
	m := NewMap()
	next := 0
	var prevShard ShardID
	var prevVersion uint64
	for i := uint64(0); i < n && d.err == nil; i++ {
		skip, lenm1, sh, v := d.uvarint(), d.uvarint(), d.uvarint(), d.uvarint()
		switch {
		case d.err != nil:
		case skip > Count || lenm1 >= Count || uint64(next)+skip+lenm1 >= Count:
			d.err = fmt.Errorf("%w: segment %d overruns slot range", ErrCorruptMap, i)
		case sh > math.MaxUint32:
			d.err = fmt.Errorf("%w: shard id %d", ErrCorruptMap, sh)
		case v == 0:
			d.err = fmt.Errorf("%w: version 0", ErrCorruptMap)
		case i > 0 && skip == 0 && ShardID(sh) == prevShard && v == prevVersion:
			d.err = fmt.Errorf("%w: segment %d not maximal", ErrCorruptMap, i)
		default:
			start := next + int(skip)
			end := start + int(lenm1)
			for s := start; s <= end; s++ {
				m.shard[s], m.version[s] = ShardID(sh), v
			}
			next = end + 1
			prevShard, prevVersion = ShardID(sh), v
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorruptMap, len(d.b))
	}
	return m, nil
}

// decoder reads minimal uvarints, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = fmt.Errorf("%w: truncated or overlong varint", ErrCorruptMap)
		return 0
	}
	// A longer-than-needed varint would decode to the same map, breaking
	// canonical form.
	if n != max(1, (bits.Len64(v)+6)/7) {
		d.err = fmt.Errorf("%w: non-minimal varint", ErrCorruptMap)
		return 0
	}
	d.b = d.b[n:]
	return v
}
