package raftfsm

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// The cmsgpack library Redis gives scripts: lua-cmsgpack 0.4.0 built for
// Lua 5.1 on a 64-bit machine. Messages follow lua-cmsgpack's, since
// scripts match on them.

const (
	// cmsgpackMaxNesting is LUACMSGPACK_MAX_NESTING: a table this deep
	// packs as nil, which is how circular references end.
	cmsgpackMaxNesting = 16
	// cmsgpackMaxStack is Lua 5.1's LUAI_MAXCSTACK, the stack slots a C
	// function may use. lua-cmsgpack's unpack keeps every result and every
	// table under construction on the stack, so this bounds both how many
	// values one call returns and how deep decoded data may nest.
	cmsgpackMaxStack = 8000

	cmsgpackErrEOF    = "Missing bytes in input."
	cmsgpackErrFormat = "Bad data format in input."
	cmsgpackErrValues = "too many return values at once; use unpack_one or unpack_limit instead."
)

// openCMsgpack sets the global table cmsgpack. Functions are added in a
// fixed order because pairs(cmsgpack) is visible to scripts on every
// replica.
func openCMsgpack(L *lua.LState) {
	mod := L.NewTable()
	for _, f := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{"pack", cmsgpackPack},
		{"unpack", cmsgpackUnpack},
		{"unpack_one", cmsgpackUnpackOne},
		{"unpack_limit", cmsgpackUnpackLimit},
	} {
		mod.RawSetString(f.name, L.NewFunction(f.fn))
	}
	mod.RawSetString("_NAME", lua.LString("cmsgpack"))
	mod.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	mod.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	mod.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	L.SetGlobal("cmsgpack", mod)
}

// ---- pack --------------------------------------------------------------------

type cmsgpackEncoder struct {
	L   *lua.LState
	buf []byte
	// done records where a table was packed at a level, once the result
	// is large: packing it there again gives the same bytes, so they are
	// copied. A table reached many times over, as by a table holding
	// itself several times, then costs a copy rather than a walk.
	done map[cmsgpackTableAt]cmsgpackSpan
	kv   []lua.LValue // pairs of the tables being packed
}

type cmsgpackTableAt struct {
	t     *lua.LTable
	level int
}

type cmsgpackSpan struct{ off, n int }

// cmsgpackDoneFrom is the result size from which tables are recorded in
// done; below it the walks are cheap and the map would only cost.
const cmsgpackDoneFrom = 1 << 20

// cmsgpackPack encodes each argument and returns the encodings
// concatenated, a stream unpack reads back as as many values.
func cmsgpackPack(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.ArgError(0, "MessagePack pack needs input.")
	}
	// lua_checkstack(L, nargs) with nargs slots already in use.
	if 2*n > cmsgpackMaxStack {
		L.ArgError(0, "Too many arguments for MessagePack pack.")
	}
	e := cmsgpackEncoder{L: L}
	for i := 1; i <= n; i++ {
		e.value(L.Get(i), 0)
	}
	e.checkSize()
	L.Push(lua.LString(e.buf))
	return 1
}

// checkSize bounds the result like string.rep's: nesting is capped, not
// width, so a table holding itself n times packs to about n^16 bytes, and
// none of that work counts against the script's instruction budget.
func (e *cmsgpackEncoder) checkSize() { e.checkGrow(0) }

func (e *cmsgpackEncoder) checkGrow(n int) {
	if len(e.buf)+n > scriptMaxString {
		e.L.RaiseError("cmsgpack.pack: result larger than %d bytes", scriptMaxString)
	}
}

// value appends v; level is how many tables enclose it.
func (e *cmsgpackEncoder) value(v lua.LValue, level int) {
	e.checkSize()
	switch v := v.(type) {
	case lua.LString:
		e.checkGrow(len(v))
		e.header(0xa0, 31, 0xd9, 0xda, 0xdb, len(v))
		e.buf = append(e.buf, v...)
	case lua.LBool:
		if v {
			e.buf = append(e.buf, 0xc3)
		} else {
			e.buf = append(e.buf, 0xc2)
		}
	case lua.LNumber:
		e.number(float64(v))
	case *lua.LTable:
		if level < cmsgpackMaxNesting {
			e.table(v, level)
		} else {
			e.buf = append(e.buf, 0xc0)
		}
	default: // nil, and types msgpack has no form for
		e.buf = append(e.buf, 0xc0)
	}
}

