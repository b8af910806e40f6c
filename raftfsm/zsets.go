package raftfsm

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// zsetValue is a sorted set: a member -> score dict for O(1) ZSCORE plus a
// skiplist ordered by (score, member) for ranks and ranges. Both share the
// member strings.
type zsetValue struct {
	d   *dict[float64]
	zsl *zskiplist
	// big mirrors Redis's switch from listpack to skiplist encoding: set
	// once the zset outgrows the listpack limits and, as in Redis, never
	// cleared by deletions. It decides OBJECT ENCODING, how ZSCAN pages and
	// how lex ranges over mixed scores resolve.
	big bool
}

func newZset() *zsetValue { return &zsetValue{d: newDict[float64](0), zsl: newZskiplist()} }

func (*zsetValue) Type() string { return "zset" }

// Clone returns a deep copy with the same skiplist structure and PRNG state.
func (z *zsetValue) Clone() Value { return &zsetValue{d: z.d.Clone(), zsl: z.zsl.clone(), big: z.big} }

// Len returns the number of members.
func (z *zsetValue) Len() int { return z.d.Len() }

// Add inserts member with score, or moves it to score if present.
func (z *zsetValue) Add(member string, score float64) {
	score = zsNorm(score)
	if cur, ok := z.d.Get(member); ok {
		if cur != score {
			z.zsl.updateScore(cur, member, score)
			z.d.Set(member, score)
		}
		return
	}
	z.zsl.insert(score, member)
	z.d.Set(member, score)
	z.grew(member)
}

// grew updates the encoding after member was inserted.
func (z *zsetValue) grew(member string) {
	if !z.big && (z.d.Len() > zsListpackEntries || len(member) > zsListpackValue) {
		z.big = true
	}
}

// zsNorm turns -0 into 0: Redis stores small zsets in listpacks, where an
// integral score is kept as an integer and the sign of zero is lost.
func zsNorm(f float64) float64 {
	if f == 0 {
		return 0
	}
	return f
}

// Each visits members by ascending (score, member) until fn returns false.
func (z *zsetValue) Each(fn func(member string, score float64) bool) {
	for x := z.zsl.first(); x != nil; x = x.level[0].forward {
		if !fn(x.member, x.score) {
			return
		}
	}
}

// Score returns member's score.
func (z *zsetValue) Score(member []byte) (float64, bool) { return z.d.GetB(member) }

// Remove deletes member and reports whether it was present.
func (z *zsetValue) Remove(member []byte) bool {
	score, ok := z.d.GetB(member)
	if !ok {
		return false
	}
	z.zsl.delete(score, bstr(member))
	z.d.Delete(member)
	return true
}

// removeNode drops a node already unlinked from the skiplist from the dict.
func (z *zsetValue) removeNode(n *zslNode) { z.d.Delete(zsBytes(n.member)) }

// Encoding is the OBJECT ENCODING Redis would report for this content.
func (z *zsetValue) Encoding() string {
	if zsListpackable(z) {
		return "listpack"
	}
	return "skiplist"
}

const (
	zsListpackEntries = 128 // zset-max-listpack-entries
	zsListpackValue   = 64  // zset-max-listpack-value
)

// zsListpackable reports whether Redis would hold z as a listpack.
func zsListpackable(z *zsetValue) bool { return !z.big }

// zsEntry is a member with its score, for computed results.
type zsEntry struct {
	m string
	s float64
}

// zsSortEntries orders es as a zset iterates: by score, then member.
func zsSortEntries(es []zsEntry) {
	slices.SortFunc(es, func(a, b zsEntry) int {
		switch {
		case zslLess(a.s, a.m, b.s, b.m):
			return -1
		case zslLess(b.s, b.m, a.s, a.m):
			return 1
		}
		return 0
	})
}

// zsetFromEntries builds a zset from distinct members, inserting in
// (score, member) order so that its dict order depends only on its content.
func zsetFromEntries(es []zsEntry) *zsetValue {
	zsSortEntries(es)
	z := &zsetValue{d: newDict[float64](len(es)), zsl: newZskiplist()}
	for _, e := range es {
		z.Add(e.m, e.s)
	}
	return z
}

var (
	errZsetXXNX     = Err("ERR XX and NX options at the same time are not compatible")
	errZsetGTLTNX   = Err("ERR GT, LT, and/or NX options at the same time are not compatible")
	errZsetIncrPair = Err("ERR INCR option supports a single increment-element pair")
	errZsetNaN      = Err("ERR resulting score is not a number (NaN)")
	errZsetMinMax   = Err("ERR min or max is not a float")
	errZsetLex      = Err("ERR min or max not valid string range item")
	errZsetLimit    = Err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
	errZsetLexWS    = Err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
	errZsetWeight   = Err("ERR weight value is not a float")
	errZsetNumkeys  = Err("ERR numkeys should be greater than 0")
	errZsetCount    = Err("ERR count should be greater than 0")
	errZsetCardLim  = Err("ERR LIMIT can't be negative")
	errZsetCursor   = Err("ERR invalid cursor")
	errZsetRange    = Err("ERR value is out of range")
)

// zsPairsMarker in Reply.Int of an array of alternating member/score items
// asks the gateway to regroup them into [member, score] pairs for RESP3
// clients, as Redis 7.0 does for WITHSCORES; RESP2 gets the flat array.
const zsPairsMarker = 2

func zsReply(elems []Reply, withScores bool) Reply {
	if elems == nil {
		elems = []Reply{}
	}
	r := Array(elems)
	if withScores {
		r.Int = zsPairsMarker
	}
	return r
}

func zsEmpty() Reply { return Array([]Reply{}) }

