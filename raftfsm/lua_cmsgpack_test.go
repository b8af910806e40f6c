package raftfsm

import (
	"errors"
	"math/rand"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// cmsgpackHelpers are Lua functions the tests use: hex and unhex convert
// strings, show renders all its arguments (tables with sorted keys).
const cmsgpackHelpers = `
function hex(s)
  return (string.gsub(s, ".", function(c) return string.format("%02x", string.byte(c)) end))
end
function unhex(h)
  h = string.gsub(h, " ", "")
  return (string.gsub(h, "%x%x", function(x) return string.char(tonumber(x, 16)) end))
end
local function less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end
function dump(v)
  if type(v) == "string" then return '"' .. v .. '"' end
  if type(v) ~= "table" then return tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, less)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = dump(k) .. "=" .. dump(v[k]) end
  return "{" .. table.concat(parts, ",") .. "}"
end
function show(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = dump((select(i, ...))) end
  return table.concat(parts, " ")
end
function deq(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not deq(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
`

// newCMsgpackState is a bare interpreter with the standard libraries
// scripts get, cmsgpack and the helpers above. Its registry may grow as
// the scripting VM's does, so thousands of results fit.
func newCMsgpackState(t *testing.T) *lua.LState {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: true, RegistrySize: 1024,
		RegistryMaxSize: 1 << 20, RegistryGrowStep: 1024})
	t.Cleanup(L.Close)
	openStdLibs(L)
	openCMsgpack(L)
	if err := L.DoString(cmsgpackHelpers); err != nil {
		t.Fatal(err)
	}
	return L
}

// cmsgpackEval runs code (which should return one value), failing the test
// on a Go panic inside a library function: gopher-lua reports those as
// something other than an ApiErrorRun.
func cmsgpackEval(t *testing.T, L *lua.LState, code string) (lua.LValue, error) {
	t.Helper()
	top := L.GetTop()
	defer L.SetTop(top)
	err := L.DoString(code)
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.Type != lua.ApiErrorRun {
		t.Fatalf("%s: not a Lua error: %v", code, err)
	}
	if err != nil {
		return nil, err
	}
	return L.Get(-1), nil
}

// cmsgpackCases checks that each snippet returns a value printing as want.
func cmsgpackCases(t *testing.T, L *lua.LState, cases [][2]string) {
	t.Helper()
	for _, c := range cases {
		v, err := cmsgpackEval(t, L, c[0])
		if err != nil {
			t.Errorf("%s: %v", c[0], err)
		} else if v.String() != c[1] {
			t.Errorf("%s = %q, want %q", c[0], v.String(), c[1])
		}
	}
}

// cmsgpackErrCases checks that each snippet fails with a message
// containing want.
func cmsgpackErrCases(t *testing.T, L *lua.LState, cases [][2]string) {
	t.Helper()
	for _, c := range cases {
		if v, err := cmsgpackEval(t, L, c[0]); err == nil {
			t.Errorf("%s: no error (returned %v), want %q", c[0], v, c[1])
		} else if !strings.Contains(err.Error(), c[1]) {
			t.Errorf("%s: error %q, want %q", c[0], err, c[1])
		}
	}
}

