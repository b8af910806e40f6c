package raftfsm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rdbCanon renders a value's contents in a canonical text form (sets and
// hashes sorted, zsets by score then member) for comparisons.
func rdbCanon(v Value) string {
	switch v := v.(type) {
	case nil:
		return "<nil>"
	case *strValue:
		return "string:" + strconv.Quote(string(v.b))
	case *listValue:
		var out []string
		v.Each(func(s string) bool { out = append(out, strconv.Quote(s)); return true })
		return "list:" + strings.Join(out, ",")
	case *setValue:
		var out []string
		for i := 0; i < v.d.Len(); i++ {
			k, _ := v.d.At(i)
			out = append(out, strconv.Quote(k))
		}
		sort.Strings(out)
		return "set:" + strings.Join(out, ",")
	case *hashValue:
		var out []string
		for i := 0; i < v.d.Len(); i++ {
			k, val := v.d.At(i)
			out = append(out, strconv.Quote(k)+"="+strconv.Quote(val))
		}
		sort.Strings(out)
		return "hash:" + strings.Join(out, ",")
	case *zsetValue:
		type pair struct {
			m string
			s float64
		}
		var ps []pair
		v.Each(func(m string, s float64) bool { ps = append(ps, pair{m, s}); return true })
		sort.Slice(ps, func(i, j int) bool {
			if ps[i].s != ps[j].s {
				return ps[i].s < ps[j].s
			}
			return ps[i].m < ps[j].m
		})
		var out []string
		for _, p := range ps {
			out = append(out, strconv.Quote(p.m)+"="+FormatDouble(p.s))
		}
		return "zset:" + strings.Join(out, ",")
	}
	return fmt.Sprintf("?%T", v)
}

func rdbMkStr(s string) *strValue { return newStr([]byte(s)) }

func rdbMkList(ss ...string) *listValue {
	l := newList()
	for _, s := range ss {
		l.PushBack(s)
	}
	return l
}

func rdbMkSet(ss ...string) *setValue {
	s := newSet(len(ss))
	for _, m := range ss {
		s.d.Set(m, struct{}{})
	}
	return s
}

func rdbMkHash(kv ...string) *hashValue {
	h := newHash(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		h.d.Set(kv[i], kv[i+1])
	}
	return h
}

type rdbZP struct {
	m string
	s float64
}

func rdbMkZset(ps ...rdbZP) *zsetValue {
	z := newZset()
	for _, p := range ps {
		z.Add(p.m, p.s)
	}
	return z
}

func rdbSeq(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// rdbGoldenWant returns the value each golden payload was made from.
func rdbGoldenWant() map[string]Value {
	kv := func(n int, f, v string) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, fmt.Sprintf(f, i), fmt.Sprintf(v, i))
		}
		return out
	}
	var zsl []rdbZP
	for i := 0; i < 200; i++ {
		zsl = append(zsl, rdbZP{fmt.Sprintf("m:%d", i), float64(i) * 1.5})
	}
	return map[string]Value{
		"hash_bigval":     rdbMkHash("f", strings.Repeat("z", 100), "g", "1"),
		"hash_ht":         rdbMkHash(kv(600, "f:%d", "v:%d")...),
		"hash_lp":         rdbMkHash("f1", "v1", "f2", "2", "3", "v3"),
		"list_big":        rdbMkList(rdbSeq(1000, func(i int) string { return fmt.Sprintf("item:%d", i) })...),
		"list_bigele":     rdbMkList("small", strings.Repeat("x", 10000), "42"),
		"list_compressed": rdbMkList(rdbSeq(2000, func(i int) string { return fmt.Sprintf("value-%d", i) })...),
		"list_lp": rdbMkList("a", "b", "1", "-2", "300", "-4000", "70000", "-9000000", "3000000000", "",
			strings.Repeat("y", 100)),
		"set_bigint":   rdbMkSet(rdbSeq(600, strconv.Itoa)...),
		"set_ht":       rdbMkSet("a", "b", "c"),
		"set_intset16": rdbMkSet("1", "2", "3", "-1", "100"),
		"set_intset32": rdbMkSet("1", "70000"),
		"set_intset64": rdbMkSet("1", "5000000000", "-5000000000"),
		"str_big":      rdbMkStr(strings.Join(rdbSeq(2000, func(i int) string { return fmt.Sprintf("k%d", i) }), ",")),
		"str_empty":    rdbMkStr(""),
		"str_int16":    rdbMkStr("1000"),
		"str_int32":    rdbMkStr("-100000"),
		"str_int64":    rdbMkStr("12345678901"),
		"str_int8":     rdbMkStr("-5"),
		"str_lzf":      rdbMkStr(strings.Repeat("a", 100)),
		"str_raw":      rdbMkStr("hello world"),
		"zset_lp": rdbMkZset(rdbZP{"a", 1}, rdbZP{"b", 2.5}, rdbZP{"c", math.Inf(-1)}, rdbZP{"d", math.Inf(1)},
			rdbZP{"e", 100000}, rdbZP{"f", -0.125}),
		"zset_sl": rdbMkZset(zsl...),
	}
}

func rdbHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rdbTrailer turns a serialized value into a DUMP payload.
func rdbTrailer(body []byte, version uint16) []byte {
	p := binary.LittleEndian.AppendUint16(append([]byte(nil), body...), version)
	return binary.LittleEndian.AppendUint64(p, crc64Redis(0, p))
}

func TestRDBCRC64(t *testing.T) {
	if got := crc64Redis(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64(123456789) = %x", got)
	}
	li := "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed " +
		"do eiusmod tempor incididunt ut labore et dolore magna " +
		"aliqua. Ut enim ad minim veniam, quis nostrud exercitation " +
		"ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis " +
		"aute irure dolor in reprehenderit in voluptate velit esse " +
		"cillum dolore eu fugiat nulla pariatur. Excepteur sint " +
		"occaecat cupidatat non proident, sunt in culpa qui officia " +
		"deserunt mollit anim id est laborum.\x00" // sizeof includes the NUL
	if got := crc64Redis(0, []byte(li)); got != 0xc7794709e69683b3 {
		t.Fatalf("crc64(lorem) = %x", got)
	}
	// Incremental updates compose.
	if crc64Redis(crc64Redis(0, []byte("1234")), []byte("56789")) != 0xe9c6d914c4b8d9ca {
		t.Fatal("incremental crc64 differs")
	}
	// Slicing-by-8 agrees with the standard library's table for every
	// length around the 8-byte stride and hash/crc64's 2 KiB switch.
	tab := crc64.MakeTable(0x95ac9329ac4bc9b5)
	buf := make([]byte, 4200)
	for i := range buf {
		buf[i] = byte(i*7 + i>>8)
	}
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 2047, 2048, 2049, 4200} {
		for _, off := range []int{0, 3} {
			if off+n > len(buf) {
				continue
			}
			p := buf[off : off+n]
			if got, want := crc64Redis(0x1234, p), ^crc64.Update(^uint64(0x1234), tab, p); got != want {
				t.Fatalf("len %d offset %d: %x, hash/crc64 says %x", n, off, got, want)
			}
		}
	}
}

func BenchmarkCRC64(b *testing.B) {
	for _, n := range []int{1000, 1 << 20} {
		p := make([]byte, n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				crc64Redis(0, p)
			}
		})
	}
}

func TestRDBGolden(t *testing.T) {
	want := rdbGoldenWant()
	if len(want) != len(rdbGolden) {
		t.Fatalf("%d golden payloads, %d expectations", len(rdbGolden), len(want))
	}
	for name, hx := range rdbGolden {
		t.Run(name, func(t *testing.T) {
			p := rdbHex(t, hx)
			v, err := DecodePayload(p)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got, w := rdbCanon(v), rdbCanon(want[name]); got != w {
				t.Fatalf("decoded %.200s\nwant %.200s", got, w)
			}
			// Our own encoding decodes to the same contents.
			v2, err := DecodePayload(DumpPayload(v))
			if err != nil || rdbCanon(v2) != rdbCanon(v) {
				t.Fatalf("re-encode: %v", err)
			}
		})
	}
	// Where Redis's choice is unique (strings, integer encodings), our
	// encoder writes the very same bytes.
	for _, name := range []string{"str_raw", "str_empty", "str_int8", "str_int16", "str_int32", "str_int64"} {
		if got := hex.EncodeToString(DumpPayload(want[name])); got != rdbGolden[name] {
			t.Errorf("%s: DumpPayload = %s, redis %s", name, got, rdbGolden[name])
		}
	}
}

// rdbTestValues are values of every type and shape for round trips.
func rdbTestValues() map[string]Value {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 50000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	ints := []string{"0", "1", "-1", "12", "13", "127", "128", "-128", "-129", "4095", "4096", "-4096", "-4097",
		"32767", "32768", "-32768", "-32769", "8388607", "8388608", "-8388608", "-8388609", "2147483647",
		"2147483648", "-2147483648", "-2147483649", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "01", "-0", "+1", " 1", "1.5"}
	var bigZ []rdbZP
	for i := 0; i < 3000; i++ {
		bigZ = append(bigZ, rdbZP{fmt.Sprintf("member-%d", i), float64(i%97) / 7})
	}
	return map[string]Value{
		"str_empty":    rdbMkStr(""),
		"str_small":    rdbMkStr("hello"),
		"str_int":      rdbMkStr("-2147483648"),
		"str_int64":    rdbMkStr("9223372036854775807"),
		"str_noncanon": rdbMkStr("007"),
		"str_lzf":      rdbMkStr(strings.Repeat("abcdefgh", 5000)),
		"str_random":   rdbMkStr(string(random)),
		"str_binary":   rdbMkStr("\x00\xff\r\n\x00"),
		"list_one":     rdbMkList("x"),
		"list_ints":    rdbMkList(ints...),
		"list_big":     rdbMkList(rdbSeq(20000, func(i int) string { return strconv.Itoa(i*7919) + strings.Repeat("-", i%70) })...),
		"list_huge_elements": rdbMkList(strings.Repeat("a", 5000), "b", strings.Repeat("c", 70000),
			strings.Repeat("d", 8185), "", string(random[:20000])),
		"set_ints":         rdbMkSet(ints...),
		"set_big":          rdbMkSet(rdbSeq(5000, func(i int) string { return "s" + strconv.Itoa(i) })...),
		"set_empty_member": rdbMkSet("", "x"),
		"hash_small":       rdbMkHash("a", "1", "", "", "c", strings.Repeat("v", 300)),
		"hash_big":         rdbMkHash(rdbSeq(4000, func(i int) string { return strconv.Itoa(i / 2 * 3) })...),
		"zset_small": rdbMkZset(rdbZP{"a", 0}, rdbZP{"b", math.Copysign(0, -1)}, rdbZP{"c", math.Inf(1)},
			rdbZP{"d", math.Inf(-1)}, rdbZP{"e", 1e300}, rdbZP{"f", 5e-324}, rdbZP{"", -3.25}),
		"zset_big": rdbMkZset(bigZ...),
	}
}

