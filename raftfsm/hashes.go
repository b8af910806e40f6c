package raftfsm

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Hash commands (Redis src/t_hash.c). Fields live in a dict so that their
// order, and therefore HGETALL/HSCAN output and random picks, is the same
// on every replica.

var (
	errHashNotInt      = Err("ERR hash value is not an integer")
	errHashNotFloat    = Err("ERR hash value is not a float")
	errHsNaNOrInf      = Err("ERR value is NaN or Infinity")
	errHsOutOfRange    = Err("ERR value is out of range")
	errHsInvalidCursor = Err("ERR invalid cursor")
	// Redis's getRangeLongFromObjectOrReply text for [-LONG_MAX, LONG_MAX].
	errHsCountRange = Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
)

// hsRandMax bounds the reply of SRANDMEMBER/HRANDFIELD with a negative
// count. Redis would try to build any size and exhaust memory; we refuse
// instead of letting one request take the node down.
const hsRandMax = 1 << 20

func init() {
	Register(
		Command{Name: "hset", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: hsetCommand},
		Command{Name: "hmset", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: hsetCommand},
		Command{Name: "hsetnx", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: hsetnxCommand},
		Command{Name: "hget", Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: hgetCommand},
		Command{Name: "hmget", Arity: -3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: hmgetCommand},
		Command{Name: "hgetall", Arity: 2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: hgetallCommand},
		Command{Name: "hkeys", Arity: 2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: hkeysCommand},
		Command{Name: "hvals", Arity: 2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: hvalsCommand},
		Command{Name: "hdel", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: hdelCommand},
		Command{Name: "hexists", Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: hexistsCommand},
		Command{Name: "hlen", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: hlenCommand},
		Command{Name: "hstrlen", Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: hstrlenCommand},
		Command{Name: "hincrby", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: hincrbyCommand},
		Command{Name: "hincrbyfloat", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: hincrbyfloatCommand},
		Command{Name: "hscan", Arity: -3, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: hscanCommand},
		Command{Name: "hrandfield", Arity: -2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: hrandfieldCommand},
	)
}

// lookupHashRead returns key's hash (nil if absent); ok is false when the
// key holds another type.
func lookupHashRead(c *Ctx, key []byte) (h *hashValue, ok bool) {
	v := c.Get(key)
	if v == nil {
		return nil, true
	}
	h, ok = v.(*hashValue)
	return h, ok
}

// lookupHashWrite is lookupHashRead for commands that mutate the hash.
func lookupHashWrite(c *Ctx, key []byte) (h *hashValue, ok bool) {
	v := c.GetMut(key)
	if v == nil {
		return nil, true
	}
	h, ok = v.(*hashValue)
	return h, ok
}

// hsetCommand serves HSET (reply: fields added) and HMSET (reply: OK).
func hsetCommand(c *Ctx, args [][]byte) Reply {
	if len(args)%2 == 1 {
		return ErrArity(Lower(args[0]))
	}
	h, ok := lookupHashWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if h == nil {
		h = newHash((len(args) - 2) / 2)
		c.Set(args[1], h)
	}
	added := 0
	for i := 2; i < len(args); i += 2 {
		if h.d.Set(string(args[i]), string(args[i+1])) {
			added++
		}
	}
	c.notify(NotifyHash, "hset", args[1])
	if EqFold(args[0], "hmset") {
		return ReplyOK
	}
	return Int(int64(added))
}

func hsetnxCommand(c *Ctx, args [][]byte) Reply {
	h, ok := lookupHashWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if h == nil {
		h = newHash(1)
		c.Set(args[1], h)
	} else if h.d.Has(args[2]) {
		return Int(0)
	}
	h.d.Set(string(args[2]), string(args[3]))
	c.notify(NotifyHash, "hset", args[1])
	return Int(1)
}