func TestCMsgpackPackBytes(t *testing.T) {
	L := newCMsgpackState(t)
	cases := []struct{ args, want string }{
		{`nil`, "\xc0"},
		{`true, false, nil`, "\xc3\xc2\xc0"},
		{`print`, "\xc0"},
		{`0`, "\x00"},
		{`-0.0`, "\x00"},
		{`1`, "\x01"},
		{`127`, "\x7f"},
		{`128`, "\xcc\x80"},
		{`255`, "\xcc\xff"},
		{`256`, "\xcd\x01\x00"},
		{`65535`, "\xcd\xff\xff"},
		{`65536`, "\xce\x00\x01\x00\x00"},
		{`4294967295`, "\xce\xff\xff\xff\xff"},
		{`4294967296`, "\xcf\x00\x00\x00\x01\x00\x00\x00\x00"},
		{`2^53`, "\xcf\x00\x20\x00\x00\x00\x00\x00\x00"},
		{`-1`, "\xff"},
		{`-32`, "\xe0"},
		{`-33`, "\xd0\xdf"},
		{`-128`, "\xd0\x80"},
		{`-129`, "\xd1\xff\x7f"},
		{`-32768`, "\xd1\x80\x00"},
		{`-32769`, "\xd2\xff\xff\x7f\xff"},
		{`-2147483648`, "\xd2\x80\x00\x00\x00"},
		{`-2147483649`, "\xd3\xff\xff\xff\xff\x7f\xff\xff\xff"},
		{`-1099511627776`, "\xd3\xff\xff\xff\x00\x00\x00\x00\x00"},
		{`-9007199254740991`, "\xd3\xff\xe0\x00\x00\x00\x00\x00\x01"},
		{`-2^63`, "\xd3\x80\x00\x00\x00\x00\x00\x00\x00"},
		// 2^63 is past int64 but exact as a float32.
		{`2^63`, "\xca\x5f\x00\x00\x00"},
		{`1.5`, "\xca\x3f\xc0\x00\x00"},
		{`-0.25`, "\xca\xbe\x80\x00\x00"},
		{`0.1`, "\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a"},
		{`1e300`, "\xcb\x7e\x37\xe4\x3c\x88\x00\x75\x9c"},
		{`1/0`, "\xca\x7f\x80\x00\x00"},
		{`-1/0`, "\xca\xff\x80\x00\x00"},
		{`""`, "\xa0"},
		{`"abc"`, "\xa3abc"},
		{`string.rep("x", 31)`, "\xbf" + strings.Repeat("x", 31)},
		{`string.rep("x", 32)`, "\xd9\x20" + strings.Repeat("x", 32)},
		{`string.rep("x", 255)`, "\xd9\xff" + strings.Repeat("x", 255)},
		{`string.rep("x", 256)`, "\xda\x01\x00" + strings.Repeat("x", 256)},
		{`string.rep("x", 65536)`, "\xdb\x00\x01\x00\x00" + strings.Repeat("x", 65536)},
		{`{}`, "\x90"},
		{`{x=nil}`, "\x90"},
		{`{1,2}`, "\x92\x01\x02"},
		{`{{}}`, "\x91\x90"},
		{`{print, "a"}`, "\x92\xc0\xa1a"},
		{`{a=1}`, "\x81\xa1a\x01"},
		{`{b=1, a=2}`, "\x82\xa1b\x01\xa1a\x02"},
		{`{1, a=2}`, "\x82\x01\x01\xa1a\x02"},
		{`{1, nil, 3}`, "\x82\x01\x01\x03\x03"},
		{`{[2]=true}`, "\x81\x02\xc3"},
		{`{[0]=true}`, "\x81\x00\xc3"},
		{`{[1.5]=1}`, "\x81\xca\x3f\xc0\x00\x00\x01"},
		{`{[true]=false}`, "\x81\xc3\xc2"},
		{`{[{}]=1}`, "\x81\x90\x01"},
		{`(function() local t = {} for i = 1, 15 do t[i] = i end return t end)()`,
			"\x9f\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"},
		{`(function() local t = {} for i = 1, 16 do t[i] = i end return t end)()`,
			"\xdc\x00\x10\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"},
		{`(function() local t = {} for i = 1, 16 do t[string.char(96 + i)] = true end return t end)()`,
			"\xde\x00\x10\xa1a\xc3\xa1b\xc3\xa1c\xc3\xa1d\xc3\xa1e\xc3\xa1f\xc3\xa1g\xc3\xa1h\xc3" +
				"\xa1i\xc3\xa1j\xc3\xa1k\xc3\xa1l\xc3\xa1m\xc3\xa1n\xc3\xa1o\xc3\xa1p\xc3"},
		{`1, "x", {2}`, "\x01\xa1x\x91\x02"},
	}
	for _, c := range cases {
		code := "return cmsgpack.pack(" + c.args + ")"
		v, err := cmsgpackEval(t, L, code)
		if err != nil {
			t.Errorf("%s: %v", code, err)
		} else if v.String() != c.want {
			t.Errorf("%s = %x, want %x", code, v.String(), c.want)
		}
	}
	// 65536 elements take the 32-bit headers.
	cmsgpackCases(t, L, [][2]string{
		{`local t = {} for i = 1, 65536 do t[i] = 0 end
		  return hex(string.sub(cmsgpack.pack(t), 1, 6))`, "dd0001000000"},
		{`local t = {} for i = 1, 65536 do t["k" .. i] = 0 end
		  return hex(string.sub(cmsgpack.pack(t), 1, 8))`, "df00010000a26b31"},
		{`return string.byte(cmsgpack.pack(0/0), 1)`, "203"},
		{`return #cmsgpack.pack(0/0)`, "9"},
	})
}