func TestRDBRoundTrip(t *testing.T) {
	for name, v := range rdbTestValues() {
		t.Run(name, func(t *testing.T) {
			d := newTestDB(t)
			NewCtx(d.db, d.now, true, 1).Set([]byte("src"), v)
			dump := d.read("DUMP", "src")
			if dump.Kind != KindBulk {
				t.Fatalf("DUMP: %s", show(dump))
			}
			d.expect("OK", "RESTORE", "dst", "0", dump.Str)
			got := NewCtx(d.db, d.now, false, 1).Get([]byte("dst"))
			if rdbCanon(got) != rdbCanon(v) {
				t.Fatalf("restored %.200s\nwant %.200s", rdbCanon(got), rdbCanon(v))
			}
			// rdbDecodeValue returns the rest, for streams of values.
			enc := rdbEncodeValue([]byte(nil), v)
			enc = append(enc, "tail"...)
			v2, rest, err := rdbDecodeValue(enc)
			if err != nil || string(rest) != "tail" || rdbCanon(v2) != rdbCanon(v) {
				t.Fatalf("rdbDecodeValue: %v rest %q", err, rest)
			}
			// Decoding keeps the encoded order, so encoding again gives the
			// same bytes (snapshot, restore, snapshot is stable).
			if string(DumpPayload(v)) != string(DumpPayload(v2)) {
				t.Fatalf("re-encoding differs")
			}
		})
	}
}

func TestRDBListNodes(t *testing.T) {
	// Long lists are split into listpack nodes of at most 8 KB.
	v := rdbMkList(rdbSeq(5000, func(i int) string { return fmt.Sprintf("element-%d", i) })...)
	enc := rdbEncodeValue(nil, v)
	if enc[0] != rdbTypeListQuicklist2 {
		t.Fatalf("type %d", enc[0])
	}
	r := &rdbReader{b: enc[1:]}
	nodes, _ := r.count()
	if nodes < 5 {
		t.Fatalf("%d nodes", nodes)
	}
	for ; nodes > 0; nodes-- {
		if c, _ := r.count(); c != qlContainerPacked {
			t.Fatalf("container %d", c)
		}
		lp, err := r.str()
		if err != nil || len(lp) > rdbListNodeBytes {
			t.Fatalf("node of %d bytes: %v", len(lp), err)
		}
	}
}

func TestRDBRestoreCommand(t *testing.T) {
	d := newTestDB(t)
	c := NewCtx(d.db, d.now, true, 1)
	c.Set([]byte("s"), rdbMkStr("value"))
	p := string(DumpPayload(rdbMkStr("new")))
	bad := func(f func(b []byte) []byte) string { return string(f([]byte(p))) }

	d.expect("<nil>", "DUMP", "missing")
	d.expect("!BUSYKEY Target key name already exists.", "RESTORE", "s", "0", p)
	d.expect("!ERR syntax error", "RESTORE", "x", "0", p, "BOGUS")
	d.expect("!ERR syntax error", "RESTORE", "x", "0", p, "IDLETIME")
	d.expect("!ERR syntax error", "RESTORE", "x", "0", p, "IDLETIME", "1", "FREQ", "2")
	d.expect("!ERR syntax error", "RESTORE", "x", "0", p, "FREQ", "2", "IDLETIME", "1")
	d.expect("!ERR value is not an integer or out of range", "RESTORE", "x", "0", p, "IDLETIME", "x")
	d.expect("!ERR Invalid IDLETIME value, must be >= 0", "RESTORE", "x", "0", p, "IDLETIME", "-1")
	d.expect("!ERR Invalid FREQ value, must be >= 0 and <= 255", "RESTORE", "x", "0", p, "FREQ", "256")
	d.expect("!ERR value is not an integer or out of range", "RESTORE", "x", "abc", p)
	d.expect("!ERR Invalid TTL value, must be >= 0", "RESTORE", "x", "-1", p)
	// Options are parsed before the key check, the TTL after it.
	d.expect("!ERR syntax error", "RESTORE", "s", "0", p, "BOGUS")
	d.expect("!BUSYKEY Target key name already exists.", "RESTORE", "s", "abc", p)

	const verr = "!ERR DUMP payload version or checksum are wrong"
	d.expect(verr, "RESTORE", "x", "0", "short")
	d.expect(verr, "RESTORE", "x", "0", bad(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }))
	d.expect(verr, "RESTORE", "x", "0", bad(func(b []byte) []byte {
		return rdbTrailer(b[:len(b)-10], 11)
	}))
	d.expect(verr, "RESTORE", "x", "0", bad(func(b []byte) []byte {
		clear(b[len(b)-8:]) // Redis 7.0 does not treat a zero CRC as "none"
		return b
	}))
	d.expect("OK", "RESTORE", "x", "0", bad(func(b []byte) []byte { // older versions load
		return rdbTrailer(b[:len(b)-10], 9)
	}))
	d.expect("!ERR Bad data format", "RESTORE", "y", "0", string(rdbTrailer([]byte{rdbTypeSet, 0}, 10)))
	d.expect("!ERR Bad data format", "RESTORE", "y", "0", string(rdbTrailer([]byte{15, 0}, 10))) // stream
	d.expect("!ERR Bad data format", "RESTORE", "y", "0", bad(func(b []byte) []byte {
		return rdbTrailer(append(b[:len(b)-10:len(b)-10], 0), 10) // trailing byte
	}))
	if NewCtx(d.db, d.now, false, 1).Exists([]byte("y")) {
		t.Fatal("failed RESTORE created the key")
	}

	rd := func() *Ctx { return NewCtx(d.db, d.now, false, 1) }
	get := func(k string) string { return rdbCanon(rd().Get([]byte(k))) }
	exp := func(k string) int64 { at, _ := rd().Expiry([]byte(k)); return at }
	const want = `string:"new"`

	c.SetWithExpire([]byte("e"), rdbMkStr("old"), d.now+1000)
	d.expect("OK", "RESTORE", "e", "0", p, "REPLACE", "IDLETIME", "10")
	if get("e") != want || exp("e") != 0 {
		t.Fatalf("REPLACE: %s exp %d", get("e"), exp("e"))
	}
	d.expect("OK", "RESTORE", "t1", "5000", p, "FREQ", "255")
	if get("t1") != want || exp("t1") != d.now+5000 {
		t.Fatalf("relative TTL: exp %d", exp("t1"))
	}
	d.expect("OK", "restore", "t2", strconv.FormatInt(d.now+100, 10), p, "absttl")
	if exp("t2") != d.now+100 {
		t.Fatalf("ABSTTL: exp %d", exp("t2"))
	}
	// An ABSTTL in the past creates nothing, and with REPLACE deletes.
	d.expect("OK", "RESTORE", "t3", strconv.FormatInt(d.now, 10), p, "ABSTTL")
	if get("t3") != "<nil>" {
		t.Fatal("expired ABSTTL created the key")
	}
	d.expect("OK", "RESTORE", "s", "1", p, "REPLACE", "ABSTTL")
	if get("s") != "<nil>" {
		t.Fatal("expired ABSTTL with REPLACE kept the old key")
	}
	// An overflowing relative TTL wraps as in Redis: already expired.
	d.expect("OK", "RESTORE", "w", "9223372036854775807", p)
	if get("w") != "<nil>" {
		t.Fatal("overflowing TTL created the key")
	}
	// An expired key does not block RESTORE.
	c.SetWithExpire([]byte("gone"), rdbMkStr("old"), d.now+10)
	d.advance(20)
	d.expect("OK", "RESTORE", "gone", "0", p)
	d.expect("OK", "RESTORE-ASKING", "ra", "0", p)
	if get("gone") != want || get("ra") != want {
		t.Fatal("RESTORE after expiry / RESTORE-ASKING")
	}
	if r := d.read("DUMP", "ra"); r.Str != p {
		t.Fatalf("DUMP after RESTORE differs")
	}
}

