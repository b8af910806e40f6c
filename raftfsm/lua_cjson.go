package raftfsm

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// The cjson library Redis gives scripts: lua-cjson 2.1.0 with its default
// settings. Messages follow lua-cjson's, since scripts match on them.

const (
	cjsonMaxDepth    = 1000 // encode_max_depth and decode_max_depth
	cjsonSparseRatio = 2    // encode_sparse_array's ratio and safe
	cjsonSparseSafe  = 10
)

// cjsonConfig holds the settings a script may change with
// encode_max_depth and decode_max_depth. The VM resets it before every run
// (cjsonConfig.reset), so a setting never outlives the script that made it.
type cjsonConfig struct {
	encodeDepth, decodeDepth int
	invalid                  lua.LValue // encode_invalid_numbers: false, true or "null"
}

func (c *cjsonConfig) reset() { *c = cjsonConfig{cjsonMaxDepth, cjsonMaxDepth, lua.LFalse} }

// openCJSON sets the global table cjson. Functions are added in a fixed
// order because pairs(cjson) is visible to scripts on every replica.
func openCJSON(L *lua.LState, cfg *cjsonConfig) {
	cfg.reset()
	// JSON null: one sentinel per state, so it compares equal to itself.
	null := L.NewUserData()
	mod := L.NewTable()
	for _, f := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{"encode", func(L *lua.LState) int { return cjsonEncode(L, null, cfg) }},
		{"decode", func(L *lua.LState) int { return cjsonDecode(L, null, cfg.decodeDepth) }},
		{"encode_sparse_array", cjsonSparseOption},
		{"encode_max_depth", cjsonDepthOption(&cfg.encodeDepth)},
		{"decode_max_depth", cjsonDepthOption(&cfg.decodeDepth)},
		{"encode_number_precision", cjsonIntOption(1, 14, 14)},
		{"encode_keep_buffer", cjsonEnumOption(lua.LTrue, "off", "on")},
		{"encode_invalid_numbers", func(L *lua.LState) int {
			cjsonArgCount(L, 1)
			cjsonCheckEnum(L, 1, []string{"off", "on", "null"})
			switch v := L.Get(1).(type) {
			case lua.LBool:
				cfg.invalid = v
			case lua.LString:
				cfg.invalid = map[string]lua.LValue{"off": lua.LFalse, "on": lua.LTrue, "null": v}[string(v)]
			}
			L.Push(cfg.invalid)
			return 1
		}},
		{"decode_invalid_numbers", cjsonEnumOption(lua.LTrue, "off", "on")},
	} {
		mod.RawSetString(f.name, L.NewFunction(f.fn))
	}
	mod.RawSetString("null", null)
	mod.RawSetString("_NAME", lua.LString("cjson"))
	mod.RawSetString("_VERSION", lua.LString("2.1.0"))
	L.SetGlobal("cjson", mod)
}

// The other configuration functions validate their arguments as lua-cjson
// does but keep the defaults.

// cjsonDepthOption sets a nesting limit for the rest of the run.
func cjsonDepthOption(depth *int) lua.LGFunction {
	return func(L *lua.LState) int {
		cjsonArgCount(L, 1)
		if L.GetTop() == 1 && L.Get(1) != lua.LNil {
			n := L.CheckInt(1)
			if n < 1 || n > math.MaxInt32 {
				L.ArgError(1, "expected integer between 1 and "+strconv.Itoa(math.MaxInt32))
			}
			*depth = n
		}
		L.Push(lua.LNumber(*depth))
		return 1
	}
}

func cjsonArgCount(L *lua.LState, max int) {
	if L.GetTop() > max {
		L.ArgError(max+1, "found too many arguments")
	}
}

func cjsonIntOption(min, max, def int) lua.LGFunction {
	return func(L *lua.LState) int {
		cjsonArgCount(L, 1)
		if L.GetTop() == 1 && L.Get(1) != lua.LNil {
			if n := L.CheckInt(1); n < min || n > max {
				L.ArgError(1, "expected integer between "+strconv.Itoa(min)+" and "+strconv.Itoa(max))
			}
		}
		L.Push(lua.LNumber(def))
		return 1
	}
}

