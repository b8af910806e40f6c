package raftfsm

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// String commands (Redis 7.0 t_string.c) and the bit commands that operate
// on plain strings (SETBIT, GETBIT, BITCOUNT, BITPOS from bitops.c).
//
// Stored strings are immutable below len(b): replies and snapshots alias
// them. Commands that change a string build a new *strValue and swap it into
// the entry; only APPEND reuses spare capacity past len(b), which nobody
// else can see.

// strMaxLen is Redis's default proto-max-bulk-len (512MB): the largest
// string SETRANGE, APPEND and SETBIT may produce.
const strMaxLen = 512 * 1024 * 1024

var (
	errStrTooLong      = Err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
	errStrOffsetRange  = Err("ERR offset is out of range")
	errStrDecrOverflow = Err("ERR decrement would overflow")
	errStrBitOffset    = Err("ERR bit offset is not an integer or out of range")
	errStrBitValue     = Err("ERR bit is not an integer or out of range")
	errStrBitArg       = Err("ERR The bit argument must be 1 or 0.")
	errStrLCSType      = Err("ERR The specified keys must contain string values")
	errStrLCSLenIdx    = Err("ERR If you want both the length and indexes, please just use IDX.")
	errStrLCSTooLong   = Err("ERR String too long for LCS")
	errStrLCSMemory    = Err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
	strReplyOne        = Int(1)
	strReplyZero       = Int(0)
	strReplyEmpty      = Bulk("")
	strReplyMatches    = Bulk("matches")
	strReplyLen        = Bulk("len")
)