// TestRDBLegacyFormats decodes the encodings Redis 7.0 no longer writes
// but still loads: ziplists, quicklist 1, zipmap, text zset scores, plain
// lists; and checks the duplicate and emptiness rules on each.
func TestRDBLegacyFormats(t *testing.T) {
	for _, tc := range rdbLegacyCases() {
		t.Run(tc.name, func(t *testing.T) {
			v, err := DecodePayload(rdbTrailer(tc.body, 10))
			if tc.want == "" {
				if !errors.Is(err, errRDBFormat) {
					t.Fatalf("want format error, got %v (%s)", err, rdbCanon(v))
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got := rdbCanon(v); got != tc.want {
				t.Fatalf("got %s\nwant %s", got, tc.want)
			}
		})
	}
}

type rdbLegacyCase struct {
	name string
	body []byte
	want string // canonical contents; "" = must fail
}

func rdbLegacyCases() []rdbLegacyCase {
	blob := func(t byte, b []byte) []byte { return rdbAppendString([]byte{t}, b) }
	ints := []string{"0", "12", "13", "-1", "127", "-128", "300", "-32768", "70000", "-8388608", "8388608",
		"2147483647", "-2147483649", "9223372036854775807", "-9223372036854775808", "01", "abc", ""}
	long := strings.Repeat("L", 300) // makes the next entry's prevlen take 5 bytes
	huge := strings.Repeat("H", 17000)
	listWant := rdbCanon(rdbMkList(append(append([]string{}, ints...), long, "after", huge)...))
	zl := rdbZiplist(append(append([]string{}, ints...), long, "after", huge)...)
	quick1 := rdbAppendLen([]byte{rdbTypeListQuicklist}, 3)
	quick1 = rdbAppendString(quick1, zl)
	quick1 = rdbAppendString(quick1, rdbZiplist()) // empty nodes are skipped
	quick1 = rdbAppendString(quick1, rdbZiplist("tail"))
	lp := func(ss ...string) []byte {
		b := make([]byte, 6)
		for _, s := range ss {
			b = lpAppendEntry(b, s)
		}
		return lpFinish(b, len(ss))
	}
	quick2 := func(nodes ...[]byte) []byte {
		b := rdbAppendLen([]byte{rdbTypeListQuicklist2}, uint64(len(nodes)))
		for _, n := range nodes {
			if n[0] == 'P' { // PLAIN node, marker stripped
				b = rdbAppendLen(b, qlContainerPlain)
				n = n[1:]
			} else {
				b = rdbAppendLen(b, qlContainerPacked)
			}
			b = rdbAppendString(b, n)
		}
		return b
	}
	textZ := []byte{rdbTypeZset, 4}
	for _, e := range []struct {
		m     string
		score []byte
	}{{"a", []byte("\x031.5")}, {"b", []byte{254}}, {"c", []byte{255}}, {"d", []byte("\x02-7")}} {
		textZ = rdbAppendString(textZ, []byte(e.m))
		textZ = append(textZ, e.score...)
	}
	intset := func(enc uint32, vals ...int64) []byte {
		b := binary.LittleEndian.AppendUint32(nil, enc)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(vals)))
		for _, v := range vals {
			switch enc {
			case 2:
				b = binary.LittleEndian.AppendUint16(b, uint16(v))
			case 4:
				b = binary.LittleEndian.AppendUint32(b, uint32(v))
			default:
				b = binary.LittleEndian.AppendUint64(b, uint64(v))
			}
		}
		return b
	}
	zlBad := func(f func(b []byte)) []byte {
		b := rdbZiplist("a", "b", "c")
		f(b)
		return blob(rdbTypeListZiplist, b)
	}
	lpBad := func(f func(b []byte)) []byte {
		b := lp("a", "b", "c")
		f(b)
		return quick2(b)
	}
	return []rdbLegacyCase{
		{"list_ziplist", blob(rdbTypeListZiplist, zl), listWant},
		{"list_ziplist_empty", blob(rdbTypeListZiplist, rdbZiplist()), ""},
		{"quicklist1", quick1, rdbCanon(rdbMkList(append(append(append([]string{}, ints...), long, "after", huge), "tail")...))},
		{"quicklist1_all_empty", rdbAppendString(rdbAppendLen([]byte{rdbTypeListQuicklist}, 1), rdbZiplist()), ""},
		{"quicklist2_plain", quick2([]byte("Pplain"), lp("x", "1"), lp()), rdbCanon(rdbMkList("plain", "x", "1"))},
		{"quicklist2_bad_container", append(rdbAppendLen([]byte{rdbTypeListQuicklist2, 1}, 3), 1, 'x'), ""},
		{"quicklist2_empty_node", append([]byte{rdbTypeListQuicklist2, 1, 2}, 0), ""},
		{"quicklist2_count0", []byte{rdbTypeListQuicklist2, 0}, ""},
		{"list_plain", []byte{rdbTypeList, 2, 1, 'a', 0xC0, 5}, rdbCanon(rdbMkList("a", "5"))},
		{"list_plain_empty", []byte{rdbTypeList, 0}, ""},
		{"hash_ziplist", blob(rdbTypeHashZiplist, rdbZiplist("f", "v", "1", "2", long, "x")),
			rdbCanon(rdbMkHash("f", "v", "1", "2", long, "x"))},
		{"hash_ziplist_dup", blob(rdbTypeHashZiplist, rdbZiplist("f", "v", "f", "w")), ""},
		{"hash_ziplist_dup_int", blob(rdbTypeHashZiplist, rdbZiplist("1", "v", "1", "w")), ""},
		{"hash_ziplist_odd", blob(rdbTypeHashZiplist, rdbZiplist("f", "v", "g")), ""},
		{"hash_ziplist_empty", blob(rdbTypeHashZiplist, rdbZiplist()), ""},
		{"hash_listpack", blob(rdbTypeHashListpack, lp("f", "v", "-5000", "70000")),
			rdbCanon(rdbMkHash("f", "v", "-5000", "70000"))},
		{"hash_listpack_dup", blob(rdbTypeHashListpack, lp("f", "v", "f", "v")), ""},
		{"hash_listpack_odd", blob(rdbTypeHashListpack, lp("f")), ""},
		{"hash_listpack_empty", blob(rdbTypeHashListpack, lp()), ""},
		{"hash_zipmap", blob(rdbTypeHashZipmap, rdbZipmap("foo", "bar", "hello", "world", long, long)),
			rdbCanon(rdbMkHash("foo", "bar", "hello", "world", long, long))},
		{"hash_zipmap_free", blob(rdbTypeHashZipmap, []byte("\x01\x01k\x01\x03vxyz\xff")), rdbCanon(rdbMkHash("k", "v"))},
		{"hash_zipmap_dup", blob(rdbTypeHashZipmap, rdbZipmap("a", "1", "a", "2")), ""},
		{"hash_zipmap_count", blob(rdbTypeHashZipmap, []byte("\x02\x01k\x01\x00v\xff")), ""},
		{"hash_zipmap_empty", blob(rdbTypeHashZipmap, []byte("\x00\xff")), ""},
		{"hash_plain_dup", []byte{rdbTypeHash, 2, 1, 'a', 1, 'b', 1, 'a', 1, 'c'}, ""},
		{"hash_plain_empty", []byte{rdbTypeHash, 0}, ""},
		{"zset_ziplist", blob(rdbTypeZsetZiplist, rdbZiplist("a", "1", "b", "2.5", "c", "-inf", "d", "inf")),
			rdbCanon(rdbMkZset(rdbZP{"a", 1}, rdbZP{"b", 2.5}, rdbZP{"c", math.Inf(-1)}, rdbZP{"d", math.Inf(1)}))},
		{"zset_ziplist_dup", blob(rdbTypeZsetZiplist, rdbZiplist("a", "1", "a", "2")), ""},
		{"zset_ziplist_nan", blob(rdbTypeZsetZiplist, rdbZiplist("a", "nan")), ""},
		{"zset_ziplist_badscore", blob(rdbTypeZsetZiplist, rdbZiplist("a", "x")), ""},
		{"zset_listpack", blob(rdbTypeZsetListpack, lp("a", "1", "b", "-0.5")),
			rdbCanon(rdbMkZset(rdbZP{"a", 1}, rdbZP{"b", -0.5}))},
		{"zset_listpack_dup", blob(rdbTypeZsetListpack, lp("a", "1", "a", "2")), ""},
		{"zset_listpack_odd", blob(rdbTypeZsetListpack, lp("a", "1", "b")), ""},
		{"zset_text", textZ, rdbCanon(rdbMkZset(rdbZP{"a", 1.5}, rdbZP{"b", math.Inf(1)}, rdbZP{"c", math.Inf(-1)}, rdbZP{"d", -7}))},
		{"zset_text_nan", []byte{rdbTypeZset, 1, 1, 'a', 253}, ""},
		{"zset2_nan", append([]byte{rdbTypeZset2, 1, 1, 'a'}, binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.NaN()))...), ""},
		{"zset2_dup", append(append([]byte{rdbTypeZset2, 2, 1, 'a'}, make([]byte, 8)...), append([]byte{1, 'a'}, make([]byte, 8)...)...), ""},
		{"zset2_empty", []byte{rdbTypeZset2, 0}, ""},
		{"set_plain_dup", []byte{rdbTypeSet, 2, 1, 'a', 1, 'a'}, ""},
		{"set_plain_dup_int", []byte{rdbTypeSet, 2, 1, '7', 0xC0, 7}, ""},
		{"set_intset16", blob(rdbTypeSetIntset, intset(2, -3, 0, 9)), rdbCanon(rdbMkSet("-3", "0", "9"))},
		{"set_intset64", blob(rdbTypeSetIntset, intset(8, math.MinInt64, math.MaxInt64)),
			rdbCanon(rdbMkSet("-9223372036854775808", "9223372036854775807"))},
		{"set_intset_dup", blob(rdbTypeSetIntset, intset(4, 1, 1)), ""},
		{"set_intset_unsorted", blob(rdbTypeSetIntset, intset(4, 2, 1)), ""},
		{"set_intset_empty", blob(rdbTypeSetIntset, intset(4)), ""},
		{"set_intset_badenc", blob(rdbTypeSetIntset, intset(3, 1)), ""},
		{"set_intset_short", blob(rdbTypeSetIntset, intset(4, 1, 2)[:15]), ""},
		{"string_lzf_bad", []byte{0, 0xC3, 2, 10, 0x01, 'a'}, ""},
		{"string_lzf_len", []byte{0, 0xC3, 1, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0}, ""},
		{"string_enc4", []byte{0, 0xC4}, ""},
		{"string_len64_huge", []byte{0, 0x81, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, ""},
		{"set_len_huge", []byte{rdbTypeSet, 0x81, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 'a'}, ""},
		{"module", []byte{7, 0}, ""},
		{"ziplist_bad_bytes", zlBad(func(b []byte) { b[0]++ }), ""},
		{"ziplist_bad_tail", zlBad(func(b []byte) { b[4]++ }), ""},
		{"ziplist_bad_count", zlBad(func(b []byte) { b[8]++ }), ""},
		{"ziplist_bad_prevlen", zlBad(func(b []byte) { b[13]++ }), ""},
		{"ziplist_bad_encoding", zlBad(func(b []byte) { b[11] = 0xC1 }), ""},
		{"ziplist_unknown_count", zlBad(func(b []byte) { b[8], b[9] = 0xFF, 0xFF }), rdbCanon(rdbMkList("a", "b", "c"))},
		{"listpack_bad_bytes", lpBad(func(b []byte) { b[0]++ }), ""},
		{"listpack_bad_count", lpBad(func(b []byte) { b[4]++ }), ""},
		{"listpack_bad_backlen", lpBad(func(b []byte) { b[8]++ }), ""},
		{"listpack_bad_encoding", lpBad(func(b []byte) { b[6] = 0xF5 }), ""},
		{"listpack_unknown_count", lpBad(func(b []byte) { b[4], b[5] = 0xFF, 0xFF }), rdbCanon(rdbMkList("a", "b", "c"))},
	}
}

// rdbZiplist builds a ziplist, choosing the smallest encoding for each entry
// as Redis's ziplist.c does.
func rdbZiplist(ss ...string) []byte {
	b := make([]byte, 10)
	prev, tail := 0, 10
	for _, s := range ss {
		tail = len(b)
		start := len(b)
		if prev < 254 {
			b = append(b, byte(prev))
		} else {
			b = binary.LittleEndian.AppendUint32(append(b, 254), uint32(prev))
		}
		if v, ok := ParseInt([]byte(s)); ok {
			switch {
			case v >= 0 && v <= 12:
				b = append(b, 0xF1+byte(v))
			case v >= math.MinInt8 && v <= math.MaxInt8:
				b = append(b, 0xFE, byte(v))
			case v >= math.MinInt16 && v <= math.MaxInt16:
				b = binary.LittleEndian.AppendUint16(append(b, 0xC0), uint16(v))
			case v >= -1<<23 && v < 1<<23:
				b = append(b, 0xF0, byte(v), byte(v>>8), byte(v>>16))
			case v >= math.MinInt32 && v <= math.MaxInt32:
				b = binary.LittleEndian.AppendUint32(append(b, 0xD0), uint32(v))
			default:
				b = binary.LittleEndian.AppendUint64(append(b, 0xE0), uint64(v))
			}
		} else {
			switch n := len(s); {
			case n <= 63:
				b = append(b, byte(n))
			case n <= 16383:
				b = append(b, 0x40|byte(n>>8), byte(n))
			default:
				b = binary.BigEndian.AppendUint32(append(b, 0x80), uint32(n))
			}
			b = append(b, s...)
		}
		prev = len(b) - start
	}
	b = append(b, 0xFF)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint32(b[4:], uint32(tail))
	binary.LittleEndian.PutUint16(b[8:], uint16(len(ss)))
	return b
}

// rdbZipmap builds a Redis 2.x zipmap from field/value pairs.
func rdbZipmap(kv ...string) []byte {
	b := []byte{byte(min(len(kv)/2, 254))}
	ln := func(n int) {
		if n < 254 {
			b = append(b, byte(n))
		} else {
			b = binary.LittleEndian.AppendUint32(append(b, 254), uint32(n))
		}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		ln(len(kv[i]))
		b = append(b, kv[i]...)
		ln(len(kv[i+1]))
		b = append(b, 0)
		b = append(b, kv[i+1]...)
	}
	return append(b, 0xFF)
}