// TestCMsgpackRedisSuite has the cmsgpack cases of Redis 7.0's
// tests/unit/scripting.tcl.
func TestCMsgpackRedisSuite(t *testing.T) {
	L := newCMsgpackState(t)
	cmsgpackCases(t, L, [][2]string{
		{`return hex(cmsgpack.pack(0.1))`, "cb3fb999999999999a"},
		{`return cmsgpack.unpack(cmsgpack.pack(0.1)) == 0.1`, "true"},
		{`return hex(cmsgpack.pack(-1099511627776))`, "d3ffffff0000000000"},
		{`return cmsgpack.unpack(cmsgpack.pack(-1099511627776)) == -1099511627776`, "true"},
		{`local encoded = cmsgpack.pack({1,2,3}, {a=1})
		  local h, w = cmsgpack.unpack(encoded)
		  return show(h, w)`, `{1=1,2=2,3=3} {"a"=1}`},
		{`local a = {x=nil,y=5}
		  local b = {x=a}
		  a['x'] = b
		  local encoded = cmsgpack.pack(a)
		  local h = ""
		  for i = 1, #encoded do
		      h = h .. string.format("%02x",string.byte(encoded, i))
		  end
		  local re = cmsgpack.unpack(encoded)
		  assert(re)
		  assert(re.x)
		  assert(re.x.x.y == re.y)
		  assert(re.x.x.x.x.y == re.y)
		  assert(re.x.x.x.x.x.x.y == re.y)
		  assert(re.x.x.x.x.x.x.x.x.x.x.y == re.y)
		  assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.y == re.y)
		  assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x)
		  assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x == nil)
		  return h .. " " .. tostring(re.x.x.x.x.x.x.x.x.y == re.y) .. " " .. tostring(re.y == 5)`,
			strings.Repeat("82a17905a17881a178", 8) + "c0 true true"},
		{`local str_lt_32 = string.rep("x", 30)
		  local str_lt_255 = string.rep("x", 250)
		  local str_lt_65535 = string.rep("x", 65530)
		  local str_long = string.rep("x", 100000)
		  local array_lt_15 = {1, 2, 3, 4, 5}
		  local array_lt_65535 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}
		  local array_big = {}
		  for i=1, 100000 do
		      array_big[i] = i
		  end
		  local map_lt_15 = {a=1, b=2}
		  local map_big = {}
		  for i=1, 100000 do
		      map_big[tostring(i)] = i
		  end
		  local some_map = {
		      s1=str_lt_32, s2=str_lt_255, s3=str_lt_65535, s4=str_long,
		      d1=0.1, i1=1, i2=250, i3=65530, i4=100000, i5=2^40,
		      i6=-1, i7=-120, i8=-32000, i9=-1200000000,
		      b1=true, b2=false, n=nil,
		      a1=array_lt_15, a2=array_lt_65535, a3=array_big,
		      m1=map_lt_15, m2=map_big,
		  }
		  local encoded = cmsgpack.pack(some_map)
		  local decoded = cmsgpack.unpack(encoded)
		  assert(table.getn(decoded) == table.getn(some_map))
		  for k,v in pairs(decoded) do
		      if k == 'a1' or k == 'a2' or k == 'a3' or k == 'm1' or k == 'm2' then
		          assert(#decoded[k] == #some_map[k])
		          for kk,vv in ipairs(decoded[k]) do
		              assert(vv == some_map[k][kk])
		          end
		      else
		          assert(decoded[k] == some_map[k])
		      end
		  end
		  assert(deq(decoded, some_map))
		  return "OK"`, "OK"},
	})
}