// header appends a string, array or map header: the fix form (fix|n) when
// n <= fixMax, else an 8-bit length form if there is one (h8 != 0), else
// 16 or 32 bits.
func (e *cmsgpackEncoder) header(fix byte, fixMax int, h8, h16, h32 byte, n int) {
	switch {
	case n <= fixMax:
		e.buf = append(e.buf, fix|byte(n))
	case h8 != 0 && n <= math.MaxUint8:
		e.buf = append(e.buf, h8, byte(n))
	case n <= math.MaxUint16:
		e.buf = binary.BigEndian.AppendUint16(append(e.buf, h16), uint16(n))
	default:
		e.buf = binary.BigEndian.AppendUint32(append(e.buf, h32), uint32(n))
	}
}

// number packs an integral value in the int64 range as the smallest
// integer form, anything else as a float32 when that is exact, else as a
// float64. Infinities are exact float32s; NaN is not.
func (e *cmsgpackEncoder) number(f float64) {
	if f >= -(1<<63) && f < 1<<63 && f == math.Trunc(f) {
		e.integer(int64(f))
		return
	}
	if math.IsInf(f, 0) || (math.Abs(f) <= math.MaxFloat32 && float64(float32(f)) == f) {
		e.buf = binary.BigEndian.AppendUint32(append(e.buf, 0xca), math.Float32bits(float32(f)))
		return
	}
	e.buf = binary.BigEndian.AppendUint64(append(e.buf, 0xcb), math.Float64bits(f))
}

func (e *cmsgpackEncoder) integer(n int64) {
	b := e.buf
	switch {
	case n >= 0 && n <= math.MaxInt8:
		b = append(b, byte(n)) // positive fixint
	case n >= 0 && n <= math.MaxUint8:
		b = append(b, 0xcc, byte(n))
	case n >= 0 && n <= math.MaxUint16:
		b = binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
	case n >= 0 && n <= math.MaxUint32:
		b = binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
	case n >= 0:
		b = binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
	case n >= -32:
		b = append(b, byte(n)) // negative fixint
	case n >= math.MinInt8:
		b = append(b, 0xd0, byte(n))
	case n >= math.MinInt16:
		b = binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(n))
	case n >= math.MinInt32:
		b = binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
	}
	e.buf = b
}

// table packs t at level, or copies what packing it there gave before.
func (e *cmsgpackEncoder) table(t *lua.LTable, level int) {
	at := cmsgpackTableAt{t, level}
	if sp, ok := e.done[at]; ok {
		e.checkGrow(sp.n)
		e.buf = append(e.buf, e.buf[sp.off:sp.off+sp.n]...)
		return
	}
	off := len(e.buf)
	e.tableContents(t, level)
	if len(e.buf) >= cmsgpackDoneFrom {
		if e.done == nil {
			e.done = make(map[cmsgpackTableAt]cmsgpackSpan)
		}
		e.done[at] = cmsgpackSpan{off, len(e.buf) - off}
	}
}

// tableContents packs t as an array when its keys are exactly 1..n (so an
// empty table is an empty array), else as a map. It walks t once with
// Next, never ForEach: gopher-lua's ForEach walks Go maps in random order,
// Next in insertion order. The pairs wait in e.kv, which nested tables
// extend and then cut back.
func (e *cmsgpackEncoder) tableContents(t *lua.LTable, level int) {
	base := len(e.kv)
	count, max, array := 0, 0, true
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		e.kv = append(e.kv, k, v)
		count++
		if array {
			var n int
			n, array = cmsgpackIndex(k)
			if n > max {
				max = n
			}
		}
	}
	if array && count == max {
		e.kv = e.kv[:base]
		e.header(0x90, 15, 0, 0xdc, 0xdd, count)
		for i := 1; i <= count; i++ {
			e.value(t.RawGetInt(i), level+1)
		}
		return
	}
	e.header(0x80, 15, 0, 0xde, 0xdf, count)
	for i := base; i < base+2*count; i += 2 {
		e.value(e.kv[i], level+1)
		e.value(e.kv[i+1], level+1)
	}
	e.kv = e.kv[:base]
}

// cmsgpackIndex is lua-cmsgpack's test for an array key: a positive
// integral number that fits a C int. A table is an array when all its keys
// pass and there are as many as the largest.
func cmsgpackIndex(k lua.LValue) (int, bool) {
	n, ok := k.(lua.LNumber)
	if !ok || n <= 0 || n > math.MaxInt32 || float64(n) != math.Trunc(float64(n)) {
		return 0, false
	}
	return int(n), true
}