func init() {
	Register(
		Command{Name: "get", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: getCommand},
		Command{Name: "set", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Exec: setCommand},
		Command{Name: "setnx", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: setnxCommand},
		Command{Name: "setex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Exec: setexCommand},
		Command{Name: "psetex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Exec: psetexCommand},
		Command{Name: "getset", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: getsetCommand},
		Command{Name: "getdel", Arity: 2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: getdelCommand},
		Command{Name: "getex", Arity: -2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: getexCommand},
		Command{Name: "mget", Arity: -2, Flags: FlagReadOnly | FlagFast, First: 1, Last: -1, Step: 1, Exec: mgetCommand},
		Command{Name: "mset", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 2, Exec: msetCommand},
		Command{Name: "msetnx", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 2, Exec: msetnxCommand},
		Command{Name: "incr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: incrCommand},
		Command{Name: "decr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: decrCommand},
		Command{Name: "incrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: incrbyCommand},
		Command{Name: "decrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: decrbyCommand},
		Command{Name: "incrbyfloat", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: incrbyfloatCommand},
		Command{Name: "append", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: appendCommand},
		Command{Name: "strlen", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: strlenCommand},
		Command{Name: "getrange", Arity: 4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: getrangeCommand},
		Command{Name: "substr", Arity: 4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: getrangeCommand},
		Command{Name: "setrange", Arity: 4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Exec: setrangeCommand},
		Command{Name: "lcs", Arity: -3, Flags: FlagReadOnly, First: 1, Last: 2, Step: 1, Exec: lcsCommand},
		Command{Name: "setbit", Arity: 4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Exec: setbitCommand},
		Command{Name: "getbit", Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: getbitCommand},
		Command{Name: "bitcount", Arity: -2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: bitcountCommand},
		Command{Name: "bitpos", Arity: -3, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: bitposCommand},
	)
}

// strFromArg copies a SET argument into a new string. Small values share
// one allocation with their header (the hot SET path); their capacity is
// capped, so a later APPEND reallocates instead of writing into the box.
func strFromArg(b []byte) *strValue {
	switch {
	case len(b) <= 8:
		box := &struct {
			v strValue
			a [8]byte
		}{}
		n := copy(box.a[:], b)
		box.v.b = box.a[:n:n]
		return &box.v
	case len(b) <= 40:
		box := &struct {
			v strValue
			a [40]byte
		}{}
		n := copy(box.a[:], b)
		box.v.b = box.a[:n:n]
		return &box.v
	}
	return newStr(b)
}

// strReplace swaps a new string into a live entry, keeping its TTL. It goes
// through own() so that an entry shared with a snapshot is copied first.
func strReplace(c *Ctx, e *entry, b []byte) {
	c.DB.own(e).val = &strValue{b: b}
}

// strLookupWrite returns key's live entry and its bytes (nil, nil for a
// missing key) for a command that rewrites the string; ok is false when
// the key holds another type.
func strLookupWrite(c *Ctx, key []byte) (e *entry, old []byte, ok bool) {
	e = c.lookup(key)
	if e == nil {
		return nil, nil, true
	}
	v, ok := e.val.(*strValue)
	if !ok {
		return nil, nil, false
	}
	return e, v.b, true
}

// ---- GET / SET family --------------------------------------------------------

func getCommand(c *Ctx, args [][]byte) Reply {
	switch v := c.Get(args[1]).(type) {
	case nil:
		return Nil()
	case *strValue:
		return Bulk(v.String())
	default:
		return ErrWrongType
	}
}

// Flags of the extended SET/GETEX options, as in t_string.c.
const (
	soptNX = 1 << iota
	soptXX
	soptEX
	soptPX
	soptKeepTTL
	soptGet
	soptEXAT
	soptPXAT
	soptPersist
)

// strSetOpts are the parsed SET/GETEX options.
type strSetOpts struct {
	flags  int
	expire []byte // the EX/PX/EXAT/PXAT argument, nil if none
}

// parseStrSetOpts parses the options from args[from:]. forSet selects the SET
// grammar (NX XX GET KEEPTTL) over the GETEX one (PERSIST). The conflict
// rules mirror parseExtendedStringArgumentsOrReply: an option that clashes
// with an earlier one is a syntax error, repeating the same one is not.
func parseStrSetOpts(args [][]byte, from int, forSet bool, o *strSetOpts) bool {
	const expFlags = soptEX | soptPX | soptEXAT | soptPXAT
	for j := from; j < len(args); j++ {
		a := args[j]
		hasNext := j+1 < len(args)
		f := o.flags
		switch {
		case forSet && EqFold(a, "nx") && f&soptXX == 0:
			o.flags |= soptNX
		case forSet && EqFold(a, "xx") && f&soptNX == 0:
			o.flags |= soptXX
		case forSet && EqFold(a, "get"):
			o.flags |= soptGet
		case forSet && EqFold(a, "keepttl") && f&(soptPersist|expFlags) == 0:
			o.flags |= soptKeepTTL
		case !forSet && EqFold(a, "persist") && f&(expFlags|soptKeepTTL) == 0:
			o.flags |= soptPersist
		case EqFold(a, "ex") && hasNext && f&(soptKeepTTL|soptPersist|soptEXAT|soptPX|soptPXAT) == 0:
			o.flags |= soptEX
			o.expire = args[j+1]
			j++
		case EqFold(a, "px") && hasNext && f&(soptKeepTTL|soptPersist|soptEX|soptEXAT|soptPXAT) == 0:
			o.flags |= soptPX
			o.expire = args[j+1]
			j++
		case EqFold(a, "exat") && hasNext && f&(soptKeepTTL|soptPersist|soptEX|soptPX|soptPXAT) == 0:
			o.flags |= soptEXAT
			o.expire = args[j+1]
			j++
		case EqFold(a, "pxat") && hasNext && f&(soptKeepTTL|soptPersist|soptEX|soptEXAT|soptPX) == 0:
			o.flags |= soptPXAT
			o.expire = args[j+1]
			j++
		default:
			return false
		}
	}
	return true
}

// strExpireAt turns an EX/PX/EXAT/PXAT argument into an absolute Unix ms time,
// with Redis's checks: the number must be positive, seconds must not
// overflow when scaled, and adding the current time must not overflow.
func strExpireAt(c *Ctx, cmd string, arg []byte, flags int) (int64, Reply, bool) {
	n, ok := ParseInt(arg)
	if !ok {
		return 0, ErrNotInt, false
	}
	seconds := flags&(soptEX|soptEXAT) != 0
	if n <= 0 || (seconds && n > math.MaxInt64/1000) {
		return 0, strErrInvalidExpire(cmd), false
	}
	if seconds {
		n *= 1000
	}
	if flags&(soptEX|soptPX) != 0 {
		n += c.Now // wraps on overflow, caught below as in Redis
	}
	if n <= 0 {
		return 0, strErrInvalidExpire(cmd), false
	}
	return n, Reply{}, true
}

func strErrInvalidExpire(cmd string) Reply {
	return Err("ERR invalid expire time in '" + cmd + "' command")
}

// strSetGeneric implements SET, SETNX, SETEX and PSETEX (setGenericCommand).
// ok and abort are the replies for a performed and a skipped (NX/XX) set.
func strSetGeneric(c *Ctx, cmd string, key, val []byte, o *strSetOpts, ok, abort Reply) Reply {
	var at int64
	if o.expire != nil {
		var r Reply
		var good bool
		if at, r, good = strExpireAt(c, cmd, o.expire, o.flags); !good {
			return r
		}
	}
	var old Reply
	found := false
	if o.flags&soptGet != 0 {
		switch v := c.Get(key).(type) {
		case nil:
			old = Nil()
		case *strValue:
			old = Bulk(v.String())
			found = true
		default:
			return ErrWrongType
		}
	} else if o.flags&(soptNX|soptXX) != 0 {
		found = c.Exists(key)
	}
	if (o.flags&soptNX != 0 && found) || (o.flags&soptXX != 0 && !found) {
		if o.flags&soptGet != 0 {
			return old
		}
		return abort
	}
	if o.flags&soptKeepTTL != 0 {
		c.SetKeepTTL(key, strFromArg(val))
	} else {
		c.SetWithExpire(key, strFromArg(val), at)
	}
	c.notify(NotifyString, "set", key)
	if o.expire != nil {
		c.notify(NotifyGeneric, "expire", key)
	}
	if o.flags&soptGet != 0 {
		return old
	}
	return ok
}

func setCommand(c *Ctx, args [][]byte) Reply {
	if len(args) == 3 {
		// Plain SET: the hot path, one lookup, no option parsing.
		c.SetWithExpire(args[1], strFromArg(args[2]), 0)
		c.notify(NotifyString, "set", args[1])
		return ReplyOK
	}
	var o strSetOpts
	if !parseStrSetOpts(args, 3, true, &o) {
		return ErrSyntax
	}
	return strSetGeneric(c, "set", args[1], args[2], &o, ReplyOK, Nil())
}

func setnxCommand(c *Ctx, args [][]byte) Reply {
	o := strSetOpts{flags: soptNX}
	return strSetGeneric(c, "setnx", args[1], args[2], &o, strReplyOne, strReplyZero)
}

func setexCommand(c *Ctx, args [][]byte) Reply {
	o := strSetOpts{flags: soptEX, expire: args[2]}
	return strSetGeneric(c, "setex", args[1], args[3], &o, ReplyOK, Nil())
}

func psetexCommand(c *Ctx, args [][]byte) Reply {
	o := strSetOpts{flags: soptPX, expire: args[2]}
	return strSetGeneric(c, "psetex", args[1], args[3], &o, ReplyOK, Nil())
}

func getsetCommand(c *Ctx, args [][]byte) Reply {
	old := getCommand(c, args)
	if old.Kind == KindError {
		return old
	}
	c.Set(args[1], strFromArg(args[2]))
	c.notify(NotifyString, "set", args[1])
	return old
}

func getdelCommand(c *Ctx, args [][]byte) Reply {
	old := getCommand(c, args)
	if old.Kind == KindBulk {
		c.Delete(args[1])
		c.notify(NotifyGeneric, "del", args[1])
	}
	return old
}

func getexCommand(c *Ctx, args [][]byte) Reply {
	var o strSetOpts
	if !parseStrSetOpts(args, 2, false, &o) {
		return ErrSyntax
	}
	var s *strValue
	switch v := c.Get(args[1]).(type) {
	case nil:
		return Nil()
	case *strValue:
		s = v
	default:
		return ErrWrongType
	}
	var at int64
	if o.expire != nil {
		var r Reply
		var good bool
		if at, r, good = strExpireAt(c, "getex", o.expire, o.flags); !good {
			return r
		}
	}
	// The reply aliases the bytes, which stay valid even if the key goes.
	reply := Bulk(s.String())
	switch {
	case o.expire != nil:
		// SetExpiry deletes the key when an EXAT/PXAT time already passed.
		c.SetExpiry(args[1], at)
		if at <= c.Now {
			c.notify(NotifyGeneric, "del", args[1])
		} else {
			c.notify(NotifyGeneric, "expire", args[1])
		}
	case o.flags&soptPersist != 0:
		if old, _ := c.Expiry(args[1]); old != 0 {
			c.SetExpiry(args[1], 0)
			c.notify(NotifyGeneric, "persist", args[1])
		}
	}
	return reply
}

func mgetCommand(c *Ctx, args [][]byte) Reply {
	out := make([]Reply, len(args)-1)
	for i, k := range args[1:] {
		if v, ok := c.Get(k).(*strValue); ok {
			out[i] = Bulk(v.String())
		} else {
			out[i] = Nil()
		}
	}
	return Array(out)
}

func msetCommand(c *Ctx, args [][]byte) Reply {
	if len(args)%2 == 0 {
		return ErrArity("mset")
	}
	for j := 1; j < len(args); j += 2 {
		c.Set(args[j], strFromArg(args[j+1]))
		c.notify(NotifyString, "set", args[j])
	}
	return ReplyOK
}

func msetnxCommand(c *Ctx, args [][]byte) Reply {
	if len(args)%2 == 0 {
		return ErrArity("msetnx")
	}
	for j := 1; j < len(args); j += 2 {
		if c.Exists(args[j]) {
			return strReplyZero
		}
	}
	for j := 1; j < len(args); j += 2 {
		c.Set(args[j], strFromArg(args[j+1]))
		c.notify(NotifyString, "set", args[j])
	}
	return strReplyOne
}

// ---- counters ------------------------------------------------------------------

func strIncrDecr(c *Ctx, key []byte, incr int64) Reply {
	e := c.lookup(key)
	var cur int64
	if e != nil {
		v, ok := e.val.(*strValue)
		if !ok {
			return ErrWrongType
		}
		if cur, ok = ParseInt(v.b); !ok {
			return ErrNotInt
		}
	}
	if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) ||
		(incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
		return ErrOverflow
	}
	cur += incr
	b := strconv.AppendInt(make([]byte, 0, 20), cur, 10)
	if e == nil {
		c.Set(key, &strValue{b: b})
	} else {
		strReplace(c, e, b)
	}
	c.notify(NotifyString, "incrby", key)
	return Int(cur)
}

func incrCommand(c *Ctx, args [][]byte) Reply { return strIncrDecr(c, args[1], 1) }
func decrCommand(c *Ctx, args [][]byte) Reply { return strIncrDecr(c, args[1], -1) }

func incrbyCommand(c *Ctx, args [][]byte) Reply {
	n, ok := ParseInt(args[2])
	if !ok {
		return ErrNotInt
	}
	return strIncrDecr(c, args[1], n)
}

func decrbyCommand(c *Ctx, args [][]byte) Reply {
	n, ok := ParseInt(args[2])
	if !ok {
		return ErrNotInt
	}
	if n == math.MinInt64 {
		return errStrDecrOverflow
	}
	return strIncrDecr(c, args[1], -n)
}

// INCRBYFLOAT computes in x87 80-bit long double, as Redis does on x86-64:
// a 64-bit mantissa with round-half-even, which big.Float reproduces
// exactly (strtold and x87 addition are both correctly rounded). The
// result is printed as "%.17Lf" with trailing zeros trimmed.
const strLDPrec = 64

var (
	// strLDMax is LDBL_MAX, (2^64-1) * 2^(16384-64).
	strLDMax = new(big.Float).SetMantExp(new(big.Float).SetUint64(math.MaxUint64), 16384-64)
)

// strParseLongDouble parses a float as Redis's string2ld does: strtold syntax
// (decimal, hex, inf/infinity), no surrounding spaces, no NaN, and no
// overflow or underflow to zero.
func strParseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= 5*1024 {
		return nil, false
	}
	s := string(b)
	body, neg := s, false
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
	}
	if len(body) == 3 || len(body) == 8 {
		if lb := []byte(body); EqFold(lb, "inf") || EqFold(lb, "infinity") {
			return new(big.Float).SetInf(neg), true
		}
	}
	base := 10
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		base = 0 // hex mantissa with optional p exponent, as strtold takes
		if !strValidFloat(body[2:], true) {
			return nil, false
		}
	} else if !strValidFloat(body, false) {
		return nil, false
	}
	f, _, err := new(big.Float).SetPrec(strLDPrec).SetMode(big.ToNearestEven).Parse(s, base)
	if err != nil {
		return nil, false
	}
	if new(big.Float).Abs(f).Cmp(strLDMax) > 0 {
		return nil, false // strtold overflows to HUGE_VAL: ERANGE
	}
	if f.Sign() != 0 && f.MantExp(nil) < -16444 {
		return nil, false // below the smallest denormal: ERANGE, zero
	}
	return f, true
}

// strValidFloat checks s is digits [. digits] [exponent] with at least
// one mantissa digit; hex uses hex digits and a p exponent.
func strValidFloat(s string, hex bool) bool {
	isDigit := func(c byte) bool {
		if hex {
			return ('0' <= c && c <= '9') || ('a' <= c|0x20 && c|0x20 <= 'f')
		}
		return '0' <= c && c <= '9'
	}
	i, digits := 0, 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i == len(s) {
		return true
	}
	if e := s[i] | 0x20; (hex && e == 'p') || (!hex && e == 'e') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		n := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			n++
		}
		return n > 0 && i == len(s)
	}
	return false
}

