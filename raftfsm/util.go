package raftfsm

import (
	"math"
	"strconv"
	"strings"
)

// ParseInt parses a Redis integer argument (strict: no spaces, no '+', no
// leading zeros other than "0", fits int64), as Redis's string2ll does.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	i := 0
	neg := false
	if b[0] == '-' {
		neg = true
		i = 1
		if len(b) == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
		if v < uint64(c-'0') {
			return 0, false
		}
	}
	if neg {
		if v > uint64(math.MaxInt64)+1 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// ParseFloat parses a Redis float argument: accepts "inf", "+inf", "-inf"
// (case-insensitive), rejects NaN, empty strings and surrounding spaces.
func ParseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || b[0] == ' ' || b[len(b)-1] == ' ' {
		return 0, false
	}
	s := string(b)
	switch strings.ToLower(s) {
	case "inf", "+inf", "infinity", "+infinity":
		return math.Inf(1), true
	case "-inf", "-infinity":
		return math.Inf(-1), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// strconv rejects hex floats and the like that strtod would take;
		// out-of-range values are errors in Redis too.
		return 0, false
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// FormatInt renders n in decimal.
func FormatInt(n int64) string { return strconv.FormatInt(n, 10) }

// TrimFraction drops the trailing zeros of a fixed-point number's fraction
// and the point when nothing is left of it ("99.900000" -> "99.9",
// "50.000000" -> "50"), as Redis's trimDoubleString and ld2string's human
// mode do.
func TrimFraction(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// EqFold reports whether b equals the lower-case ASCII word w, ignoring case.
// Option parsing uses it so it never allocates.
func EqFold(b []byte, w string) bool {
	if len(b) != len(w) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// Lower returns the ASCII lower-case form of b as a string.
func Lower(b []byte) string {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			return strings.ToLower(string(b))
		}
	}
	return string(b)
}