func cjsonEnumOption(def lua.LValue, names ...string) lua.LGFunction {
	return func(L *lua.LState) int {
		cjsonArgCount(L, 1)
		cjsonCheckEnum(L, 1, names)
		L.Push(def)
		return 1
	}
}

// cjsonCheckEnum accepts nil, a boolean or one of names at argument i.
func cjsonCheckEnum(L *lua.LState, i int, names []string) {
	switch v := L.Get(i).(type) {
	case *lua.LNilType, lua.LBool:
	case lua.LString:
		for _, n := range names {
			if string(v) == n {
				return
			}
		}
		L.ArgError(i, "invalid option '"+string(v)+"'")
	default:
		L.TypeError(i, lua.LTString)
	}
}

func cjsonSparseOption(L *lua.LState) int {
	cjsonArgCount(L, 3)
	cjsonCheckEnum(L, 1, []string{"off", "on"})
	for i := 2; i <= 3; i++ {
		if L.Get(i) != lua.LNil && L.CheckInt(i) < 0 {
			L.ArgError(i, "expected integer between 0 and 2147483647")
		}
	}
	L.Push(lua.LFalse)
	L.Push(lua.LNumber(cjsonSparseRatio))
	L.Push(lua.LNumber(cjsonSparseSafe))
	return 3
}

// ---- encode ------------------------------------------------------------------

type cjsonEncoder struct {
	L        *lua.LState
	null     *lua.LUserData
	buf      []byte
	maxDepth int
	invalid  lua.LValue
}

func cjsonEncode(L *lua.LState, null *lua.LUserData, cfg *cjsonConfig) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	e := cjsonEncoder{L: L, null: null, maxDepth: cfg.encodeDepth, invalid: cfg.invalid}
	e.value(L.Get(1), 0)
	L.Push(lua.LString(e.buf))
	return 1
}

// value appends v; depth is the nesting of the table holding it.
func (e *cjsonEncoder) value(v lua.LValue, depth int) {
	switch v := v.(type) {
	case *lua.LNilType:
		e.buf = append(e.buf, "null"...)
	case lua.LBool:
		e.buf = strconv.AppendBool(e.buf, bool(v))
	case lua.LNumber:
		e.number(v)
	case lua.LString:
		e.str(string(v))
	case *lua.LTable:
		e.table(v, depth+1)
	default:
		if v == e.null {
			e.buf = append(e.buf, "null"...)
			return
		}
		e.L.RaiseError("Cannot serialise %s: type not supported", v.Type())
	}
}

// number formats like lua-cjson's "%.14g", which Go's 'g' matches.
func (e *cjsonEncoder) number(n lua.LNumber) {
	f := float64(n)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		switch e.invalid {
		case lua.LFalse:
			e.L.RaiseError("Cannot serialise number: must not be NaN or Inf")
		case lua.LTrue:
			switch {
			case math.IsNaN(f):
				e.buf = append(e.buf, "nan"...)
			case f > 0:
				e.buf = append(e.buf, "inf"...)
			default:
				e.buf = append(e.buf, "-inf"...)
			}
		default:
			e.buf = append(e.buf, "null"...)
		}
		return
	}
	e.buf = strconv.AppendFloat(e.buf, f, 'g', 14, 64)
}

// Bytes with a one-letter JSON escape, and those letters.
const (
	cjsonHex     = "0123456789abcdef"
	cjsonEscaped = "\"\\/\b\f\n\r\t"
	cjsonEscapes = `"\/bfnrt`
)

// str escapes as lua-cjson does: short forms where JSON has them, \u00XX
// for other control bytes and DEL, "\/" for '/', other bytes untouched.
func (e *cjsonEncoder) str(s string) {
	e.buf = append(e.buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if j := strings.IndexByte(cjsonEscaped, c); j >= 0 {
			e.buf = append(e.buf, '\\', cjsonEscapes[j])
		} else if c < 0x20 || c == 0x7f {
			e.buf = append(e.buf, '\\', 'u', '0', '0', cjsonHex[c>>4], cjsonHex[c&15])
		} else {
			e.buf = append(e.buf, c)
		}
	}
	e.buf = append(e.buf, '"')
}