// strFormatLongDouble renders f like ld2string(LD_STR_HUMAN): "%.17Lf" with
// trailing zeros (and a bare dot) removed, and "-0" turned into "0".
func strFormatLongDouble(f *big.Float) []byte {
	b := f.Append(make([]byte, 0, 32), 'f', 17)
	for len(b) > 0 && b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if len(b) > 0 && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	if len(b) == 2 && b[0] == '-' && b[1] == '0' {
		b = b[1:]
	}
	return b
}

func incrbyfloatCommand(c *Ctx, args [][]byte) Reply {
	e := c.lookup(args[1])
	cur := new(big.Float).SetPrec(strLDPrec)
	if e != nil {
		v, ok := e.val.(*strValue)
		if !ok {
			return ErrWrongType
		}
		if cur, ok = strParseLongDouble(v.b); !ok {
			return ErrNotFloat
		}
	}
	incr, ok := strParseLongDouble(args[2])
	if !ok {
		return ErrNotFloat
	}
	// Any infinite operand gives Inf or NaN (inf-inf), both refused;
	// big.Float would panic on the NaN case.
	if cur.IsInf() || incr.IsInf() {
		return ErrNaN
	}
	sum := new(big.Float).SetPrec(strLDPrec).SetMode(big.ToNearestEven).Add(cur, incr)
	if new(big.Float).Abs(sum).Cmp(strLDMax) > 0 {
		return ErrNaN
	}
	b := strFormatLongDouble(sum)
	if e == nil {
		c.Set(args[1], &strValue{b: b})
	} else {
		strReplace(c, e, b)
	}
	c.notify(NotifyString, "incrbyfloat", args[1])
	return Bulk(bstr(b))
}

