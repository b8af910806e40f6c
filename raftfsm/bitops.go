package raftfsm

import "math"

// BITOP, BITFIELD and BITFIELD_RO (Redis 7.0 bitops.c). They work on plain
// strings like SETBIT (strings.go): bit 0 is the most significant bit of
// byte 0, and integers span bytes big-endian. Results are always built in
// a new buffer, since stored strings are immutable below len.

var (
	errBitopNot      = Err("ERR BITOP NOT must be called with a single source key.")
	errBfType        = Err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
	errBfOverflow    = Err("ERR Invalid OVERFLOW type specified")
	errBfReadOnlySub = Err("ERR BITFIELD_RO only supports the GET subcommand")
)

func init() {
	Register(
		Command{Name: "bitop", Arity: -4, Flags: FlagWrite | FlagDenyOOM, First: 2, Last: -1, Step: 1, Exec: bitopCommand},
		Command{Name: "bitfield", Arity: -2, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Exec: bitfieldCommand},
		Command{Name: "bitfield_ro", Arity: -2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: bitfieldROCommand},
	)
}

// ---- BITOP -------------------------------------------------------------------

type bitopOp uint8

const (
	bitopAnd bitopOp = iota
	bitopOr
	bitopXor
	bitopNot
)

func bitopCommand(c *Ctx, args [][]byte) Reply {
	var op bitopOp
	switch {
	case EqFold(args[1], "and"):
		op = bitopAnd
	case EqFold(args[1], "or"):
		op = bitopOr
	case EqFold(args[1], "xor"):
		op = bitopXor
	case EqFold(args[1], "not"):
		op = bitopNot
	default:
		return ErrSyntax
	}
	if op == bitopNot && len(args) != 4 {
		return errBitopNot
	}
	srcs := make([][]byte, len(args)-3)
	maxLen := 0
	for i, key := range args[3:] {
		switch v := c.Get(key).(type) {
		case nil:
			// A missing key is an empty string: zeros for every byte.
		case *strValue:
			srcs[i] = v.b
			maxLen = max(maxLen, len(v.b))
		default:
			return ErrWrongType
		}
	}
	dest := args[2]
	if maxLen == 0 {
		// Nothing to store: Redis deletes the destination instead.
		if c.Delete(dest) {
			c.notify(NotifyGeneric, "del", dest)
		} else {
			c.Unchanged()
		}
		return strReplyZero
	}
	c.Set(dest, &strValue{b: bitopApply(op, srcs, maxLen)})
	c.notify(NotifyString, "set", dest)
	return Int(int64(maxLen))
}

// bitopApply combines srcs byte by byte into a new buffer of n bytes; a
// source shorter than n reads as zero past its end.
func bitopApply(op bitopOp, srcs [][]byte, n int) []byte {
	out := make([]byte, n)
	copy(out, srcs[0])
	switch op {
	case bitopNot:
		for i := range out {
			out[i] = ^out[i]
		}
	case bitopAnd:
		for _, s := range srcs[1:] {
			for i := range s {
				out[i] &= s[i]
			}
			clear(out[len(s):])
		}
	case bitopOr:
		for _, s := range srcs[1:] {
			for i := range s {
				out[i] |= s[i]
			}
		}
	case bitopXor:
		for _, s := range srcs[1:] {
			for i := range s {
				out[i] ^= s[i]
			}
		}
	}
	return out
}

// ---- BITFIELD ----------------------------------------------------------------

type bfOpcode uint8

const (
	bfGet bfOpcode = iota
	bfSet
	bfIncrBy
)

// bfOverflow is the OVERFLOW policy in effect for the ops that follow it.
type bfOverflow uint8

const (
	bfWrap bfOverflow = iota
	bfSat
	bfFail
)

// bfOp is one parsed GET/SET/INCRBY subcommand.
type bfOp struct {
	code   bfOpcode
	ow     bfOverflow
	signed bool
	bits   uint   // 1..64 signed, 1..63 unsigned
	off    uint64 // first bit
	arg    int64  // SET value or INCRBY increment
}

func bitfieldCommand(c *Ctx, args [][]byte) Reply   { return bitfieldGeneric(c, args, false) }
func bitfieldROCommand(c *Ctx, args [][]byte) Reply { return bitfieldGeneric(c, args, true) }

// bitfieldGeneric parses every subcommand before touching the key, as Redis
// does, so a bad argument anywhere leaves the key unchanged.
func bitfieldGeneric(c *Ctx, args [][]byte, readOnly bool) Reply {
	ops, writes, bad := bfParse(args[2:])
	if bad.IsError() {
		return bad
	}
	if !writes {
		c.Unchanged() // BITFIELD with GETs only still goes through the log
		return bfRead(c, args[1], ops)
	}
	if readOnly {
		return errBfReadOnlySub
	}
	return bfWrite(c, args[1], ops)
}