func init() {
	Register(
		Command{Name: "zadd", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: zaddCommand},
		Command{Name: "zincrby", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: zincrbyCommand},
		Command{Name: "zrem", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: zremCommand},
		Command{Name: "zscore", Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: zscoreCommand},
		Command{Name: "zmscore", Arity: -3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: zmscoreCommand},
		Command{Name: "zcard", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: zcardCommand},
		Command{Name: "zcount", Arity: 4, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: zcountCommand},
		Command{Name: "zlexcount", Arity: 4, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: zlexcountCommand},
		Command{Name: "zrank", Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: zrankCommand},
		Command{Name: "zrevrank", Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: zrevrankCommand},
		Command{Name: "zrange", Arity: -4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: zrangeCommand},
		Command{Name: "zrevrange", Arity: -4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: zrevrangeCommand},
		Command{Name: "zrangebyscore", Arity: -4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: zrangebyscoreCommand},
		Command{Name: "zrevrangebyscore", Arity: -4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: zrevrangebyscoreCommand},
		Command{Name: "zrangebylex", Arity: -4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: zrangebylexCommand},
		Command{Name: "zrevrangebylex", Arity: -4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: zrevrangebylexCommand},
		Command{Name: "zrangestore", Arity: -5, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 2, Step: 1, Exec: zrangestoreCommand},
		Command{Name: "zpopmin", Arity: -2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: zpopminCommand},
		Command{Name: "zpopmax", Arity: -2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: zpopmaxCommand},
		Command{Name: "zmpop", Arity: -4, Flags: FlagWrite | FlagMovableKeys, Keys: zsKeysNumkeys(1, 0), Exec: zmpopCommand},
		Command{Name: "zremrangebyrank", Arity: 4, Flags: FlagWrite, First: 1, Last: 1, Step: 1, Exec: zremrangebyrankCommand},
		Command{Name: "zremrangebyscore", Arity: 4, Flags: FlagWrite, First: 1, Last: 1, Step: 1, Exec: zremrangebyscoreCommand},
		Command{Name: "zremrangebylex", Arity: 4, Flags: FlagWrite, First: 1, Last: 1, Step: 1, Exec: zremrangebylexCommand},
		Command{Name: "zunionstore", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagMovableKeys, First: 1, Last: 1, Step: 1, Keys: zsKeysNumkeys(2, 1), Exec: zunionstoreCommand},
		Command{Name: "zinterstore", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagMovableKeys, First: 1, Last: 1, Step: 1, Keys: zsKeysNumkeys(2, 1), Exec: zinterstoreCommand},
		Command{Name: "zdiffstore", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagMovableKeys, First: 1, Last: 1, Step: 1, Keys: zsKeysNumkeys(2, 1), Exec: zdiffstoreCommand},
		Command{Name: "zunion", Arity: -3, Flags: FlagReadOnly | FlagMovableKeys, Keys: zsKeysNumkeys(1, 0), Exec: zunionCommand},
		Command{Name: "zinter", Arity: -3, Flags: FlagReadOnly | FlagMovableKeys, Keys: zsKeysNumkeys(1, 0), Exec: zinterCommand},
		Command{Name: "zdiff", Arity: -3, Flags: FlagReadOnly | FlagMovableKeys, Keys: zsKeysNumkeys(1, 0), Exec: zdiffCommand},
		Command{Name: "zintercard", Arity: -3, Flags: FlagReadOnly | FlagMovableKeys, Keys: zsKeysNumkeys(1, 0), Exec: zintercardCommand},
		Command{Name: "zrandmember", Arity: -2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: zrandmemberCommand},
		Command{Name: "zscan", Arity: -3, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: zscanCommand},
	)
}

// zsKeysNumkeys returns a Keys func for commands whose numkeys argument is
// at numkeysIdx, optionally preceded by a destination key at position 1.
func zsKeysNumkeys(numkeysIdx int, dst int) func(args [][]byte) []int {
	return func(args [][]byte) []int {
		if numkeysIdx >= len(args) {
			return nil
		}
		n, ok := ParseInt(args[numkeysIdx])
		if !ok || n < 1 || n > int64(len(args)-numkeysIdx-1) {
			return nil
		}
		var out []int
		if dst > 0 {
			out = append(out, dst)
		}
		for i := 0; i < int(n); i++ {
			out = append(out, numkeysIdx+1+i)
		}
		return out
	}
}

// zsRead returns key's zset (nil if absent) or a WRONGTYPE reply. A miss
// is a keymiss (Redis's lookupKeyRead).
func zsRead(c *Ctx, key []byte) (*zsetValue, bool) { return asZset(c.Get(key)) }

// zsPeek is zsRead for a key the command writes (Redis's lookupKeyWrite:
// no keymiss event, no keyspace hit or miss).
func zsPeek(c *Ctx, key []byte) (*zsetValue, bool) { return asZset(c.getWrite(key)) }

func asZset(v Value) (*zsetValue, bool) {
	if v == nil {
		return nil, true
	}
	z, ok := v.(*zsetValue)
	return z, ok
}

// zsWrite returns key's zset ready for mutation (nil if absent) or false
// on WRONGTYPE. It type-checks before GetMut so a wrong-type value is never
// cloned just to fail.
func zsWrite(c *Ctx, key []byte) (*zsetValue, bool) {
	z, ok := zsPeek(c, key)
	if !ok || z == nil {
		return nil, ok
	}
	return c.GetMut(key).(*zsetValue), true
}

// ---- ZADD / ZINCRBY ---------------------------------------------------------

const (
	zaddNX = 1 << iota
	zaddXX
	zaddGT
	zaddLT
	zaddIncr
)

const (
	zaddOutAdded = 1 << iota
	zaddOutUpdated
	zaddOutNop
)

// add applies one ZADD element with Redis's zsetAdd rules. It returns the
// outcome flags and the resulting score; ok is false for a NaN result.
func (z *zsetValue) add(member []byte, score float64, flags int) (out int, newScore float64, ok bool) {
	if math.IsNaN(score) {
		return 0, 0, false
	}
	if cur, exists := z.d.GetB(member); exists {
		if flags&zaddNX != 0 {
			return zaddOutNop, 0, true
		}
		if flags&zaddIncr != 0 {
			score += cur
			if math.IsNaN(score) {
				return 0, 0, false
			}
		}
		if (flags&zaddLT != 0 && score >= cur) || (flags&zaddGT != 0 && score <= cur) {
			return zaddOutNop, 0, true
		}
		if stored := zsNorm(score); stored != cur {
			m := bstr(member)
			if i, found := z.d.idx[m]; found {
				m = z.d.items[i].Key // reuse the stored string
			}
			z.zsl.updateScore(cur, m, stored)
			z.d.Set(m, stored)
			out = zaddOutUpdated
		}
		return out, score, true
	}
	if flags&zaddXX != 0 {
		return zaddOutNop, 0, true
	}
	m := string(member)
	z.zsl.insert(zsNorm(score), m)
	z.d.Set(m, zsNorm(score))
	z.grew(m)
	return zaddOutAdded, score, true
}