// ---- APPEND, STRLEN, ranges -----------------------------------------------

func appendCommand(c *Ctx, args [][]byte) Reply {
	key, add := args[1], args[2]
	e := c.lookup(key)
	if e == nil {
		c.Set(key, newStr(add))
		c.notify(NotifyString, "append", key)
		return Int(int64(len(add)))
	}
	v, ok := e.val.(*strValue)
	if !ok {
		return ErrWrongType
	}
	if len(v.b)+len(add) > strMaxLen {
		return errStrTooLong
	}
	nb := strAppend(v.b, add)
	strReplace(c, e, nb)
	c.notify(NotifyString, "append", key)
	return Int(int64(len(nb)))
}

// strGrowTag marks the last 8 bytes of an array that APPEND grew: they hold
// the length of the one string allowed to grow into the spare capacity,
// xor'ed with a constant so that arrays APPEND did not create never match.
// Spare capacity is invisible to every holder of a string (replies,
// snapshots, a key sharing the value after COPY); the tag makes sure only
// the latest APPEND result writes into it, so two strings that share an
// array never both extend it.
const strGrowTag = 0x9e3779b97f4a7c15

// strAppend returns b+add, reusing b's spare capacity when b owns it, or a
// new array with room to grow (doubling below 1MB, as sds does).
func strAppend(b, add []byte) []byte {
	n := len(b) + len(add)
	var nb []byte
	if c := cap(b); c-8 >= n && binary.LittleEndian.Uint64(b[c-8:c]) == uint64(len(b))^strGrowTag {
		nb = append(b, add...)
	} else {
		room := n
		if room < 1<<20 {
			room *= 2
		} else {
			room += 1 << 20
		}
		nb = make([]byte, n, room+8)
		copy(nb, b)
		copy(nb[len(b):], add)
	}
	c := cap(nb)
	binary.LittleEndian.PutUint64(nb[c-8:c], uint64(n)^strGrowTag)
	return nb
}