// bfParse parses the subcommands. writes reports a SET or INCRBY among
// them; bad is the error reply for malformed input.
func bfParse(args [][]byte) (ops []bfOp, writes bool, bad Reply) {
	fail := func(r Reply) ([]bfOp, bool, Reply) { return nil, false, r }
	ow := bfWrap
	for i := 0; i < len(args); {
		rest := len(args) - i - 1 // arguments after the subcommand name
		var op bfOp
		switch {
		case EqFold(args[i], "get") && rest >= 2:
			op.code = bfGet
		case EqFold(args[i], "set") && rest >= 3:
			op.code = bfSet
		case EqFold(args[i], "incrby") && rest >= 3:
			op.code = bfIncrBy
		case EqFold(args[i], "overflow") && rest >= 1:
			switch w := args[i+1]; {
			case EqFold(w, "wrap"):
				ow = bfWrap
			case EqFold(w, "sat"):
				ow = bfSat
			case EqFold(w, "fail"):
				ow = bfFail
			default:
				return fail(errBfOverflow)
			}
			i += 2
			continue
		default:
			return fail(ErrSyntax)
		}
		op.ow = ow
		var ok bool
		if op.signed, op.bits, ok = bfParseType(args[i+1]); !ok {
			return fail(errBfType)
		}
		if op.off, ok = bfParseOffset(args[i+2], op.bits); !ok {
			return fail(errStrBitOffset)
		}
		i += 3
		if op.code != bfGet {
			writes = true
			if op.arg, ok = ParseInt(args[i]); !ok {
				return fail(ErrNotInt)
			}
			i++
		}
		ops = append(ops, op)
	}
	return ops, writes, Reply{}
}

// bfParseType parses "i<bits>" (1..64) or "u<bits>" (1..63: a u64 could
// not be replied as a RESP integer).
func bfParseType(b []byte) (signed bool, bits uint, ok bool) {
	if len(b) == 0 || b[0] != 'i' && b[0] != 'u' {
		return false, 0, false
	}
	signed = b[0] == 'i'
	n, ok := ParseInt(b[1:])
	limit := int64(63)
	if signed {
		limit = 64
	}
	if !ok || n < 1 || n > limit {
		return false, 0, false
	}
	return signed, uint(n), true
}

// bfParseOffset parses a bit offset, or "#n" meaning n*bits. Redis
// multiplies in wrapping 64-bit arithmetic, and Go's int64 wraps the same
// way, so a product that wraps back into range addresses the same bit as
// on Redis. The result stays below proto-max-bulk-len bytes.
func bfParseOffset(b []byte, bits uint) (uint64, bool) {
	hash := len(b) > 0 && b[0] == '#'
	if hash {
		b = b[1:]
	}
	n, ok := ParseInt(b)
	if !ok {
		return 0, false
	}
	if hash {
		n *= int64(bits)
	}
	if n < 0 || n>>3 >= strMaxLen {
		return 0, false
	}
	return uint64(n), true
}

// bfRead runs GET-only subcommands without modifying the key.
func bfRead(c *Ctx, key []byte, ops []bfOp) Reply {
	var s []byte
	switch v := c.Get(key).(type) {
	case nil:
	case *strValue:
		s = v.b
	default:
		return ErrWrongType
	}
	out := make([]Reply, len(ops))
	for i, op := range ops {
		out[i] = Int(bfGetValue(s, op))
	}
	return Array(out)
}

// bfWrite runs subcommands that include SET or INCRBY. As in Redis, the
// key is created or zero-padded to the farthest bit written before any op
// runs, even if every op then fails its OVERFLOW FAIL check.
func bfWrite(c *Ctx, key []byte, ops []bfOp) Reply {
	e, old, ok := strLookupWrite(c, key)
	if !ok {
		return ErrWrongType
	}
	var need uint64
	for _, op := range ops {
		if op.code != bfGet {
			need = max(need, (op.off+uint64(op.bits)-1)>>3+1)
		}
	}
	buf := make([]byte, max(uint64(len(old)), need))
	copy(buf, old)
	changed := e == nil || len(buf) != len(old)

	out := make([]Reply, len(ops))
	for i, op := range ops {
		if op.code == bfGet {
			out[i] = Int(bfGetValue(buf, op))
			continue
		}
		oldv := bfLoad(buf, op.off, op.bits)
		newv, reply, ok := bfCompute(op, oldv)
		if !ok {
			out[i] = Nil()
			continue
		}
		out[i] = Int(reply)
		bfStore(buf, op.off, op.bits, newv)
		changed = changed || newv != oldv
	}
	if changed {
		// A fresh buffer every time: readers may still hold old.
		if e == nil {
			c.Set(key, &strValue{b: buf})
		} else {
			strReplace(c, e, buf)
		}
		c.notify(NotifyString, "setbit", key)
	} else {
		c.Unchanged()
	}
	return Array(out)
}