func hgetCommand(c *Ctx, args [][]byte) Reply {
	h, ok := lookupHashRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if h == nil {
		return Nil()
	}
	if v, found := h.d.GetB(args[2]); found {
		return Bulk(v)
	}
	return Nil()
}

func hmgetCommand(c *Ctx, args [][]byte) Reply {
	h, ok := lookupHashRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	out := make([]Reply, len(args)-2)
	for i, f := range args[2:] {
		out[i] = Nil()
		if h == nil {
			continue
		}
		if v, found := h.d.GetB(f); found {
			out[i] = Bulk(v)
		}
	}
	return Array(out)
}

func hgetallCommand(c *Ctx, args [][]byte) Reply {
	h, ok := lookupHashRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if h == nil {
		return Map([]Reply{})
	}
	out := make([]Reply, 0, 2*h.d.Len())
	for i := 0; i < h.d.Len(); i++ {
		k, v := h.d.At(i)
		out = append(out, Bulk(k), Bulk(v))
	}
	return Map(out)
}

func hkeysCommand(c *Ctx, args [][]byte) Reply { return hashListing(c, args, true) }
func hvalsCommand(c *Ctx, args [][]byte) Reply { return hashListing(c, args, false) }

// hashListing replies with the fields (HKEYS) or the values (HVALS).
func hashListing(c *Ctx, args [][]byte, fields bool) Reply {
	h, ok := lookupHashRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if h == nil {
		return Array([]Reply{})
	}
	out := make([]Reply, h.d.Len())
	for i := range out {
		k, v := h.d.At(i)
		if fields {
			out[i] = Bulk(k)
		} else {
			out[i] = Bulk(v)
		}
	}
	return Array(out)
}

func hdelCommand(c *Ctx, args [][]byte) Reply {
	h, ok := lookupHashWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if h == nil {
		return Int(0)
	}
	deleted := 0
	for _, f := range args[2:] {
		if h.d.Delete(f) {
			deleted++
			if h.d.Len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		c.notify(NotifyHash, "hdel", args[1])
		if h.d.Len() == 0 {
			c.Delete(args[1])
			c.notify(NotifyGeneric, "del", args[1])
		}
	}
	return Int(int64(deleted))
}

func hexistsCommand(c *Ctx, args [][]byte) Reply {
	h, ok := lookupHashRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if h != nil && h.d.Has(args[2]) {
		return Int(1)
	}
	return Int(0)
}

func hlenCommand(c *Ctx, args [][]byte) Reply {
	h, ok := lookupHashRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if h == nil {
		return Int(0)
	}
	return Int(int64(h.d.Len()))
}

func hstrlenCommand(c *Ctx, args [][]byte) Reply {
	h, ok := lookupHashRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if h == nil {
		return Int(0)
	}
	v, _ := h.d.GetB(args[2])
	return Int(int64(len(v)))
}

func hincrbyCommand(c *Ctx, args [][]byte) Reply {
	incr, ok := ParseInt(args[3])
	if !ok {
		return ErrNotInt
	}
	h, ok := lookupHashWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	var cur int64
	if h != nil {
		if s, found := h.d.GetB(args[2]); found {
			if cur, ok = ParseInt([]byte(s)); !ok {
				return errHashNotInt
			}
		}
	}
	if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) ||
		(incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
		return ErrOverflow
	}
	cur += incr
	if h == nil {
		h = newHash(1)
		c.Set(args[1], h)
	}
	h.d.Set(string(args[2]), FormatInt(cur))
	c.notify(NotifyHash, "hincrby", args[1])
	return Int(cur)
}