func strlenCommand(c *Ctx, args [][]byte) Reply {
	switch v := c.Get(args[1]).(type) {
	case nil:
		return strReplyZero
	case *strValue:
		return Int(int64(len(v.b)))
	default:
		return ErrWrongType
	}
}

func getrangeCommand(c *Ctx, args [][]byte) Reply {
	start, ok := ParseInt(args[2])
	if !ok {
		return ErrNotInt
	}
	end, ok := ParseInt(args[3])
	if !ok {
		return ErrNotInt
	}
	var s string
	switch v := c.Get(args[1]).(type) {
	case nil:
		return strReplyEmpty
	case *strValue:
		s = v.String()
	default:
		return ErrWrongType
	}
	if start < 0 && end < 0 && start > end {
		return strReplyEmpty
	}
	n := int64(len(s))
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return strReplyEmpty
	}
	return Bulk(s[start : end+1])
}

func setrangeCommand(c *Ctx, args [][]byte) Reply {
	key, val := args[1], args[3]
	off, ok := ParseInt(args[2])
	if !ok {
		return ErrNotInt
	}
	if off < 0 {
		return errStrOffsetRange
	}
	e, old, ok := strLookupWrite(c, key)
	if !ok {
		return ErrWrongType
	}
	if len(val) == 0 {
		// Nothing to write: the length of what is there (no key created).
		return Int(int64(len(old)))
	}
	if off > strMaxLen || off+int64(len(val)) > strMaxLen {
		return errStrTooLong
	}
	n := max(len(old), int(off)+len(val))
	nb := make([]byte, n)
	copy(nb, old)
	copy(nb[off:], val)
	if e == nil {
		c.Set(key, &strValue{b: nb})
	} else {
		strReplace(c, e, nb)
	}
	c.notify(NotifyString, "setrange", key)
	return Int(int64(n))
}