// table iterates with Next, never ForEach: gopher-lua's ForEach walks Go
// maps in random order, Next in insertion order.
func (e *cjsonEncoder) table(t *lua.LTable, depth int) {
	if depth > e.maxDepth {
		e.L.RaiseError("Cannot serialise, excessive nesting (%d)", depth)
	}
	if n := e.arrayLength(t); n > 0 {
		e.buf = append(e.buf, '[')
		for i := 1; i <= n; i++ {
			if i > 1 {
				e.buf = append(e.buf, ',')
			}
			e.value(t.RawGetInt(i), depth)
		}
		e.buf = append(e.buf, ']')
		return
	}
	e.buf = append(e.buf, '{')
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		if e.buf[len(e.buf)-1] != '{' { // not the first pair
			e.buf = append(e.buf, ',')
		}
		switch k := k.(type) {
		case lua.LNumber:
			e.buf = append(e.buf, '"')
			e.number(k)
			e.buf = append(e.buf, '"')
		case lua.LString:
			e.str(string(k))
		default:
			e.L.RaiseError("Cannot serialise %s: table key must be a number or string", k.Type())
		}
		e.buf = append(e.buf, ':')
		e.value(v, depth)
	}
	e.buf = append(e.buf, '}')
}

// arrayLength returns the largest key when every key is a positive integer,
// else 0 (encode as an object). Holes become nulls, but like lua-cjson an
// array with few items under a large index is refused.
func (e *cjsonEncoder) arrayLength(t *lua.LTable) int {
	max, items := 0.0, 0
	for k, _ := t.Next(lua.LNil); k != lua.LNil; k, _ = t.Next(k) {
		n, ok := k.(lua.LNumber)
		f := float64(n)
		if !ok || f < 1 || math.Floor(f) != f {
			return 0
		}
		max = math.Max(max, f)
		items++
	}
	if max > float64(items*cjsonSparseRatio) && max > cjsonSparseSafe {
		e.L.RaiseError("Cannot serialise table: excessively sparse array")
	}
	return int(max)
}

// ---- decode ------------------------------------------------------------------

// Token kinds are named as lua-cjson names them in syntax errors.
const (
	cjObjBegin = "T_OBJ_BEGIN"
	cjObjEnd   = "T_OBJ_END"
	cjArrBegin = "T_ARR_BEGIN"
	cjArrEnd   = "T_ARR_END"
	cjString   = "T_STRING"
	cjNumber   = "T_NUMBER"
	cjBoolean  = "T_BOOLEAN"
	cjNull     = "T_NULL"
	cjColon    = "T_COLON"
	cjComma    = "T_COMMA"
	cjEnd      = "T_END"
	cjError    = "T_ERROR"
)

type cjsonToken struct {
	kind  string
	index int // 0-based offset, reported 1-based
	value lua.LValue
	err   string // for cjError
}

type cjsonDecoder struct {
	L     *lua.LState
	null  lua.LValue
	data  string
	pos   int
	depth int
	tmp   []byte
	max   int
}

func cjsonDecode(L *lua.LState, null *lua.LUserData, maxDepth int) int {
	if L.GetTop() != 1 {
		L.ArgError(1, "expected 1 argument")
	}
	s := L.CheckString(1)
	if len(s) >= 2 && (s[0] == 0 || s[1] == 0) {
		L.RaiseError("JSON parser does not support UTF-16 or UTF-32")
	}
	// lua-cjson reads a C string: input ends at the first NUL.
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	d := cjsonDecoder{L: L, null: null, data: s, max: maxDepth}
	v := d.value(d.next())
	if t := d.next(); t.kind != cjEnd {
		d.fail("the end", t)
	}
	L.Push(v)
	return 1
}

func (d *cjsonDecoder) fail(expected string, t cjsonToken) {
	found := t.kind
	if t.kind == cjError {
		found = t.err
	}
	d.L.RaiseError("Expected %s but found %s at character %d", expected, found, t.index+1)
}

