package raftfsm

import (
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// newLibState is a bare interpreter with the standard libraries scripts
// get plus cjson and bit.
func newLibState(t *testing.T) *lua.LState {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	t.Cleanup(L.Close)
	openStdLibs(L)
	openCJSON(L, &cjsonConfig{})
	openBit(L)
	L.SetGlobal("ud", L.NewUserData())
	return L
}

// luaEval runs code (which should return one value) and fails the test on
// a Go panic inside a library function, which gopher-lua reports as an
// ApiErrorPanic rather than a Lua error.
func luaEval(t *testing.T, L *lua.LState, code string) (lua.LValue, error) {
	t.Helper()
	top := L.GetTop()
	err := L.DoString(code)
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.Type != lua.ApiErrorRun {
		t.Fatalf("%s: not a Lua error: %v", code, err)
	}
	if err != nil {
		L.SetTop(top)
		return nil, err
	}
	v := L.Get(-1)
	L.SetTop(top)
	return v, nil
}

// luaCases checks that each snippet returns a value printing as want.
func luaCases(t *testing.T, cases [][2]string) {
	t.Helper()
	L := newLibState(t)
	for _, c := range cases {
		v, err := luaEval(t, L, c[0])
		if err != nil {
			t.Errorf("%s: %v", c[0], err)
		} else if v.String() != c[1] {
			t.Errorf("%s = %q, want %q", c[0], v.String(), c[1])
		}
	}
}

// luaErrCases checks that each snippet fails with a message containing want.
func luaErrCases(t *testing.T, cases [][2]string) {
	t.Helper()
	L := newLibState(t)
	for _, c := range cases {
		if _, err := luaEval(t, L, c[0]); err == nil {
			t.Errorf("%s: no error, want %q", c[0], c[1])
		} else if !strings.Contains(err.Error(), c[1]) {
			t.Errorf("%s: error %q, want %q", c[0], err, c[1])
		}
	}
}

func TestCJSONEncode(t *testing.T) {
	luaCases(t, [][2]string{
		{`return cjson.encode(nil)`, `null`},
		{`return cjson.encode(cjson.null)`, `null`},
		{`return cjson.encode(true) .. cjson.encode(false)`, `truefalse`},
		{`return cjson.encode(1)`, `1`},
		{`return cjson.encode(-1)`, `-1`},
		{`return cjson.encode(1.5)`, `1.5`},
		{`return cjson.encode(0.1)`, `0.1`},
		{`return cjson.encode(1e20)`, `1e+20`},
		{`return cjson.encode(1e-5)`, `1e-05`},
		{`return cjson.encode(-0.0)`, `-0`},
		{`return cjson.encode(1/3)`, `0.33333333333333`},
		{`return cjson.encode(123456789012)`, `123456789012`},
		{`return cjson.encode(99999999999999)`, `99999999999999`},
		// "%.14g" switches to an exponent at 15 digits, as lua-cjson does.
		{`return cjson.encode(1e14)`, `1e+14`},
		{`return cjson.encode(123456789012345)`, `1.2345678901234e+14`},
		{`return cjson.encode("")`, `""`},
		{`return cjson.encode("a\"b\\c/d")`, `"a\"b\\c\/d"`},
		{`return cjson.encode("\b\f\n\r\t\1\31\127 ~")`, `"\b\f\n\r\t\u0001\u001f\u007f ~"`},
		{`return cjson.encode("\0")`, `"\u0000"`},
		{`return cjson.encode("é😀\255")`, "\"é😀\xff\""},
		{`return cjson.encode({})`, `{}`},
		{`return cjson.encode({1, 2, 3})`, `[1,2,3]`},
		{`return cjson.encode({"a", {}, {{}}})`, `["a",{},[{}]]`},
		{`return cjson.encode({1, nil, 3})`, `[1,null,3]`},
		{`return cjson.encode({[1] = 1, [3] = 3})`, `[1,null,3]`},
		{`return cjson.encode({[10] = 1})`, `[null,null,null,null,null,null,null,null,null,1]`},
		{`return cjson.encode({cjson.null, false})`, `[null,false]`},
		{`return cjson.encode({a = 1})`, `{"a":1}`},
		{`return cjson.encode({a = cjson.null})`, `{"a":null}`},
		{`return cjson.encode({[0] = 1})`, `{"0":1}`},
		{`return cjson.encode({[-1] = 1})`, `{"-1":1}`},
		{`return cjson.encode({[1.5] = 1})`, `{"1.5":1}`},
		{`return cjson.encode({1, 2, a = 3})`, `{"1":1,"2":2,"a":3}`},
		{`return cjson.encode({["/"] = "\n"})`, `{"\/":"\n"}`},
		{`return cjson.encode({a = {b = {1, 2, {c = "d"}}}})`, `{"a":{"b":[1,2,{"c":"d"}]}}`},
		// Keys come out in insertion order, not Go map order.
		{`local t = {} t.z = 1 t.a = 2 t.m = 3 t[0.5] = 4 t.b = 5 return cjson.encode(t)`,
			`{"z":1,"a":2,"m":3,"0.5":4,"b":5}`},
		// Metatables are ignored, as lua-cjson reads raw.
		{`return cjson.encode(setmetatable({}, {__index = function() return 1 end}))`, `{}`},
	})
}

func TestCJSONDecode(t *testing.T) {
	luaCases(t, [][2]string{
		{`return cjson.decode("1")`, `1`},
		{`return cjson.decode(" \t\r\n -1.5e2 ")`, `-150`},
		{`return cjson.decode("0.1")`, `0.1`},
		{`return cjson.decode("1E+2")`, `100`},
		{`return cjson.decode("1e20") == 1e20`, `true`},
		{`return cjson.decode("true")`, `true`},
		{`return cjson.decode("false")`, `false`},
		{`return cjson.decode("null") == cjson.null`, `true`},
		{`return cjson.decode('"x"')`, `x`},
		{`return cjson.decode(12)`, `12`},
		{`return cjson.decode([["a\"\\\/\b\f\n\r\t"]])`, "a\"\\/\b\f\n\r\t"},
		{`return cjson.decode([["\u0041\u00e9\u20AC\ud83d\ude00"]])`, "Aé€😀"},
		{`return cjson.decode([["\u0000"]]) == "\0"`, `true`},
		{`return cjson.decode('"raw\1\255"') == "raw\1\255"`, `true`},
		{`local t = cjson.decode("[1,2,3]") return #t .. t[1] .. t[3]`, `313`},
		{`local t = cjson.decode("[]") return next(t) == nil`, `true`},
		{`local t = cjson.decode('{"a":[1,{"b":null}],"c":{}}') return t.a[2].b == cjson.null and next(t.c) == nil`, `true`},
		{`local t = cjson.decode('{"1":2}') return t["1"] .. tostring(t[1])`, `2nil`},
		{`local t = cjson.decode('{"a":1,"a":2}') return t.a`, `2`},
		{`local t = cjson.decode("[null]") return #t == 1 and t[1] == cjson.null`, `true`},
		// strtod leniency lua-cjson keeps by default (decode_invalid_numbers).
		{`return cjson.decode("0012")`, `12`},
		{`return cjson.decode("+3")`, `3`},
		{`return cjson.decode("-.5")`, `-0.5`},
		{`return cjson.decode("2.")`, `2`},
		{`return cjson.decode("0x1F")`, `31`},
		{`return cjson.decode("-0x10")`, `-16`},
		// (gopher-lua's math.huge is the largest float, not infinity.)
		{`local t = cjson.decode("[-Infinity, inf, 1e400]") return t[1] == -1/0 and t[2] == 1/0 and t[3] == 1/0`, `true`},
		{`local n = cjson.decode("NaN") return n ~= n`, `true`},
		// lua-cjson reads a C string: a NUL ends the input.
		{`return #cjson.decode("[1]\0junk")`, `1`},
	})
}

func TestCJSONRoundTrip(t *testing.T) {
	L := newLibState(t)
	for _, s := range []string{
		`null`, `true`, `0`, `-1`, `1.5`, `1e+20`, `0.1`, `"a\/b\"c\\\n\u0001"`, `"é€😀"`,
		`[1,2,3]`, `{"a":1}`, `{}`, `[{},[{}]]`, `[null,1,null]`,
		`{"z":[1,{"y":null,"x":[true,false]}],"a":"b","m":{"n":{"o":-2.25}}}`,
	} {
		v, err := luaEval(t, L, fmt.Sprintf(`return cjson.encode(cjson.decode(%q))`, s))
		if err != nil || v.String() != s {
			t.Errorf("round trip %s = %v, %v", s, v, err)
		}
	}
	// An empty JSON array comes back as an object, as in lua-cjson.
	if v, _ := luaEval(t, L, `return cjson.encode(cjson.decode("[]"))`); v.String() != "{}" {
		t.Errorf("[] round trip = %v", v)
	}
	// Many keys, fresh states: always the same bytes.
	code := `local t = {} for i = 1, 200 do t["k" .. (i * 7919 % 1000)] = i end return cjson.encode(t)`
	first, _ := luaEval(t, L, code)
	for i := 0; i < 5; i++ {
		if v, _ := luaEval(t, newLibState(t), code); v.String() != first.String() {
			t.Fatalf("encoding differs between runs")
		}
	}
}

func TestCJSONNesting(t *testing.T) {
	luaCases(t, [][2]string{
		{`local t = {} for i = 1, 999 do t = {t} end return #cjson.encode(t)`, `2000`},
		{`return #cjson.decode(string.rep("[", 1000) .. string.rep("]", 1000))`, `1`},
	})
	luaErrCases(t, [][2]string{
		{`local t = {} for i = 1, 1000 do t = {t} end return cjson.encode(t)`, `Cannot serialise, excessive nesting (1001)`},
		{`local t = {} t.t = t return cjson.encode(t)`, `Cannot serialise, excessive nesting (1001)`},
		{`return cjson.decode(string.rep("[", 1001) .. string.rep("]", 1001))`,
			`Found too many nested data structures (1001) at character 1001`},
		{`return cjson.decode(string.rep('{"a":', 1001))`, `Found too many nested data structures (1001)`},
	})
}

func TestCJSONErrors(t *testing.T) {
	luaErrCases(t, [][2]string{
		{`return cjson.encode(function() end)`, `Cannot serialise function: type not supported`},
		{`return cjson.encode({f = print})`, `Cannot serialise function: type not supported`},
		{`return cjson.encode(ud)`, `Cannot serialise userdata: type not supported`},
		{`return cjson.encode({[true] = 1})`, `Cannot serialise boolean: table key must be a number or string`},
		{`return cjson.encode({[{}] = 1})`, `Cannot serialise table: table key must be a number or string`},
		{`return cjson.encode(1/0)`, `Cannot serialise number: must not be NaN or Inf`},
		{`return cjson.encode({0/0})`, `Cannot serialise number: must not be NaN or Inf`},
		{`return cjson.encode({[1] = 1, [20] = 2})`, `Cannot serialise table: excessively sparse array`},
		{`return cjson.encode()`, `expected 1 argument`},
		{`return cjson.encode(1, 2)`, `expected 1 argument`},
		{`return cjson.decode()`, `expected 1 argument`},
		{`return cjson.decode({})`, `string expected, got table`},
		{`return cjson.decode("")`, `Expected value but found T_END at character 1`},
		{`return cjson.decode("   ")`, `Expected value but found T_END at character 4`},
		{`return cjson.decode("x")`, `Expected value but found invalid token at character 1`},
		{`return cjson.decode("tru")`, `Expected value but found invalid token at character 1`},
		{`return cjson.decode(".5")`, `Expected value but found invalid token at character 1`},
		{`return cjson.decode("-")`, `Expected value but found invalid number at character 1`},
		{`return cjson.decode("+x")`, `Expected value but found invalid number at character 1`},
		{`return cjson.decode("[1,]")`, `Expected value but found T_ARR_END at character 4`},
		{`return cjson.decode("[1 2]")`, `Expected comma or array end but found T_NUMBER at character 4`},
		{`return cjson.decode("[1")`, `Expected comma or array end but found T_END at character 3`},
		{`return cjson.decode('{"a" 1}')`, `Expected colon but found T_NUMBER at character 6`},
		{`return cjson.decode('{1:2}')`, `Expected object key string but found T_NUMBER at character 2`},
		{`return cjson.decode('{"a":1,}')`, `Expected object key string but found T_OBJ_END at character 8`},
		{`return cjson.decode('{"a":1 "b":2}')`, `Expected comma or object end but found T_STRING at character 8`},
		{`return cjson.decode(']')`, `Expected value but found T_ARR_END at character 1`},
		{`return cjson.decode('[1] x')`, `Expected the end but found invalid token at character 5`},
		{`return cjson.decode('1 2')`, `Expected the end but found T_NUMBER at character 3`},
		{`return cjson.decode('"abc')`, `Expected value but found unexpected end of string at character 5`},
		{`return cjson.decode([["a\x"]])`, `Expected value but found invalid escape code at character 3`},
		{`return cjson.decode('"\\')`, `invalid escape code at character 2`},
		{`return cjson.decode([["\ud800"]])`, `Expected value but found invalid unicode escape code at character 2`},
		{`return cjson.decode([["\ud800\u0041"]])`, `invalid unicode escape code`},
		{`return cjson.decode([["\udc00"]])`, `invalid unicode escape code`},
		{`return cjson.decode([["\u12"]])`, `invalid unicode escape code`},
		{`return cjson.decode([["\u+123"]])`, `invalid unicode escape code`},
		{`return cjson.decode("\0[1]")`, `JSON parser does not support UTF-16 or UTF-32`},
		{`return cjson.decode("[\0")`, `JSON parser does not support UTF-16 or UTF-32`},
		{`return cjson.decode("[1,\0]")`, `Expected value but found T_END at character 4`},
	})
}

func TestCJSONConfig(t *testing.T) {
	luaCases(t, [][2]string{
		{`return cjson.encode_max_depth(5)`, `5`},
		{`return cjson.decode_max_depth()`, `1000`},
		{`return cjson.encode_number_precision(3)`, `14`},
		{`return cjson.encode_keep_buffer(false)`, `true`},
		{`return cjson.encode_invalid_numbers("null")`, `null`},
		{`return cjson.decode_invalid_numbers("off")`, `true`},
		{`local c, r, s = cjson.encode_sparse_array(true, 3, 20) return tostring(c) .. r .. s`, `false210`},
		// Other settings are accepted but not applied (see lua_cjson.go).
		{`cjson.encode_number_precision(3) return cjson.encode(0.123456)`, `0.123456`},
		{`return cjson._NAME .. " " .. cjson._VERSION`, `cjson 2.1.0`},
		{`return cjson.null == cjson.null and cjson.null ~= nil and type(cjson.null)`, `userdata`},
	})
	luaErrCases(t, [][2]string{
		{`return cjson.encode_max_depth("x")`, `number expected`},
		{`return cjson.encode_max_depth(0)`, `expected integer between 1 and 2147483647`},
		{`return cjson.decode_max_depth(1, 2)`, `found too many arguments`},
		{`return cjson.encode_number_precision(15)`, `expected integer between 1 and 14`},
		{`return cjson.encode_keep_buffer("maybe")`, `invalid option 'maybe'`},
		{`return cjson.encode_invalid_numbers({})`, `string expected`},
		{`return cjson.decode_invalid_numbers("null")`, `invalid option 'null'`},
		{`return cjson.encode_sparse_array(true, -1)`, `expected integer between 0`},
		{`return cjson.encode_sparse_array(true, 1, 2, 3)`, `found too many arguments`},
	})
}

func TestBit(t *testing.T) {
	luaCases(t, [][2]string{
		{`return bit.tobit(0xffffffff)`, `-1`},
		{`return bit.tobit(0xffffffff + 1)`, `0`},
		{`return bit.tobit(2^40 + 1234)`, `1234`},
		{`return bit.tobit(-2^31 - 1)`, `2147483647`},
		{`return bit.tobit(1.5) .. bit.tobit(2.5) .. bit.tobit(-1.5)`, `22-2`}, // round half to even
		{`return bit.tobit("10")`, `10`},
		{`return bit.tohex(1)`, `00000001`},
		{`return bit.tohex(65535)`, `0000ffff`},
		{`return bit.tohex(-1)`, `ffffffff`},
		{`return bit.tohex(-1, -4)`, `FFFF`},
		{`return bit.tohex(-1, -8)`, `FFFFFFFF`},
		{`return bit.tohex(0x21, 4)`, `0021`},
		{`return bit.tohex(0x87654321, 4)`, `4321`},
		{`return bit.tohex(0x87654321, 20)`, `87654321`},
		{`return bit.tohex(1, 0)`, ``},
		{`return bit.bnot(0)`, `-1`},
		{`return bit.tohex(bit.bnot(0x12345678))`, `edcba987`},
		{`return bit.band(0xff, 0x0f)`, `15`},
		{`return bit.band(0x12345678, 0xff)`, `120`},
		{`return bit.band(-1)`, `-1`},
		{`return bit.bor(1, 2, 4, 8)`, `15`},
		{`return bit.tohex(bit.bxor(0xa5a5f0f0, 0xaa55ff00))`, `0ff00ff0`},
		{`return bit.bxor(0xff, 0x0f, 1)`, `241`},
		{`return bit.lshift(1, 31)`, `-2147483648`},
		{`return bit.lshift(1, 8) .. " " .. bit.lshift(1, 40) .. " " .. bit.lshift(1, 32)`, `256 256 1`},
		{`return bit.tohex(bit.lshift(0x87654321, 12))`, `54321000`},
		{`return bit.rshift(-1, 28)`, `15`},
		{`return bit.rshift(-256, 8)`, `16777215`},
		{`return bit.tohex(bit.rshift(0x87654321, 12))`, `00087654`},
		{`return bit.arshift(-256, 4)`, `-16`},
		{`return bit.arshift(-256, 8) .. " " .. bit.arshift(256, 8)`, `-1 1`},
		{`return bit.tohex(bit.arshift(0x87654321, 12))`, `fff87654`},
		{`return bit.rol(0x12345678, 12) == 0x45678123`, `true`},
		{`return bit.tohex(bit.ror(0x12345678, 12))`, `67812345`},
		{`return bit.rol(7, 0) .. " " .. bit.ror(7, 32)`, `7 7`},
		{`return bit.bswap(0x12345678) == 0x78563412`, `true`},
		{`return bit.tohex(bit.bswap(0xff))`, `ff000000`},
	})
}

// TestLuaLibsBadInput gives every function arguments it must refuse; each
// must fail with a Lua error (luaEval fails the test on a Go panic).
func TestLuaLibsBadInput(t *testing.T) {
	bad := map[string][]string{
		"cjson.encode":                  {``, `print`, `ud`, `{1, print}`, `1, 2`},
		"cjson.decode":                  {``, `{}`, `"{"`, `"[1,"`, `"\"\\u"`, `"nul"`, `"-"`},
		"cjson.encode_sparse_array":     {`"x"`, `true, "x"`, `true, -1`, `true, 1, -1`, `1, 2, 3, 4`},
		"cjson.encode_max_depth":        {`"x"`, `0`, `{}`, `1, 2`},
		"cjson.decode_max_depth":        {`"x"`, `-1`},
		"cjson.encode_number_precision": {`0`, `15`, `"x"`},
		"cjson.encode_keep_buffer":      {`"x"`, `{}`, `1, 2`},
		"cjson.encode_invalid_numbers":  {`"x"`, `print`},
		"cjson.decode_invalid_numbers":  {`"null"`, `{}`},
	}
	for _, f := range []string{"tobit", "tohex", "bnot", "band", "bor", "bxor", "lshift", "rshift", "arshift", "rol", "ror", "bswap"} {
		bad["bit."+f] = []string{``, `"x"`, `{}`, `nil`, `1, "x"`, `1, {}`}
	}
	bad["bit.tobit"] = []string{``, `"x"`, `{}`, `nil`, `print`}
	bad["bit.bnot"] = bad["bit.tobit"]
	bad["bit.bswap"] = bad["bit.tobit"]

	L := newLibState(t)
	// Every function of both libraries has bad inputs listed.
	for _, lib := range []string{"cjson", "bit"} {
		L.GetGlobal(lib).(*lua.LTable).ForEach(func(k, v lua.LValue) {
			if _, ok := v.(*lua.LFunction); ok && bad[lib+"."+k.String()] == nil {
				t.Errorf("no bad-input cases for %s.%s", lib, k)
			}
		})
	}
	for fn, argss := range bad {
		for _, args := range argss {
			code := fmt.Sprintf("return %s(%s)", fn, args)
			if _, err := luaEval(t, L, code); err == nil {
				t.Errorf("%s: no error", code)
			}
		}
	}
}

// TestCJSONDecodeGarbage feeds mutated JSON to decode: it may succeed or
// fail, but only with a Lua error, and what it accepts must re-encode.
func TestCJSONDecodeGarbage(t *testing.T) {
	L := newLibState(t)
	seed := `{"a":[1,-2.5e3,"x\u00e9\ud83d\ude00\n",true,false,null,{}],"b":{"c":[[]]}}`
	alphabet := []byte(`{}[]:,"\u0123456789abcdefxe+-.tnl ` + "\x00\xff")
	r := rand.New(rand.NewSource(1))
	f := L.GetGlobal("cjson").(*lua.LTable).RawGetString("decode")
	enc := L.GetGlobal("cjson").(*lua.LTable).RawGetString("encode")
	for i := 0; i < 20000; i++ {
		b := []byte(seed)
		for n := r.Intn(4) + 1; n > 0; n-- {
			switch p := r.Intn(len(b)); r.Intn(3) {
			case 0:
				b[p] = alphabet[r.Intn(len(alphabet))]
			case 1:
				b = append(b[:p], b[p+1:]...)
			default:
				b = append(b[:p], append([]byte{alphabet[r.Intn(len(alphabet))]}, b[p:]...)...)
			}
		}
		err := L.CallByParam(lua.P{Fn: f, NRet: 1, Protect: true}, lua.LString(b))
		var apiErr *lua.ApiError
		if errors.As(err, &apiErr) && apiErr.Type != lua.ApiErrorRun {
			t.Fatalf("decode(%q): %v", b, err)
		}
		if err != nil {
			continue
		}
		v := L.Get(-1)
		L.Pop(1)
		// NaN/Inf and sparse arrays are legitimately refused by encode.
		if err := L.CallByParam(lua.P{Fn: enc, NRet: 1, Protect: true}, v); err != nil {
			if errors.As(err, &apiErr) && apiErr.Type != lua.ApiErrorRun {
				t.Fatalf("encode(decode(%q)): %v", b, err)
			}
			continue
		}
		L.Pop(1)
	}
}