// ---- LCS -------------------------------------------------------------------

func lcsCommand(c *Ctx, args [][]byte) Reply {
	var a, b string
	for i, k := range args[1:3] {
		switch v := c.Get(k).(type) {
		case nil:
		case *strValue:
			if i == 0 {
				a = v.String()
			} else {
				b = v.String()
			}
		default:
			return errStrLCSType
		}
	}
	var getLen, getIdx, withLen bool
	var minLen int64
	for j := 3; j < len(args); j++ {
		switch opt := args[j]; {
		case EqFold(opt, "idx"):
			getIdx = true
		case EqFold(opt, "len"):
			getLen = true
		case EqFold(opt, "withmatchlen"):
			withLen = true
		case EqFold(opt, "minmatchlen") && j+1 < len(args):
			n, ok := ParseInt(args[j+1])
			if !ok {
				return ErrNotInt
			}
			minLen = max(n, 0)
			j++
		default:
			return ErrSyntax
		}
	}
	if getLen && getIdx {
		return errStrLCSLenIdx
	}
	if uint64(len(a)) >= math.MaxUint32-1 || uint64(len(b)) >= math.MaxUint32-1 {
		return errStrLCSTooLong
	}
	alen, blen := len(a), len(b)
	if uint64(alen+1)*uint64(blen+1)*4 > strMaxLen {
		return errStrLCSMemory
	}
	// tab[i*(blen+1)+j] is the LCS length of a[:i] and b[:j].
	w := blen + 1
	tab := make([]uint32, (alen+1)*w)
	for i := 1; i <= alen; i++ {
		row, prev := tab[i*w:(i+1)*w], tab[(i-1)*w:i*w]
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				row[j] = prev[j-1] + 1
			} else {
				row[j] = max(prev[j], row[j-1])
			}
		}
	}
	total := tab[alen*w+blen]
	if getLen {
		return Int(int64(total))
	}

	// Walk back from the end exactly as Redis does, so that the matches
	// come out in the same order with the same tie-breaks.
	res := make([]byte, total)
	idx := total
	var matches []Reply
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0 // aStart == alen: no open range
	for i, j := alen, blen; i > 0 && j > 0; {
		emit := false
		if a[i-1] == b[j-1] {
			res[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx--
			i--
			j--
		} else {
			if tab[(i-1)*w+j] > tab[i*w+j-1] {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			mlen := int64(aEnd - aStart + 1)
			if getIdx && (minLen == 0 || mlen >= minLen) {
				m := make([]Reply, 2, 3)
				m[0] = Array([]Reply{Int(int64(aStart)), Int(int64(aEnd))})
				m[1] = Array([]Reply{Int(int64(bStart)), Int(int64(bEnd))})
				if withLen {
					m = append(m, Int(mlen))
				}
				matches = append(matches, Array(m))
			}
			aStart = alen
		}
	}
	if getIdx {
		if matches == nil {
			matches = []Reply{}
		}
		return Map([]Reply{strReplyMatches, Array(matches), strReplyLen, Int(int64(total))})
	}
	return Bulk(bstr(res))
}

// ---- bits --------------------------------------------------------------------

// strParseBitOffset parses a SETBIT/GETBIT offset: non-negative and addressing
// a byte below proto-max-bulk-len.
func strParseBitOffset(b []byte) (int64, bool) {
	n, ok := ParseInt(b)
	if !ok || n < 0 || n>>3 >= strMaxLen {
		return 0, false
	}
	return n, true
}

func setbitCommand(c *Ctx, args [][]byte) Reply {
	off, ok := strParseBitOffset(args[2])
	if !ok {
		return errStrBitOffset
	}
	on, ok := ParseInt(args[3])
	if !ok || on&^1 != 0 {
		return errStrBitValue
	}
	e, old, ok := strLookupWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	byteIdx := int(off >> 3)
	mask := byte(1) << (7 - uint(off&7))
	prev := byteIdx < len(old) && old[byteIdx]&mask != 0
	if e == nil || byteIdx >= len(old) || prev != (on == 1) {
		// Bytes below len are shared: build a new string.
		nb := make([]byte, max(len(old), byteIdx+1))
		copy(nb, old)
		if on == 1 {
			nb[byteIdx] |= mask
		} else {
			nb[byteIdx] &^= mask
		}
		if e == nil {
			c.Set(args[1], &strValue{b: nb})
		} else {
			strReplace(c, e, nb)
		}
		c.notify(NotifyString, "setbit", args[1])
	} else {
		c.Unchanged()
	}
	if prev {
		return strReplyOne
	}
	return strReplyZero
}

func getbitCommand(c *Ctx, args [][]byte) Reply {
	off, ok := strParseBitOffset(args[2])
	if !ok {
		return errStrBitOffset
	}
	switch v := c.Get(args[1]).(type) {
	case nil:
		return strReplyZero
	case *strValue:
		if i := int(off >> 3); i < len(v.b) && v.b[i]&(1<<(7-uint(off&7))) != 0 {
			return strReplyOne
		}
		return strReplyZero
	default:
		return ErrWrongType
	}
}

// strBitRange converts BITCOUNT/BITPOS start/end (bytes or bits, negative
// from the end) to an inclusive bit range over a string of n bytes.
// empty reports a range with nothing in it.
func strBitRange(start, end int64, n int, isBit bool) (sb, eb int64, empty bool) {
	total := int64(n)
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	if start > end {
		return 0, 0, true
	}
	if isBit {
		return start, end, false
	}
	return start << 3, end<<3 + 7, false
}

// strPopcount counts the set bits of p.
func strPopcount(p []byte) int64 {
	var n int
	for len(p) >= 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(p))
		p = p[8:]
	}
	for _, b := range p {
		n += bits.OnesCount8(b)
	}
	return int64(n)
}