// TestLZFProbe: a value of at least 2 x lzfProbe bytes whose start does
// not compress is stored raw without a full attempt, even if its end would
// compress; a shorter one is tried whole.
func TestLZFProbe(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	mixed := func(n int) []byte {
		in := make([]byte, n) // random start, zeros after
		for i := 0; i < lzfProbe+8; i++ {
			in[i] = byte(rng.Uint32())
		}
		return in
	}
	if c := lzfCompress(nil, mixed(4*lzfProbe), 4*lzfProbe-4); c != nil {
		t.Errorf("long value with an incompressible start compressed to %d bytes", len(c))
	}
	in := mixed(2*lzfProbe - 1)
	c := lzfCompress(nil, in, len(in)-4)
	if c == nil {
		t.Fatal("short value with a compressible end was not compressed")
	}
	if out, err := lzfDecompress(c, len(in)); err != nil || string(out) != string(in) {
		t.Fatalf("round trip: %v", err)
	}
}

// TestRDBStringScratch encodes strings one after another, as a slot move
// does: each compresses into the same pooled buffer, and what an earlier
// call returned must not change when a later one reuses it.
func TestRDBStringScratch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	ins := [][]byte{
		bytes.Repeat([]byte("ab"), 500), random(1000), bytes.Repeat([]byte("xyz"), 30000),
		bytes.Repeat([]byte{0}, 2000), random(lzfScratchMax + 1), bytes.Repeat([]byte("q"), 100),
	}
	var outs [][]byte
	for _, in := range ins {
		outs = append(outs, rdbAppendString(nil, in))
	}
	for i, in := range ins {
		r := &rdbReader{b: outs[i]}
		got, err := r.str()
		if err != nil || !bytes.Equal(got, in) || len(r.b) != 0 {
			t.Errorf("string %d (%d bytes): decoded %d bytes, %v", i, len(in), len(got), err)
		}
	}
}

func TestRDBLZF(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{21, 100, 1000, 70000} {
		for _, kind := range []string{"zeros", "text", "random"} {
			in := make([]byte, n)
			for i := range in {
				switch kind {
				case "text":
					in[i] = "abcab cabbage "[rng.IntN(14)]
				case "random":
					in[i] = byte(rng.Uint32())
				}
			}
			c := lzfCompress(nil, in, len(in)-4)
			if c == nil {
				if kind == "zeros" || (kind == "text" && n >= 100) {
					t.Errorf("%s/%d did not compress", kind, n)
				}
				continue
			}
			out, err := lzfDecompress(c, len(in))
			if err != nil || string(out) != string(in) {
				t.Fatalf("%s/%d: round trip failed: %v", kind, n, err)
			}
			if _, err := lzfDecompress(c, len(in)-1); err == nil {
				t.Fatalf("%s/%d: short output accepted", kind, n)
			}
		}
	}
	// Redis's own compressed "a"*100: 01 61 61 e0 57 00 01 61 61.
	out, err := lzfDecompress([]byte{0x01, 0x61, 0x61, 0xe0, 0x57, 0x00, 0x01, 0x61, 0x61}, 100)
	if err != nil || string(out) != strings.Repeat("a", 100) {
		t.Fatalf("liblzf data: %q %v", out, err)
	}
	// Back reference before the start of the output.
	if _, err := lzfDecompress([]byte{0x00, 'a', 0x20, 0x05}, 4); err == nil {
		t.Fatal("reference before start accepted")
	}
}

// rdbCorruptInputs yields a variety of payloads to damage.
func rdbCorruptInputs(t testing.TB) map[string][]byte {
	in := map[string][]byte{}
	for name, hx := range rdbGolden {
		in["golden/"+name] = rdbHex(t, hx)
	}
	for _, tc := range rdbLegacyCases() {
		in["legacy/"+tc.name] = rdbTrailer(tc.body, 10)
	}
	for name, v := range rdbTestValues() {
		in["ours/"+name] = DumpPayload(v)
	}
	return in
}

// TestRDBCorrupt truncates payloads at every offset and damages bytes
// with a recomputed CRC: decoding must fail or succeed, never panic, and a
// value that decodes must encode and decode again to the same contents.
func TestRDBCorrupt(t *testing.T) {
	check := func(t *testing.T, p []byte, roundTrip bool) {
		t.Helper()
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("panic on %x: %v", p[:min(len(p), 64)], r)
			}
		}()
		v, err := DecodePayload(p)
		if err != nil || !roundTrip {
			return
		}
		v2, err := DecodePayload(DumpPayload(v))
		if err != nil || rdbCanon(v2) != rdbCanon(v) {
			t.Fatalf("decoded value does not round trip: %v", err)
		}
	}
	for name, p := range rdbCorruptInputs(t) {
		if len(p) > 12<<10 {
			continue // the large values only repeat what smaller ones cover
		}
		t.Run(name, func(t *testing.T) {
			body := p[:len(p)-10]
			step := 1
			if len(body) > 256 {
				step = len(body)/64 + 1 // sample large payloads: keep the test quick
			}
			for i := 0; i < len(body); i += step {
				if _, err := DecodePayload(rdbTrailer(body[:i], 10)); err == nil {
					t.Fatalf("truncation at %d of %d decoded", i, len(body))
				}
				if _, err := DecodePayload(p[:i]); err == nil {
					t.Fatalf("raw truncation at %d decoded", i)
				}
			}
			mut := append([]byte(nil), body...)
			for i := 0; i < len(body); i += step {
				for k, b := range []byte{1, 2, 4, 8, 16, 32, 64, 128} {
					mut[i] ^= b
					check(t, rdbTrailer(mut, 10), k == 0)
					mut[i] ^= b
				}
				for _, b := range []byte{0x00, 0x40, 0x80, 0x81, 0xc3, 0xff} {
					old := mut[i]
					mut[i] = b
					check(t, rdbTrailer(mut, 10), false)
					mut[i] = old
				}
			}
		})
	}
}

