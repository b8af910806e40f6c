package raftfsm

import (
	"math"
	"math/bits"

	lua "github.com/yuin/gopher-lua"
)

// The bit library Redis gives scripts: LuaBitOp 1.0. Every operation works
// on 32 bits and returns a signed 32-bit number.

// openBit sets the global table bit, its functions added in a fixed order
// because pairs(bit) is visible to scripts on every replica.
func openBit(L *lua.LState) {
	shift := func(op func(b uint32, n int) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			b, n := bitArg(L, 1), int(bitArg(L, 2)&31)
			return bitRet(L, op(b, n))
		}
	}
	fold := func(op func(a, b uint32) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			b := bitArg(L, 1)
			for i := L.GetTop(); i > 1; i-- {
				b = op(b, bitArg(L, i))
			}
			return bitRet(L, b)
		}
	}
	mod := L.NewTable()
	for _, f := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{"tobit", func(L *lua.LState) int { return bitRet(L, bitArg(L, 1)) }},
		{"bnot", func(L *lua.LState) int { return bitRet(L, ^bitArg(L, 1)) }},
		{"band", fold(func(a, b uint32) uint32 { return a & b })},
		{"bor", fold(func(a, b uint32) uint32 { return a | b })},
		{"bxor", fold(func(a, b uint32) uint32 { return a ^ b })},
		{"lshift", shift(func(b uint32, n int) uint32 { return b << n })},
		{"rshift", shift(func(b uint32, n int) uint32 { return b >> n })},
		{"arshift", shift(func(b uint32, n int) uint32 { return uint32(int32(b) >> n) })},
		{"rol", shift(func(b uint32, n int) uint32 { return bits.RotateLeft32(b, n) })},
		{"ror", shift(func(b uint32, n int) uint32 { return bits.RotateLeft32(b, -n) })},
		{"bswap", func(L *lua.LState) int { return bitRet(L, bits.ReverseBytes32(bitArg(L, 1))) }},
		{"tohex", bitToHex},
	} {
		mod.RawSetString(f.name, L.NewFunction(f.fn))
	}
	L.SetGlobal("bit", mod)
}

// bitArg reads argument i as LuaBitOp does: adding 2^52+2^51 makes the
// double's low mantissa bits hold the number rounded to an integer, so the
// low 32 bits are that integer modulo 2^32. Numeric strings are accepted,
// like lua_tonumber.
func bitArg(L *lua.LState, i int) uint32 {
	n := float64(L.CheckNumber(i))
	return uint32(math.Float64bits(n + 6755399441055744.0))
}

func bitRet(L *lua.LState, b uint32) int {
	L.Push(lua.LNumber(int32(b)))
	return 1
}

// bitToHex: n digits (default 8, at most 8), upper case when n < 0.
func bitToHex(L *lua.LState) int {
	b := bitArg(L, 1)
	n := int32(8)
	if L.GetTop() >= 2 {
		n = int32(bitArg(L, 2))
	}
	digits := "0123456789abcdef"
	if n < 0 {
		n, digits = -n, "0123456789ABCDEF"
	}
	// n == 0 gives "", as in LuaBitOp; so does MinInt32, whose negation
	// overflows.
	n = max(min(n, 8), 0)
	buf := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		buf[i] = digits[b&15]
		b >>= 4
	}
	L.Push(lua.LString(buf))
	return 1
}