func bitcountCommand(c *Ctx, args [][]byte) Reply {
	var s []byte
	switch v := c.Get(args[1]).(type) {
	case nil:
		return strReplyZero
	case *strValue:
		s = v.b
	default:
		return ErrWrongType
	}
	sb, eb := int64(0), int64(len(s))*8-1
	switch len(args) {
	case 2:
		if len(s) == 0 {
			return strReplyZero
		}
	case 4, 5:
		start, ok := ParseInt(args[2])
		if !ok {
			return ErrNotInt
		}
		end, ok := ParseInt(args[3])
		if !ok {
			return ErrNotInt
		}
		if start < 0 && end < 0 && start > end {
			return strReplyZero
		}
		isBit := false
		if len(args) == 5 {
			switch {
			case EqFold(args[4], "bit"):
				isBit = true
			case EqFold(args[4], "byte"):
			default:
				return ErrSyntax
			}
		}
		var empty bool
		if sb, eb, empty = strBitRange(start, end, len(s), isBit); empty {
			return strReplyZero
		}
	default:
		return ErrSyntax
	}
	first, last := sb>>3, eb>>3
	n := strPopcount(s[first : last+1])
	// Take off the bits of the edge bytes that fall outside the range.
	n -= int64(bits.OnesCount8(s[first] &^ (0xff >> uint(sb&7))))
	n -= int64(bits.OnesCount8(s[last] & (0xff >> uint(eb&7+1))))
	return Int(n)
}