func (d *cjsonDecoder) errToken(msg string) cjsonToken {
	return cjsonToken{kind: cjError, index: d.pos, err: msg}
}

func (d *cjsonDecoder) next() cjsonToken {
	for d.pos < len(d.data) && strings.IndexByte(" \t\n\r", d.data[d.pos]) >= 0 {
		d.pos++
	}
	t := cjsonToken{index: d.pos}
	if d.pos >= len(d.data) {
		t.kind = cjEnd
		return t
	}
	rest := d.data[d.pos:]
	if i := strings.IndexByte("{}[]:,", rest[0]); i >= 0 {
		d.pos++
		t.kind = [...]string{cjObjBegin, cjObjEnd, cjArrBegin, cjArrEnd, cjColon, cjComma}[i]
		return t
	}
	switch c := rest[0]; {
	case c == '"':
		return d.string()
	case c == '-' || c == '+' || ('0' <= c && c <= '9'):
		return d.number()
	case strings.HasPrefix(rest, "true"), strings.HasPrefix(rest, "false"):
		t.kind, t.value = cjBoolean, lua.LBool(c == 't')
		d.pos += len(t.value.String())
		return t
	case strings.HasPrefix(rest, "null"):
		t.kind = cjNull
		d.pos += 4
		return t
	case strings.IndexByte("iInN", c) >= 0 && len(rest) >= 3 &&
		(strings.EqualFold(rest[:3], "inf") || strings.EqualFold(rest[:3], "nan")):
		// decode_invalid_numbers is on by default: Infinity and NaN parse.
		return d.number()
	}
	return d.errToken("invalid token")
}

func cjsonIsDigit(c byte, hex bool) bool {
	return '0' <= c && c <= '9' || hex && ('a' <= c|0x20 && c|0x20 <= 'f')
}

// number accepts what C's strtod does, as lua-cjson (with its default
// decode_invalid_numbers) does: a sign, leading zeros, hex, inf and nan.
func (d *cjsonDecoder) number() cjsonToken {
	s := d.data[d.pos:]
	i := 0
	if s[0] == '-' || s[0] == '+' {
		i++
	}
	// digits scans a run of digits from j and returns where it ends.
	digits := func(j int, hex bool) int {
		for j < len(s) && cjsonIsDigit(s[j], hex) {
			j++
		}
		return j
	}
	// mantissa scans digits[.digits] then an exponent marked by exp.
	mantissa := func(j int, hex bool, exp byte) int {
		k := digits(j, hex)
		if k < len(s) && s[k] == '.' {
			k = digits(k+1, hex)
		}
		if k == j || k == j+1 && s[j] == '.' {
			return -1
		}
		if k < len(s) && s[k]|0x20 == exp {
			m := k + 1
			if m < len(s) && (s[m] == '-' || s[m] == '+') {
				m++
			}
			if e := digits(m, false); e > m {
				k = e
			}
		}
		return k
	}
	var f float64
	end := -1
	lower := strings.ToLower(s[i:min(len(s), i+8)])
	switch {
	case strings.HasPrefix(lower, "infinity"):
		f, end = math.Inf(1), i+8
	case strings.HasPrefix(lower, "inf"):
		f, end = math.Inf(1), i+3
	case strings.HasPrefix(lower, "nan"):
		f, end = math.NaN(), i+3
	case strings.HasPrefix(lower, "0x"):
		if end = mantissa(i+2, true, 'p'); end > 0 {
			num := "0x" + s[i+2:end]
			if !strings.ContainsAny(num, "pP") {
				num += "p0" // Go requires the binary exponent
			}
			f, _ = strconv.ParseFloat(num, 64)
			break
		}
		// "0x" alone: strtod reads the 0 and stops at the x.
		f, end = 0, i+1
	default:
		if end = mantissa(i, false, 'e'); end > 0 {
			// Out of range gives ±Inf or 0, as strtod does.
			f, _ = strconv.ParseFloat(s[i:end], 64)
		}
	}
	if end < 0 {
		return d.errToken("invalid number")
	}
	if s[0] == '-' {
		f = -f
	}
	t := cjsonToken{kind: cjNumber, index: d.pos, value: lua.LNumber(f)}
	d.pos += end
	return t
}

