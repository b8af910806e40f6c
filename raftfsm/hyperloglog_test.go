package raftfsm

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// hllElems returns prefix+i for i in [from, to).
func hllElems(prefix string, from, to int) []string {
	out := make([]string, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, prefix+strconv.Itoa(i))
	}
	return out
}

// hllAddChunks runs PFADD key over elems, chunk elements per command.
func hllAddChunks(d *testDB, key string, elems []string, chunk int) {
	d.t.Helper()
	for len(elems) > 0 {
		n := min(chunk, len(elems))
		if r := d.do(append([]string{"pfadd", key}, elems[:n]...)...); r.IsError() {
			d.t.Fatalf("pfadd %s: %s", key, r.Str)
		}
		elems = elems[n:]
	}
}

func hllSum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// TestHLLRedisVectors replays commands whose results were recorded from
// redis-server 7.0.15 (redis-cli against a throwaway local server): the
// stored bytes, and the counts, must be identical.
func TestHLLRedisVectors(t *testing.T) {
	d := newTestDB(t)
	d.expect("(1)", "pfadd", "s1", "a", "b", "c", "foo", "bar", "")
	hllAddChunks(d, "s2", hllElems("e", 0, 200), 200)
	hllAddChunks(d, "d1", hllElems("x", 0, 5000), 100)
	hllAddChunks(d, "big", hllElems("y", 0, 100000), 1000)
	d.expect("OK", "pfmerge", "m1", "s1", "s2")
	d.expect("OK", "pfmerge", "m2", "s2", "d1")
	d.expect("(1)", "pfadd", "tiny")

	hexes := []struct{ key, hex string }{
		{"tiny", "48594c4c0100000000000000000000807fff"},
		{"s1", "48594c4c010000000000000000000080573184458090443e804621804a8e844bfb80425a"},
		{"s2", "48594c4c010000000000000000000080368421801980409f8408a40e88409084406c9c0190018812883884409480411c8817884055800080407a80411d8812804075800d842a8040638440768c404684414880098040d5800980409480407e9040738040628440a280408384405d84148040cb8407840d8040f080405e80068427844081803c844047840780404e80408f84039404844043840c842684406e80407380404084409d84198019802a8441028c088441298010801c884060801080404b8c4052881b8040b080406e8040bc802b8c40f58040618c1a840380407e80408080404580088440fd80405a80406684409f8040468c108c018401841e8811802384407d8440de84406280308812844065840784198040de84404684408b8814802988008402800a8840578041a79011842e844070801f840180189440f98440848c168421813c881d801380368410804089844044804147800380228040b88440bb88404684168040c684404980048440e680404380388c405c80405584409980268005800380405480409e88404c882e8840448040b080198408841f880380405b841b803f804044804055800d88128440d380405988408b800290407e800784407b801d841d8040af8418840f844045803384404f80288440a78440768040578419844048800e9022840a80406a840d8039801380409a8828804046844044"},
		{"m1", "48594c4c010000000000000000000080368421801980409f8408a40e88409084406c9c0190018812883884409480411c8817884055800080407a80411d8812804075800d842a8040638440768c404684414880098040d5800980409480407e9040738040628440a280408384405d84148040cb8407840d8040f080405e80068427844081803c844047840780404e80408f84039404844043840c842684406e80407380404084409d84198019802a8441028c0884412484038010801c884060801080404b8c4052881b8040b080406e8040bc802b8c40f58040618c1a840380407e801190406d80404580088440fd80405a80406684409f8040468c108c018401841e8811802384406280198440de84406280308812844065840784198040de84404684408b8814802988008402800a88405780419080159011842e844070801f840180189440f98440848c168421813c881d801380368410804089844044804147800380228040b88440bb88404684168040c684404980048440e680404380388c405c801384404084409980268005800380405480409e88404c882e8840448040b080198408841f880380405b841b803f804044804055800d88128440d380405988408b800290407e800784407b801d841d8040af8418840f844045803384404f80288440a784407680405784198440488001800b9022840a80406a840d8039801380409a8828804046844044"},
	}
	for _, h := range hexes {
		if got := hex.EncodeToString([]byte(d.getStr(h.key))); got != h.hex {
			t.Errorf("%s bytes:\n got %s\nwant %s", h.key, got, h.hex)
		}
	}
	sums := []struct{ key, sum string }{
		{"d1", "fcf4cccaaeea5f93db22b38218ed82e4d5c05c3234c60376f84c46c1af999e2b"},
		{"m2", "8a087e688b82b78aab7f6f82064c4e12f5fcb612b23550690db4664de3eb5faa"},
		{"big", "a5442d9d2758e1cc1d5b5e25b2f23877b50f7d9f9c05af91344eb34799f41d5a"},
	}
	// redis-server's big was read after a PFCOUNT had cached 100651.
	big := []byte(d.getStr("big"))
	binary.LittleEndian.PutUint64(big[8:16], 100651)
	d.setStr("big", string(big))
	for _, s := range sums {
		if got := hllSum(d.getStr(s.key)); got != s.sum {
			t.Errorf("%s sha256 = %s, want %s", s.key, got, s.sum)
		}
	}
	counts := []struct {
		keys []string
		want string
	}{
		{[]string{"s1"}, "(6)"}, {[]string{"s2"}, "(200)"}, {[]string{"d1"}, "(4970)"},
		{[]string{"m1"}, "(206)"}, {[]string{"m2"}, "(5166)"}, {[]string{"big"}, "(100651)"},
		{[]string{"s1", "s2", "d1"}, "(5174)"},
	}
	for _, c := range counts {
		if got := show(d.read(append([]string{"pfcount"}, c.keys...)...)); got != c.want {
			t.Errorf("pfcount %v = %s, want %s", c.keys, got, c.want)
		}
	}
	if got := show(d.do("pfdebug", "decode", "s1")); got != "Z:5938 v:2,1 Z:1409 v:5,1 Z:1087 v:1,1 Z:1570 v:1,1 Z:2703 v:2,1 Z:3068 v:1,1 Z:603" {
		t.Errorf("decode s1 = %s", got)
	}

	// Values redis-server stored after its PFCOUNT wrote the cache back:
	// their valid cache is what PFCOUNT answers.
	s2 := []byte(d.getStr("s2"))
	copy(s2, mustHex(t, "48594c4c01000000c800000000000000"))
	d.setStr("s2c", string(s2))
	d.expect("(200)", "pfcount", "s2c")
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHLLMurmur checks MurmurHash64A with Redis's seed against values from
// Redis's own function (compiled from hyperloglog.c of 7.0.15), for every
// tail length.
func TestHLLMurmur(t *testing.T) {
	want := []uint64{
		0xd8dfea6585bc9732, 0x53d2470a9b43b1a7, 0x0eaed676437142cf, 0x77ec90aeb374e502,
		0xb079ee3d44202b3e, 0x52a7daa2324a0e8e, 0x3a4f3a74f538b54f, 0x22fe613bb08c9602,
		0xf3a65df559914567, 0x834fba4d9152daf7, 0xce00afbfdbd6efc4, 0x0f85070a21c57729,
		0x197f9775ba8c25df, 0x28904e1bbb8963c5, 0x4311344e4c269641, 0x10350863b35a3059,
		0xd006e2f88c34e470, 0x876ed29fb39e50af,
	}
	in := []byte("abcdefghijklmnopq")
	for n, w := range want {
		if got := murmurHash64A(in[:n], hllSeed); got != w {
			t.Errorf("len %d: %016x, want %016x", n, got, w)
		}
	}
	for n := range want {
		idx, cnt := hllPatLen(in[:n])
		if idx < 0 || idx >= hllRegisters || cnt < 1 || cnt > hllQ+1 {
			t.Fatalf("len %d: index %d count %d", n, idx, cnt)
		}
	}
}

func TestHLLCommands(t *testing.T) {
	tests := []struct {
		name  string
		steps [][2]string // "|"-separated args, want
	}{
		{"create_and_add", [][2]string{
			{"pfadd|h", "(1)"},
			{"exists|h", "(1)"},
			{"pfcount|h", "(0)"},
			{"pfadd|h|a|b|c", "(1)"},
			{"pfadd|h|a|b|c", "(0)"},
			{"pfadd|h|", "(1)"},
			{"pfcount|h", "(4)"},
			{"pfdebug|encoding|h", "sparse"},
		}},
		{"count_then_add", [][2]string{
			{"pfadd|h|1|2|3|4|5", "(1)"},
			{"pfcount|h", "(5)"},
			{"pfadd|h|6|7|8|8|9|10", "(1)"},
			{"pfcount|h", "(10)"},
			{"pfcount|nokey", "(0)"},
			{"pfcount|nokey|h", "(10)"},
		}},
		{"merge", [][2]string{
			{"pfadd|h1|a|b|c", "(1)"},
			{"pfadd|h2|b|c|d", "(1)"},
			{"pfadd|h3|c|d|e", "(1)"},
			{"pfmerge|h|h1|h2|h3", "OK"},
			{"pfcount|h", "(5)"},
			{"pfcount|h1|h2|h3", "(5)"},
			{"pfmerge|empty", "OK"},
			{"pfcount|empty", "(0)"},
			{"pfdebug|encoding|empty", "sparse"},
			{"pfmerge|h1|h3", "OK"},
			{"pfcount|h1", "(5)"},
			{"pfdebug|todense|h2", "(1)"},
			{"pfdebug|todense|h2", "(0)"},
			{"pfmerge|h4|h3|h2", "OK"},
			{"pfdebug|encoding|h4", "dense"},
			{"pfcount|h4", "(4)"},
		}},
		{"wrong_type", [][2]string{
			{"set|foo|bar", "OK"},
			{"sadd|s|x", "(1)"},
			{"pfadd|foo|1", "!WRONGTYPE Key is not a valid HyperLogLog string value."},
			{"pfcount|foo", "!WRONGTYPE Key is not a valid HyperLogLog string value."},
			{"pfcount|s", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
			{"pfmerge|bar|foo", "!WRONGTYPE Key is not a valid HyperLogLog string value."},
			{"pfmerge|foo|bar", "!WRONGTYPE Key is not a valid HyperLogLog string value."},
			{"exists|bar", "(0)"},
			{"pfdebug|encoding|foo", "!WRONGTYPE Key is not a valid HyperLogLog string value."},
			{"set|short|HYLL", "OK"},
			{"pfcount|short", "!WRONGTYPE Key is not a valid HyperLogLog string value."},
		}},
		{"pfdebug", [][2]string{
			{"pfdebug|decode|nokey", "!ERR The specified key does not exist"},
			{"pfdebug|nosuch|nokey", "!ERR The specified key does not exist"},
			{"pfadd|h|", "(1)"},
			{"pfdebug|nosuch|h", "!ERR Unknown PFDEBUG subcommand 'nosuch'"},
			{"pfdebug|DECODE|h", "Z:5938 v:2,1 Z:10445"},
			{"pfdebug|Encoding|h", "sparse"},
			{"pfdebug|todense|h", "(1)"},
			{"pfdebug|encoding|h", "dense"},
			{"pfdebug|decode|h", "!ERR HLL encoding is not sparse"},
			{"pfcount|h", "(1)"},
			{"pfdebug|getreg", "!ERR wrong number of arguments for 'pfdebug' command"},
		}},
		{"arity", [][2]string{
			{"pfadd", "!ERR wrong number of arguments for 'pfadd' command"},
			{"pfcount", "!ERR wrong number of arguments for 'pfcount' command"},
			{"pfmerge", "!ERR wrong number of arguments for 'pfmerge' command"},
			{"pfselftest|x", "!ERR wrong number of arguments for 'pfselftest' command"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDB(t)
			for _, st := range tc.steps {
				args := splitArgs(st[0])
				if got := show(d.do(args...)); got != st[1] {
					t.Fatalf("%q: got %q, want %q", st[0], got, st[1])
				}
			}
		})
	}
}

// splitArgs splits on "|", keeping empty arguments.
func splitArgs(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '|' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func TestHLLGetregAndTTL(t *testing.T) {
	d := newTestDB(t)
	d.expect("(1)", "pfadd", "h", "1", "2", "3")
	d.expect("(1)", "pexpire", "h", "100000")
	r := d.do("pfdebug", "getreg", "h")
	if len(r.Elems) != hllRegisters {
		t.Fatalf("getreg: %d registers", len(r.Elems))
	}
	nonzero := 0
	for _, e := range r.Elems {
		if e.Int != 0 {
			nonzero++
		}
	}
	if nonzero != 3 {
		t.Fatalf("getreg: %d non-zero registers, want 3", nonzero)
	}
	d.expect("dense", "pfdebug", "encoding", "h") // GETREG converts, as in Redis
	if at, _ := d.ctx().Expiry([]byte("h")); at != d.now+100000 {
		t.Fatalf("TTL lost: %d", at)
	}
	d.expect("(1)", "pfadd", "h", "4")
	d.expect("OK", "pfmerge", "h", "h")
	if at, _ := d.ctx().Expiry([]byte("h")); at != d.now+100000 {
		t.Fatalf("TTL lost after PFADD/PFMERGE: %d", at)
	}
}

// TestHLLEstimates checks the estimate against Redis's bounds: within
// 5% (the TCL suite's bound) and 6 standard errors (PFSELFTEST's).
func TestHLLEstimates(t *testing.T) {
	for _, n := range []int{10, 1000, 100000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			d := newTestDB(t)
			hllAddChunks(d, "h", hllElems("el:", 0, n), 500)
			got := d.read("pfcount", "h").Int
			maxerr := math.Ceil(6 * 1.04 / math.Sqrt(hllRegisters) * float64(n))
			if n == 10 {
				maxerr = 1
			}
			if diff := math.Abs(float64(got - int64(n))); diff > maxerr {
				t.Fatalf("pfcount = %d for %d elements (max error %v)", got, n, maxerr)
			}
			wantEnc := "sparse"
			if n == 100000 {
				wantEnc = "dense"
			}
			d.expect(wantEnc, "pfdebug", "encoding", "h")
		})
	}
}

// TestHLLSparseDenseEquivalence: the same elements give identical registers
// and counts whether added sparse or dense, and the sparse size limit
// promotes at Redis's default.
func TestHLLSparseDenseEquivalence(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 60 {
		d := newTestDB(t)
		n := rng.IntN(3000)
		if round < 40 {
			n = rng.IntN(100)
		}
		elems := make([]string, n)
		for i := range elems {
			elems[i] = strconv.FormatFloat(rng.Float64(), 'g', -1, 64)
		}
		d.expect("(1)", "pfadd", "dense")
		d.expect("(1)", "pfdebug", "todense", "dense")
		hllAddChunks(d, "sparse", elems, 100)
		hllAddChunks(d, "dense", elems, 100)
		d.expect("dense", "pfdebug", "encoding", "dense")
		sv := []byte(d.getStr("sparse"))
		if int64(len(sv)) > DefaultParams.HLLSparseMaxBytes && sv[4] == hllEncSparse {
			t.Fatalf("sparse value of %d bytes", len(sv))
		}
		wasSparse := sv[4] == hllEncSparse
		if n < 100 && !wasSparse {
			t.Fatalf("%d elements promoted to dense", n)
		}
		cs, cd := show(d.read("pfcount", "sparse")), show(d.read("pfcount", "dense"))
		if cs != cd {
			t.Fatalf("round %d (%d elements): sparse count %s, dense %s", round, n, cs, cd)
		}
		if wasSparse {
			// The sparse registers, decoded, equal the dense ones (cache
			// bytes aside: both are invalidated).
			dense, ok := hllToDense(sv)
			if !ok || !bytes.Equal(dense, []byte(d.getStr("dense"))) {
				t.Fatalf("round %d: sparse and dense registers differ", round)
			}
		}
		if gs, gd := d.do("pfdebug", "getreg", "sparse"), d.do("pfdebug", "getreg", "dense"); !deepEqual(gs, gd) {
			t.Fatalf("round %d: GETREG differs", round)
		}
	}
}

// TestHLLCache: PFCOUNT is a read and leaves the value alone; a valid
// cached cardinality is answered as is; PFADD invalidates only on change.
func TestHLLCache(t *testing.T) {
	d := newTestDB(t)
	d.expect("(1)", "pfadd", "h", "a", "b", "c")
	before := d.getStr("h")
	if before[15] != 0x80 {
		t.Fatalf("cache not invalidated: % x", before[8:16])
	}
	d.expect("(3)", "pfcount", "h")
	if d.getStr("h") != before {
		t.Fatal("PFCOUNT modified the value")
	}

	// A valid cache (as redis-server writes it) is trusted.
	v := []byte(before)
	binary.LittleEndian.PutUint64(v[8:16], 12345)
	d.setStr("h", string(v))
	if got := d.read("pfcount", "h").Int; got != 12345 {
		t.Fatalf("cached pfcount = %d", got)
	}
	d.expect("(0)", "pfadd", "h", "a", "b", "c")
	if d.getStr("h")[15] != 0 {
		t.Fatal("PFADD without change invalidated the cache")
	}
	d.expect("(1)", "pfadd", "h", "1", "2", "3")
	if d.getStr("h")[15] != 0x80 {
		t.Fatal("PFADD with change kept the cache")
	}
	d.expect("(6)", "pfcount", "h")
	d.expect("OK", "pfmerge", "h")
	if d.getStr("h")[15] != 0x80 {
		t.Fatal("PFMERGE kept the cache")
	}
}

func TestHLLCorrupt(t *testing.T) {
	tests := []struct {
		name   string
		mangle func(v []byte) []byte
		want   string
	}{
		{"tail_added", func(v []byte) []byte { return append(v, "hello"...) }, "!INVALIDOBJ Corrupted HLL object detected"},
		{"broken_magic", func(v []byte) []byte { copy(v, "0123"); return v }, "!WRONGTYPE Key is not a valid HyperLogLog string value."},
		{"bad_encoding", func(v []byte) []byte { v[4] = 'x'; return v }, "!WRONGTYPE Key is not a valid HyperLogLog string value."},
		{"dense_wrong_length", func(v []byte) []byte { v[4] = 0; return v }, "!WRONGTYPE Key is not a valid HyperLogLog string value."},
		{"truncated", func(v []byte) []byte { return v[:hllHdrSize+1] }, "!INVALIDOBJ Corrupted HLL object detected"},
		{"empty_body", func(v []byte) []byte { return v[:hllHdrSize] }, "!INVALIDOBJ Corrupted HLL object detected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newTestDB(t)
			d.expect("(1)", "pfadd", "h", "a", "b", "c")
			d.setStr("h", string(tc.mangle([]byte(d.getStr("h")))))
			if got := show(d.read("pfcount", "h")); got != tc.want {
				t.Fatalf("pfcount: got %q, want %q", got, tc.want)
			}
			if got := show(d.read("pfcount", "h", "other")); got != tc.want {
				t.Fatalf("pfcount 2 keys: got %q, want %q", got, tc.want)
			}
			if got := show(d.do("pfmerge", "dst", "h")); got != tc.want {
				t.Fatalf("pfmerge: got %q, want %q", got, tc.want)
			}
		})
	}
	// A sparse value whose body is too short cannot take an element.
	d := newTestDB(t)
	d.setStr("h", "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	d.expect("!INVALIDOBJ Corrupted HLL object detected", "pfadd", "h", "a")
	d.expect("!INVALIDOBJ Corrupted HLL object detected", "pfdebug", "todense", "h")
}

// TestHLLFuzz feeds random bodies behind a valid header (and randomly
// damaged real values) to every command: errors are fine, panics, hangs
// and out-of-range values are not.
func TestHLLFuzz(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	d := newTestDB(t)
	hllAddChunks(d, "seed", hllElems("f", 0, 3000), 300)
	denseSeed := d.getStr("seed")
	hllAddChunks(d, "sseed", hllElems("f", 0, 150), 300)
	sparseSeed := d.getStr("sseed")
	for i := 0; i < 1000; i++ {
		var v []byte
		switch i % 3 {
		case 0: // random body
			v = append([]byte("HYLL"), byte(rng.IntN(2)), 0, 0, 0)
			v = binary.LittleEndian.AppendUint64(v, rng.Uint64()|1<<63)
			body := make([]byte, rng.IntN(64))
			if v[4] == hllEncDense {
				body = make([]byte, hllDenseSize-hllHdrSize)
			}
			for j := range body {
				body[j] = byte(rng.Uint32())
			}
			v = append(v, body...)
		default: // a real value with a few bytes changed
			src := sparseSeed
			if i%3 == 2 {
				src = denseSeed
			}
			v = []byte(src)
			for range 1 + rng.IntN(5) {
				v[hllHdrSize+rng.IntN(len(v)-hllHdrSize)] = byte(rng.Uint32())
			}
		}
		d.setStr("h", string(v))
		d.setStr("h2", string(v))
		d.read("pfcount", "h")
		d.read("pfcount", "h", "sseed")
		d.do("pfadd", "h", "a", strconv.Itoa(i), "zz"+strconv.Itoa(i))
		d.do("pfmerge", "h3", "h2", "sseed")
		d.do("pfdebug", "decode", "h2")
		d.do("pfdebug", "todense", "h2")
		for _, k := range []string{"h", "h3"} {
			if s := d.getStr(k); len(s) > 0 && s[4] == hllEncDense && len(s) != hllDenseSize {
				t.Fatalf("%s: dense value of %d bytes", k, len(s))
			}
		}
		d.do("del", "h3")
	}
}

// TestHLLDeterminism: two databases fed the same commands hold the same
// bytes.
func TestHLLDeterminism(t *testing.T) {
	run := func() []string {
		d := newTestDB(t)
		rng := rand.New(rand.NewPCG(5, 6))
		for i := range 300 {
			elems := make([]string, rng.IntN(20))
			for j := range elems {
				elems[j] = fmt.Sprint(rng.IntN(5000))
			}
			key := "k" + strconv.Itoa(i%3)
			d.do(append([]string{"pfadd", key}, elems...)...)
			if i%50 == 0 {
				d.do("pfmerge", "m", "k0", "k1", "k2")
			}
		}
		return []string{d.getStr("k0"), d.getStr("k1"), d.getStr("k2"), d.getStr("m")}
	}
	a, b := run(), run()
	if !deepEqual(a, b) {
		t.Fatal("same commands, different values")
	}
}

func TestHLLSelfTest(t *testing.T) {
	d := newTestDB(t)
	if got := show(d.read("pfselftest")); got != "OK" {
		t.Fatalf("pfselftest: %s", got)
	}
}

func TestHLLRegisterPacking(t *testing.T) {
	r := make([]byte, hllDenseSize-hllHdrSize)
	for i := range hllRegisters {
		denseSetReg(r, i, uint8(i*7)&hllRegMax)
	}
	for i := range hllRegisters {
		if got := denseGet(r, i); got != uint8(i*7)&hllRegMax {
			t.Fatalf("register %d = %d", i, got)
		}
	}
	h, _ := hllHisto(append(make([]byte, hllHdrSize), r...))
	total := 0
	for _, n := range h {
		total += n
	}
	if total != hllRegisters {
		t.Fatalf("histogram covers %d registers", total)
	}
}

// FuzzHLL: any body behind a valid header either works or gives an error
// through every HyperLogLog command; nothing panics or hangs.
func FuzzHLL(f *testing.F) {
	f.Add(byte(1), []byte("\x7f\xff"), []byte("a"))
	f.Add(byte(1), []byte("\x40\x00\x80"), []byte(""))
	f.Add(byte(1), []byte("\x7f"), []byte("x"))
	f.Add(byte(0), []byte{}, []byte("y"))
	f.Fuzz(func(t *testing.T, enc byte, body, ele []byte) {
		v := append([]byte("HYLL"), enc&1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80)
		if enc&1 == hllEncDense {
			body = append(body, make([]byte, hllDenseSize-hllHdrSize)...)[:hllDenseSize-hllHdrSize]
		}
		v = append(v, body...)
		d := newTestDB(&testing.T{})
		d.t = t
		d.setStr("h", string(v))
		d.setStr("h2", string(v))
		d.read("pfcount", "h")
		d.read("pfcount", "h", "x")
		d.do("pfadd", "h", string(ele), "b")
		d.do("pfmerge", "m", "h2")
		d.do("pfdebug", "decode", "h2")
		d.do("pfdebug", "getreg", "h2")
	})
}
