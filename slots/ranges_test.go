package slots

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		in   string
		want Range
		ok   bool
	}{
		{"0", Range{0, 0}, true},
		{"5", Range{5, 5}, true},
		{"16383", Range{16383, 16383}, true},
		{"0-5460", Range{0, 5460}, true},
		{"5461-10922", Range{5461, 10922}, true},
		{"7-7", Range{7, 7}, true},
		{"0-16383", Range{0, 16383}, true},
		{"", Range{}, false},
		{"-", Range{}, false},
		{"-5", Range{}, false},
		{"5-", Range{}, false},
		{"16384", Range{}, false},
		{"0-16384", Range{}, false},
		{"99999", Range{}, false},
		{"123456", Range{}, false},
		{"10-5", Range{}, false},
		{"05", Range{}, false},
		{"00", Range{}, false},
		{"+5", Range{}, false},
		{" 5", Range{}, false},
		{"5 ", Range{}, false},
		{"1-2-3", Range{}, false},
		{"a", Range{}, false},
		{"1--2", Range{}, false},
		{"0x10", Range{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRange(tt.in)
			if !tt.ok {
				if err == nil {
					t.Fatalf("ParseRange(%q) = %v, want error", tt.in, got)
				}
				if !errors.Is(err, ErrInvalidRange) {
					t.Fatalf("error %v does not wrap ErrInvalidRange", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRange(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if s := got.String(); s != tt.in && !(got.Start == got.End && tt.in == fmt.Sprintf("%d-%d", got.Start, got.End)) {
				t.Fatalf("String() = %q, want %q", s, tt.in)
			}
		})
	}
}

func TestRangeLenContains(t *testing.T) {
	tests := []struct {
		r   Range
		len int
		in  []Slot
		out []Slot
	}{
		{Range{0, 0}, 1, []Slot{0}, []Slot{1}},
		{Range{0, 16383}, Count, []Slot{0, 8000, 16383}, []Slot{16384, math.MaxUint16}},
		{Range{10, 20}, 11, []Slot{10, 15, 20}, []Slot{9, 21}},
		{Range{20, 10}, 0, nil, []Slot{10, 15, 20}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.r), func(t *testing.T) {
			if got := tt.r.Len(); got != tt.len {
				t.Errorf("Len = %d, want %d", got, tt.len)
			}
			for _, s := range tt.in {
				if !tt.r.Contains(s) {
					t.Errorf("Contains(%d) = false", s)
				}
			}
			for _, s := range tt.out {
				if tt.r.Contains(s) {
					t.Errorf("Contains(%d) = true", s)
				}
			}
		})
	}
}

func TestFormatParseRanges(t *testing.T) {
	tests := []struct {
		rs   []Range
		text string
	}{
		{nil, ""},
		{[]Range{{0, 5460}}, "0-5460"},
		{[]Range{{5, 5}}, "5"},
		{[]Range{{0, 5460}, {5462, 5462}, {6000, 6001}}, "0-5460 5462 6000-6001"},
		{[]Range{{10923, 12181}, {12183, 16383}}, "10923-12181 12183-16383"},
		{[]Range{{9, 9}, {1, 2}}, "9 1-2"}, // order kept as given
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := FormatRanges(tt.rs); got != tt.text {
				t.Fatalf("FormatRanges = %q, want %q", got, tt.text)
			}
			back, err := ParseRanges(tt.text)
			if err != nil || !slices.Equal(back, tt.rs) {
				t.Fatalf("ParseRanges(%q) = %v, %v; want %v", tt.text, back, err, tt.rs)
			}
		})
	}
	if got := FormatRanges([]Range{{5, 1}, {3, 3}}); got != "3" {
		t.Fatalf("empty ranges must be skipped, got %q", got)
	}
	for _, bad := range []string{" ", "1  2", "1 ", " 1", "1,2", "1 x"} {
		if _, err := ParseRanges(bad); !errors.Is(err, ErrInvalidRange) {
			t.Errorf("ParseRanges(%q) error = %v, want ErrInvalidRange", bad, err)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   []Range
		want []Range
	}{
		{"nil", nil, nil},
		{"only empty", []Range{{5, 4}}, nil},
		{"single", []Range{{3, 7}}, []Range{{3, 7}}},
		{"sort", []Range{{10, 12}, {1, 2}}, []Range{{1, 2}, {10, 12}}},
		{"adjacent", []Range{{0, 4}, {5, 9}}, []Range{{0, 9}}},
		{"overlap", []Range{{0, 6}, {5, 9}}, []Range{{0, 9}}},
		{"contained", []Range{{0, 100}, {5, 9}}, []Range{{0, 100}}},
		{"duplicate", []Range{{7, 7}, {7, 7}}, []Range{{7, 7}}},
		{"gap of one", []Range{{0, 4}, {6, 9}}, []Range{{0, 4}, {6, 9}}},
		{"chain", []Range{{6, 8}, {0, 2}, {3, 5}, {20, 20}, {9, 9}}, []Range{{0, 9}, {20, 20}}},
		{"clip", []Range{{16380, 20000}, {16384, 16390}, {math.MaxUint16, math.MaxUint16}}, []Range{{16380, 16383}}},
		{"last slot", []Range{{16383, 16383}, {16382, 16382}}, []Range{{16382, 16383}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.in)
			got := Normalize(in)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Normalize(%v) = %v, want %v", tt.in, got, tt.want)
			}
			if !slices.Equal(in, tt.in) {
				t.Fatalf("Normalize modified its input: %v", in)
			}
		})
	}
}

