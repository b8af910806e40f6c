package raftfsm

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// HyperLogLog commands (Redis 7.0 hyperloglog.c). A HyperLogLog is an
// ordinary string value in Redis's exact layout, so GET, SET, DUMP, RESTORE
// and slot migration carry it unchanged, and a value made by redis-server
// counts the same here:
//
//	"HYLL" | encoding (0 dense, 1 sparse) | 3 unused | 8-byte cardinality
//
// The cardinality is little endian; its top bit set means "stale". The
// registers follow the header: 16384 six-bit counters packed LSB first
// (dense), or a run-length code (sparse):
//
//	00xxxxxx           ZERO:  1..64 zero registers
//	01xxxxxx yyyyyyyy  XZERO: 1..16384 zero registers
//	1vvvvvxx           VAL:   1..4 registers of value 1..32
//
// Differences from Redis, for replica determinism: the sparse limit is the
// fixed default (hll-sparse-max-bytes is not read), and PFCOUNT, a read,
// never writes the cached cardinality back.

const (
	hllP         = 14
	hllQ         = 64 - hllP
	hllRegisters = 1 << hllP
	hllBits      = 6
	hllRegMax    = 1<<hllBits - 1
	hllHdrSize   = 16
	hllDenseSize = hllHdrSize + (hllRegisters*hllBits+7)/8

	hllEncDense  = 0
	hllEncSparse = 1

	hllSparseValMax    = 32
	hllSparseValMaxLen = 4
	hllSparseZeroMax   = 64
	hllSparseXZeroMax  = 16384

	hllSeed     = 0xadc83b19
	hllAlphaInf = 0.721347520444481703680 // 0.5/ln(2)
)

var (
	errHLLWrongType = Err("WRONGTYPE Key is not a valid HyperLogLog string value.")
	errHLLInvalid   = Err("INVALIDOBJ Corrupted HLL object detected")
	errHLLNoKey     = Err("ERR The specified key does not exist")
	errHLLNotSparse = Err("ERR HLL encoding is not sparse")
)

func init() {
	Register(
		Command{Name: "pfadd", Arity: -2, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: pfaddCommand},
		Command{Name: "pfcount", Arity: -2, Flags: FlagReadOnly, First: 1, Last: -1, Step: 1, Exec: pfcountCommand},
		Command{Name: "pfmerge", Arity: -2, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 1, Exec: pfmergeCommand},
		Command{Name: "pfdebug", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagAdmin, First: 2, Last: 2, Step: 1, Exec: pfdebugCommand},
		Command{Name: "pfselftest", Arity: 1, Flags: FlagReadOnly | FlagAdmin, Exec: pfselftestCommand},
	)
}

// ---- hashing -----------------------------------------------------------------