// ---- unpack ------------------------------------------------------------------

// cmsgpackUnpack returns every value in the string.
func cmsgpackUnpack(L *lua.LState) int {
	return cmsgpackUnpackFull(L, 0, 0, L.GetTop())
}

// cmsgpackUnpackOne returns the offset after the first value at offset
// (-1 at the end of the string), then that value.
func cmsgpackUnpackOne(L *lua.LState) int {
	offset := cmsgpackOptInt(L, 2)
	return cmsgpackUnpackFull(L, 1, offset, 1)
}

// cmsgpackUnpackLimit is unpack_one for up to limit values; a limit and
// offset of 0 behave as unpack, returning no offset.
func cmsgpackUnpackLimit(L *lua.LState) int {
	limit := cmsgpackIntArg(L, 2)
	offset := cmsgpackOptInt(L, 3)
	return cmsgpackUnpackFull(L, limit, offset, 1)
}

// cmsgpackIntArg is luaL_checkinteger: a number or numeric string,
// truncated; out of range gives what the x86-64 conversion gives.
func cmsgpackIntArg(L *lua.LState, i int) int64 {
	f := float64(L.CheckNumber(i))
	if f >= -(1<<63) && f < 1<<63 {
		return int64(f)
	}
	return math.MinInt64
}

func cmsgpackOptInt(L *lua.LState, i int) int64 {
	if L.Get(i) == lua.LNil {
		return 0
	}
	return cmsgpackIntArg(L, i)
}

// cmsgpackUnpackFull decodes up to limit values from offset on; limit and
// offset both 0 mean all values and no offset returned. top is how many
// stack slots lua-cmsgpack's C function has in use before decoding.
func cmsgpackUnpackFull(L *lua.LState, limit, offset int64, top int) int {
	s := L.CheckString(1)
	if offset < 0 || limit < 0 {
		// lua-cmsgpack reports the input length as the limit.
		L.RaiseError("Invalid request to unpack with offset of %d and limit of %d.", int32(offset), int32(len(s)))
	}
	if offset > int64(len(s)) {
		L.RaiseError("Start offset %d greater than input length %d.", int32(offset), int32(len(s)))
	}
	all := limit == 0 && offset == 0
	if all {
		limit = math.MaxInt32
	}
	d := cmsgpackDecoder{L: L, s: s, pos: int(offset), top: top}
	var vals []lua.LValue
	for n := int64(0); d.pos < len(s) && n < limit; n++ {
		vals = append(vals, d.value())
	}
	if !all {
		d.checkStack("in function mp_unpack_full")
		next := lua.LNumber(d.pos)
		if d.pos == len(s) {
			next = -1
		}
		L.Push(next)
	}
	for _, v := range vals {
		L.Push(v)
	}
	if !all {
		return len(vals) + 1
	}
	return len(vals)
}

type cmsgpackDecoder struct {
	L   *lua.LState
	s   string
	pos int
	// top counts the stack slots lua-cmsgpack would use at this point,
	// to fail where it fails. It also bounds the recursion on hostile
	// input to about cmsgpackMaxStack/2 levels.
	top int
}

// need fails unless n more bytes follow pos.
func (d *cmsgpackDecoder) need(n int) {
	if len(d.s)-d.pos < n {
		d.L.RaiseError(cmsgpackErrEOF)
	}
}

// checkStack is luaL_checkstack(L, 1, what).
func (d *cmsgpackDecoder) checkStack(what string) {
	if d.top+1 > cmsgpackMaxStack {
		d.L.RaiseError("stack overflow (%s)", what)
	}
}

// uint reads an n-byte big-endian length or number after the type byte.
func (d *cmsgpackDecoder) uint(n int) uint64 {
	d.need(1 + n)
	var u uint64
	for _, c := range []byte(d.s[d.pos+1 : d.pos+1+n]) {
		u = u<<8 | uint64(c)
	}
	return u
}