func TestCMsgpackRoundTrip(t *testing.T) {
	L := newCMsgpackState(t)
	values := []string{
		`nil`, `true`, `false`, `0`, `1`, `-1`, `127`, `128`, `-32`, `-33`, `255`, `-128`, `-129`,
		`65535`, `65536`, `-32768`, `-32769`, `4294967295`, `4294967296`, `-2147483648`,
		`-2147483649`, `-9007199254740991`, `9007199254740991`, `-1099511627776`, `2^53`,
		`-2^63`, `2^63`, `2^64`, `0.1`, `-0.1`, `1.5`, `1e300`, `-1e-300`, `3.14159`, `1/0`, `-1/0`,
		`""`, `"abc"`, `"\0\1\255"`, `string.rep("ab", 100)`, `string.rep("x", 70000)`,
		`{}`, `{1, 2, 3}`, `{a = 1, b = {c = {d = "e"}}}`, `{1, {2, {3, {4}}}, x = {y = true}}`,
		`{[1.5] = "f", [-1] = "n", [0] = "z", [true] = false}`,
		`{[{1, 2}] = "tablekey"}`,
		`{1, nil, 3}`,
		`(function() local t = {} for i = 1, 1000 do t[i] = {i, tostring(i), i / 7} end return t end)()`,
		`(function() local t = {} for i = 1, 1000 do t["k" .. i] = {[i] = -i} end return t end)()`,
	}
	for _, v := range values {
		// dump compares tables by content; a table key only prints equal.
		code := `local v = ` + v + `
			local s = cmsgpack.pack(v)
			local w = cmsgpack.unpack(s)
			assert(cmsgpack.pack(w) == s, "repack differs")
			return dump(w) == dump(v)`
		cmsgpackCases(t, L, [][2]string{{code, "true"}})
	}
	// Several values in one string, and unpack returns them all.
	cmsgpackCases(t, L, [][2]string{
		{`return show(cmsgpack.unpack(cmsgpack.pack(1, "two", {3}, nil, false, {a = {}})))`,
			`1 "two" {1=3} nil false {"a"={}}`},
		{`return select("#", cmsgpack.unpack(cmsgpack.pack(nil, nil, nil)))`, "3"},
		{`return select("#", cmsgpack.unpack(""))`, "0"},
		{`return show(cmsgpack.unpack(cmsgpack.pack(-9007199254740991)))`, "-9007199254740991"},
		{`return cmsgpack.unpack(cmsgpack.pack(-9007199254740991)) == -9007199254740991`, "true"},
		{`local t = {} for i = 1, 4000 do t[i] = i end
		  return select("#", cmsgpack.unpack(cmsgpack.pack(unpack(t))))`, "4000"},
		{`return select("#", cmsgpack.unpack(string.rep("\1", 7999)))`, "7999"},
	})
}

// TestCMsgpackNesting: tables 16 deep are packed, deeper ones become nil,
// so a table holding itself packs to a finite string.
func TestCMsgpackNesting(t *testing.T) {
	L := newCMsgpackState(t)
	cmsgpackCases(t, L, [][2]string{
		{`local t = {} local cur = t
		  for i = 1, 20 do local n = {} cur[1] = n cur = n end
		  return hex(cmsgpack.pack(t))`, strings.Repeat("91", 16) + "c0"},
		{`local t = {} t[1] = t return hex(cmsgpack.pack(t))`, strings.Repeat("91", 16) + "c0"},
		{`local t = {} t.t = t return hex(cmsgpack.pack(t))`, strings.Repeat("81a174", 16) + "c0"},
		// A table as a key counts a level too.
		{`local t = {} t[t] = 1 return hex(cmsgpack.pack(t))`,
			strings.Repeat("81", 16) + "c0" + strings.Repeat("01", 16)},
		// The depth restarts with each argument.
		{`local t = {} t[1] = t return #cmsgpack.pack(t, t) == 34`, "true"},
		// Past 1MB, tables met again at a level are copied, not walked:
		// the bytes must be those of the walk.
		{`local a = {} a[1] = a a[2] = a a[3] = string.rep("y", 20)
		  local function enc(level)
		    if level == 16 then return "\192" end
		    local c = enc(level + 1)
		    return "\147" .. c .. c .. "\180" .. string.rep("y", 20)
		  end
		  local s = cmsgpack.pack(a)
		  return #s > 1048576 and s == enc(0) and cmsgpack.pack(a, a) == s .. s`, "true"},
		{`local x = {string.rep("x", 1000)} local t = {} for i = 1, 2000 do t[i] = x end
		  return cmsgpack.pack(t) == "\220\7\208" .. string.rep("\145\218\3\232" .. string.rep("x", 1000), 2000)`, "true"},
	})
}