func hincrbyfloatCommand(c *Ctx, args [][]byte) Reply {
	incr, ok := hsParseLongDouble(args[3])
	if !ok {
		return ErrNotFloat
	}
	if incr.IsInf() {
		return errHsNaNOrInf
	}
	h, ok := lookupHashWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	cur := new(big.Float).SetPrec(hsLongDoublePrec)
	if h != nil {
		if s, found := h.d.GetB(args[2]); found {
			if cur, ok = hsParseLongDouble([]byte(s)); !ok {
				return errHashNotFloat
			}
		}
	}
	// incr is finite, so the sum is never Inf-Inf (which big.Float rejects).
	cur.Add(cur, incr)
	if cur.IsInf() || cur.MantExp(nil) > hsLongDoubleMaxExp {
		return ErrNaN
	}
	s := hsFormatLongDouble(cur)
	if h == nil {
		h = newHash(1)
		c.Set(args[1], h)
	}
	h.d.Set(string(args[2]), s)
	c.notify(NotifyHash, "hincrbyfloat", args[1])
	return Bulk(s)
}

// Redis does HINCRBYFLOAT in x86 long double: a 64-bit mantissa and an
// exponent up to 2^16384. big.Float at the same precision reproduces its
// results bit for bit (0.1+0.2 is "0.3", as in Redis, not float64's
// "0.30000000000000004") and is pure software, so replicas agree.
const (
	hsLongDoublePrec   = 64
	hsLongDoubleMaxExp = 16384
)

// hsParseLongDouble parses b as Redis's string2ld does (strtold over the
// whole string, no leading space, no NaN, at most 5 KiB).
func hsParseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= 5*1024 || b[0] == ' ' || b[0] == '\t' || b[0] == '\n' ||
		b[0] == '\r' || b[0] == '\v' || b[0] == '\f' {
		return nil, false
	}
	s := string(b)
	x := new(big.Float).SetPrec(hsLongDoublePrec).SetMode(big.ToNearestEven)
	unsigned := s
	if s[0] == '+' || s[0] == '-' {
		unsigned = s[1:]
	}
	switch strings.ToLower(unsigned) {
	case "inf", "infinity":
		return x.SetInf(s[0] == '-'), true
	}
	// big.Float's base-0 syntax is Go's; strtold has no digit separators,
	// binary or octal prefixes, and NaN is no number for Redis.
	if strings.ContainsAny(s, "_nN") {
		return nil, false
	}
	if len(unsigned) > 1 && unsigned[0] == '0' && strings.ContainsRune("bBoO", rune(unsigned[1])) {
		return nil, false
	}
	if _, _, err := x.Parse(s, 0); err != nil {
		return nil, false
	}
	if x.MantExp(nil) > hsLongDoubleMaxExp {
		return nil, false // strtold overflows: ERANGE
	}
	return x, true
}

// hsFormatLongDouble renders x like Redis's ld2string(LD_STR_HUMAN):
// "%.17Lf" with trailing zeros (and a bare point) removed, and never "-0".
func hsFormatLongDouble(x *big.Float) string {
	s := TrimFraction(x.Text('f', 17))
	if s == "-0" {
		s = "0"
	}
	return s
}

// hsParseCursor parses a SCAN cursor as Redis's strtoul-based parser does:
// digits with an optional sign (a minus wraps around), no leading space.
func hsParseCursor(b []byte) (uint64, bool) {
	s := string(b)
	if s != "" && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r' || s[0] == '\v' || s[0] == '\f') {
		return 0, false
	}
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		// strtoul parses nothing and leaves eptr at the end: cursor 0.
		return 0, !neg && len(b) == 0
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// hsScanOpts holds the MATCH and COUNT options of HSCAN/SSCAN.
type hsScanOpts struct {
	count   int
	pattern string
	match   bool
}

// hsParseScanOpts parses the options after the cursor (args[3:]).
func hsParseScanOpts(args [][]byte) (hsScanOpts, Reply, bool) {
	o := hsScanOpts{count: 10}
	for i := 3; i < len(args); i += 2 {
		more := i+1 < len(args)
		switch {
		case EqFold(args[i], "count") && more:
			n, ok := ParseInt(args[i+1])
			if !ok {
				return o, ErrNotInt, false
			}
			if n < 1 {
				return o, ErrSyntax, false
			}
			if n > math.MaxInt32 {
				n = math.MaxInt32
			}
			o.count = int(n)
		case EqFold(args[i], "match") && more:
			o.pattern = string(args[i+1])
			o.match = o.pattern != "*"
		default:
			return o, ErrSyntax, false
		}
	}
	return o, Reply{}, true
}