func (d *cjsonDecoder) string() cjsonToken {
	start := d.pos
	d.pos++ // opening quote
	d.tmp = d.tmp[:0]
	for {
		if d.pos >= len(d.data) {
			return d.errToken("unexpected end of string")
		}
		c := d.data[d.pos]
		if c == '"' {
			d.pos++
			return cjsonToken{kind: cjString, index: start, value: lua.LString(d.tmp)}
		}
		if c != '\\' {
			d.tmp = append(d.tmp, c)
			d.pos++
			continue
		}
		if d.pos+1 >= len(d.data) {
			return d.errToken("invalid escape code")
		}
		e := d.data[d.pos+1]
		if e == 'u' {
			if !d.unicode() {
				return d.errToken("invalid unicode escape code")
			}
			continue
		}
		j := strings.IndexByte(cjsonEscapes, e)
		if j < 0 {
			return d.errToken("invalid escape code")
		}
		d.tmp = append(d.tmp, cjsonEscaped[j])
		d.pos += 2
	}
}

func (d *cjsonDecoder) hex4(at int) int {
	if at+4 > len(d.data) {
		return -1
	}
	n, err := strconv.ParseUint(d.data[at:at+4], 16, 16)
	if err != nil {
		return -1
	}
	return int(n)
}

// unicode decodes \uXXXX at pos, joining a surrogate pair; a lone
// surrogate is an error, as in lua-cjson.
func (d *cjsonDecoder) unicode() bool {
	cp := d.hex4(d.pos + 2)
	n := 6
	if cp < 0 {
		return false
	}
	if cp&0xF800 == 0xD800 {
		if cp&0x400 != 0 || !strings.HasPrefix(d.data[d.pos+6:], `\u`) {
			return false
		}
		lo := d.hex4(d.pos + 8)
		if lo < 0 || lo&0xFC00 != 0xDC00 {
			return false
		}
		cp = 0x10000 + (cp&0x3FF)<<10 | lo&0x3FF
		n = 12
	}
	d.tmp = utf8.AppendRune(d.tmp, rune(cp))
	d.pos += n
	return true
}

func (d *cjsonDecoder) value(t cjsonToken) lua.LValue {
	switch t.kind {
	case cjString, cjNumber, cjBoolean:
		return t.value
	case cjNull:
		return d.null
	case cjObjBegin:
		return d.object()
	case cjArrBegin:
		return d.array()
	}
	d.fail("value", t)
	return nil
}

func (d *cjsonDecoder) descend() {
	if d.depth++; d.depth > d.max {
		d.L.RaiseError("Found too many nested data structures (%d) at character %d", d.depth, d.pos)
	}
}

func (d *cjsonDecoder) object() lua.LValue {
	d.descend()
	tb := d.L.NewTable()
	t := d.next()
	if t.kind == cjObjEnd {
		d.depth--
		return tb
	}
	for {
		if t.kind != cjString {
			d.fail("object key string", t)
		}
		key := t.value
		if t = d.next(); t.kind != cjColon {
			d.fail("colon", t)
		}
		tb.RawSet(key, d.value(d.next()))
		if t = d.next(); t.kind == cjObjEnd {
			d.depth--
			return tb
		}
		if t.kind != cjComma {
			d.fail("comma or object end", t)
		}
		t = d.next()
	}
}

func (d *cjsonDecoder) array() lua.LValue {
	d.descend()
	tb := d.L.NewTable()
	t := d.next()
	if t.kind == cjArrEnd {
		d.depth--
		return tb
	}
	for i := 1; ; i++ {
		tb.RawSetInt(i, d.value(t))
		if t = d.next(); t.kind == cjArrEnd {
			d.depth--
			return tb
		}
		if t.kind != cjComma {
			d.fail("comma or array end", t)
		}
		t = d.next()
	}
}