func TestCMsgpackDecode(t *testing.T) {
	L := newCMsgpackState(t)
	cases := [][2]string{
		{"c0", "nil"}, {"c2", "false"}, {"c3", "true"},
		{"00", "0"}, {"7f", "127"}, {"e0", "-32"}, {"ff", "-1"},
		{"cc80", "128"}, {"ccff", "255"}, {"cd0100", "256"}, {"cdffff", "65535"},
		{"ce00010000", "65536"}, {"ceffffffff", "4294967295"},
		{"cf0000000100000000", "4294967296"},
		// lua-cmsgpack pushes uint64 as a signed integer.
		{"cfffffffffffffffff", "-1"},
		{"d0ff", "-1"}, {"d080", "-128"}, {"d07f", "127"},
		{"d1ff7f", "-129"}, {"d18000", "-32768"}, {"d17fff", "32767"},
		{"d2ffff7fff", "-32769"}, {"d280000000", "-2147483648"},
		{"d3ffffff0000000000", "-1099511627776"},
		{"d3ffe0000000000001", "-9007199254740991"},
		{"ca3fc00000", "1.5"}, {"cb3ff8000000000000", "1.5"}, {"cb3fb999999999999a", "0.1"},
		{"a0", `""`}, {"a3616263", `"abc"`}, {"d903616263", `"abc"`},
		{"da0003616263", `"abc"`}, {"db00000003616263", `"abc"`},
		{"c403616263", `"abc"`}, {"c50003616263", `"abc"`}, {"c600000003616263", `"abc"`},
		{"90", "{}"}, {"920102", "{1=1,2=2}"}, {"dc00020102", "{1=1,2=2}"},
		{"dd000000020102", "{1=1,2=2}"},
		{"93c001c0", "{2=1}"},
		{"80", "{}"}, {"81a16101", `{"a"=1}`}, {"de0001a16101", `{"a"=1}`},
		{"df00000001a16101", `{"a"=1}`},
		{"8201a16102a162", `{1="a",2="b"}`},
		{"81a161c0", "{}"},
		{"82a16101a161c0", "{}"},
		{"82a16101a16102", `{"a"=2}`},
		{"81c3c2", "{true=false}"},
		{"81ca3fc0000001", "{1.5=1}"},
		{"81ca3f80000001", "{1=1}"},
		{"81cd010001", "{256=1}"},
		{"9281a161919090", `{1={"a"={1={}}},2={}}`},
		{"01a178c3", `1 "x" true`},
		{"", ""},
	}
	for _, c := range cases {
		code := `return show(cmsgpack.unpack(unhex("` + c[0] + `")))`
		cmsgpackCases(t, L, [][2]string{{code, c[1]}})
	}
	cmsgpackCases(t, L, [][2]string{
		{`return cmsgpack.unpack(unhex("cf0020000000000001")) == 2^53`, "true"},
		{`return cmsgpack.unpack(unhex("cf8000000000000000")) == -2^63`, "true"},
		{`return cmsgpack.unpack(unhex("d38000000000000000")) == -2^63`, "true"},
		{`local n = cmsgpack.unpack(unhex("cb7ff8000000000000")) return n ~= n`, "true"},
		{`return cmsgpack.unpack(unhex("ca7f800000")) == 1/0`, "true"},
		{`local t = cmsgpack.unpack(unhex("8190a178")) local k = next(t) return type(k) .. t[k]`, "tablex"},
		// A number string is read as the bytes of its text: "12" is 0x31 0x32.
		{`return show(cmsgpack.unpack(12))`, "49 50"},
	})
}

