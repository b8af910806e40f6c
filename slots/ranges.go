package slots

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalidRange is wrapped by every ParseRange/ParseRanges error.
var ErrInvalidRange = errors.New("slots: invalid slot range")

// Range is an inclusive run of slots [Start, End]. A Range with Start > End
// is empty.
type Range struct {
	Start, End Slot
}

// Len returns the number of slots in r (0 if r is empty).
func (r Range) Len() int {
	if r.Start > r.End {
		return 0
	}
	return int(r.End) - int(r.Start) + 1
}

// Contains reports whether s lies in r.
func (r Range) Contains(s Slot) bool {
	return r.Start <= s && s <= r.End
}

// String renders r the way CLUSTER NODES does: "N" for a single slot,
// "A-B" for a run.
func (r Range) String() string {
	if r.Start == r.End {
		return strconv.Itoa(int(r.Start))
	}
	return strconv.Itoa(int(r.Start)) + "-" + strconv.Itoa(int(r.End))
}

// appendTo appends r's String form to b without an intermediate string.
func (r Range) appendTo(b []byte) []byte {
	b = strconv.AppendUint(b, uint64(r.Start), 10)
	if r.Start != r.End {
		b = append(b, '-')
		b = strconv.AppendUint(b, uint64(r.End), 10)
	}
	return b
}

// ParseRange parses "N" or "A-B" (decimal, no sign, no leading zeros, so
// that the text is canonical and round-trips through String) with
// 0 <= A <= B < Count.
func ParseRange(s string) (Range, error) {
	lo, hi, dash := strings.Cut(s, "-")
	a, ok := parseSlot(lo)
	if !ok {
		return Range{}, fmt.Errorf("%w %q", ErrInvalidRange, s)
	}
	if !dash {
		return Range{a, a}, nil
	}
	b, ok := parseSlot(hi)
	if !ok || b < a {
		return Range{}, fmt.Errorf("%w %q", ErrInvalidRange, s)
	}
	return Range{a, b}, nil
}

// parseSlot accepts the canonical decimal form of a slot number.
func parseSlot(s string) (Slot, bool) {
	if s == "" || len(s) > 5 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n >= Count {
		return 0, false
	}
	return Slot(n), true
}

// ParseRanges parses the space-separated output of FormatRanges. The empty
// string is an empty list. The result is returned as written (use Normalize
// to sort and merge).
func ParseRanges(s string) ([]Range, error) {
	if s == "" {
		return nil, nil
	}
	fields := strings.Split(s, " ")
	out := make([]Range, 0, len(fields))
	for _, f := range fields {
		r, err := ParseRange(f)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// FormatRanges renders rs space-separated, in the given order, exactly as
// the slot part of a CLUSTER NODES line: "0-5460 5462 6000-6001". Empty
// ranges are skipped.
func FormatRanges(rs []Range) string {
	b := make([]byte, 0, len(rs)*12)
	for _, r := range rs {
		if r.Start > r.End {
			continue
		}
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = r.appendTo(b)
	}
	return string(b)
}

// Normalize returns a new, sorted list of disjoint, non-adjacent ranges
// covering the same slots as rs. Empty ranges are dropped and slots >= Count
// are clipped away, so the result always describes valid slots. rs is not
// modified.
func Normalize(rs []Range) []Range {
	out := make([]Range, 0, len(rs))
	for _, r := range rs {
		if r.Start > r.End || r.Start >= Count {
			continue
		}
		r.End = min(r.End, Count-1)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Range) int { return int(a.Start) - int(b.Start) })
	merged := out[:0]
	for _, r := range out {
		if n := len(merged); n > 0 && int(r.Start) <= int(merged[n-1].End)+1 {
			merged[n-1].End = max(merged[n-1].End, r.End)
			continue
		}
		merged = append(merged, r)
	}
	if len(merged) == 0 {
		return nil
	}
	return slices.Clip(merged)
}

// RangesOf returns the maximal runs of set[i] == true, where index i is slot
// i. Entries at index >= Count are ignored.
func RangesOf(set []bool) []Range {
	var out []Range
	start := -1
	n := min(len(set), Count)
	for i := 0; i <= n; i++ {
		in := i < n && set[i]
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			out = append(out, Range{Slot(start), Slot(i - 1)})
			start = -1
		}
	}
	return out
}

// Bitmap is a compact set of slots (2 KiB). The zero value is empty.
// Out-of-range slots are ignored by Set/Clear and never reported by Has.
type Bitmap [Count / 64]uint64

// Set adds s.
func (b *Bitmap) Set(s Slot) {
	if s < Count {
		b[s/64] |= 1 << (s % 64)
	}
}

// Clear removes s.
func (b *Bitmap) Clear(s Slot) {
	if s < Count {
		b[s/64] &^= 1 << (s % 64)
	}
}

// Has reports whether s is in b.
func (b *Bitmap) Has(s Slot) bool {
	return s < Count && b[s/64]&(1<<(s%64)) != 0
}

// SetRange adds every slot of r (clipped to valid slots).
func (b *Bitmap) SetRange(r Range) {
	if r.Start > r.End || r.Start >= Count {
		return
	}
	for s := int(r.Start); s <= int(min(r.End, Count-1)); s++ {
		b[s/64] |= 1 << (s % 64)
	}
}

// Count returns the number of slots in b.
func (b *Bitmap) Count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// Ranges returns b's slots as sorted maximal runs.
func (b *Bitmap) Ranges() []Range {
	var out []Range
	start := -1
	for s := 0; s <= Count; s++ {
		in := s < Count && b[s/64]&(1<<(s%64)) != 0
		switch {
		case in && start < 0:
			start = s
		case !in && start >= 0:
			out = append(out, Range{Slot(start), Slot(s - 1)})
			start = -1
		}
	}
	return out
}

// BitmapOf returns the set of slots covered by rs.
func BitmapOf(rs []Range) *Bitmap {
	b := new(Bitmap)
	for _, r := range rs {
		b.SetRange(r)
	}
	return b
}

// SplitEven splits all slots into n contiguous parts of near-equal size
// (sizes differ by at most one), as redis-cli --cluster create does: part i
// starts at round(i*Count/n). n=3 gives 0-5460, 5461-10922, 10923-16383.
// redis-cli accumulates the boundaries in float32, which drifts from the
// exact value for some n >= 78; we use exact integer rounding instead, which
// agrees with redis-cli for every practical shard count. Each part is a
// one-element slice so that callers can append to it later. n < 1 or
// n > Count returns nil.
func SplitEven(n int) [][]Range {
	if n < 1 || n > Count {
		return nil
	}
	bound := func(i int) int { return (2*i*Count + n) / (2 * n) } // round(i*Count/n); never a tie
	out := make([][]Range, n)
	for i := range out {
		out[i] = []Range{{Slot(bound(i)), Slot(bound(i+1) - 1)}}
	}
	return out
}