// hsScanReply builds the [cursor, [elements]] reply of the SCAN family.
func hsScanReply(cursor uint64, elems []Reply) Reply {
	if elems == nil {
		elems = []Reply{}
	}
	return Array([]Reply{Bulk(strconv.FormatUint(cursor, 10)), Array(elems)})
}

func hscanCommand(c *Ctx, args [][]byte) Reply {
	cursor, ok := hsParseCursor(args[2])
	if !ok {
		return errHsInvalidCursor
	}
	h, ok := lookupHashRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if h == nil {
		// Redis answers a missing key before looking at the options.
		return hsScanReply(0, nil)
	}
	o, errr, ok := hsParseScanOpts(args)
	if !ok {
		return errr
	}
	var out []Reply
	next := h.d.Scan(cursor, o.count, func(k, v string) {
		if o.match && !GlobMatch(o.pattern, k, false) {
			return
		}
		out = append(out, Bulk(k), Bulk(v))
	})
	return hsScanReply(next, out)
}

// hsPickUnique returns count distinct indexes in [0, size), count < size,
// chosen with r. Small samples use rejection; large ones a partial shuffle.
func hsPickUnique(r *rand.Rand, size, count int) []int {
	out := make([]int, 0, count)
	if count*3 > size {
		perm := make([]int, size)
		for i := range perm {
			perm[i] = i
		}
		for i := 0; i < count; i++ {
			j := i + r.IntN(size-i)
			perm[i], perm[j] = perm[j], perm[i]
			out = append(out, perm[i])
		}
		return out
	}
	seen := make(map[int]struct{}, count)
	for len(out) < count {
		i := r.IntN(size)
		if _, dup := seen[i]; dup {
			continue
		}
		seen[i] = struct{}{}
		out = append(out, i)
	}
	return out
}

func hrandfieldCommand(c *Ctx, args [][]byte) Reply {
	if len(args) == 2 {
		h, ok := lookupHashRead(c, args[1])
		if !ok {
			return ErrWrongType
		}
		if h == nil {
			return Nil()
		}
		k, _ := h.d.At(c.Rand().IntN(h.d.Len()))
		return Bulk(k)
	}
	l, ok := ParseInt(args[2])
	if !ok {
		return ErrNotInt
	}
	if l == math.MinInt64 {
		return errHsCountRange
	}
	withValues := false
	if len(args) > 4 || (len(args) == 4 && !EqFold(args[3], "withvalues")) {
		return ErrSyntax
	}
	if len(args) == 4 {
		withValues = true
		if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
			return errHsOutOfRange
		}
	}
	h, ok := lookupHashRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if h == nil || l == 0 {
		return Array([]Reply{})
	}
	size := h.d.Len()
	var idx []int
	switch {
	case l < 0 || l == 1:
		count := -l
		if l == 1 {
			count = 1
		}
		if count > hsRandMax {
			return errHsOutOfRange
		}
		idx = make([]int, count)
		r := c.Rand()
		for i := range idx {
			idx[i] = r.IntN(size)
		}
	case l >= int64(size):
		idx = make([]int, size)
		for i := range idx {
			idx[i] = i
		}
	default:
		idx = hsPickUnique(c.Rand(), size, int(l))
	}
	out := make([]Reply, 0, len(idx))
	for _, i := range idx {
		k, v := h.d.At(i)
		out = append(out, Bulk(k))
		if withValues {
			out = append(out, Bulk(v))
		}
	}
	if withValues {
		// Nested [field, value] pairs in RESP3, flat in RESP2, as Redis 7.0.
		return Pairs(out)
	}
	return Array(out)
}