func TestCMsgpackUnpackOffsets(t *testing.T) {
	L := newCMsgpackState(t)
	// s is 01 | a2 61 62 | 91 03: values at offsets 0, 1 and 4.
	if err := L.DoString(`s = cmsgpack.pack(1, "ab", {3})`); err != nil {
		t.Fatal(err)
	}
	cmsgpackCases(t, L, [][2]string{
		{`return #s`, "6"},
		{`return show(cmsgpack.unpack_one(s))`, "1 1"},
		{`return show(cmsgpack.unpack_one(s, 0))`, "1 1"},
		{`return show(cmsgpack.unpack_one(s, nil))`, "1 1"},
		{`return show(cmsgpack.unpack_one(s, 1))`, `4 "ab"`},
		{`return show(cmsgpack.unpack_one(s, 1.9))`, `4 "ab"`},
		{`return show(cmsgpack.unpack_one(s, "1"))`, `4 "ab"`},
		{`return show(cmsgpack.unpack_one(s, 4))`, "-1 {1=3}"},
		{`return show(cmsgpack.unpack_one(s, 6))`, "-1"},
		{`return show(cmsgpack.unpack_one(""))`, "-1"},
		{`return show(cmsgpack.unpack_limit(s, 1))`, "1 1"},
		{`return show(cmsgpack.unpack_limit(s, 2))`, `4 1 "ab"`},
		{`return show(cmsgpack.unpack_limit(s, 2, 1))`, `-1 "ab" {1=3}`},
		{`return show(cmsgpack.unpack_limit(s, 10))`, `-1 1 "ab" {1=3}`},
		{`return show(cmsgpack.unpack_limit(s, 10, 4))`, `-1 {1=3}`},
		// A limit and offset of 0 is unpack: all values, no offset.
		{`return show(cmsgpack.unpack_limit(s, 0))`, `1 "ab" {1=3}`},
		{`return show(cmsgpack.unpack_limit(s, 0, 1))`, "1"},
		{`return show(cmsgpack.unpack_limit(s, 0, 6))`, "-1"},
		{`return show(cmsgpack.unpack_limit(s, "2"))`, `4 1 "ab"`},
		// Extra arguments are ignored.
		{`return show(cmsgpack.unpack_one(s, 1, 2, 3))`, `4 "ab"`},
		{`return show(cmsgpack.unpack(s, 1, 2))`, `1 "ab" {1=3}`},
		// Walking a stream.
		{`local off, v, out = 0, nil, {}
		  repeat off, v = cmsgpack.unpack_one(s, off) out[#out + 1] = dump(v) until off == -1
		  return table.concat(out, " ")`, `1 "ab" {1=3}`},
	})
	cmsgpackErrCases(t, L, [][2]string{
		{`return cmsgpack.unpack_one(s, 7)`, "Start offset 7 greater than input length 6."},
		{`return cmsgpack.unpack_limit(s, 1, 100)`, "Start offset 100 greater than input length 6."},
		{`return cmsgpack.unpack_one(s, -1)`, "Invalid request to unpack with offset of -1 and limit of 6."},
		// lua-cmsgpack prints the input length as the limit.
		{`return cmsgpack.unpack_limit(s, -5)`, "Invalid request to unpack with offset of 0 and limit of 6."},
		{`return cmsgpack.unpack_limit(s)`, "bad argument #2"},
		{`return cmsgpack.unpack_limit(s, "x")`, "bad argument #2"},
		{`return cmsgpack.unpack_limit(s, 1, {})`, "bad argument #3"},
		{`return cmsgpack.unpack_one(s, {})`, "bad argument #2"},
		{`return cmsgpack.unpack_one()`, "bad argument #1"},
		{`return cmsgpack.unpack({})`, "bad argument #1"},
		{`return cmsgpack.unpack()`, "bad argument #1"},
		{`return cmsgpack.unpack_limit({}, 1)`, "bad argument #1"},
	})
	// An offset inside a value decodes from there: 0x61 is the fixint 97.
	cmsgpackCases(t, L, [][2]string{
		{`return show(cmsgpack.unpack_one(s, 2))`, `3 97`},
		{`return show(cmsgpack.unpack_one(s, 5))`, `-1 3`},
	})
}