// bfGetValue reads op's integer from s; bits past the end of s read as zero.
func bfGetValue(s []byte, op bfOp) int64 {
	u := bfLoad(s, op.off, op.bits)
	if op.signed {
		return bfSignExtend(u, op.bits)
	}
	return int64(u)
}

// bfLoad returns the bits-wide unsigned integer at bit offset off; bytes
// past the end of s read as zero.
func bfLoad(s []byte, off uint64, bits uint) uint64 {
	var u uint64
	for j := uint64(0); j < uint64(bits); j++ {
		p := off + j
		u <<= 1
		if i := p >> 3; i < uint64(len(s)) {
			u |= uint64(s[i]>>(7-p&7)) & 1
		}
	}
	return u
}

// bfStore writes the low bits of u at bit offset off; s must be long enough.
func bfStore(s []byte, off uint64, bits uint, u uint64) {
	for j := uint64(0); j < uint64(bits); j++ {
		p := off + j
		mask := byte(1) << (7 - p&7)
		if u>>(uint64(bits)-1-j)&1 != 0 {
			s[p>>3] |= mask
		} else {
			s[p>>3] &^= mask
		}
	}
}

// bfSignExtend reads the low bits of u as a two's complement integer.
func bfSignExtend(u uint64, bits uint) int64 {
	shift := 64 - bits
	return int64(u<<shift) >> shift
}

// bfCompute applies a SET or INCRBY to the field's current raw value. It
// returns the raw bits to store, the integer to reply (the old value for
// SET, the new one for INCRBY) and false when OVERFLOW FAIL refuses it.
func bfCompute(op bfOp, oldRaw uint64) (newRaw uint64, reply int64, ok bool) {
	var v, d int64 // value checked against the type's range, and the increment
	if op.code == bfSet {
		v = op.arg
	} else {
		v, d = int64(oldRaw), op.arg
		if op.signed {
			v = bfSignExtend(oldRaw, op.bits)
		}
	}
	var dir int
	var lo, hi int64
	if op.signed {
		dir, lo, hi = bfSignedOverflow(v, d, op.bits)
	} else {
		dir, hi = bfUnsignedOverflow(uint64(v), d, op.bits)
	}
	// Wrapping keeps the low bits of the sum: two's complement addition
	// in 64 bits gives the same low bits as the exact sum.
	sum := uint64(v) + uint64(d)
	switch {
	case dir == 0:
	case op.ow == bfFail:
		return 0, 0, false
	case op.ow == bfSat && dir > 0:
		sum = uint64(hi)
	case op.ow == bfSat:
		sum = uint64(lo)
	}
	sum &= math.MaxUint64 >> (64 - op.bits)
	if op.code == bfSet {
		reply = int64(oldRaw)
		if op.signed {
			reply = bfSignExtend(oldRaw, op.bits)
		}
	} else {
		reply = int64(sum)
		if op.signed {
			reply = bfSignExtend(sum, op.bits)
		}
	}
	return sum, reply, true
}

// bfSignedOverflow reports whether v+d leaves the range of a signed
// bits-wide integer: 1 above it, -1 below, 0 inside; lo and hi bound the range.
// For SET (d == 0) v may be any int64; for INCRBY it is in range.
func bfSignedOverflow(v, d int64, bits uint) (dir int, lo, hi int64) {
	hi = math.MaxInt64 >> (64 - bits)
	lo = -hi - 1
	switch {
	case v > hi:
		return 1, lo, hi
	case v < lo:
		// Redis computes hi-v in wrapping 64-bit arithmetic; when v is so
		// negative that it wraps, Redis takes the value as too large and
		// OVERFLOW SAT stores hi. Replies must match Redis, so we do too.
		if int64(uint64(hi)-uint64(v)) < 0 {
			return 1, lo, hi
		}
		return -1, lo, hi
	// v is in range below: hi-v and lo-v cannot overflow unless bits is 64
	// and the sign of v already rules the overflow out.
	case d > 0 && (v >= 0 || bits < 64) && d > hi-v:
		return 1, lo, hi
	case d < 0 && (v < 0 || bits < 64) && d < lo-v:
		return -1, lo, hi
	}
	return 0, lo, hi
}

// bfUnsignedOverflow is bfSignedOverflow for an unsigned bits-wide integer
// (bits <= 63); the low bound is 0. A negative SET value arrives as its
// two's complement, so it counts as too large, as in Redis.
func bfUnsignedOverflow(v uint64, d int64, bits uint) (dir int, hi int64) {
	umax := uint64(1)<<bits - 1
	switch {
	case v > umax:
		return 1, int64(umax)
	case d > 0 && uint64(d) > umax-v:
		return 1, int64(umax)
	case d < 0 && uint64(-d) > v:
		return -1, int64(umax)
	}
	return 0, int64(umax)
}