// value decodes the value at pos, leaving one more slot in use.
func (d *cmsgpackDecoder) value() lua.LValue {
	d.need(1)
	d.checkStack(cmsgpackErrValues)
	c := d.s[d.pos]
	switch {
	case c <= 0x7f: // positive fixint
		d.pos++
		d.top++
		return lua.LNumber(c)
	case c >= 0xe0: // negative fixint
		d.pos++
		d.top++
		return lua.LNumber(int8(c))
	case c&0xe0 == 0xa0: // fixstr
		return d.str(0, uint64(c&0x1f))
	case c&0xf0 == 0x90: // fixarray
		d.pos++
		return d.array(uint64(c & 0x0f))
	case c&0xf0 == 0x80: // fixmap
		d.pos++
		return d.hash(uint64(c & 0x0f))
	}
	var v lua.LValue
	switch c {
	case 0xc0:
		v, d.pos = lua.LNil, d.pos+1
	case 0xc2:
		v, d.pos = lua.LFalse, d.pos+1
	case 0xc3:
		v, d.pos = lua.LTrue, d.pos+1
	case 0xcc, 0xcd, 0xce: // uint 8, 16, 32
		n := 1 << (c - 0xcc)
		v, d.pos = lua.LNumber(d.uint(n)), d.pos+1+n
	case 0xcf, 0xd3: // uint 64, int 64
		// lua-cmsgpack pushes a uint64 through lua_pushinteger, so 2^63
		// and up wrap to negative, as int64 does.
		v, d.pos = lua.LNumber(int64(d.uint(8))), d.pos+9
	case 0xd0:
		v, d.pos = lua.LNumber(int8(d.uint(1))), d.pos+2
	case 0xd1:
		v, d.pos = lua.LNumber(int16(d.uint(2))), d.pos+3
	case 0xd2:
		v, d.pos = lua.LNumber(int32(d.uint(4))), d.pos+5
	case 0xca:
		v, d.pos = lua.LNumber(math.Float32frombits(uint32(d.uint(4)))), d.pos+5
	case 0xcb:
		v, d.pos = lua.LNumber(math.Float64frombits(d.uint(8))), d.pos+9
	case 0xd9, 0xda, 0xdb: // str 8, 16, 32
		n := 1 << (c - 0xd9)
		return d.str(n, d.uint(n))
	case 0xc4, 0xc5, 0xc6: // bin 8, 16, 32, read as strings; lua-cmsgpack 0.4.0 has them bad data
		n := 1 << (c - 0xc4)
		return d.str(n, d.uint(n))
	case 0xdc, 0xdd: // array 16, 32
		n := 2 << (c - 0xdc)
		l := d.uint(n)
		d.pos += 1 + n
		return d.array(l)
	case 0xde, 0xdf: // map 16, 32
		n := 2 << (c - 0xde)
		l := d.uint(n)
		d.pos += 1 + n
		return d.hash(l)
	default: // 0xc1 (never used) and the ext types
		d.L.RaiseError(cmsgpackErrFormat)
	}
	d.top++
	return v
}

// str decodes a string whose l bytes follow the type byte and an n-byte
// length.
func (d *cmsgpackDecoder) str(n int, l uint64) lua.LValue {
	start := d.pos + 1 + n
	if uint64(len(d.s)-start) < l {
		d.L.RaiseError(cmsgpackErrEOF)
	}
	d.pos = start + int(l)
	d.top++
	return lua.LString(d.s[start:d.pos])
}

// array decodes n values into t[1..n]. Tables are sized from n only up to
// a few slots, since the input may lie about n and nest such claims.
func (d *cmsgpackDecoder) array(n uint64) lua.LValue {
	t := d.L.CreateTable(int(min(n, uint64(len(d.s)-d.pos), 64)), 0)
	d.top++ // the table
	d.checkStack("in function mp_decode_to_lua_array")
	for i := uint64(1); i <= n; i++ {
		d.top++ // the index
		v := d.value()
		d.top -= 2
		if v != lua.LNil {
			t.RawSet(lua.LNumber(i), v)
		}
	}
	return t
}

// hash decodes n key/value pairs. Keys are set as lua_settable sets them:
// nil and NaN keys fail, a nil value only removes an earlier duplicate.
func (d *cmsgpackDecoder) hash(n uint64) lua.LValue {
	t := d.L.CreateTable(0, int(min(n, uint64(len(d.s)-d.pos)/2, 16)))
	d.top++ // the table
	for ; n > 0; n-- {
		k := d.value()
		v := d.value()
		d.top -= 2
		switch k := k.(type) {
		case *lua.LNilType:
			d.L.RaiseError("table index is nil")
		case lua.LNumber:
			if math.IsNaN(float64(k)) {
				d.L.RaiseError("table index is NaN")
			}
		}
		if v == lua.LNil && t.RawGet(k) == lua.LNil {
			continue // gopher-lua would pad its array part up to k
		}
		t.RawSet(k, v)
	}
	return t
}