func TestCMsgpackErrors(t *testing.T) {
	L := newCMsgpackState(t)
	bad := [][2]string{
		{"cc", "Missing bytes in input."}, {"cd00", "Missing bytes in input."},
		{"ce000000", "Missing bytes in input."}, {"cf", "Missing bytes in input."},
		{"cf00000000000000", "Missing bytes in input."},
		{"d0", "Missing bytes in input."}, {"d100", "Missing bytes in input."},
		{"d2000000", "Missing bytes in input."}, {"d300", "Missing bytes in input."},
		{"ca00", "Missing bytes in input."}, {"cb000000", "Missing bytes in input."},
		{"a36162", "Missing bytes in input."}, {"bf", "Missing bytes in input."},
		{"d9", "Missing bytes in input."}, {"d90361", "Missing bytes in input."},
		{"da00", "Missing bytes in input."}, {"da000361", "Missing bytes in input."},
		{"db000000", "Missing bytes in input."}, {"db0000000361", "Missing bytes in input."},
		{"dbffffffff", "Missing bytes in input."},
		{"c4", "Missing bytes in input."}, {"c40361", "Missing bytes in input."},
		{"c5ffff", "Missing bytes in input."}, {"c6ffffffff00", "Missing bytes in input."},
		{"9201", "Missing bytes in input."}, {"91", "Missing bytes in input."},
		{"dc00", "Missing bytes in input."}, {"dc000201", "Missing bytes in input."},
		{"dd000000", "Missing bytes in input."}, {"dd0000000201", "Missing bytes in input."},
		{"ddffffffff", "Missing bytes in input."},
		{"81", "Missing bytes in input."}, {"81a161", "Missing bytes in input."},
		{"de00", "Missing bytes in input."}, {"de0001a161", "Missing bytes in input."},
		{"df000000", "Missing bytes in input."}, {"dfffffffff01", "Missing bytes in input."},
		{"0102cc", "Missing bytes in input."},
		{"c1", "Bad data format in input."},
		{"c70100", "Bad data format in input."}, {"c8000100", "Bad data format in input."},
		{"c900000001", "Bad data format in input."},
		{"d40000", "Bad data format in input."}, {"d5000000", "Bad data format in input."},
		{"d6", "Bad data format in input."}, {"d7", "Bad data format in input."},
		{"d8", "Bad data format in input."},
		{"9301c1", "Bad data format in input."}, {"81c101", "Bad data format in input."},
		{"81c0", "Missing bytes in input."},
		{"81c001", "table index is nil"},
		{"81cb7ff800000000000001", "table index is NaN"},
		{"81ca7fc0000001", "table index is NaN"},
	}
	var cases [][2]string
	for _, c := range bad {
		cases = append(cases, [2]string{`return cmsgpack.unpack(unhex("` + c[0] + `"))`, c[1]})
	}
	cmsgpackErrCases(t, L, cases)
	cmsgpackErrCases(t, L, [][2]string{
		{`return cmsgpack.pack()`, "MessagePack pack needs input."},
		{`local t = {} for i = 1, 4001 do t[i] = i end return cmsgpack.pack(unpack(t))`,
			"Too many arguments for MessagePack pack."},
		// Lua 5.1 gives a C function 8000 stack slots: the string and the
		// results, or the tables being filled.
		{`return cmsgpack.unpack(string.rep("\1", 8000))`,
			"stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"},
		{`return cmsgpack.unpack_limit(string.rep("\1", 8000), 7999)`,
			"stack overflow (in function mp_unpack_full)"},
		{`return cmsgpack.unpack(string.rep("\145", 4000) .. "\1")`,
			"stack overflow (in function mp_decode_to_lua_array)"},
		{`return cmsgpack.unpack(string.rep("\129\1", 5000) .. "\1")`, "stack overflow"},
		{`return cmsgpack.unpack(string.rep("\221\255\255\255\255", 100000))`, "stack overflow"},
		// A table holding itself ten times would pack to 10^16 bytes.
		{`local t = {} for i = 1, 10 do t[i] = t end return cmsgpack.pack(t)`,
			"cmsgpack.pack: result larger than"},
	})
	cmsgpackCases(t, L, [][2]string{
		{`local t = {} for i = 1, 4000 do t[i] = i end return #cmsgpack.pack(unpack(t))`, "11618"},
		{`return select("#", cmsgpack.unpack_limit(string.rep("\1", 8000), 7998))`, "7999"},
		{`local t = cmsgpack.unpack(string.rep("\145", 3999) .. "\1")
		  for i = 1, 3999 do t = t[1] end return t`, "1"},
		{`return (pcall(cmsgpack.unpack, "\204"))`, "false"},
	})
}