func zaddCommand(c *Ctx, args [][]byte) Reply    { return zaddGeneric(c, args, 0) }
func zincrbyCommand(c *Ctx, args [][]byte) Reply { return zaddGeneric(c, args, zaddIncr) }

func zaddGeneric(c *Ctx, args [][]byte, flags int) Reply {
	key := args[1]
	ch := false
	idx := 2
opts:
	for ; idx < len(args); idx++ {
		a := args[idx]
		switch {
		case EqFold(a, "nx"):
			flags |= zaddNX
		case EqFold(a, "xx"):
			flags |= zaddXX
		case EqFold(a, "ch"):
			ch = true
		case EqFold(a, "incr"):
			flags |= zaddIncr
		case EqFold(a, "gt"):
			flags |= zaddGT
		case EqFold(a, "lt"):
			flags |= zaddLT
		default:
			break opts
		}
	}
	n := len(args) - idx
	if n == 0 || n%2 != 0 {
		return ErrSyntax
	}
	n /= 2
	nx, xx, gt, lt, incr := flags&zaddNX != 0, flags&zaddXX != 0, flags&zaddGT != 0, flags&zaddLT != 0, flags&zaddIncr != 0
	if nx && xx {
		return errZsetXXNX
	}
	if (gt && nx) || (lt && nx) || (gt && lt) {
		return errZsetGTLTNX
	}
	if incr && n > 1 {
		return errZsetIncrPair
	}
	scores := make([]float64, n)
	for j := range scores {
		f, ok := ParseFloat(args[idx+2*j])
		if !ok {
			return ErrNotFloat
		}
		scores[j] = f
	}

	z, ok := zsWrite(c, key)
	if !ok {
		return ErrWrongType
	}
	var added, updated, processed int
	var score float64
	if z != nil || !xx {
		created := z == nil
		if created {
			z = newZset()
		}
		for j := 0; j < n; j++ {
			out, ns, ok := z.add(args[idx+2*j+1], scores[j], flags)
			if !ok {
				return errZsetNaN
			}
			if out&zaddOutAdded != 0 {
				added++
			}
			if out&zaddOutUpdated != 0 {
				updated++
			}
			if out&zaddOutNop == 0 {
				processed++
			}
			score = ns
		}
		if created && z.Len() > 0 {
			c.Set(key, z)
		}
		if added+updated > 0 {
			if incr {
				c.notify(NotifyZset, "zincr", key)
			} else {
				c.notify(NotifyZset, "zadd", key)
			}
		}
	}
	if incr {
		if processed == 0 {
			return Nil()
		}
		return Double(score)
	}
	if ch {
		return Int(int64(added + updated))
	}
	return Int(int64(added))
}

// ---- simple reads and ZREM ---------------------------------------------------

func zremCommand(c *Ctx, args [][]byte) Reply {
	z, ok := zsWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if z == nil {
		return Int(0)
	}
	deleted := 0
	for _, m := range args[2:] {
		if z.Remove(m) {
			deleted++
		}
		if z.Len() == 0 {
			break
		}
	}
	if deleted > 0 {
		c.notify(NotifyZset, "zrem", args[1])
	}
	zsDeleteIfEmpty(c, args[1], z)
	return Int(int64(deleted))
}

func zscoreCommand(c *Ctx, args [][]byte) Reply {
	z, ok := zsRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if z == nil {
		return Nil()
	}
	if s, found := z.Score(args[2]); found {
		return Double(s)
	}
	return Nil()
}

func zmscoreCommand(c *Ctx, args [][]byte) Reply {
	z, ok := zsRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	out := make([]Reply, 0, len(args)-2)
	for _, m := range args[2:] {
		if z != nil {
			if s, found := z.Score(m); found {
				out = append(out, Double(s))
				continue
			}
		}
		out = append(out, Nil())
	}
	return Array(out)
}

func zcardCommand(c *Ctx, args [][]byte) Reply {
	z, ok := zsRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if z == nil {
		return Int(0)
	}
	return Int(int64(z.Len()))
}

func zrankCommand(c *Ctx, args [][]byte) Reply    { return zrankGeneric(c, args, false) }
func zrevrankCommand(c *Ctx, args [][]byte) Reply { return zrankGeneric(c, args, true) }

func zrankGeneric(c *Ctx, args [][]byte, rev bool) Reply {
	z, ok := zsRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if z == nil {
		return Nil()
	}
	s, found := z.Score(args[2])
	if !found {
		return Nil()
	}
	r := z.zsl.rank(s, bstr(args[2]))
	if r == 0 {
		return Nil()
	}
	if rev {
		return Int(int64(z.Len() - r))
	}
	return Int(int64(r - 1))
}

// ---- range parsing -------------------------------------------------------------