func bitposCommand(c *Ctx, args [][]byte) Reply {
	bit, ok := ParseInt(args[2])
	if !ok {
		return ErrNotInt
	}
	if bit != 0 && bit != 1 {
		return errStrBitArg
	}
	var s []byte
	switch v := c.Get(args[1]).(type) {
	case nil:
		// A missing key is an endless run of zeros.
		if bit == 1 {
			return Int(-1)
		}
		return strReplyZero
	case *strValue:
		s = v.b
	default:
		return ErrWrongType
	}
	endGiven := false
	sb, eb := int64(0), int64(len(s))*8-1
	switch len(args) {
	case 3:
		if len(s) == 0 {
			return Int(-1)
		}
	case 4, 5, 6:
		start, ok := ParseInt(args[3])
		if !ok {
			return ErrNotInt
		}
		isBit := false
		if len(args) == 6 {
			switch {
			case EqFold(args[5], "bit"):
				isBit = true
			case EqFold(args[5], "byte"):
			default:
				return ErrSyntax
			}
		}
		end := int64(len(s)) - 1
		if isBit {
			end = int64(len(s))<<3 - 1
		}
		if len(args) >= 5 {
			if end, ok = ParseInt(args[4]); !ok {
				return ErrNotInt
			}
			endGiven = true
		}
		var empty bool
		if sb, eb, empty = strBitRange(start, end, len(s), isBit); empty {
			return Int(-1)
		}
	default:
		return ErrSyntax
	}
	if pos := strFindBit(s, sb, eb, bit == 1); pos >= 0 {
		return Int(pos)
	}
	if bit == 1 || endGiven {
		return Int(-1)
	}
	// Looking for a clear bit with no explicit end: the string is taken as
	// padded with zeros, so the answer is the first bit past the range.
	return Int(eb + 1)
}

// strFindBit returns the first bit position in [sb, eb] whose value is set
// (or clear), or -1.
func strFindBit(s []byte, sb, eb int64, set bool) int64 {
	skip := byte(0) // a byte that cannot hold the bit sought
	if !set {
		skip = 0xff
	}
	for i := sb >> 3; i <= eb>>3; i++ {
		x := s[i]
		if x == skip {
			continue
		}
		if !set {
			x = ^x
		}
		if i == sb>>3 {
			x &= 0xff >> uint(sb&7)
		}
		if i == eb>>3 {
			x &^= 0xff >> uint(eb&7+1)
		}
		if x != 0 {
			return i<<3 + int64(bits.LeadingZeros8(x))
		}
	}
	return -1
}