// murmurHash64A is MurmurHash2 64-bit with Redis's endian-neutral reads: the
// register an element lands in must match redis-server bit for bit.
func murmurHash64A(data []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ uint64(len(data))*m
	for len(data) >= 8 {
		k := binary.LittleEndian.Uint64(data)
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
		data = data[8:]
	}
	if len(data) > 0 {
		for i := len(data) - 1; i >= 0; i-- {
			h ^= uint64(data[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// hllPatLen hashes ele into its register index and the length of the
// "00..1" run after the index bits (1..hllQ+1).
func hllPatLen(ele []byte) (index int, count uint8) {
	h := murmurHash64A(ele, hllSeed)
	index = int(h & (hllRegisters - 1))
	h >>= hllP
	h |= 1 << hllQ // the run ends by bit hllQ at the latest
	return index, uint8(bits.TrailingZeros64(h) + 1)
}

// ---- dense registers ----------------------------------------------------------

// denseGet reads register i of the packed 6-bit array r.
func denseGet(r []byte, i int) uint8 {
	b, fb := i*hllBits/8, uint(i*hllBits&7)
	v := uint(r[b]) >> fb
	if fb > 8-hllBits { // the register spills into the next byte
		v |= uint(r[b+1]) << (8 - fb)
	}
	return uint8(v & hllRegMax)
}

// denseSetReg writes register i of r.
func denseSetReg(r []byte, i int, val uint8) {
	b, fb := i*hllBits/8, uint(i*hllBits&7)
	v := uint(val)
	r[b] = r[b]&^byte(hllRegMax<<fb) | byte(v<<fb)
	if fb > 8-hllBits {
		r[b+1] = r[b+1]&^byte(hllRegMax>>(8-fb)) | byte(v>>(8-fb))
	}
}

// denseSet raises register i to count; it reports whether it changed.
func denseSet(r []byte, i int, count uint8) bool {
	if count <= denseGet(r, i) {
		return false
	}
	denseSetReg(r, i, count)
	return true
}

// ---- header -------------------------------------------------------------------

// hllNew returns an empty HyperLogLog: sparse, all registers in XZERO runs,
// and the cached cardinality 0 (valid).
func hllNew() []byte {
	n := (hllRegisters + hllSparseXZeroMax - 1) / hllSparseXZeroMax
	s := make([]byte, hllHdrSize, hllHdrSize+2*n)
	copy(s, "HYLL")
	s[4] = hllEncSparse
	for left := hllRegisters; left > 0; left -= hllSparseXZeroMax {
		s = appendXZero(s, min(left, hllSparseXZeroMax))
	}
	return s
}

// hllBytes returns v's bytes if v is a valid HyperLogLog (header checks
// only, as in Redis), or the error to reply.
func hllBytes(v Value) ([]byte, Reply, bool) {
	sv, ok := v.(*strValue)
	if !ok {
		return nil, ErrWrongType, false
	}
	s := sv.b
	if len(s) < hllHdrSize || string(s[:4]) != "HYLL" || s[4] > hllEncSparse ||
		s[4] == hllEncDense && len(s) != hllDenseSize {
		return nil, errHLLWrongType, false
	}
	return s, Reply{}, true
}

// hllCached returns the cached cardinality if it is valid.
func hllCached(s []byte) (uint64, bool) {
	card := binary.LittleEndian.Uint64(s[8:16])
	return card, card>>63 == 0
}

func hllInvalidate(s []byte) { s[15] |= 0x80 }

// hllCopy copies a stored value before changing it (stored strings are
// shared with replies and snapshots), with room for a sparse split.
func hllCopy(s []byte) []byte {
	out := make([]byte, len(s), len(s)+8)
	copy(out, s)
	return out
}

// ---- sparse opcodes -------------------------------------------------------------

func spIsZero(b byte) bool  { return b&0xc0 == 0 }
func spIsXZero(b byte) bool { return b&0xc0 == 0x40 }
func spIsVal(b byte) bool   { return b&0x80 != 0 }
func spZeroLen(b byte) int  { return int(b&0x3f) + 1 }
func spValLen(b byte) int   { return int(b&0x3) + 1 }
func spVal(b byte) uint8    { return (b>>2)&0x1f + 1 }

// spXZeroLen decodes the XZERO at s[p]. A truncated one reads its second
// byte as 0, as Redis does (it reads the string's terminating NUL), so
// corrupt values behave identically.
func spXZeroLen(s []byte, p int) int {
	var lo byte
	if p+1 < len(s) {
		lo = s[p+1]
	}
	return (int(s[p]&0x3f)<<8 | int(lo)) + 1
}

// spOp decodes the opcode at s[p]: registers covered, bytes used.
func spOp(s []byte, p int) (span, size int) {
	switch b := s[p]; {
	case spIsZero(b):
		return spZeroLen(b), 1
	case spIsVal(b):
		return spValLen(b), 1
	default:
		return spXZeroLen(s, p), 2
	}
}

func spValByte(val uint8, n int) byte { return 0x80 | (val-1)<<2 | byte(n-1) }

func appendXZero(s []byte, n int) []byte { return append(s, 0x40|byte((n-1)>>8), byte(n-1)) }

// appendZeros appends a run of n zero registers (n <= hllSparseXZeroMax).
func appendZeros(s []byte, n int) []byte {
	if n > hllSparseZeroMax {
		return appendXZero(s, n)
	}
	return append(s, byte(n-1))
}

// ---- sparse representation ---------------------------------------------------------

// hllToDense converts a sparse value to dense (the header, cache included,
// carries over). ok is false if the runs do not cover exactly 16384
// registers. A dense value is returned as is.
func hllToDense(s []byte) (dense []byte, ok bool) {
	if s[4] == hllEncDense {
		return s, true
	}
	dense = make([]byte, hllDenseSize)
	copy(dense, s[:hllHdrSize])
	dense[4] = hllEncDense
	regs := dense[hllHdrSize:]
	idx := 0
	for p := hllHdrSize; p < len(s); {
		span, size := spOp(s, p)
		if spIsVal(s[p]) {
			if idx+span > hllRegisters {
				break
			}
			for v := spVal(s[p]); span > 0; span-- {
				denseSetReg(regs, idx, v)
				idx++
			}
		} else {
			idx += span
		}
		p += size
	}
	return dense, idx == hllRegisters
}

// hllSparseSet raises register index of the sparse value s to count,
// splitting and re-merging runs in place the way Redis does (so the bytes
// match), or promoting to dense past the size limit or for values a VAL
// opcode cannot hold. maxBytes is hll-sparse-max-bytes: a sparse value
// that would grow past it becomes dense (the entry's Params, so every
// replica promotes at the same PFADD). It returns the new value and 1
// (changed), 0 (unchanged) or -1 (corrupt).
func hllSparseSet(s []byte, index int, count uint8, maxBytes int64) ([]byte, int) {
	if count > hllSparseValMax {
		return hllPromote(s, index, count)
	}
	// Find the opcode covering index.
	p, first, prev, span := hllHdrSize, 0, -1, 0
	for p < len(s) {
		var size int
		span, size = spOp(s, p)
		if index <= first+span-1 {
			break
		}
		prev = p
		p += size
		first += span
	}
	if span == 0 || p >= len(s) {
		return s, -1
	}
	op := s[p]
	runlen, oldlen := span, 1
	if spIsXZero(op) {
		oldlen = 2
	}

	switch {
	case spIsVal(op) && spVal(op) >= count:
		return s, 0
	case spIsVal(op) && runlen == 1, spIsZero(op) && runlen == 1:
		s[p] = spValByte(count, 1)
	default:
		// Split the run into up to three: before, our register, after.
		var buf [5]byte
		seq := buf[:0]
		last := first + span - 1
		if spIsVal(op) {
			cur := spVal(op)
			if index != first {
				seq = append(seq, spValByte(cur, index-first))
			}
			seq = append(seq, spValByte(count, 1))
			if index != last {
				seq = append(seq, spValByte(cur, last-index))
			}
		} else {
			if index != first {
				seq = appendZeros(seq, index-first)
			}
			seq = append(seq, spValByte(count, 1))
			if index != last {
				seq = appendZeros(seq, last-index)
			}
		}
		delta := len(seq) - oldlen
		if delta > 0 && int64(len(s)+delta) > maxBytes {
			return hllPromote(s, index, count)
		}
		s = spSplice(s, p, oldlen, seq)
	}

	s = spMergeVals(s, max(prev, hllHdrSize))
	hllInvalidate(s)
	return s, 1
}

// spSplice replaces the oldlen-byte opcode at p with seq.
func spSplice(s []byte, p, oldlen int, seq []byte) []byte {
	if p+oldlen > len(s) {
		// A truncated XZERO at the very end: Redis writes seq and keeps
		// the length arithmetic, dropping the byte past the end.
		out := append(s[:p:p], seq...)
		return out[:len(s)+len(seq)-oldlen]
	}
	return slices.Replace(s, p, p+oldlen, seq...)
}

// spMergeVals joins adjacent VAL opcodes of equal value whose lengths fit
// one opcode, looking at up to five opcodes from p (Redis's window: the
// bytes depend on it).
func spMergeVals(s []byte, p int) []byte {
	for n := 5; p < len(s) && n > 0; n-- {
		switch b := s[p]; {
		case spIsXZero(b):
			p += 2
			continue
		case spIsZero(b):
			p++
			continue
		}
		if p+1 < len(s) && spIsVal(s[p+1]) && spVal(s[p]) == spVal(s[p+1]) {
			if l := spValLen(s[p]) + spValLen(s[p+1]); l <= hllSparseValMaxLen {
				s[p+1] = spValByte(spVal(s[p]), l)
				s = slices.Delete(s, p, p+1)
				continue // try the merged opcode with its right neighbour
			}
		}
		p++
	}
	return s
}

// hllPromote converts s to dense and sets the register there.
func hllPromote(s []byte, index int, count uint8) ([]byte, int) {
	dense, ok := hllToDense(s)
	if !ok {
		return s, -1
	}
	denseSet(dense[hllHdrSize:], index, count)
	return dense, 1
}

// hllAdd adds one element: 1 if a register changed, 0 if not, -1 if s is
// corrupt. s may be replaced (sparse growth or promotion; maxSparse as
// hllSparseSet's maxBytes).
func hllAdd(s []byte, ele []byte, maxSparse int64) ([]byte, int) {
	index, count := hllPatLen(ele)
	switch s[4] {
	case hllEncDense:
		if denseSet(s[hllHdrSize:], index, count) {
			return s, 1
		}
		return s, 0
	case hllEncSparse:
		return hllSparseSet(s, index, count, maxSparse)
	}
	return s, -1
}

// ---- counting -------------------------------------------------------------------

// hllHisto counts registers per value. For sparse values ok is false if
// the runs do not cover exactly 16384 registers.
func hllHisto(s []byte) (h [64]int, ok bool) {
	if s[4] == hllEncDense {
		// Every 3 bytes hold 4 whole registers.
		r := s[hllHdrSize:]
		for g := 0; g+3 <= len(r); g += 3 {
			w := uint32(r[g]) | uint32(r[g+1])<<8 | uint32(r[g+2])<<16
			h[w&63]++
			h[w>>6&63]++
			h[w>>12&63]++
			h[w>>18&63]++
		}
		return h, true
	}
	idx := 0
	for p := hllHdrSize; p < len(s); {
		span, size := spOp(s, p)
		if spIsVal(s[p]) {
			h[spVal(s[p])] += span
		} else {
			h[0] += span
		}
		idx += span
		p += size
	}
	return h, idx == hllRegisters
}

// rawHisto counts the registers of an unpacked register array.
func rawHisto(regs *[hllRegisters]uint8) (h [64]int) {
	for _, v := range regs {
		h[v&63]++
	}
	return h
}

// hllEstimate is the estimator of Redis 7 (Ertl, "New cardinality
// estimation algorithms for HyperLogLog sketches", arXiv:1702.01284).
// The float operations follow Redis's order exactly; float64() stops the
// compiler fusing a multiply-add, which would change the last bit.
func hllEstimate(h *[64]int) uint64 {
	const m = float64(hllRegisters)
	z := float64(m * hllTau((m-float64(h[hllQ+1]))/m))
	for j := hllQ; j >= 1; j-- {
		z += float64(h[j])
		z *= 0.5
	}
	z += float64(m * hllSigma(float64(h[0])/m))
	e := math.Round(float64(float64(hllAlphaInf*m)*m) / z)
	if !(e >= 0 && e < 1<<63) {
		// llroundl's result on x86 for values it cannot represent.
		return 1 << 63
	}
	return uint64(e)
}

// hllSigma and hllTau are Ertl's series, summed until they stop changing.
// The iteration caps only matter for inputs outside [0,1] (never from a
// valid value); they keep a crafted one from looping.
func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for i := 0; i < 10000; i++ {
		x *= x
		prev := z
		z += float64(x * y)
		y += y
		if prev == z {
			break
		}
	}
	return z
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for i := 0; i < 10000; i++ {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		d := 1 - x
		z -= float64(float64(d*d) * y)
		if prev == z {
			break
		}
	}
	return z / 3
}

// hllCount estimates the cardinality of s; ok is false for a corrupt
// sparse value.
func hllCount(s []byte) (uint64, bool) {
	h, ok := hllHisto(s)
	if !ok {
		return 0, false
	}
	return hllEstimate(&h), true
}

// hllMergeInto raises regs to the registers of s; false if s is a corrupt
// sparse value.
func hllMergeInto(regs *[hllRegisters]uint8, s []byte) bool {
	if s[4] == hllEncDense {
		r := s[hllHdrSize:]
		for i := range regs {
			regs[i] = max(regs[i], denseGet(r, i))
		}
		return true
	}
	i := 0
	for p := hllHdrSize; p < len(s); {
		span, size := spOp(s, p)
		if spIsVal(s[p]) {
			if i+span > hllRegisters {
				break
			}
			for v := spVal(s[p]); span > 0; span-- {
				regs[i] = max(regs[i], v)
				i++
			}
		} else {
			i += span
		}
		p += size
	}
	return i == hllRegisters
}

// ---- commands -------------------------------------------------------------------

// pfaddCommand: PFADD key [element ...] -> 1 if the key was created or a
// register changed.
func pfaddCommand(c *Ctx, args [][]byte) Reply {
	key := args[1]
	var s []byte
	updated := 0
	if v := c.lookupWrite(key); v == nil {
		s = hllNew()
		updated++
	} else {
		old, errReply, ok := hllBytes(v)
		if !ok {
			return errReply
		}
		s = hllCopy(old)
	}
	maxSparse := c.params().HLLSparseMaxBytes
	for _, ele := range args[2:] {
		var r int
		s, r = hllAdd(s, ele, maxSparse)
		switch r {
		case 1:
			updated++
		case -1:
			// Redis changes the value in place: registers set before the
			// corrupt spot stay set.
			if updated > 0 {
				c.SetKeepTTL(key, &strValue{b: s})
			}
			return errHLLInvalid
		}
	}
	if updated == 0 {
		c.Unchanged()
		return Int(0)
	}
	hllInvalidate(s)
	c.SetKeepTTL(key, &strValue{b: s})
	c.notify(NotifyString, "pfadd", key)
	return Int(1)
}

// pfcountCommand: PFCOUNT key [key ...]. One key: the valid cached value or
// a fresh estimate (not written back: this is a read). Several keys: the
// estimate of their union.
func pfcountCommand(c *Ctx, args [][]byte) Reply {
	if len(args) > 2 {
		var regs [hllRegisters]uint8
		for _, key := range args[1:] {
			v := c.Get(key)
			if v == nil {
				continue
			}
			s, errReply, ok := hllBytes(v)
			if !ok {
				return errReply
			}
			if !hllMergeInto(&regs, s) {
				return errHLLInvalid
			}
		}
		h := rawHisto(&regs)
		return Int(int64(hllEstimate(&h)))
	}
	v := c.Get(args[1])
	if v == nil {
		return Int(0)
	}
	s, errReply, ok := hllBytes(v)
	if !ok {
		return errReply
	}
	if card, ok := hllCached(s); ok {
		return Int(int64(card))
	}
	card, ok := hllCount(s)
	if !ok {
		return errHLLInvalid
	}
	return Int(int64(card))
}

// pfmergeCommand: PFMERGE dest [source ...]. The union of every key (dest
// included) goes into dest, which stays sparse unless an input was dense
// or the registers outgrow the sparse limit.
func pfmergeCommand(c *Ctx, args [][]byte) Reply {
	var regs [hllRegisters]uint8
	useDense := false
	for _, key := range args[1:] {
		v := c.Get(key)
		if v == nil {
			continue
		}
		s, errReply, ok := hllBytes(v)
		if !ok {
			return errReply
		}
		useDense = useDense || s[4] == hllEncDense
		if !hllMergeInto(&regs, s) {
			return errHLLInvalid
		}
	}
	dest := args[1]
	var s []byte
	// The destination as a write looks it up (lookupKeyWrite): no stats,
	// no keymiss (the loop above reported it as a source).
	if e := c.lookup(dest); e == nil {
		s = hllNew()
	} else {
		old, _, _ := hllBytes(e.val) // checked above
		s = hllCopy(old)
	}
	if useDense {
		var ok bool
		if s, ok = hllToDense(s); !ok {
			return errHLLInvalid
		}
	}
	maxSparse := c.params().HLLSparseMaxBytes
	for i, val := range regs {
		if val == 0 {
			continue
		}
		if s[4] == hllEncDense {
			denseSet(s[hllHdrSize:], i, val)
		} else {
			s, _ = hllSparseSet(s, i, val, maxSparse)
		}
	}
	hllInvalidate(s)
	c.SetKeepTTL(dest, &strValue{b: s})
	c.notify(NotifyString, "pfadd", dest)
	return Status("OK")
}

// pfdebugCommand: PFDEBUG GETREG|DECODE|ENCODING|TODENSE key. GETREG and
// TODENSE store the value dense, so the command is a write.
func pfdebugCommand(c *Ctx, args [][]byte) Reply {
	sub, key := args[1], args[2]
	v := c.Get(key)
	if v == nil {
		return errHLLNoKey
	}
	s, errReply, ok := hllBytes(v)
	if !ok {
		return errReply
	}
	switch {
	case EqFold(sub, "getreg"):
		if s[4] == hllEncSparse {
			if s, ok = hllToDense(s); !ok {
				return errHLLInvalid
			}
			c.SetKeepTTL(key, &strValue{b: s})
		}
		out := make([]Reply, hllRegisters)
		for i := range out {
			out[i] = Int(int64(denseGet(s[hllHdrSize:], i)))
		}
		return Array(out)
	case EqFold(sub, "decode"):
		if s[4] != hllEncSparse {
			return errHLLNotSparse
		}
		return Bulk(hllDecode(s))
	case EqFold(sub, "encoding"):
		if s[4] == hllEncSparse {
			return Status("sparse")
		}
		return Status("dense")
	case EqFold(sub, "todense"):
		if s[4] == hllEncDense {
			return Int(0)
		}
		if s, ok = hllToDense(s); !ok {
			return errHLLInvalid
		}
		c.SetKeepTTL(key, &strValue{b: s})
		return Int(1)
	}
	return Err(fmt.Sprintf("ERR Unknown PFDEBUG subcommand '%s'", sub))
}

// hllDecode renders the sparse opcodes: "z:len", "Z:len", "v:value,len".
func hllDecode(s []byte) string {
	var b strings.Builder
	for p := hllHdrSize; p < len(s); {
		span, size := spOp(s, p)
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		switch {
		case spIsZero(s[p]):
			b.WriteString("z:")
		case spIsXZero(s[p]):
			b.WriteString("Z:")
		default:
			b.WriteString("v:" + strconv.Itoa(int(spVal(s[p]))) + ",")
		}
		b.WriteString(strconv.Itoa(span))
		p += size
	}
	return b.String()
}

// ---- self test ------------------------------------------------------------------

// Self-test sizes, as in Redis.
const (
	hllTestCycles   = 1000
	hllTestElements = 10_000_000
)

// pfselftestCommand checks the packed register access and the estimate's
// error, with dense and sparse representations side by side. It takes
// about 0.3 s; it touches no key.
func pfselftestCommand(c *Ctx, _ [][]byte) Reply {
	rng := c.Rand()
	regs := make([]byte, hllDenseSize-hllHdrSize)
	var want [hllRegisters]uint8
	for range hllTestCycles {
		for i := range want {
			want[i] = uint8(rng.Uint32() & hllRegMax)
			denseSetReg(regs, i, want[i])
		}
		for i := range want {
			if got := denseGet(regs, i); got != want[i] {
				return Err(fmt.Sprintf("ERR TESTFAILED Register %d should be %d but is %d", i, want[i], got))
			}
		}
	}

	dense := make([]byte, hllDenseSize)
	copy(dense, "HYLL")
	sparse := hllNew()
	maxSparse := c.params().HLLSparseMaxBytes
	relerr := 1.04 / math.Sqrt(hllRegisters)
	seed := rng.Uint64()
	var ele [8]byte
	for checkpoint, j := uint64(1), uint64(1); j <= hllTestElements; j++ {
		binary.LittleEndian.PutUint64(ele[:], j^seed)
		dense, _ = hllAdd(dense, ele[:], maxSparse)
		sparse, _ = hllAdd(sparse, ele[:], maxSparse)
		if j != checkpoint {
			continue
		}
		if int64(j) < maxSparse/2 && sparse[4] != hllEncSparse {
			return Err("ERR TESTFAILED sparse encoding not used")
		}
		dc, _ := hllCount(dense)
		sc, _ := hllCount(sparse)
		if dc != sc {
			return Err("ERR TESTFAILED dense/sparse disagree")
		}
		maxerr := uint64(math.Ceil(relerr * 6 * float64(checkpoint)))
		if j == 10 {
			maxerr = 1 // collisions make larger errors likely at 10
		}
		if abserr := max(checkpoint, dc) - min(checkpoint, dc); abserr > maxerr {
			return Err(fmt.Sprintf("ERR TESTFAILED Too big error. card:%d abserr:%d", checkpoint, abserr))
		}
		checkpoint *= 10
	}
	return Status("OK")
}