// TestCMsgpackModule checks the library's fields and their order, which
// pairs(cmsgpack) shows to scripts.
func TestCMsgpackModule(t *testing.T) {
	L := newCMsgpackState(t)
	cmsgpackCases(t, L, [][2]string{
		{`local out = {}
		  for k, v in pairs(cmsgpack) do out[#out + 1] = k .. ":" .. type(v) end
		  return table.concat(out, " ")`,
			"pack:function unpack:function unpack_one:function unpack_limit:function " +
				"_NAME:string _VERSION:string _COPYRIGHT:string _DESCRIPTION:string"},
		{`return cmsgpack._NAME .. " " .. cmsgpack._VERSION`, "cmsgpack lua-cmsgpack 0.4.0"},
	})
	// Map keys come out as Next gives them, the same in every state:
	// integer keys (gopher-lua's array part) ascending, then the others in
	// insertion order.
	code := `local t = {}
		for i = 1, 200 do t["k" .. ((i * 37) % 200)] = i; t[i * 1.5] = i end
		return hex(cmsgpack.pack(t))`
	first, err := cmsgpackEval(t, L, code)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.String(), "de0190"+"0302"+"0604"+"0906") {
		t.Errorf("pack order: %.60s...", first.String())
	}
	for i := 0; i < 5; i++ {
		if v, err := cmsgpackEval(t, newCMsgpackState(t), code); err != nil || v.String() != first.String() {
			t.Fatalf("pack differs between states (%v)", err)
		}
	}
}

// TestCMsgpackGarbage feeds random and mutated input to the unpack
// functions: they may succeed or fail, but only with a Lua error, and what
// they return must pack again.
func TestCMsgpackGarbage(t *testing.T) {
	L := newCMsgpackState(t)
	seedV, err := cmsgpackEval(t, L, `return cmsgpack.pack({1, -2, 300, -70000, 2^40, 1.5, 0.1, "str",
		string.rep("y", 40), true, false, {}, {a = {b = {1, 2}}, [3] = "c"}}, "tail", -1)`)
	if err != nil {
		t.Fatal(err)
	}
	seed := []byte(seedV.String())
	mod := L.GetGlobal("cmsgpack").(*lua.LTable)
	pack := mod.RawGetString("pack")
	fns := []lua.LValue{mod.RawGetString("unpack"), mod.RawGetString("unpack_one"), mod.RawGetString("unpack_limit")}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		var b []byte
		if i%2 == 0 {
			b = make([]byte, r.Intn(24))
			r.Read(b)
		} else {
			b = append([]byte(nil), seed...)
			for n := r.Intn(4) + 1; n > 0; n-- {
				switch p := r.Intn(len(b)); r.Intn(3) {
				case 0:
					b[p] = byte(r.Intn(256))
				case 1:
					b = append(b[:p], b[p+1:]...)
				default:
					b = append(b[:p], append([]byte{byte(r.Intn(256))}, b[p:]...)...)
				}
				if len(b) == 0 {
					break
				}
			}
		}
		fn := fns[i%len(fns)]
		args := []lua.LValue{lua.LString(b), lua.LNumber(r.Intn(3)), lua.LNumber(r.Intn(len(b) + 2))}
		top := L.GetTop()
		err := L.CallByParam(lua.P{Fn: fn, NRet: lua.MultRet, Protect: true}, args...)
		var apiErr *lua.ApiError
		if errors.As(err, &apiErr) && apiErr.Type != lua.ApiErrorRun {
			t.Fatalf("unpack(%x): %v", b, err)
		}
		if err == nil && L.GetTop() > top {
			vals := make([]lua.LValue, L.GetTop()-top)
			for j := range vals {
				vals[j] = L.Get(top + 1 + j)
			}
			L.SetTop(top)
			if err := L.CallByParam(lua.P{Fn: pack, NRet: 1, Protect: true}, vals...); err != nil {
				t.Fatalf("pack(unpack(%x)): %v", b, err)
			}
		}
		L.SetTop(top)
	}
}