// TestNormalizeRandom checks Normalize against a bitmap model and that the
// text form round-trips.
func TestNormalizeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		var rs []Range
		var model [Count]bool
		for j := rng.IntN(20); j > 0; j-- {
			a := Slot(rng.IntN(Count))
			b := a + Slot(rng.IntN(300))
			rs = append(rs, Range{a, b})
			for s := int(a); s <= int(b) && s < Count; s++ {
				model[s] = true
			}
		}
		got := Normalize(rs)
		if want := RangesOf(model[:]); !slices.Equal(got, want) {
			t.Fatalf("Normalize(%v) = %v, want %v", rs, got, want)
		}
		if bm := BitmapOf(rs); !slices.Equal(bm.Ranges(), got) {
			t.Fatalf("BitmapOf(%v).Ranges() = %v, want %v", rs, bm.Ranges(), got)
		}
		back, err := ParseRanges(FormatRanges(got))
		if err != nil || !slices.Equal(back, got) {
			t.Fatalf("round trip of %v: %v, %v", got, back, err)
		}
	}
}

func TestRangesOf(t *testing.T) {
	set := make([]bool, Count+10)
	if got := RangesOf(set); got != nil {
		t.Fatalf("empty set: %v", got)
	}
	for _, s := range []int{0, 1, 2, 100, 16382, 16383, 16384, 16390} {
		set[s] = true
	}
	want := []Range{{0, 2}, {100, 100}, {16382, 16383}}
	if got := RangesOf(set); !slices.Equal(got, want) {
		t.Fatalf("RangesOf = %v, want %v", got, want)
	}
	if got := RangesOf([]bool{false, true, true}); !slices.Equal(got, []Range{{1, 2}}) {
		t.Fatalf("short set: %v", got)
	}
}