func FuzzDecodePayload(f *testing.F) {
	for _, p := range rdbCorruptInputs(f) {
		if len(p) < 4096 {
			f.Add(p[:len(p)-10])
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		// Bodies get a valid trailer so the fuzzer explores the decoder
		// rather than the checksum.
		v, err := DecodePayload(rdbTrailer(body, 10))
		if err != nil {
			if !errors.Is(err, errRDBFormat) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		v2, err := DecodePayload(DumpPayload(v))
		if err != nil || rdbCanon(v2) != rdbCanon(v) {
			t.Fatalf("decoded value does not round trip: %v", err)
		}
	})
}

// TestRDBRedisInterop checks both directions against a live redis-server
// 7.0 when one is installed: Redis must RESTORE our DUMP payloads and the
// legacy payloads built in these tests, and its DUMP of them must decode to
// the same contents here.
func TestRDBRedisInterop(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil || testing.Short() {
		t.Skip("redis-server not installed (or -short)")
	}
	conn := rdbStartRedis(t, bin)
	if v := conn.do(t, "INFO", "server"); !strings.Contains(v, "redis_version:7.0.") {
		t.Skip("redis-server is not 7.0")
	}
	check := func(name string, payload []byte, want string) {
		t.Helper()
		if r := conn.do(t, "RESTORE", "k", "0", string(payload), "REPLACE"); r != "OK" {
			t.Errorf("%s: redis RESTORE: %s", name, r)
			return
		}
		back := conn.do(t, "DUMP", "k")
		v, err := DecodePayload([]byte(back))
		if err != nil {
			t.Errorf("%s: decode redis DUMP: %v", name, err)
			return
		}
		if got := rdbCanon(v); got != want {
			t.Errorf("%s: redis round trip gives %.200s\nwant %.200s", name, got, want)
		}
	}
	for name, v := range rdbTestValues() {
		check(name, DumpPayload(v), rdbCanon(v))
	}
	for name, v := range rdbGoldenWant() {
		check("golden/"+name, DumpPayload(v), rdbCanon(v))
	}
	for _, tc := range rdbLegacyCases() {
		p := rdbTrailer(tc.body, 10)
		if tc.want != "" {
			check("legacy/"+tc.name, p, tc.want)
		} else if r := conn.do(t, "RESTORE", "bad", "0", string(p)); !strings.HasPrefix(r, "ERR") {
			// Redis without sanitize-dump-payload skips some deep checks;
			// only report the cases it accepts for information.
			t.Logf("legacy/%s: redis accepted a payload we reject: %.60s", tc.name, r)
			conn.do(t, "DEL", "bad")
		}
	}
}

type rdbRESP struct {
	c net.Conn
	r *bufio.Reader
}

// rdbStartRedis runs a throwaway redis-server on a free loopback port;
// extra arguments come last (and win over the defaults).
func rdbStartRedis(t *testing.T, bin string, extra ...string) *rdbRESP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	args := []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--sanitize-dump-payload", "yes"}
	cmd := exec.Command(bin, append(args, extra...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return &rdbRESP{c: c, r: bufio.NewReader(c)}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// do sends one command and returns the reply: status or bulk text, error
// text, an integer in decimal; "<nil>" for nil.
func (rc *rdbRESP) do(t *testing.T, args ...string) string {
	t.Helper()
	var b []byte
	b = fmt.Appendf(b, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	_ = rc.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := rc.c.Write(b); err != nil {
		t.Fatal(err)
	}
	line, err := rc.r.ReadString('\n')
	if err != nil || len(line) < 3 {
		t.Fatalf("read reply: %q %v", line, err)
	}
	line = line[:len(line)-2]
	switch line[0] {
	case '+', '-', ':':
		return line[1:]
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "<nil>"
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rc.r, buf); err != nil {
			t.Fatal(err)
		}
		return string(buf[:n])
	}
	t.Fatalf("unexpected reply %q", line)
	return ""
}

// rdbGolden holds DUMP payloads produced by redis-server 7.0.15 (Debian
// build, default configuration apart from list-compress-depth 1 while
// list_compressed was built) for the values rdbGoldenWant describes. They
// were taken with EVAL "return hex(redis.call('DUMP', KEYS[1]))"; see
// TestRDBRedisInterop for checking against a live server.
var rdbGolden = map[string]string{
	"hash_bigval":     "04020167c0010166c3094064017a7ae05700017a7a0a0096c57ef2e88dbeed",
	"hash_ht":         "04425805663a35343505763a35343505663a32363205763a32363204663a343404763a343405663a31393805763a31393805663a31303305763a31303305663a35303405763a35303405663a33383305763a33383305663a34353205763a34353205663a34313405763a34313405663a31323705763a31323705663a33373905763a33373905663a32303505763a32303505663a31373505763a31373505663a31353205763a31353204663a343004763a343005663a34373005763a34373004663a333104763a333105663a34363105763a34363105663a32383805763a32383805663a35383405763a35383405663a31353305763a31353305663a35313905763a35313904663a373704763a373705663a35373405763a35373405663a34373805763a34373805663a32353705763a32353705663a33303705763a33303705663a33383705763a33383705663a33363205763a33363205663a32303705763a32303705663a31333405763a31333405663a35303105763a35303105663a32333205763a32333205663a31383205763a31383205663a31353605763a31353605663a35313805763a35313805663a33333105763a33333105663a34333405763a34333405663a34353805763a34353805663a32363805763a32363804663a353804763a353805663a33303205763a33303205663a35343005763a35343005663a32343705763a32343705663a33363505763a33363505663a32323605763a32323605663a33303905763a33303905663a34323705763a34323705663a31333605763a31333605663a33343505763a33343505663a31343605763a31343604663a333204763a333205663a33333505763a33333505663a34303405763a34303405663a33363705763a33363705663a34383605763a34383605663a32303205763a32303205663a31343205763a31343205663a34373905763a34373905663a32353105763a32353105663a33393605763a33393604663a383404763a383404663a393904763a393904663a393004763a393005663a32313705763a32313705663a33353005763a33353005663a32303305763a32303305663a32323305763a32323304663a363004763a363005663a35363805763a35363805663a32313005763a32313005663a31343105763a31343105663a35313305763a35313305663a35313605763a35313604663a353104763a353105663a32393005763a32393005663a32343305763a32343304663a313604763a313605663a31323105763a31323104663a323804763a323805663a34373205763a34373205663a35373505763a35373505663a32363605763a32363605663a34363305763a34363305663a32363405763a32363405663a31303905763a31303905663a35373805763a35373804663a363104763a363105663a31313305763a31313305663a34383405763a34383405663a33313305763a33313304663a313204763a313205663a33343905763a33343905663a32333805763a32333805663a32333005763a32333005663a31323905763a31323904663a383304763a383304663a383504763a383505663a35343605763a35343605663a35393905763a35393905663a32323005763a32323005663a35393705763a35393705663a35353505763a35353505663a32383905763a32383905663a33393805763a33393805663a34333605763a34333605663a31303705763a31303705663a31303605763a31303605663a31383805763a31383805663a32303005763a32303005663a35313705763a35313705663a33313105763a33313105663a35323805763a35323803663a3003763a3005663a34343305763a34343305663a35343305763a35343305663a35333405763a35333405663a32373405763a32373405663a32333405763a32333405663a35383005763a35383005663a32353205763a32353205663a35303705763a35303705663a34393305763a34393305663a33353505763a33353505663a32353305763a32353304663a343804763a343805663a31373905763a31373905663a35363005763a35363004663a353304763a353305663a32323905763a32323905663a33313505763a33313505663a35363505763a35363505663a32343505763a32343505663a32343105763a32343104663a313504763a313505663a31353705763a31353705663a33313205763a33313205663a31373105763a31373105663a31393205763a31393205663a32313205763a32313204663a333504763a333505663a33303505763a33303505663a34363205763a34363205663a34333905763a34333905663a32373705763a32373705663a32373005763a32373005663a35353405763a35353405663a31363605763a31363605663a35323705763a35323705663a31363505763a31363505663a31313705763a31313705663a31303005763a31303005663a33343105763a33343105663a34343505763a34343505663a33333405763a33333405663a33323205763a33323205663a33373605763a33373605663a31373005763a31373005663a35383205763a35383205663a35303305763a35303305663a34313105763a34313103663a3903763a3905663a33333905763a33333905663a34373405763a34373405663a33393905763a33393905663a34383205763a34383204663a373404763a373405663a33343005763a33343005663a33353905763a33353905663a35343905763a35343905663a31333205763a31333205663a34333005763a34333005663a34323205763a34323205663a35343205763a35343205663a34363005763a34363004663a393204763a393204663a333904763a333905663a34383505763a34383505663a33363405763a33363405663a31353805763a31353805663a35323305763a35323305663a35333605763a35333605663a34303305763a34303305663a32323105763a32323104663a333804763a333805663a35393605763a35393605663a31333105763a31333105663a34303005763a34303005663a35363605763a35363605663a34363905763a34363905663a34343805763a34343804663a363404763a363405663a32373605763a32373604663a323504763a323504663a343504763a343505663a31353905763a31353905663a34313005763a34313005663a32383405763a32383405663a33303405763a33303405663a34313305763a34313305663a31373805763a31373805663a34363705763a34363705663a32323505763a32323505663a31313405763a31313404663a373804763a373805663a31343905763a31343905663a32373805763a32373805663a34313505763a34313505663a33363805763a33363805663a34353305763a34353305663a35363705763a35363704663a343604763a343605663a33373205763a33373205663a31333805763a31333804663a323304763a323305663a35323205763a35323204663a313304763a313305663a31393605763a31393605663a35303205763a35303205663a35353605763a35353604663a353404763a353405663a32383505763a32383505663a33373305763a33373304663a373004763a373005663a32383105763a32383104663a323704763a323704663a353204763a353205663a31363005763a31363005663a34373105763a34373105663a34383005763a34383005663a34343905763a34343905663a33313605763a33313605663a31343805763a31343805663a31323405763a31323405663a31323605763a31323605663a32393405763a32393405663a31333705763a31333705663a31383105763a31383105663a34393405763a34393405663a31393505763a31393505663a33383605763a33383605663a31393405763a31393405663a33383805763a33383805663a33323605763a33323605663a35353305763a35353304663a383004763a383005663a32323405763a32323404663a373604763a373605663a33393305763a33393305663a34393005763a34393005663a33323105763a33323105663a35373605763a35373605663a35313205763a35313205663a34383705763a34383705663a32343205763a32343205663a31323205763a31323205663a35393805763a35393804663a393304763a393305663a31313505763a31313505663a32373905763a32373904663a353504763a353505663a33383205763a33383204663a353704763a353705663a32353005763a32353005663a33323005763a33323005663a32383005763a32383004663a313804763a313804663a393604763a393605663a32393705763a32393705663a32333505763a32333505663a31393305763a31393305663a31383605763a31383604663a333004763a333005663a35363405763a35363404663a393104763a393104663a333304763a333305663a35303905763a35303905663a32363905763a32363905663a32313105763a32313105663a33363005763a33363005663a32343005763a32343005663a34313205763a34313204663a373504763a373505663a34353605763a34353605663a33393405763a33393405663a33373505763a33373505663a32313305763a32313305663a32323205763a32323203663a3503763a3504663a353904763a353905663a35333905763a35333905663a31313905763a31313905663a34383805763a34383805663a34323005763a34323005663a35303805763a35303805663a31343005763a31343005663a32383705763a32383704663a363804763a363805663a35333305763a35333305663a33343305763a33343305663a32373205763a32373205663a32303405763a32303403663a3803763a3805663a32313505763a32313505663a31353405763a31353405663a31363105763a31363105663a31323805763a31323805663a33393105763a33393105663a34393605763a34393605663a33353405763a33353405663a32363705763a32363705663a34373605763a34373605663a34313905763a34313905663a31363305763a31363305663a31313005763a31313005663a34353405763a34353405663a34313705763a34313705663a35323405763a35323405663a31343705763a31343704663a363204763a363204663a383104763a383105663a33303305763a33303305663a31393905763a31393905663a32303605763a32303604663a333704763a333705663a33383505763a33383505663a34373705763a34373705663a32393505763a32393505663a35353905763a35353905663a34323905763a34323905663a34373505763a34373505663a33313005763a33313005663a34323105763a34323105663a31353505763a31353505663a31353105763a31353104663a373104763a373105663a35373905763a35373904663a323104763a323104663a343104763a343105663a33323305763a33323305663a35373705763a35373705663a35303005763a35303005663a34363405763a34363404663a343204763a343204663a313904763a313905663a35393305763a35393305663a35323005763a35323005663a35323905763a35323905663a32343605763a32343605663a32343405763a32343405663a34343105763a34343105663a33373405763a33373404663a363304763a363305663a34393905763a34393905663a32313805763a32313805663a34323505763a34323505663a32353905763a32353905663a35373105763a35373105663a31393705763a31393705663a33383105763a33383105663a35363205763a35363205663a34303705763a34303704663a323604763a323605663a33333805763a33333804663a313104763a313105663a33383905763a33383905663a34343605763a34343605663a32313605763a32313605663a33323805763a33323805663a31363905763a31363905663a35373205763a35373204663a373304763a373305663a34323805763a34323805663a32333305763a32333305663a35333105763a35333104663a343704763a343705663a34303105763a34303104663a363704763a363705663a35333805763a35333805663a34313605763a34313605663a31303405763a31303405663a33393205763a33393205663a32363305763a32363305663a35343705763a35343705663a34333305763a34333303663a3603763a3605663a32363505763a32363505663a34393705763a34393705663a34383305763a34383305663a34393505763a34393505663a35323105763a35323105663a33323505763a33323505663a35363305763a35363305663a32373505763a32373505663a35353705763a35353705663a32353405763a32353405663a32303105763a32303105663a34363605763a34363604663a373204763a373205663a31383905763a31383905663a33313405763a33313405663a35323605763a35323605663a32393805763a32393805663a34393205763a34393205663a32333705763a32333705663a35363105763a35363105663a35383905763a35383905663a35313405763a35313405663a32303805763a32303805663a33303805763a33303804663a353004763a353004663a323904763a323905663a33313805763a33313805663a34333805763a34333805663a31323005763a31323005663a33353805763a33353805663a33303605763a33303604663a313704763a313705663a35393105763a35393104663a373904763a373904663a323204763a323205663a31303505763a31303505663a31373705763a31373705663a34353005763a34353005663a34313805763a34313805663a32393605763a32393605663a32373105763a32373105663a35333005763a35333005663a34323305763a34323305663a34363505763a34363505663a31363205763a31363205663a32343905763a32343905663a32383205763a32383205663a34353505763a34353505663a32313905763a32313905663a31363805763a31363805663a34303905763a34303905663a34303605763a34303605663a31313205763a31313203663a3703763a3705663a33353105763a33353104663a383604763a383605663a35313505763a35313505663a32303905763a32303905663a34343405763a34343405663a32393205763a32393205663a32333605763a32333605663a35363905763a35363905663a32363105763a32363105663a34333505763a34333505663a35393505763a35393504663a393404763a393405663a31303805763a31303805663a35343405763a35343405663a35303505763a35303505663a33343205763a33343205663a35353205763a35353205663a31353005763a31353005663a31363405763a31363405663a34343705763a34343705663a32373305763a32373305663a33333705763a33333705663a32393105763a32393105663a31363705763a31363705663a32343805763a32343805663a32383605763a32383605663a33323905763a33323905663a31333005763a31333005663a34373305763a34373305663a32313405763a32313405663a31323305763a31323305663a34383105763a34383104663a313404763a313405663a33363605763a33363605663a32323805763a32323805663a31373305763a31373303663a3203763a3205663a35353105763a35353105663a35313105763a35313103663a3103763a3105663a33333605763a33333604663a393504763a393505663a33353305763a33353305663a34333105763a34333105663a35383505763a35383504663a323004763a323004663a363504763a363505663a32333105763a32333105663a33313905763a33313904663a353604763a353605663a31383505763a31383505663a31343305763a31343305663a33313705763a33313705663a35393005763a35393005663a33383405763a33383405663a33343805763a33343805663a34303205763a34303205663a32353505763a32353505663a35373005763a35373005663a33373705763a33373704663a323404763a323405663a33363105763a33363104663a333604763a333605663a34323405763a34323405663a34303805763a34303804663a313004763a313005663a34353905763a34353905663a32333905763a32333905663a33343605763a33343605663a31313805763a31313805663a35333505763a35333505663a33343405763a33343405663a31343405763a31343405663a32363005763a32363005663a35383605763a35383605663a34363805763a34363805663a33343705763a33343705663a31313105763a31313104663a383804763a383805663a35353805763a35353805663a35383705763a35383705663a34353105763a34353105663a33373105763a33373104663a383704763a383705663a33353605763a33353605663a31373405763a31373405663a33333005763a33333005663a35343805763a35343805663a34303505763a34303505663a35373305763a35373305663a33363905763a33363905663a33303005763a33303005663a31343505763a31343505663a31383705763a31383705663a31323505763a31323505663a32353605763a32353605663a31333505763a31333504663a383904763a383905663a35303605763a35303605663a31373205763a31373205663a33323405763a33323405663a35333205763a35333205663a33373805763a33373805663a31303105763a31303105663a33393705763a33393705663a33353205763a33353205663a31303205763a31303205663a35383305763a35383305663a35393205763a35393205663a32383305763a32383305663a35333705763a35333705663a33303105763a33303105663a33373005763a33373005663a31383005763a31383005663a35323505763a35323505663a31383305763a31383305663a31393105763a31393105663a34343205763a34343205663a33323705763a33323704663a383204763a383205663a32353805763a32353805663a34393105763a34393105663a33393505763a33393504663a343304763a343304663a363904763a363905663a35393405763a35393405663a34323605763a34323605663a32393905763a32393905663a34333705763a34333705663a33383005763a33383005663a31313605763a31313603663a3303763a3304663a333404763a333405663a33363305763a33363305663a31333905763a31333905663a34393805763a34393805663a34343005763a34343004663a393704763a393704663a343904763a343903663a3403763a3404663a393804763a393805663a31393005763a31393005663a33333305763a33333305663a35353005763a35353005663a33333205763a33333205663a33353705763a33353705663a34333205763a34333205663a31333305763a31333305663a35383805763a35383805663a32393305763a32393305663a34353705763a34353705663a31373605763a31373605663a35343105763a35343105663a35383105763a35383105663a35313005763a35313005663a32323705763a32323705663a31383405763a31383405663a34383905763a34383905663a33393005763a33393004663a363604763a36360a00111915dad90b4322",
	"hash_lp":         "101b1b00000006008266310382763103826632030201030182763303ff0a00724ff573febd0b49",
	"list_big":        "120202c34fdb5ff10df11f00003c03866974656d3a300780070031a0070032a0070033a0070034a0070035a0070036a0070037a0070038a00702390787604f02313008a0080031c0080032c0080033c0080034c0080035c0080036c0080037c0080038c0080039a0080032c0590032c0590032c0590032c0590032c0590032c0590032c0590032c0590032c0590032c0590033c0590033c0590033c0590033c0590033c0590033c0590033c0590033c0590033c0590033c0590034c0590034c0590034c0590034c0590034c0590034c0590034c0590034c0590034c0590034c0590035c0590035c0590035c0590035c0590035c0590035c0590035c0590035c0590035c0590035c0590036c0590036c0590036c0590036c0590036c0590036c0590036c0590036c0590036c0590036c0590037c0590037c0590037c0590037c0590037c0590037c0590037c0590037c0590037c0590037c0590038c0590038c0590038c0590038c0590038c0590038c0590038c0590038c0590038c0590038c0590039c0590039c0590039c0590039c0590039c0590039c0590039c0590039c0590039c0590339390888a329013009c0090031e000090032e000090033e000090034e000090035e000090036e000090037e000090038e000090039c0090031e000630031e000630031e000630031e000630031e000630031e000630031e000630031e000630031e000630031e000630032e000630032e000630032e000630032e000630032e000630032e000630032e000630032e000630032e000630032e000630033e000630033e000630033e000630033e000630033e000630033e000630033e000630033e000630033e000630033e000630034e000630034e000630034e000630034e000630034e000630034e000630034e000630034e000630034e000630034e000630035e000630035e000630035e000630035e000630035e000630035e000630035e000630035e000630035e000630035e000630036e000630036e000630036e000630036e000630036e000630036e000630036e000630036e000630036e000630036e000630037e000630037e000630037e000630037e000630037e000630037e000630037e000630037e000630037e000630037e000630038e000630038e000630038e000630038e000630038e000630038e000630038e000630038e000630038e000630038e000630039e000630039e000630039e000630039e000630039e000630039e000630039e000630039e000630039e000630039c0630032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70032e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70033e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70034e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70035e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70036e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70037e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e70038e300e7003823e700ff02c3436746bf0fbf060000ac00886974656d3a38323809c0090039c009013330e000090031e000090032e000090033e000090034e000090035e000090036e000090037e00009e000630033e000630034e000630034e000630034e000630034e000630034e000630034e000630034e000630034e000630034e000630034e000630035e000630035e000630035e000630035e000630035e000630035e000630035e000630035e000630035e000630035e000630036e000630036e000630036e000630036e000630036e000630036e000630036e000630036e000630036e000630036e000630037e000630037e000630037e000630037e000630037e000630037e000630037e000630037e000630037e000630037e000630038e000630038e000630038e000630038e000630038e000630038e000630038e000630038e000630038e000630038e000630039e000630039e000630039e000630039e000630039e000630039e000630039e000630039e000630039e000630039c063013930c063013930c063013930c063013930c063013930c063013930c063013930c063013930c063013930c063013930e000630031e000630031e000630031e000630031e000630031e000630031e000630031e000630031e000630031e000630031e000630032e000630032e000630032e000630032e000630032e000630032e000630032e000630032e00063e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e70039e300e7003923e700ff0a00b891e781cdf15439",
	"list_bigele":     "1203020e0e000000010085736d616c6c06ff02c34083671e071e2700000100f01020060078e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0ff00e0de00024e95ff02090900000001002a01ff0a000a0a398b9d538df9",
	"list_compressed": "120302c34ebf5ff40ef41f0000f1028776616c75652d3008a0080031c0080032c0080033c0080034c0080035c0080036c0080037c0080038c00802390888805902313009c0090031e000090032e000090033e000090034e000090035e000090036e000090037e000090038e000090039c0090032e000630032e000630032e000630032e000630032e000630032e000630032e000630032e000630032e000630032e000630033e000630033e000630033e000630033e000630033e000630033e000630033e000630033e000630033e000630033e000630034e000630034e000630034e000630034e000630034e000630034e000630034e000630034e000630034e000630034e000630035e000630035e000630035e000630035e000630035e000630035e000630035e000630035e000630035e000630035e000630036e000630036e000630036e000630036e000630036e000630036e000630036e000630036e000630036e000630036e000630037e000630037e000630037e000630037e000630037e000630037e000630037e000630037e000630037e000630037e000630038e000630038e000630038e000630038e000630038e000630038e000630038e000630038e000630038e000630038e000630039e000630039e000630039e000630039e000630039e000630039e000630039e000630039e000630039e000630339390989c38301300ae0000a0031e0010a0032e0010a0033e0010a0034e0010a0035e0010a0036e0010a0037e0010a0038e0010a0039e0000a0031e0016d0031e0016d0031e0016d0031e0016d0031e0016d0031e0016d0031e0016d0031e0016d0031e0016d0031e0016d0032e0016d0032e0016d0032e0016d0032e0016d0032e0016d0032e0016d0032e0016d0032e0016d0032e0016d0032e0016d0033e0016d0033e0016d0033e0016d0033e0016d0033e0016d0033e0016d0033e0016d0033e0016d0033e0016d0033e0016d0034e0016d0034e0016d0034e0016d0034e0016d0034e0016d0034e0016d0034e0016d0034e0016d0034e0016d0034e0016d0035e0016d0035e0016d0035e0016d0035e0016d0035e0016d0035e0016d0035e0016d0035e0016d0035e0016d0035e0016d0036e0016d0036e0016d0036e0016d0036e0016d0036e0016d0036e0016d0036e0016d0036e0016d0036e0016d0036e0016d0037e0016d0037e0016d0037e0016d0037e0016d0037e0016d0037e0016d0037e0016d0037e0016d0037e0016d0037e0016d0038e0016d0038e0016d0038e0016d0038e0016d0038e0016d0038e0016d0038e0016d0038e0016d0038e0016d0038e0016d0039e0016d0039e0016d0039e0016d0039e0016d0039e0016d0039e0016d0039e0016d0039e0016d0039e0016d0039e0006d0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0032e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0033e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0034e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0035e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0036e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037e4014b0037244b00ff02c34dc75ff810f81f0000be028976616c75652d3735330ae0000a0034e0010a0035e0010a0036e0010a0037e0010a0038e0010a0039e0000a013630e0010a0031e0010a0032e0010ae0016d0036e0016d0036e0016d0036e0016d0036e0016d0036e0016d0036e0016d0037e0016d0037e0016d0037e0016d0037e0016d0037e0016d0037e0016d0037e0016d0037e0016d0037e0016d0037e0016d0038e0016d0038e0016d0038e0016d0038e0016d0038e0016d0038e0016d0038e0016d0038e0016d0038e0016d0038e0016d0039e0016d0039e0016d0039e0016d0039e0016d0039e0016d0039e0016d0039e0016d0039e0016d0039e0016d0039e0006d013830e0006d013830e0006d013830e0006d013830e0006d013830e0006d013830e0006d013830e0006d013830e0006d013830e0006d013830e0016d0031e0016d0031e0016d0031e0016d0031e0016d0031e0016d0031e0016d0031e0016d0031e0016d0031e0016d0031e0016d0032e0016d0032e0016d0032e0016d0032e0016d0032e0016d0032e0016d0032e0016d0032e0016d0032e0016d0032e0016d0033e0016d0033e0016d0033e0016d0033e0016d0033e0016d0033e0016d0033e0016d0033e0016d0033e0016d0033e0016d0034e0016d0034e0016d0034e0016d0034e0016d0034e0016d0034e0016d0034e0016d0034e0016d0034e0016d0034e0016d0035e0016d0035e0016d0035e0016de4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0038e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039e4014b0039244b008a8a9c04313030300be0010b0031e0020b0032e0020b0033e0020b0034e0020b0035e0020b0036e0020b0037e0020b0038e0020b0039e0010b0031e002770031e002770031e002770031e002770031e002770031e002770031e002770031e002770031e002770031e002770032e002770032e002770032e002770032e002770032e002770032e002770032e002770032e002770032e002770032e002770033e002770033e002770033e002770033e002770033e002770033e002770033e002770033e002770033e002770033e002770034e002770034e002770034e002770034e002770034e002770034e002770034e002770034e002770034e002770034e002770035e002770035e002770035e002770035e002770035e002770035e002770035e002770035e002770035e002770035e002770036e002770036e002770036e002770036e002770036e002770036e002770036e002770036e002770036e002770036e002770037e002770037e002770037e002770037e002770037e002770037e002770037e002770037e002770037e002770037e002770038e002770038e002770038e002770038e002770038e002770038e002770038e002770038e002770038e002770038e002770039e002770039e002770039e002770039e002770039e002770039e002770039e002770039e002770039e002770039e0017724b0e4004323d8e0020be001772300e00217e001772228e00217e001772150e00217e001772078e00117e402af2000e00217e00277e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0031e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0032e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0033e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af0034e402af003424af00ff02c34abe5993119319000021028a76616c75652d313435350be0010b0036e0020b0037e0020b0038e0020b0039e0010b013630e0020b0031e0020b0032e0020b0033e0020b0034e0020be002770036e002770036e002770036e002770036e002770037e002770037e002770037e002770037e002770037e002770037e002770037e002770037e002770037e002770037e002770038e002770038e002770038e002770038e002770038e002770038e002770038e002770038e002770038e002770038e002770039e002770039e002770039e002770039e002770039e002770039e002770039e002770039e002770039e002770039e00177013530e00177013530e00177013530e00177013530e00177013530e00177013530e00177013530e00177013530e00177013530e00177013530e002770031e002770031e002770031e002770031e002770031e002770031e002770031e002770031e002770031e002770031e002770032e002770032e002770032e002770032e002770032e002770032e002770032e002770032e002770032e002770032e002770033e002770033e002770033e002770033e002770033e002770033e002770033e002770033e002770033e002770033e002770034e002770034e002770034e002770034e002770034e002770034e002770034e002770034e002770034e002770034e002770035e002770035e002770035e002770035e002770035e00277e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0035e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0036e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0037e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0038e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af0039e402af003924af00ff0a0069743a9bc7591ead",
	"list_lp":         "120102c33940961f960000000b008161028162020101dffe02c12c02d06002f270110104f3c0ab7606ff05f4005ed0b220250600098001e06479e05a000166ff0a0080b8cc7739ec9dc4",
	"set_bigint":      "024258c19d00c034c17801c069c14702c07bc076c12001c051c10702c1cd01c1fb00c11f02c17a01c1f901c067c12c02c1fa01c1b301c048c1ac00c00cc11201c11102c15801c019c023c1cb00c1f600c018c14501c13702c1b801c070c19f01c11702c19601c1e000c1d300c1a401c1db01c1a200c05bc02fc1a600c1e901c016c15101c1d001c1c701c1df01c14f01c1e101c1a701c19100c10e02c13b01c10c01c14802c11e01c072c1b400c1be01c19600c15e01c00fc10101c16801c12d01c10d02c07fc19001c18201c02ec13401c013c10001c1e500c11b02c16601c14002c12302c1c901c16001c18700c1c301c18701c13601c07dc16d01c1d600c1bf01c10b02c03cc002c16101c05cc00bc14b01c1ea00c18601c11301c13b02c19b01c14001c15a01c06fc1de00c14a01c11501c19c00c1c501c01ec18300c1f000c031c1a101c19801c18e01c18b01c1d500c026c18600c1eb00c15701c1a000c18f01c1ee01c1c601c1c500c1ca01c11001c18800c12002c12401c1b000c024c1bd00c14101c14202c1dd01c029c13502c1e801c13202c12802c014c18101c1d701c1c200c04cc18c01c011c1c000c14302c12202c10401c11902c10202c1ef00c16e01c16a01c10201c11d01c12702c021c003c19701c19501c1a800c10b01c19200c17e01c073c1a801c11401c12102c13a01c18000c11d02c13f01c1f300c045c1b901c12f01c1b200c15202c1cf00c19901c1fa00c1be00c017c11801c1f801c18900c10901c1f100c050c1ae01c03fc18401c11c02c1d601c1ab01c10902c039c13902c11f01c033c19c01c14602c10402c1ea01c1f001c042c13c01c15901c1eb01c1b500c00ec12201c12e02c1f301c17301c1e701c10f02c1e700c1b700c1b001c12502c19401c16f01c1a900c19101c17d01c1f200c1cc00c14d02c11701c1b100c1af01c03dc1f401c007c11b01c05fc14d01c1f400c020c1ed01c06dc1cd00c1fc00c15f01c1c800c14102c16c01c12901c14301c13101c1b800c11e02c11502c074c10a01c11602c1e200c1b601c1bf00c012c10102c16301c17101c11a02c13f02c1ce00c1a300c1dc01c037c13102c18e00c1e301c10302c1ca00c058c053c025c10601c1c401c000c1e100c1e001c18501c10d01c1e900c1f201c19400c19800c16401c1cc01c11601c13901c1f500c14c02c1df00c19a01c11002c078c035c1d200c1b600c17401c14701c18400c066c1c101c19f00c047c10802c13602c01fc16701c03ac1bb01c01ac15102c1a100c15b01c19a00c1bd01c1e300c1c100c068c032c14402c10002c16901c14a02c056c14902c1ed00c13e02c19301c19d01c038c15501c1af00c11802c18c00c1fe01c064c17901c1a201c18a01c1c201c052c1ff00c00dc1f700c07ec15002c15d01c17c01c12b01c041c1ae00c030c02bc04fc12c01c1ab00c1fc01c14901c12501c1fb01c06bc18200c18500c1d301c1fd00c12e01c10301c15302c1b300c11c01c11402c1fe00c1d900c19000c1b900c14e01c1f900c06cc13802c10c02c1f501c13201c19700c17001c16b01c10602c03bc14401c15c01c14c01c19201c1ad01c01dc17701c13302c15201c19b00c18d01c00ac15301c12902c1bb00c005c17201c02cc1d901c12602c02dc13e01c043c1fd01c1bc00c057c1a601c14e02c1da01c14601c1c300c14201c1d101c055c10701c16201c1a901c036c1cb01c04ec12301c1c600c1ba01c10801c01cc02ac1c400c18d00c046c1aa00c13801c12f02c1d400c18f00c001c028c05dc1e401c18901c14502c1b501c079c1c700c027c16501c1d800c03ec1a500c10502c1b101c07cc12d02c17f01c19500c1bc01c17601c1e400c1c900c15001c049c12a01c060c04bc10a02c044c1e201c12b02c10f01c05ec1d000c11302c15702c13402c1ec00c022c1b201c11202c1a400c12a02c19e01c06ec10501c1d100c1ee00c1da00c01bc14f02c15502c1e601c13c02c1b401c19300c059c13701c1d700c15601c19900c13301c1d401c1ac01c1ce01c13002c1ff01c12402c1a700c18801c075c061c1ba00c1ec01c1de01c17501c15401c1b701c063c1c001c054c1a301c13d01c015c009c17b01c15602c11901c13001c12701c1f101c1e600c010c1a001c1d501c07ac1a501c18301c1dd00c19e00c071c18001c18b00c18a00c065c11101c06ac13a02c1ef01c18100c1db00c05ac1ad00c13501c12601c04ac04dc1d201c004c1aa01c1e501c006c040c14801c062c13d02c14b02c12801c1e800c10e01c1f701c1cf01c008c1dc00c1f601c12101c077c1d801c11a01c15402c1c801c1f8000a008529e053fd289426",
	"set_ht":          "02030163016201610a005ea67e5623750bab",
	"set_intset16":    "0b120200000005000000ffff01000200030064000a00d0510af1fcb2326e",
	"set_intset32":    "0b10040000000200000001000000701101000a002735436efd6656c4",
	"set_intset64":    "0b200800000003000000000efad5feffffff010000000000000000f2052a010000000a007256e3c53166ecbe",
	"str_big":         "00c35a196a891c6b302c6b312c6b322c6b332c6b342c6b352c6b362c6b372c6b382c6b39201a401e201f0031202000312021003120220031202300312024003120250031202600312027003220270032202700322027003220270032202700322027003220270032202700322027003220270033202700332027003320270033202700332027003320270033202700332027003320270033202700342027003420270034202700342027003420270034202700342027003420270034202700342027003520270035202700352027003520270035202700352027003520270035202700352027003520270036202700362027003620270036202700362027003620270036202700362027003620270036202700372027003720270037202700372027003720270037202700372027003720270037202700372027003820270038202700382027003820270038202700382027003820270038202700382027003820270039202700392027003920270039202700392027003920270039202700392027003920270039202701313020280131302029013130202a013130202b013130202c013130202d013130202e013130202f01313020300131304031819a4031619c619d619e619f61a061a161a241a3003141a4003141a5003141a6003141a7003141a8003141a9003141aa003141ab003141ac013132406341ae003141af003141b0003141b1003141b2003141b3003141b4003141b5003141b6003141b7003141b8003141b9003141ba003141bb003141bc003141bd003141be003141bf003141c0003141c1003141c2003141c3003141c4003141c5003141c6003141c7003141c8003141c9003141ca003141cb003141cc003141cd003141ce003141cf003141d0003141d1003141d2003141d3003141d4003141d5003141d6003141d7003141d8003141d9003141da003141db003141dc003141dd003141de003141df003141e0003141e1003141e2003141e3003141e4003141e5003141e6003141e7003141e8003141e9003141ea003141eb003141ec003141ed003141ee003141ef003141f0003141f1003141f2003141f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003241f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003341f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003441f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003541f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f301363229c3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003641f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f301373221f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003741f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003841f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f3003941f33193719441f52005719641f72005719841f92005719a41fb2005719c41fd31ca603b41ff2005603b42012005603b42032005603b42052005603b42073201603b42092005603b420b2005603b420d2005603b420f2005603b42113238603b42132005603b42152005603b42172005603b42192005603b421b326f603b421d2005603b421f2005603b42212005603b42232005603b422532a6603b42272005603b42292005603b422b2005603b422d2005603b422f32dd603b42312005603b42332005603b42352005603b42372005603b42393314603b423b2005603b423d2005603b423f2005603b42412005603b4243334b603b42452005603b42472005603b42492005603b424b2005603b424d3382603b424f2005603b42512005603b42532005603b42552005603b62572222201121ec6005403b2180600b403b2114600b403b20a8600b403b203c400b62572000600b603b6257b3fa6257b3fc6257b3fe62579400940194029403940494059406940794089409940a940b940c940d940e940f9410941194129413941494159416941794189419941a941b941c941d941e941f9420942194229423942494259426942794289429942a942b942c942d942e942f9430943194329433943494359436943794389439943a943b943c943d943e943f9440944194429443944494459446944794489449944a944b944c944d944e744f21de425774512005421b74532005425774552005425774572005425774592214603b6257745c20054293745e2005429374602005429374622005429374642005429374662005603b64af74692005607764af746c2005603b64af746f200560b364af74722005607764af7475200560b364af74782005607764af747b200560ef64af747e200560b364af748122ec60ef64af7484200560b364af7487200560b364af748a200560b364af748d200560b364af7490200560b364af7493200560b364af7496200560b364af7499200560b364af749c200560b364af749f238e60b364af74a2200560b364af74a5200560b364af74a8200560b364af74ab200560b364af74ae200560b364af74b1200560b364af74b4200540b374b62005407774b82005403b74ba200540b374bc2005407774be2005603b64af74c1200540ef74c3200540b374c52005407774c7246640ef74c9200540b374cb2005603b670774ce20056077670774d1249c603b670774d4200560b3670774d720056077670774da200560b3670774dd20056077670774e0200560ef670774e3200560b3670774e6200560ef670774e9200560b3670774ec200560b3670774ef253e60b3670774f2200560b3670774f5200560b3670774f8200560b3670774fb200560b3670774fe200560b367077501200560b367077504200560b367077507200560b36707750a200560b36707750d25e060b367077510200560b367077513200560b367077516200540b3751820054077751a2005403b751c200540b3751e2005407775202005603b64af7523200540ef7525200540b37527200540777529200540ef752b268240b3752d2005603b64af75302005607764af75332005603b64af7536200560b364af75392005607764af753c200560b364af753f26ee607764af7542200560ef64af7545200560b364af7548200560ef64af754b200560b364af754e200560b364af7551200560b364af7554200560b364af7557200560b364af755a200560b364af755d279060b364af7560200560b364af7563200560b364af7566200560b364af7569200560b364af756c200560b364af756f200560b364af7572200560b364af7575200560b364af7578200560b364af757b283240b3757d20054077757f2005403b7581200540b375832005407775852868603b64af7588200540ef758a200540b3758c20054077758e200540ef7590200540b375922005603b64af75952005607764af75982005603b64af759b200560b364af759e2005607764af75a1200560b364af75a42005607764af75a7200560ef64af75aa200560b364af75ad294060ef64af75b0200560b364af75b3200560b364af75b6200560b364af75b9200560b364af75bc200560b364af75bf200560b364af75c2200560b364af75c5200560b364af75c8200560b364af75cb29e260b364af75ce200560b364af75d1200560b364af75d4200560b364af75d7200560b364af75da200560b364af75dd200560b364af75e0200540b375e22005407775e42005403b75e6200540b375e82005407775ea2005603b64af75ed200540ef75ef200540b375f12005407775f32aba40ef75f5200540b375f72005603b64af75fa2005607764af75fd2af0603b64af7600200560b364af76032005607764af7606200560b364af76092005607764af760c200560ef64af760f200560b364af7612200560ef64af7615200560b364af7618200560b364af761b2b9260b364af761e200560b364af7621200560b364af7624200560b364af7627200560b364af762a200560b364af762d200560b364af7630200560b364af7633200560b364af7636200560b364af76392c3460b364af763c200560b364af763f200560b364af7642200540b376442005407776462005403b7648200540b3764a20054077764c2005603b64af764f200540ef7651200540b37653200540777655200540ef76572cd640b376592005603b64af765c2005607764af765f2005603b64af7662200560b364af76652005607764af7668200560b364af766b2d42607764af766e200560ef64af7671200560b364af7674200560ef64af7677200560b364af767a200560b364af767d200560b364af7680200560b364af7683200560b364af7686200560b364af76892de460b364af768c200560b364af768f200560b364af7692200560b364af7695200560b364af7698200560b364af769b200560b364af769e200560b364af76a1200560b364af76a4200560b364af76a72e8640b376a92005407776ab2005403b76ad200540b376af2005407776b12ebc603b64af76b4200540ef76b6200540b376b82005407776ba200540ef76bc200540b376be2005603b64af76c12005607764af76c42005603b64af76c7200560b364af76ca2005607764af76cd200560b364af76d02005607764af76d3200560ef64af76d6200560b364af76d92f9460ef64af76dc200560b364af76df200560b364af76e2200560b364af76e5200560b364af76e8200560b364af76eb200560b364af76ee200560b364af76f1200560b364af76f4200560b364af76f7303660b364af76fa200560b364af76fd200560b364af7700200560b364af7703200560b364af7706200560b364af7709200560b364af770c200540b3770e2005407777102005403b7712200540b377142005407777162005603b64af7719200540ef771b200540b3771d20054077771f310e40ef7721200540b377232005603b64af77262005607764af77293144603b64af772c200560b364af772f2005607764af7732200560b364af77352005607764af7738200560ef64af773b200560b364af773e200560ef64af7741200560b364af7744200560b364af774731e660b364af774a200560b364af774d200560b364af7750200560b364af7753200560b364af7756200560b364af7759200560b364af775c200560b364af775f200560b364af7762200560b364af7765328860b364af7768200560b364af776b200560b364af776e200500390a00ab071c9971e5fb55",
	"str_empty":       "00000a005d9b5c400f7fa2da",
	"str_int16":       "00c1e8030a0089d1478ebac4b764",
	"str_int32":       "00c26079feff0a00a1ca8470cc216d9d",
	"str_int64":       "000b31323334353637383930310a00304e52d727176510",
	"str_int8":        "00c0fb0a0049c4c6f4d7263f68",
	"str_lzf":         "00c3094064016161e057000161610a00e8a3b507b06df271",
	"str_raw":         "000b68656c6c6f20776f726c640a000bfc49b9a6c7a034",
	"zset_lp":         "1138380000000c00816302842d696e6605816602862d302e31323507816102010181620283322e3504816502f2a086010481640283696e6604ff0a00f75b32e8c3ce9798",
	"zset_sl":         "0540c8056d3a3139390000000000a87240056d3a3139380000000000907240056d3a3139370000000000787240056d3a3139360000000000607240056d3a3139350000000000487240056d3a3139340000000000307240056d3a3139330000000000187240056d3a3139320000000000007240056d3a3139310000000000e87140056d3a3139300000000000d07140056d3a3138390000000000b87140056d3a3138380000000000a07140056d3a3138370000000000887140056d3a3138360000000000707140056d3a3138350000000000587140056d3a3138340000000000407140056d3a3138330000000000287140056d3a3138320000000000107140056d3a3138310000000000f87040056d3a3138300000000000e07040056d3a3137390000000000c87040056d3a3137380000000000b07040056d3a3137370000000000987040056d3a3137360000000000807040056d3a3137350000000000687040056d3a3137340000000000507040056d3a3137330000000000387040056d3a3137320000000000207040056d3a3137310000000000087040056d3a3137300000000000e06f40056d3a3136390000000000b06f40056d3a3136380000000000806f40056d3a3136370000000000506f40056d3a3136360000000000206f40056d3a3136350000000000f06e40056d3a3136340000000000c06e40056d3a3136330000000000906e40056d3a3136320000000000606e40056d3a3136310000000000306e40056d3a3136300000000000006e40056d3a3135390000000000d06d40056d3a3135380000000000a06d40056d3a3135370000000000706d40056d3a3135360000000000406d40056d3a3135350000000000106d40056d3a3135340000000000e06c40056d3a3135330000000000b06c40056d3a3135320000000000806c40056d3a3135310000000000506c40056d3a3135300000000000206c40056d3a3134390000000000f06b40056d3a3134380000000000c06b40056d3a3134370000000000906b40056d3a3134360000000000606b40056d3a3134350000000000306b40056d3a3134340000000000006b40056d3a3134330000000000d06a40056d3a3134320000000000a06a40056d3a3134310000000000706a40056d3a3134300000000000406a40056d3a3133390000000000106a40056d3a3133380000000000e06940056d3a3133370000000000b06940056d3a3133360000000000806940056d3a3133350000000000506940056d3a3133340000000000206940056d3a3133330000000000f06840056d3a3133320000000000c06840056d3a3133310000000000906840056d3a3133300000000000606840056d3a3132390000000000306840056d3a3132380000000000006840056d3a3132370000000000d06740056d3a3132360000000000a06740056d3a3132350000000000706740056d3a3132340000000000406740056d3a3132330000000000106740056d3a3132320000000000e06640056d3a3132310000000000b06640056d3a3132300000000000806640056d3a3131390000000000506640056d3a3131380000000000206640056d3a3131370000000000f06540056d3a3131360000000000c06540056d3a3131350000000000906540056d3a3131340000000000606540056d3a3131330000000000306540056d3a3131320000000000006540056d3a3131310000000000d06440056d3a3131300000000000a06440056d3a3130390000000000706440056d3a3130380000000000406440056d3a3130370000000000106440056d3a3130360000000000e06340056d3a3130350000000000b06340056d3a3130340000000000806340056d3a3130330000000000506340056d3a3130320000000000206340056d3a3130310000000000f06240056d3a3130300000000000c06240046d3a39390000000000906240046d3a39380000000000606240046d3a39370000000000306240046d3a39360000000000006240046d3a39350000000000d06140046d3a39340000000000a06140046d3a39330000000000706140046d3a39320000000000406140046d3a39310000000000106140046d3a39300000000000e06040046d3a38390000000000b06040046d3a38380000000000806040046d3a38370000000000506040046d3a38360000000000206040046d3a38350000000000e05f40046d3a38340000000000805f40046d3a38330000000000205f40046d3a38320000000000c05e40046d3a38310000000000605e40046d3a38300000000000005e40046d3a37390000000000a05d40046d3a37380000000000405d40046d3a37370000000000e05c40046d3a37360000000000805c40046d3a37350000000000205c40046d3a37340000000000c05b40046d3a37330000000000605b40046d3a37320000000000005b40046d3a37310000000000a05a40046d3a37300000000000405a40046d3a36390000000000e05940046d3a36380000000000805940046d3a36370000000000205940046d3a36360000000000c05840046d3a36350000000000605840046d3a36340000000000005840046d3a36330000000000a05740046d3a36320000000000405740046d3a36310000000000e05640046d3a36300000000000805640046d3a35390000000000205640046d3a35380000000000c05540046d3a35370000000000605540046d3a35360000000000005540046d3a35350000000000a05440046d3a35340000000000405440046d3a35330000000000e05340046d3a35320000000000805340046d3a35310000000000205340046d3a35300000000000c05240046d3a34390000000000605240046d3a34380000000000005240046d3a34370000000000a05140046d3a34360000000000405140046d3a34350000000000e05040046d3a34340000000000805040046d3a34330000000000205040046d3a34320000000000804f40046d3a34310000000000c04e40046d3a34300000000000004e40046d3a33390000000000404d40046d3a33380000000000804c40046d3a33370000000000c04b40046d3a33360000000000004b40046d3a33350000000000404a40046d3a33340000000000804940046d3a33330000000000c04840046d3a33320000000000004840046d3a33310000000000404740046d3a33300000000000804640046d3a32390000000000c04540046d3a32380000000000004540046d3a32370000000000404440046d3a32360000000000804340046d3a32350000000000c04240046d3a32340000000000004240046d3a32330000000000404140046d3a32320000000000804040046d3a32310000000000803f40046d3a32300000000000003e40046d3a31390000000000803c40046d3a31380000000000003b40046d3a31370000000000803940046d3a31360000000000003840046d3a31350000000000803640046d3a31340000000000003540046d3a31330000000000803340046d3a31320000000000003240046d3a31310000000000803040046d3a31300000000000002e40036d3a390000000000002b40036d3a380000000000002840036d3a370000000000002540036d3a360000000000002240036d3a350000000000001e40036d3a340000000000001840036d3a330000000000001240036d3a320000000000000840036d3a31000000000000f83f036d3a3000000000000000000a00d65aa47629dfa331",
}

// BenchmarkLZF: an attempt to compress a 1 KB value, as DUMP, snapshots and
// slot moves make for every string over 20 bytes: hex text of random bytes
// (which LZF cannot shrink) and JSON-like text (which it can).
func BenchmarkLZF(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	raw := make([]byte, 500)
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	var js []byte
	for len(js) < 1000 {
		js = fmt.Appendf(js, `{"id":%d,"name":"user%d","active":true},`, rng.IntN(1e6), rng.IntN(1e3))
	}
	for _, in := range []struct {
		name string
		b    []byte
	}{{"hex", []byte(hex.EncodeToString(raw))}, {"json", js[:1000]}} {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.b)))
			for b.Loop() {
				lzfCompress(nil, in.b, len(in.b)-4)
			}
		})
	}
}