// zsStrtod parses like C's strtod with the whole string consumed: leading
// white space is skipped, "" is 0, inf/infinity are accepted, NaN is not.
func zsStrtod(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	if s == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		ne, isNum := err.(*strconv.NumError)
		if !isNum || ne.Err != strconv.ErrRange {
			return 0, false
		}
		// Overflow: strtod returns ±HUGE_VAL (or 0), which Redis accepts.
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func zsParseScoreBound(b []byte) (float64, bool, bool) {
	if len(b) > 0 && b[0] == '(' {
		f, ok := zsStrtod(b[1:])
		return f, true, ok
	}
	f, ok := zsStrtod(b)
	return f, false, ok
}

func zsParseScoreRange(min, max []byte) (zScoreRange, bool) {
	var r zScoreRange
	var ok1, ok2 bool
	r.min, r.minex, ok1 = zsParseScoreBound(min)
	r.max, r.maxex, ok2 = zsParseScoreBound(max)
	return r, ok1 && ok2
}

func zsParseLexBound(b []byte) (zLexBound, bool) {
	if len(b) == 0 {
		return zLexBound{}, false
	}
	switch b[0] {
	case '+':
		return zLexBound{inf: 1, ex: true}, len(b) == 1
	case '-':
		return zLexBound{inf: -1, ex: true}, len(b) == 1
	case '(':
		return zLexBound{s: string(b[1:]), ex: true}, true
	case '[':
		return zLexBound{s: string(b[1:])}, true
	}
	return zLexBound{}, false
}

func zsParseLexRange(min, max []byte) (zLexRange, bool) {
	// Redis rejects integer-encoded arguments first; they can never start
	// with a valid prefix anyway, except "-0"-like forms it encodes as ints.
	if zsIntEncoded(min) || zsIntEncoded(max) {
		return zLexRange{}, false
	}
	var r zLexRange
	var ok1, ok2 bool
	r.min, ok1 = zsParseLexBound(min)
	r.max, ok2 = zsParseLexBound(max)
	return r, ok1 && ok2
}

// zsIntEncoded reports whether Redis would store b as an integer object.
func zsIntEncoded(b []byte) bool {
	if len(b) > 20 {
		return false
	}
	_, ok := ParseInt(b)
	return ok
}

// ---- ZCOUNT / ZLEXCOUNT ----------------------------------------------------------

func zcountCommand(c *Ctx, args [][]byte) Reply {
	r, ok := zsParseScoreRange(args[2], args[3])
	if !ok {
		return errZsetMinMax
	}
	z, ok := zsRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if z == nil {
		return Int(0)
	}
	first, r1 := z.zsl.firstInScore(&r)
	if first == nil {
		return Int(0)
	}
	_, r2 := z.zsl.lastInScore(&r)
	return Int(int64(r2 - r1 + 1))
}

func zlexcountCommand(c *Ctx, args [][]byte) Reply {
	r, ok := zsParseLexRange(args[2], args[3])
	if !ok {
		return errZsetLex
	}
	z, ok := zsRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if z == nil {
		return Int(0)
	}
	first, r1 := z.lexFirst(&r)
	if first == nil {
		return Int(0)
	}
	if z.lexLinear() {
		// Listpack: count forward while in range.
		n := 0
		for x := first; x != nil && r.lteMax(x.member); x = x.level[0].forward {
			n++
		}
		return Int(int64(n))
	}
	last, r2 := z.zsl.lastInLex(&r)
	if last == nil {
		return Int(int64(z.Len() - r1 + 1))
	}
	return Int(int64(max(r2-r1+1, 0)))
}

// lexLinear reports whether lex ranges must be resolved by walking the
// list, as Redis's listpack encoding does: only a small zset with mixed
// scores gives a different answer than the skiplist descent.
func (z *zsetValue) lexLinear() bool {
	first := z.zsl.first()
	return first != nil && first.score != z.zsl.tail.score && zsListpackable(z)
}

func (z *zsetValue) lexFirst(r *zLexRange) (*zslNode, int) {
	if z.lexLinear() {
		return z.zsl.firstInLexLinear(r)
	}
	return z.zsl.firstInLex(r)
}

func (z *zsetValue) lexLast(r *zLexRange) (*zslNode, int) {
	if z.lexLinear() {
		return z.zsl.lastInLexLinear(r)
	}
	return z.zsl.lastInLex(r)
}

// ---- ZRANGE family -------------------------------------------------------------

type zrangeType int

const (
	zrAuto zrangeType = iota
	zrRank
	zrScore
	zrLex
)

type zrangeDir int

const (
	zrDirAuto zrangeDir = iota
	zrDirFwd
	zrDirRev
)

func zrangeCommand(c *Ctx, args [][]byte) Reply {
	return zrangeGeneric(c, args, 1, false, zrAuto, zrDirAuto)
}
func zrevrangeCommand(c *Ctx, args [][]byte) Reply {
	return zrangeGeneric(c, args, 1, false, zrRank, zrDirRev)
}
func zrangebyscoreCommand(c *Ctx, args [][]byte) Reply {
	return zrangeGeneric(c, args, 1, false, zrScore, zrDirFwd)
}
func zrevrangebyscoreCommand(c *Ctx, args [][]byte) Reply {
	return zrangeGeneric(c, args, 1, false, zrScore, zrDirRev)
}
func zrangebylexCommand(c *Ctx, args [][]byte) Reply {
	return zrangeGeneric(c, args, 1, false, zrLex, zrDirFwd)
}
func zrevrangebylexCommand(c *Ctx, args [][]byte) Reply {
	return zrangeGeneric(c, args, 1, false, zrLex, zrDirRev)
}
func zrangestoreCommand(c *Ctx, args [][]byte) Reply {
	return zrangeGeneric(c, args, 2, true, zrAuto, zrDirAuto)
}

// zrangeGeneric implements ZRANGE, ZRANGESTORE and the older range commands;
// argStart is the position of the source key.
func zrangeGeneric(c *Ctx, args [][]byte, argStart int, store bool, kind zrangeType, dir zrangeDir) Reply {
	key := args[argStart]
	minIdx, maxIdx := argStart+1, argStart+2
	withScores := false
	var offset, limit int64 = 0, -1
	for j := argStart + 3; j < len(args); j++ {
		left := len(args) - j - 1
		a := args[j]
		switch {
		case !store && EqFold(a, "withscores"):
			withScores = true
		case EqFold(a, "limit") && left >= 2:
			var ok bool
			if offset, ok = ParseInt(args[j+1]); !ok {
				return ErrNotInt
			}
			if limit, ok = ParseInt(args[j+2]); !ok {
				return ErrNotInt
			}
			j += 2
		case dir == zrDirAuto && EqFold(a, "rev"):
			dir = zrDirRev
		case kind == zrAuto && EqFold(a, "bylex"):
			kind = zrLex
		case kind == zrAuto && EqFold(a, "byscore"):
			kind = zrScore
		default:
			return ErrSyntax
		}
	}
	if dir == zrDirAuto {
		dir = zrDirFwd
	}
	if kind == zrAuto {
		kind = zrRank
	}
	if limit != -1 && kind == zrRank {
		return errZsetLimit
	}
	if withScores && kind == zrLex {
		return errZsetLexWS
	}
	rev := dir == zrDirRev
	if rev && kind != zrRank {
		minIdx, maxIdx = maxIdx, minIdx
	}

	var start, end int64
	var sr zScoreRange
	var lr zLexRange
	switch kind {
	case zrRank:
		var ok bool
		if start, ok = ParseInt(args[minIdx]); !ok {
			return ErrNotInt
		}
		if end, ok = ParseInt(args[maxIdx]); !ok {
			return ErrNotInt
		}
	case zrScore:
		var ok bool
		if sr, ok = zsParseScoreRange(args[minIdx], args[maxIdx]); !ok {
			return errZsetMinMax
		}
	case zrLex:
		var ok bool
		if lr, ok = zsParseLexRange(args[minIdx], args[maxIdx]); !ok {
			return errZsetLex
		}
	}

	v := c.Get(key)
	if v == nil {
		if store {
			return zsStoreResult(c, args[1], nil, "zrangestore")
		}
		return zsEmpty()
	}
	z, ok := v.(*zsetValue)
	if !ok {
		return ErrWrongType
	}
	var nodes []*zslNode
	switch kind {
	case zrRank:
		nodes = zsRankRange(z, start, end, rev)
	case zrScore:
		nodes = zsScoreRange(z, &sr, offset, limit, rev)
	case zrLex:
		nodes = zsLexRange(z, &lr, offset, limit, rev)
	}
	if store {
		es := make([]zsEntry, len(nodes))
		for i, n := range nodes {
			es[i] = zsEntry{n.member, n.score}
		}
		return zsStoreResult(c, args[1], es, "zrangestore")
	}
	return zsNodesReply(nodes, withScores)
}

func zsNodesReply(nodes []*zslNode, withScores bool) Reply {
	per := 1
	if withScores {
		per = 2
	}
	out := make([]Reply, 0, per*len(nodes))
	for _, n := range nodes {
		out = append(out, Bulk(n.member))
		if withScores {
			out = append(out, Double(n.score))
		}
	}
	return zsReply(out, withScores)
}

// zsStoreResult stores es at dst (deleting dst when empty) and replies
// with the stored cardinality.
// event names the keyspace event of a store.
func zsStoreResult(c *Ctx, dst []byte, es []zsEntry, event string) Reply {
	if len(es) == 0 {
		if c.Delete(dst) {
			c.notify(NotifyGeneric, "del", dst)
		}
		return Int(0)
	}
	z := zsetFromEntries(es)
	c.Set(dst, z)
	c.notify(NotifyZset, event, dst)
	return Int(int64(z.Len()))
}

// zsDeleteIfEmpty removes a sorted set left empty.
func zsDeleteIfEmpty(c *Ctx, key []byte, z *zsetValue) {
	if z.Len() == 0 {
		c.Delete(key)
		c.notify(NotifyGeneric, "del", key)
	}
}

// zsRankRange returns the nodes between ranks start and end (0-based,
// negative from the end), from the top when rev.
func zsRankRange(z *zsetValue, start, end int64, rev bool) []*zslNode {
	llen := int64(z.Len())
	if start < 0 {
		start += llen
	}
	if end < 0 {
		end += llen
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= llen {
		return nil
	}
	if end >= llen {
		end = llen - 1
	}
	n := int(end - start + 1)
	out := make([]*zslNode, 0, n)
	var x *zslNode
	if rev {
		x = z.zsl.byRank(int(llen - start))
	} else {
		x = z.zsl.byRank(int(start + 1))
	}
	for ; n > 0 && x != nil; n-- {
		out = append(out, x)
		if rev {
			x = x.backward
		} else {
			x = x.level[0].forward
		}
	}
	return out
}

// zsWalk skips offset nodes from the first node in range (rank r0) by
// rank, then collects up to limit nodes (all if negative) while inRange.
func zsWalk(z *zsetValue, x *zslNode, r0 int, offset, limit int64, rev bool, inRange func(*zslNode) bool) []*zslNode {
	if x == nil || offset < 0 {
		// A negative offset makes Redis walk off the end: empty result.
		return nil
	}
	if offset > 0 {
		if offset >= int64(z.Len()) {
			return nil
		}
		r := int64(r0) + offset
		if rev {
			r = int64(r0) - offset
		}
		x = z.zsl.byRank(int(r))
	}
	var out []*zslNode
	for ; x != nil && limit != 0; limit-- {
		if !inRange(x) {
			break
		}
		out = append(out, x)
		if rev {
			x = x.backward
		} else {
			x = x.level[0].forward
		}
	}
	return out
}

func zsScoreRange(z *zsetValue, r *zScoreRange, offset, limit int64, rev bool) []*zslNode {
	if rev {
		x, rank := z.zsl.lastInScore(r)
		return zsWalk(z, x, rank, offset, limit, true, func(n *zslNode) bool { return r.gteMin(n.score) })
	}
	x, rank := z.zsl.firstInScore(r)
	return zsWalk(z, x, rank, offset, limit, false, func(n *zslNode) bool { return r.lteMax(n.score) })
}

func zsLexRange(z *zsetValue, r *zLexRange, offset, limit int64, rev bool) []*zslNode {
	if rev {
		x, rank := z.lexLast(r)
		return zsWalk(z, x, rank, offset, limit, true, func(n *zslNode) bool { return r.gteMin(n.member) })
	}
	x, rank := z.lexFirst(r)
	return zsWalk(z, x, rank, offset, limit, false, func(n *zslNode) bool { return r.lteMax(n.member) })
}

// ---- ZREMRANGEBY* ---------------------------------------------------------------

func zremrangebyrankCommand(c *Ctx, args [][]byte) Reply {
	start, ok1 := ParseInt(args[2])
	end, ok2 := ParseInt(args[3])
	if !ok1 || !ok2 {
		return ErrNotInt
	}
	return zremrangeGeneric(c, args[1], "zremrangebyrank", func(z *zsetValue) int {
		llen := int64(z.Len())
		if start < 0 {
			start += llen
		}
		if end < 0 {
			end += llen
		}
		if start < 0 {
			start = 0
		}
		if start > end || start >= llen {
			return 0
		}
		if end >= llen {
			end = llen - 1
		}
		s, e := int(start+1), int(end+1)
		return z.zsl.deleteFrom(
			func(_ *zslNode, rank int) bool { return rank < s },
			func(_ *zslNode, rank int) bool { return rank <= e },
			z.removeNode)
	})
}

func zremrangebyscoreCommand(c *Ctx, args [][]byte) Reply {
	r, ok := zsParseScoreRange(args[2], args[3])
	if !ok {
		return errZsetMinMax
	}
	return zremrangeGeneric(c, args[1], "zremrangebyscore", func(z *zsetValue) int {
		if !z.zsl.inScoreRange(&r) {
			return 0
		}
		return z.zsl.deleteFrom(
			func(n *zslNode, _ int) bool { return !r.gteMin(n.score) },
			func(n *zslNode, _ int) bool { return r.lteMax(n.score) },
			z.removeNode)
	})
}

func zremrangebylexCommand(c *Ctx, args [][]byte) Reply {
	r, ok := zsParseLexRange(args[2], args[3])
	if !ok {
		return errZsetLex
	}
	return zremrangeGeneric(c, args[1], "zremrangebylex", func(z *zsetValue) int {
		if z.lexLinear() {
			first, r1 := z.zsl.firstInLexLinear(&r)
			if first == nil {
				return 0
			}
			return z.zsl.deleteFrom(
				func(_ *zslNode, rank int) bool { return rank < r1 },
				func(n *zslNode, _ int) bool { return r.lteMax(n.member) },
				z.removeNode)
		}
		return z.zsl.deleteFrom(
			func(n *zslNode, _ int) bool { return !r.gteMin(n.member) },
			func(n *zslNode, _ int) bool { return r.lteMax(n.member) },
			z.removeNode)
	})
}

func zremrangeGeneric(c *Ctx, key []byte, event string, del func(z *zsetValue) int) Reply {
	z, ok := zsPeek(c, key)
	if !ok {
		return ErrWrongType
	}
	if z == nil {
		return Int(0)
	}
	z = c.GetMut(key).(*zsetValue)
	n := del(z)
	if n > 0 {
		c.notify(NotifyZset, event, key)
	}
	zsDeleteIfEmpty(c, key, z)
	return Int(int64(n))
}

// ---- ZPOPMIN / ZPOPMAX / ZMPOP ---------------------------------------------------

func zpopminCommand(c *Ctx, args [][]byte) Reply { return zpopMinMax(c, args, false) }
func zpopmaxCommand(c *Ctx, args [][]byte) Reply { return zpopMinMax(c, args, true) }

func zpopMinMax(c *Ctx, args [][]byte, max bool) Reply {
	if len(args) > 3 {
		return ErrSyntax
	}
	count := int64(-1)
	if len(args) == 3 {
		n, ok := ParseInt(args[2])
		if !ok || n < 0 {
			return ErrOutOfRange
		}
		count = n
	}
	z, ok := zsWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if z == nil || count == 0 {
		return zsEmpty()
	}
	n := int64(1)
	if count > 0 {
		n = count
	}
	out := zsPop(c, args[1], z, n, max)
	// A plain pop replies flat [member, score] even in RESP3; with a count
	// RESP3 gets pairs.
	return zsReply(out, count != -1)
}

// zsPop removes up to n members from the low (or high) end of key's zset
// and returns them as alternating member/score replies.
func zsPop(c *Ctx, key []byte, z *zsetValue, n int64, max bool) []Reply {
	if n > int64(z.Len()) {
		n = int64(z.Len())
	}
	out := make([]Reply, 0, 2*n)
	for ; n > 0; n-- {
		x := z.zsl.first()
		if max {
			x = z.zsl.tail
		}
		out = append(out, Bulk(x.member), Double(x.score))
		z.Remove(zsBytes(x.member))
	}
	if len(out) > 0 {
		event := "zpopmin"
		if max {
			event = "zpopmax"
		}
		c.notify(NotifyZset, event, key)
	}
	zsDeleteIfEmpty(c, key, z)
	return out
}

func zmpopCommand(c *Ctx, args [][]byte) Reply {
	numkeys, ok := ParseInt(args[1])
	if !ok || numkeys < 1 {
		return errZsetNumkeys
	}
	if numkeys > int64(len(args)) {
		return ErrSyntax
	}
	whereIdx := 2 + int(numkeys)
	if whereIdx >= len(args) {
		return ErrSyntax
	}
	var max bool
	switch {
	case EqFold(args[whereIdx], "min"):
	case EqFold(args[whereIdx], "max"):
		max = true
	default:
		return ErrSyntax
	}
	count := int64(-1)
	for j := whereIdx + 1; j < len(args); j++ {
		if count == -1 && EqFold(args[j], "count") && j+1 < len(args) {
			j++
			n, ok := ParseInt(args[j])
			if !ok || n < 1 {
				return errZsetCount
			}
			count = n
			continue
		}
		return ErrSyntax
	}
	if count == -1 {
		count = 1
	}
	for _, key := range args[2:whereIdx] {
		z, ok := zsWrite(c, key)
		if !ok {
			return ErrWrongType
		}
		if z == nil {
			continue
		}
		flat := zsPop(c, key, z, count, max)
		pairs := make([]Reply, 0, len(flat)/2)
		for i := 0; i < len(flat); i += 2 {
			pairs = append(pairs, Array([]Reply{flat[i], flat[i+1]}))
		}
		// ZMPOP nests [key, [[member, score]...]] in RESP2 and RESP3 alike.
		return Array([]Reply{Bulk(string(key)), Array(pairs)})
	}
	return NilArray()
}

// ---- ZRANDMEMBER ----------------------------------------------------------------

func zrandmemberCommand(c *Ctx, args [][]byte) Reply {
	if len(args) >= 3 {
		l, ok := ParseInt(args[2])
		if !ok {
			return ErrNotInt
		}
		if l == math.MinInt64 {
			return Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		}
		withScores := false
		if len(args) > 4 || (len(args) == 4 && !EqFold(args[3], "withscores")) {
			return ErrSyntax
		}
		if len(args) == 4 {
			withScores = true
			if l < -math.MaxInt64/2 || l > math.MaxInt64/2 {
				return errZsetRange
			}
		}
		return zrandmemberCount(c, args[1], l, withScores)
	}
	z, ok := zsRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if z == nil {
		return Nil()
	}
	m, _ := z.d.At(c.Rand().IntN(z.Len()))
	return Bulk(m)
}

// zsRandMax bounds ZRANDMEMBER with a negative count. Redis would try to
// build a reply of any size; refusing keeps one request from exhausting
// the node's memory.
const zsRandMax = 1 << 20

func zrandmemberCount(c *Ctx, key []byte, l int64, withScores bool) Reply {
	z, ok := zsRead(c, key)
	if !ok {
		return ErrWrongType
	}
	if z == nil || l == 0 {
		return zsEmpty()
	}
	size := z.Len()
	rng := c.Rand()
	var out []Reply
	emit := func(m string, s float64) {
		out = append(out, Bulk(m))
		if withScores {
			out = append(out, Double(s))
		}
	}
	switch {
	case l < 0 || l == 1:
		// Sampling with repetitions, in random order.
		count := l
		if count < 0 {
			count = -count
		}
		if count > zsRandMax {
			return errZsetRange
		}
		out = make([]Reply, 0, count*2)
		for ; count > 0; count-- {
			emit(z.d.At(rng.IntN(size)))
		}
	case l >= int64(size):
		z.Each(func(m string, s float64) bool { emit(m, s); return true })
	case l*3 > int64(size):
		// Most of the set: drop random members from a full index list.
		idx := make([]int, size)
		for i := range idx {
			idx[i] = i
		}
		for len(idx) > int(l) {
			k := rng.IntN(len(idx))
			idx[k] = idx[len(idx)-1]
			idx = idx[:len(idx)-1]
		}
		for _, i := range idx {
			emit(z.d.At(i))
		}
	default:
		seen := make(map[int]struct{}, l)
		for int64(len(seen)) < l {
			i := rng.IntN(size)
			if _, dup := seen[i]; dup {
				continue
			}
			seen[i] = struct{}{}
			emit(z.d.At(i))
		}
	}
	return zsReply(out, withScores)
}

// ---- ZSCAN -----------------------------------------------------------------------

// zsParseCursor parses a SCAN cursor as strtoul does in Redis.
func zsParseCursor(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	switch b[0] {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return 0, false
	}
	n, err := strconv.ParseUint(string(b), 10, 64)
	return n, err == nil
}

func zscanCommand(c *Ctx, args [][]byte) Reply {
	cursor, ok := zsParseCursor(args[2])
	if !ok {
		return errZsetCursor
	}
	z, ok := zsRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if z == nil {
		return Array([]Reply{Bulk("0"), zsEmpty()})
	}
	count := int64(10)
	var pattern string
	usePattern := false
	for i := 3; i < len(args); i += 2 {
		more := len(args) - i
		switch {
		case EqFold(args[i], "count") && more >= 2:
			n, ok := ParseInt(args[i+1])
			if !ok {
				return ErrNotInt
			}
			if n < 1 {
				return ErrSyntax
			}
			count = n
		case EqFold(args[i], "match") && more >= 2:
			pattern = string(args[i+1])
			usePattern = pattern != "*"
		default:
			return ErrSyntax
		}
	}
	out := []Reply{}
	add := func(m string, s float64) {
		if usePattern && !GlobMatch(pattern, m, false) {
			return
		}
		out = append(out, Bulk(m), Bulk(FormatDouble(s)))
	}
	next := uint64(0)
	if zsListpackable(z) {
		// Redis returns a small (listpack) zset whole, in order, at once.
		z.Each(func(m string, s float64) bool { add(m, s); return true })
	} else {
		if count > int64(z.Len()) {
			count = int64(z.Len())
		}
		next = z.d.Scan(cursor, int(count), add)
	}
	return Array([]Reply{Bulk(strconv.FormatUint(next, 10)), Array(out)})
}

// ---- ZUNION / ZINTER / ZDIFF and their STORE forms -------------------------------

type zsOp int

const (
	zsOpUnion zsOp = iota
	zsOpInter
	zsOpDiff
)

const (
	zsAggrSum = iota
	zsAggrMin
	zsAggrMax
)

// zsSource is one input of a set operation: a zset, a set (every member
// scores 1) or a missing key (empty).
type zsSource struct {
	v Value
	z *zsetValue
	s *setValue
	w float64
}

func (s *zsSource) len() int {
	switch {
	case s.z != nil:
		return s.z.Len()
	case s.s != nil:
		return s.s.d.Len()
	}
	return 0
}

func (s *zsSource) each(fn func(m string, score float64) bool) {
	switch {
	case s.z != nil:
		s.z.Each(fn)
	case s.s != nil:
		for i := 0; i < s.s.d.Len(); i++ {
			m, _ := s.s.d.At(i)
			if !fn(m, 1) {
				return
			}
		}
	}
}

func (s *zsSource) find(m string) (float64, bool) {
	switch {
	case s.z != nil:
		return s.z.d.Get(m)
	case s.s != nil:
		if _, ok := s.s.d.Get(m); ok {
			return 1, true
		}
	}
	return 0, false
}

func zsAggregate(target *float64, val float64, aggr int) {
	switch aggr {
	case zsAggrSum:
		*target += val
		// inf + -inf: Redis's convention is 0.
		if math.IsNaN(*target) {
			*target = 0
		}
	case zsAggrMin:
		if val < *target {
			*target = val
		}
	case zsAggrMax:
		if val > *target {
			*target = val
		}
	}
}

func zunionstoreCommand(c *Ctx, args [][]byte) Reply {
	return zsSetOp(c, args, "zunionstore", args[1], 2, zsOpUnion, false)
}
func zinterstoreCommand(c *Ctx, args [][]byte) Reply {
	return zsSetOp(c, args, "zinterstore", args[1], 2, zsOpInter, false)
}
func zdiffstoreCommand(c *Ctx, args [][]byte) Reply {
	return zsSetOp(c, args, "zdiffstore", args[1], 2, zsOpDiff, false)
}
func zunionCommand(c *Ctx, args [][]byte) Reply {
	return zsSetOp(c, args, "zunion", nil, 1, zsOpUnion, false)
}
func zinterCommand(c *Ctx, args [][]byte) Reply {
	return zsSetOp(c, args, "zinter", nil, 1, zsOpInter, false)
}
func zdiffCommand(c *Ctx, args [][]byte) Reply {
	return zsSetOp(c, args, "zdiff", nil, 1, zsOpDiff, false)
}
func zintercardCommand(c *Ctx, args [][]byte) Reply {
	return zsSetOp(c, args, "zintercard", nil, 1, zsOpInter, true)
}

// zsSetOp implements the union, intersection and difference commands.
// dst is nil for the forms that reply instead of storing.
func zsSetOp(c *Ctx, args [][]byte, name string, dst []byte, numkeysIdx int, op zsOp, cardOnly bool) Reply {
	setnum, ok := ParseInt(args[numkeysIdx])
	if !ok {
		return ErrNotInt
	}
	if setnum < 1 {
		return Err("ERR at least 1 input key is needed for '" + name + "' command")
	}
	if setnum > int64(len(args)-numkeysIdx-1) {
		return ErrSyntax
	}
	src := make([]zsSource, setnum)
	j := numkeysIdx + 1
	for i := range src {
		src[i].w = 1
		v := c.Get(args[j])
		j++
		switch t := v.(type) {
		case nil:
		case *zsetValue:
			src[i].v, src[i].z = v, t
		case *setValue:
			src[i].v, src[i].s = v, t
		default:
			return ErrWrongType
		}
	}
	aggr := zsAggrSum
	withScores := false
	var limit int64
	for j < len(args) {
		remaining := len(args) - j
		a := args[j]
		switch {
		case op != zsOpDiff && !cardOnly && remaining >= len(src)+1 && EqFold(a, "weights"):
			j++
			for i := range src {
				w, ok := ParseFloat(args[j])
				if !ok {
					return errZsetWeight
				}
				src[i].w = w
				j++
			}
		case op != zsOpDiff && !cardOnly && remaining >= 2 && EqFold(a, "aggregate"):
			switch b := args[j+1]; {
			case EqFold(b, "sum"):
				aggr = zsAggrSum
			case EqFold(b, "min"):
				aggr = zsAggrMin
			case EqFold(b, "max"):
				aggr = zsAggrMax
			default:
				return ErrSyntax
			}
			j += 2
		case dst == nil && !cardOnly && EqFold(a, "withscores"):
			withScores = true
			j++
		case cardOnly && remaining >= 2 && EqFold(a, "limit"):
			n, ok := ParseInt(args[j+1])
			if !ok || n < 0 {
				return errZsetCardLim
			}
			limit = n
			j += 2
		default:
			return ErrSyntax
		}
	}
	if op != zsOpDiff {
		// Smallest input first, as Redis does: it drives the intersection
		// and fixes the order in which SUM adds the scores.
		slices.SortStableFunc(src, func(a, b zsSource) int { return a.len() - b.len() })
	}

	var es []zsEntry
	var card int64
	switch op {
	case zsOpInter:
		if src[0].len() == 0 {
			break
		}
		src[0].each(func(m string, s float64) bool {
			score := src[0].w * s
			if math.IsNaN(score) {
				score = 0
			}
			for k := 1; k < len(src); k++ {
				var val float64
				if src[k].v == src[0].v {
					val = s * src[k].w
				} else if f, found := src[k].find(m); found {
					val = f * src[k].w
				} else {
					return true
				}
				zsAggregate(&score, val, aggr)
			}
			if cardOnly {
				card++
				return limit == 0 || card < limit
			}
			es = append(es, zsEntry{m, score})
			return true
		})
	case zsOpUnion:
		acc := newDict[float64](src[len(src)-1].len())
		for i := range src {
			src[i].each(func(m string, s float64) bool {
				score := src[i].w * s
				if math.IsNaN(score) {
					score = 0
				}
				if cur, found := acc.Get(m); found {
					zsAggregate(&cur, score, aggr)
					acc.Set(m, cur)
				} else {
					acc.Set(m, score)
				}
				return true
			})
		}
		es = make([]zsEntry, acc.Len())
		for i := range es {
			es[i].m, es[i].s = acc.At(i)
		}
	case zsOpDiff:
		src[0].each(func(m string, s float64) bool {
			for k := 1; k < len(src); k++ {
				if src[k].v != nil && src[k].v == src[0].v {
					return false // same key subtracted: nothing is left
				}
				if _, found := src[k].find(m); found {
					return true
				}
			}
			es = append(es, zsEntry{m, s})
			return true
		})
		for k := 1; k < len(src); k++ {
			if src[k].v != nil && src[k].v == src[0].v {
				es = nil
			}
		}
	}

	switch {
	case dst != nil:
		return zsStoreResult(c, dst, es, name)
	case cardOnly:
		return Int(card)
	}
	zsSortEntries(es)
	out := make([]Reply, 0, 2*len(es))
	for _, e := range es {
		out = append(out, Bulk(e.m))
		if withScores {
			out = append(out, Double(e.s))
		}
	}
	return zsReply(out, withScores)
}