func TestBitmap(t *testing.T) {
	var b Bitmap
	if b.Count() != 0 || b.Ranges() != nil {
		t.Fatal("zero bitmap not empty")
	}
	for _, s := range []Slot{0, 63, 64, 65, 16383} {
		b.Set(s)
	}
	b.Set(16384) // ignored
	b.Set(math.MaxUint16)
	if b.Count() != 5 {
		t.Fatalf("Count = %d, want 5", b.Count())
	}
	if want := []Range{{0, 0}, {63, 65}, {16383, 16383}}; !slices.Equal(b.Ranges(), want) {
		t.Fatalf("Ranges = %v, want %v", b.Ranges(), want)
	}
	if !b.Has(64) || b.Has(62) || b.Has(16384) || b.Has(math.MaxUint16) {
		t.Fatal("Has wrong")
	}
	b.Clear(64)
	b.Clear(64)
	b.Clear(16384)
	if b.Has(64) || b.Count() != 4 {
		t.Fatal("Clear failed")
	}
	b.SetRange(Range{100, 20000})
	b.SetRange(Range{9, 8}) // empty
	if b.Count() != 3+16284 || !b.Has(16383) || b.Has(99) {
		t.Fatalf("SetRange: count %d", b.Count())
	}
	full := BitmapOf([]Range{{0, 16383}})
	if full.Count() != Count || !slices.Equal(full.Ranges(), []Range{{0, 16383}}) {
		t.Fatal("full bitmap wrong")
	}
}

func TestSplitEven(t *testing.T) {
	// Exact output of redis-cli --cluster create for small master counts.
	known := map[int]string{
		1: "0-16383",
		2: "0-8191 8192-16383",
		3: "0-5460 5461-10922 10923-16383",
		4: "0-4095 4096-8191 8192-12287 12288-16383",
		5: "0-3276 3277-6553 6554-9829 9830-13106 13107-16383",
		6: "0-2730 2731-5460 5461-8191 8192-10922 10923-13652 13653-16383",
	}
	for _, n := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 77, 500, 1000, Count} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			parts := SplitEven(n)
			if len(parts) != n {
				t.Fatalf("%d parts, want %d", len(parts), n)
			}
			var flat []Range
			lo, hi := Count, 0
			next := 0
			for i, p := range parts {
				if len(p) != 1 || int(p[0].Start) != next || p[0].Len() == 0 {
					t.Fatalf("part %d = %v, want one non-empty range starting at %d", i, p, next)
				}
				next = int(p[0].End) + 1
				lo, hi = min(lo, p[0].Len()), max(hi, p[0].Len())
				flat = append(flat, p...)
			}
			if next != Count {
				t.Fatalf("parts end at %d, want %d", next, Count)
			}
			if hi-lo > 1 || lo != Count/n {
				t.Fatalf("part sizes %d..%d, want %d..%d", lo, hi, Count/n, (Count+n-1)/n)
			}
			if bm := BitmapOf(flat); bm.Count() != Count {
				t.Fatalf("covers %d slots", bm.Count())
			}
			if n <= 77 {
				if got, want := FormatRanges(flat), redisCLISplit(n); got != want {
					t.Fatalf("SplitEven(%d) = %s\nredis-cli gives %s", n, got, want)
				}
			}
			if want, ok := known[n]; ok && FormatRanges(flat) != want {
				t.Fatalf("SplitEven(%d) = %s, want %s", n, FormatRanges(flat), want)
			}
		})
	}
	for _, n := range []int{-1, 0, Count + 1} {
		if got := SplitEven(n); got != nil {
			t.Errorf("SplitEven(%d) = %v, want nil", n, got)
		}
	}
}

// redisCLISplit mirrors the float32 arithmetic of redis-cli's
// clusterManagerCommandCreate, to show SplitEven agrees with it.
func redisCLISplit(n int) string {
	spn := float32(Count) / float32(n)
	var cursor float32
	first := 0
	var rs []Range
	for i := 0; i < n; i++ {
		last := int(math.Round(float64(cursor + spn - 1)))
		if last > Count || i == n-1 {
			last = Count - 1
		}
		last = max(last, first)
		rs = append(rs, Range{Slot(first), Slot(last)})
		first = last + 1
		cursor += spn
	}
	return FormatRanges(rs)
}
