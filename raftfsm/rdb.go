package raftfsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"unsafe"
)

// Redis's RDB value serialization, the format of DUMP/RESTORE payloads
// (byte-compatible with redis-server 7.0 both ways), Raft snapshots and slot
// migration. A payload is: type byte, object, RDB version (2 bytes LE),
// CRC-64 of everything before it (8 bytes LE).
//
// Encoding emits only simple forms every Redis since 7.0 loads: strings
// (integer, LZF or raw), lists as quicklist 2 with listpack nodes, sets and
// hashes as plain length-prefixed strings, sorted sets as ZSET_2.
// Decoding accepts every form Redis 7.0 writes or loads, and validates all
// of it the way Redis's deep sanitization does: the input is untrusted.

const (
	rdbVersion = 10 // Redis 7.0's RDB_VERSION

	rdbTypeString         = 0
	rdbTypeList           = 1
	rdbTypeSet            = 2
	rdbTypeZset           = 3
	rdbTypeHash           = 4
	rdbTypeZset2          = 5
	rdbTypeHashZipmap     = 9
	rdbTypeListZiplist    = 10
	rdbTypeSetIntset      = 11
	rdbTypeZsetZiplist    = 12
	rdbTypeHashZiplist    = 13
	rdbTypeListQuicklist  = 14
	rdbTypeHashListpack   = 16
	rdbTypeZsetListpack   = 17
	rdbTypeListQuicklist2 = 18
	rdbTypeSetListpack    = 20 // Redis 7.2 (RDB 11); decoded for RDB files (rdbfile.go)

	rdbEncInt8  = 0
	rdbEncInt16 = 1
	rdbEncInt32 = 2
	rdbEncLZF   = 3

	qlContainerPlain  = 1
	qlContainerPacked = 2

	// Listpack nodes we write hold at most this many bytes, Redis's default
	// list-max-listpack-size -2; Redis keeps loaded nodes as they are.
	rdbListNodeBytes = 8192
	// Elements this large go to PLAIN quicklist nodes, as in Redis.
	rdbPlainThreshold = 1 << 30
)

var (
	// errDumpVersion: the payload's footer is wrong (RESTORE's
	// "DUMP payload version or checksum are wrong").
	errDumpVersion = errors.New("DUMP payload version or checksum are wrong")
	// errRDBFormat: the serialized value itself is invalid ("Bad data format").
	errRDBFormat = errors.New("bad RDB data")
)

func rdbErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errRDBFormat}, a...)...)
}

// ---- encoding ---------------------------------------------------------------

// DumpPayload serializes v as DUMP does: value, RDB version, CRC-64.
func DumpPayload(v Value) []byte { return appendDumpPayload(nil, v) }

// appendDumpPayload appends v's DUMP payload to dst (ScanRDB reuses one
// buffer for every key).
func appendDumpPayload(dst []byte, v Value) []byte {
	start := len(dst)
	dst = rdbEncodeValue(dst, v)
	dst = binary.LittleEndian.AppendUint16(dst, rdbVersion)
	return binary.LittleEndian.AppendUint64(dst, crc64Redis(0, dst[start:]))
}

// checkPayloadFooter checks a DUMP payload's RDB version and CRC-64.
func checkPayloadFooter(p []byte) error {
	if len(p) < 10 {
		return errDumpVersion
	}
	if binary.LittleEndian.Uint16(p[len(p)-10:]) > rdbVersion {
		return errDumpVersion
	}
	// Redis 7.0 compares the CRC unconditionally (unless the server was
	// configured to skip it); an all-zero CRC is not special for RESTORE.
	if crc64Redis(0, p[:len(p)-8]) != binary.LittleEndian.Uint64(p[len(p)-8:]) {
		return errDumpVersion
	}
	return nil
}

// rdbEncodeValue appends v's type byte and serialized object to dst.
func rdbEncodeValue(dst []byte, v Value) []byte {
	switch v := v.(type) {
	case *strValue:
		dst = append(dst, rdbTypeString)
		return rdbAppendString(dst, v.b)
	case *listValue:
		return rdbAppendList(dst, v)
	case *setValue:
		dst = append(dst, rdbTypeSet)
		dst = rdbAppendLen(dst, uint64(v.d.Len()))
		for i := 0; i < v.d.Len(); i++ {
			k, _ := v.d.At(i)
			dst = rdbAppendString(dst, rdbBytes(k))
		}
		return dst
	case *zsetValue:
		dst = append(dst, rdbTypeZset2)
		dst = rdbAppendLen(dst, uint64(v.Len()))
		// Redis writes from the highest element down so that loading inserts
		// at the skiplist head; any order loads.
		type pair struct {
			m string
			s float64
		}
		all := make([]pair, 0, v.Len())
		v.Each(func(m string, s float64) bool { all = append(all, pair{m, s}); return true })
		for i := len(all) - 1; i >= 0; i-- {
			dst = rdbAppendString(dst, rdbBytes(all[i].m))
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(all[i].s))
		}
		return dst
	case *hashValue:
		dst = append(dst, rdbTypeHash)
		dst = rdbAppendLen(dst, uint64(v.d.Len()))
		for i := 0; i < v.d.Len(); i++ {
			k, val := v.d.At(i)
			dst = rdbAppendString(dst, rdbBytes(k))
			dst = rdbAppendString(dst, rdbBytes(val))
		}
		return dst
	case *streamValue:
		return rdbAppendStream(dst, v, false)
	}
	panic(fmt.Sprintf("raftfsm: rdbEncodeValue: unsupported value %T", v))
}

// rdbBytes views s as bytes without copying; the encoder only reads them.
func rdbBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// rdbAppendLen appends an RDB length (6, 14, 32 or 64 bits).
func rdbAppendLen(dst []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(dst, byte(n))
	case n < 1<<14:
		return append(dst, byte(n>>8)|0x40, byte(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(dst, 0x80), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, 0x81), n)
}

// lzfScratch holds the buffers rdbAppendString compresses into before it
// copies the result out: a slot move or a snapshot would otherwise allocate
// one per string, for nothing when it does not compress.
var lzfScratch = sync.Pool{New: func() any { return new([]byte) }}

// lzfScratchMax is the largest string compressed in a pooled buffer, which
// then keeps that size.
const lzfScratchMax = 64 << 10

// rdbAppendString appends an RDB string as Redis's rdbSaveRawString does:
// integer encoding for canonical 32-bit integers, LZF when it saves at least
// four bytes of a string over 20 bytes, raw otherwise.
func rdbAppendString(dst []byte, s []byte) []byte {
	if len(s) <= 11 {
		if n, ok := ParseInt(s); ok && n >= math.MinInt32 && n <= math.MaxInt32 {
			switch {
			case n >= math.MinInt8 && n <= math.MaxInt8:
				return append(dst, 0xC0|rdbEncInt8, byte(n))
			case n >= math.MinInt16 && n <= math.MaxInt16:
				return binary.LittleEndian.AppendUint16(append(dst, 0xC0|rdbEncInt16), uint16(n))
			}
			return binary.LittleEndian.AppendUint32(append(dst, 0xC0|rdbEncInt32), uint32(n))
		}
	}
	if len(s) > 20 {
		var scratch []byte
		if len(s) <= lzfScratchMax {
			p := lzfScratch.Get().(*[]byte)
			defer lzfScratch.Put(p)
			if cap(*p) < len(s) {
				*p = make([]byte, 0, max(len(s), 1<<10))
			}
			scratch = *p
		}
		if c := lzfCompress(scratch, s, len(s)-4); c != nil {
			dst = append(dst, 0xC0|rdbEncLZF)
			dst = rdbAppendLen(dst, uint64(len(c)))
			dst = rdbAppendLen(dst, uint64(len(s)))
			return append(dst, c...)
		}
	}
	dst = rdbAppendLen(dst, uint64(len(s)))
	return append(dst, s...)
}

// rdbAppendList writes a list as RDB_TYPE_LIST_QUICKLIST_2: packed listpack
// nodes of at most rdbListNodeBytes, huge elements in PLAIN nodes.
func rdbAppendList(dst []byte, l *listValue) []byte {
	var nodes [][]byte // each a complete listpack, or a raw element for PLAIN
	var plain []bool
	var lp []byte
	count := 0
	flush := func() {
		if lp != nil {
			nodes = append(nodes, lpFinish(lp, count))
			plain = append(plain, false)
			lp, count = nil, 0
		}
	}
	l.Each(func(s string) bool {
		if len(s) >= rdbPlainThreshold {
			flush()
			nodes = append(nodes, rdbBytes(s))
			plain = append(plain, true)
			return true
		}
		if lp != nil && len(lp)+len(s)+11 > rdbListNodeBytes {
			flush()
		}
		if lp == nil {
			lp = make([]byte, 6, 64) // header filled in by lpFinish
		}
		lp = lpAppendEntry(lp, s)
		count++
		return true
	})
	flush()
	dst = append(dst, rdbTypeListQuicklist2)
	dst = rdbAppendLen(dst, uint64(len(nodes)))
	for i, n := range nodes {
		if plain[i] {
			dst = rdbAppendLen(dst, qlContainerPlain)
		} else {
			dst = rdbAppendLen(dst, qlContainerPacked)
		}
		dst = rdbAppendString(dst, n)
	}
	return dst
}

// lpAppendEntry appends one listpack entry (encoding, data, backlen);
// canonical integers use the integer encodings, as Redis's lpAppend does.
func lpAppendEntry(lp []byte, s string) []byte {
	start := len(lp)
	if v, ok := ParseInt(rdbBytes(s)); ok {
		switch {
		case v >= 0 && v <= 127:
			lp = append(lp, byte(v))
		case v >= -4096 && v <= 4095:
			u := uint64(v) & 0x1fff
			lp = append(lp, byte(u>>8)|0xC0, byte(u))
		case v >= math.MinInt16 && v <= math.MaxInt16:
			lp = binary.LittleEndian.AppendUint16(append(lp, 0xF1), uint16(v))
		case v >= -1<<23 && v < 1<<23:
			u := uint32(v)
			lp = append(lp, 0xF2, byte(u), byte(u>>8), byte(u>>16))
		case v >= math.MinInt32 && v <= math.MaxInt32:
			lp = binary.LittleEndian.AppendUint32(append(lp, 0xF3), uint32(v))
		default:
			lp = binary.LittleEndian.AppendUint64(append(lp, 0xF4), uint64(v))
		}
	} else {
		switch n := len(s); {
		case n < 64:
			lp = append(lp, 0x80|byte(n))
		case n < 4096:
			lp = append(lp, 0xE0|byte(n>>8), byte(n))
		default:
			lp = binary.LittleEndian.AppendUint32(append(lp, 0xF0), uint32(n))
		}
		lp = append(lp, s...)
	}
	return lpAppendBacklen(lp, uint64(len(lp)-start))
}

// lpAppendBacklen appends the reverse-readable length of an entry.
func lpAppendBacklen(lp []byte, l uint64) []byte {
	switch {
	case l <= 127:
		return append(lp, byte(l))
	case l < 16383:
		return append(lp, byte(l>>7), byte(l&127)|128)
	case l < 2097151:
		return append(lp, byte(l>>14), byte(l>>7&127)|128, byte(l&127)|128)
	case l < 268435455:
		return append(lp, byte(l>>21), byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
	}
	return append(lp, byte(l>>28), byte(l>>21&127)|128, byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
}

// lpFinish terminates a listpack built after a 6-byte placeholder header.
func lpFinish(lp []byte, count int) []byte {
	lp = append(lp, 0xFF)
	binary.LittleEndian.PutUint32(lp, uint32(len(lp)))
	binary.LittleEndian.PutUint16(lp[4:], uint16(min(count, 0xFFFF)))
	return lp
}

// ---- decoding ---------------------------------------------------------------

// DecodePayload checks a DUMP payload's version and checksum and decodes
// its value. Errors wrap errDumpVersion or errRDBFormat.
func DecodePayload(p []byte) (Value, error) {
	if err := checkPayloadFooter(p); err != nil {
		return nil, err
	}
	v, rest, err := rdbDecodeValue(p[:len(p)-10])
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, rdbErr("%d bytes after the value", len(rest))
	}
	return v, nil
}

// rdbDecodeValue decodes one type byte and object from b and returns the
// bytes after it. It never panics and never preallocates more than the
// input could fill.
func rdbDecodeValue(b []byte) (Value, []byte, error) {
	r := &rdbReader{b: b}
	t, err := r.byte()
	if err != nil {
		return nil, nil, err
	}
	v, err := r.object(t)
	if err != nil {
		return nil, nil, err
	}
	return v, r.b, nil
}

// rdbReader consumes an RDB byte string.
type rdbReader struct{ b []byte }

func (r *rdbReader) byte() (byte, error) {
	if len(r.b) < 1 {
		return 0, rdbErr("truncated")
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

func (r *rdbReader) take(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)) {
		return nil, rdbErr("truncated")
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s, nil
}

// length reads an RDB length; enc reports a special string encoding
// (then n is the encoding type).
func (r *rdbReader) length() (n uint64, enc bool, err error) {
	c, err := r.byte()
	if err != nil {
		return 0, false, err
	}
	switch c >> 6 {
	case 0:
		return uint64(c & 0x3f), false, nil
	case 1:
		c2, err := r.byte()
		if err != nil {
			return 0, false, err
		}
		return uint64(c&0x3f)<<8 | uint64(c2), false, nil
	case 3:
		return uint64(c & 0x3f), true, nil
	}
	switch c {
	case 0x80:
		b, err := r.take(4)
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(b)), false, nil
	case 0x81:
		b, err := r.take(8)
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(b), false, nil
	}
	return 0, false, rdbErr("unknown length encoding 0x%02x", c)
}

// count reads a plain (non-encoded) length.
func (r *rdbReader) count() (uint64, error) {
	n, enc, err := r.length()
	if err == nil && enc {
		err = rdbErr("encoded value where a length was expected")
	}
	return n, err
}

// hint caps a preallocation from an untrusted count: every element takes
// at least one byte of input.
func (r *rdbReader) hint(n uint64) int {
	return int(min(n, uint64(len(r.b)), 1<<20))
}

// str reads an RDB string (raw, integer-encoded or LZF). The result may
// alias the input.
func (r *rdbReader) str() ([]byte, error) {
	n, enc, err := r.length()
	if err != nil {
		return nil, err
	}
	if !enc {
		return r.take(n)
	}
	switch n {
	case rdbEncInt8:
		b, err := r.take(1)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int8(b[0])), 10), nil
	case rdbEncInt16:
		b, err := r.take(2)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(b))), 10), nil
	case rdbEncInt32:
		b, err := r.take(4)
		if err != nil {
			return nil, err
		}
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(b))), 10), nil
	case rdbEncLZF:
		clen, err := r.count()
		if err != nil {
			return nil, err
		}
		ulen, err := r.count()
		if err != nil {
			return nil, err
		}
		c, err := r.take(clen)
		if err != nil {
			return nil, err
		}
		// One LZF back reference (3 bytes) yields at most 264 bytes, so a
		// longer claimed length is corrupt; checking it first bounds the
		// allocation by the input size.
		if ulen > 100*clen+100 {
			return nil, rdbErr("LZF length %d from %d bytes", ulen, clen)
		}
		out, err := lzfDecompress(c, int(ulen))
		if err != nil {
			return nil, rdbErr("invalid LZF compressed string")
		}
		return out, nil
	}
	return nil, rdbErr("unknown string encoding %d", n)
}

// object decodes the object of RDB type t.
func (r *rdbReader) object(t byte) (Value, error) {
	switch t {
	case rdbTypeString:
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		return newStr(s), nil
	case rdbTypeList:
		return r.plainList()
	case rdbTypeSet:
		return r.plainSet()
	case rdbTypeZset, rdbTypeZset2:
		return r.plainZset(t == rdbTypeZset2)
	case rdbTypeHash:
		return r.plainHash()
	case rdbTypeListQuicklist, rdbTypeListQuicklist2:
		return r.quicklist(t == rdbTypeListQuicklist2)
	case rdbTypeStreamListpacks, rdbTypeStreamListpacks2, rdbTypeStreamListpacks3:
		return r.streamValue(t)
	case rdbTypeHashZipmap, rdbTypeListZiplist, rdbTypeSetIntset, rdbTypeZsetZiplist,
		rdbTypeHashZiplist, rdbTypeHashListpack, rdbTypeZsetListpack, rdbTypeSetListpack:
		blob, err := r.str()
		if err != nil {
			return nil, err
		}
		return decodeBlob(t, blob)
	}
	return nil, rdbErr("unsupported RDB type %d", t)
}

func (r *rdbReader) plainList() (Value, error) {
	n, err := r.count()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, rdbErr("empty list")
	}
	l := newList()
	for ; n > 0; n-- {
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		l.PushBack(string(s))
	}
	return l, nil
}

func (r *rdbReader) plainSet() (Value, error) {
	n, err := r.count()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, rdbErr("empty set")
	}
	s := newSet(r.hint(n))
	for ; n > 0; n-- {
		m, err := r.str()
		if err != nil {
			return nil, err
		}
		if !s.d.Set(string(m), struct{}{}) {
			return nil, rdbErr("duplicate set members detected")
		}
	}
	return s, nil
}

func (r *rdbReader) plainHash() (Value, error) {
	n, err := r.count()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, rdbErr("empty hash")
	}
	h := newHash(r.hint(n))
	for ; n > 0; n-- {
		f, err := r.str()
		if err != nil {
			return nil, err
		}
		v, err := r.str()
		if err != nil {
			return nil, err
		}
		if !h.d.Set(string(f), string(v)) {
			return nil, rdbErr("duplicate hash fields detected")
		}
	}
	return h, nil
}

func (r *rdbReader) plainZset(binaryScores bool) (Value, error) {
	n, err := r.count()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, rdbErr("empty zset")
	}
	z := newZset()
	for ; n > 0; n-- {
		m, err := r.str()
		if err != nil {
			return nil, err
		}
		var score float64
		if binaryScores {
			b, err := r.take(8)
			if err != nil {
				return nil, err
			}
			score = math.Float64frombits(binary.LittleEndian.Uint64(b))
		} else if score, err = r.textScore(); err != nil {
			return nil, err
		}
		if err := zsetAddNew(z, m, score); err != nil {
			return nil, err
		}
	}
	return z, nil
}

// textScore reads an old-style (RDB_TYPE_ZSET) score: a length byte with
// 253/254/255 meaning NaN/+inf/-inf, else that many bytes of "%.17g" text.
func (r *rdbReader) textScore() (float64, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch c {
	case 253:
		return math.NaN(), nil // rejected by zsetAddNew
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	b, err := r.take(uint64(c))
	if err != nil {
		return 0, err
	}
	return parseScore(b)
}

// parseScore parses a score stored as text (old zsets, listpack/ziplist
// string entries): a decimal float or Redis's "inf"/"-inf".
func parseScore(b []byte) (float64, error) {
	if f, ok := ParseFloat(b); ok {
		return f, nil
	}
	return 0, rdbErr("invalid zset score %q", b)
}

// zsetAddNew adds member m to z, rejecting NaN scores and duplicates as
// Redis's loader does.
func zsetAddNew(z *zsetValue, m []byte, score float64) error {
	if math.IsNaN(score) {
		return rdbErr("zset with NaN score detected")
	}
	before := z.Len()
	z.Add(string(m), score)
	if z.Len() != before+1 {
		return rdbErr("duplicate zset fields detected")
	}
	return nil
}

// quicklist decodes RDB_TYPE_LIST_QUICKLIST (ziplist nodes) and
// RDB_TYPE_LIST_QUICKLIST_2 (container type, then a listpack or, for PLAIN
// nodes, the element itself).
func (r *rdbReader) quicklist(v2 bool) (Value, error) {
	n, err := r.count()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, rdbErr("empty quicklist")
	}
	l := newList()
	for ; n > 0; n-- {
		container := uint64(qlContainerPacked)
		if v2 {
			if container, err = r.count(); err != nil {
				return nil, err
			}
			if container != qlContainerPacked && container != qlContainerPlain {
				return nil, rdbErr("quicklist integrity check failed")
			}
		}
		data, err := r.str()
		if err != nil {
			return nil, err
		}
		if len(data) == 0 {
			return nil, rdbErr("empty quicklist node")
		}
		push := func(s []byte) error { l.PushBack(string(s)); return nil }
		switch {
		case container == qlContainerPlain:
			l.PushBack(string(data))
		case v2:
			err = lpEach(data, push)
		default:
			err = zlEach(data, push)
		}
		if err != nil {
			return nil, err
		}
	}
	// Empty nodes are skipped, as by Redis, but the list may not be empty.
	if l.Len() == 0 {
		return nil, rdbErr("empty list")
	}
	return l, nil
}

// decodeBlob decodes the single-string encodings: zipmap, ziplists,
// intset and listpacks.
func decodeBlob(t byte, blob []byte) (Value, error) {
	switch t {
	case rdbTypeListZiplist:
		l := newList()
		if err := zlEach(blob, func(s []byte) error { l.PushBack(string(s)); return nil }); err != nil {
			return nil, err
		}
		if l.Len() == 0 {
			return nil, rdbErr("empty list")
		}
		return l, nil
	case rdbTypeSetIntset:
		return decodeIntset(blob)
	case rdbTypeSetListpack:
		set := newSet(min(len(blob)/4, 1<<16))
		err := lpEach(blob, func(m []byte) error {
			if !set.d.Set(string(m), struct{}{}) {
				return rdbErr("duplicate set members detected")
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if set.d.Len() == 0 {
			return nil, rdbErr("empty set")
		}
		return set, nil
	case rdbTypeHashZipmap:
		return decodeZipmap(blob)
	case rdbTypeHashZiplist, rdbTypeHashListpack:
		each := lpEach
		if t == rdbTypeHashZiplist {
			each = zlEach
		}
		h := newHash(min(len(blob)/4, 1<<16))
		var field string
		n := 0
		err := each(blob, func(s []byte) error {
			n++
			if n%2 == 1 {
				field = string(s)
				return nil
			}
			if !h.d.Set(field, string(s)) {
				return rdbErr("hash with dup elements")
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n%2 != 0 {
			return nil, rdbErr("hash with an odd number of elements")
		}
		if n == 0 {
			return nil, rdbErr("empty hash")
		}
		return h, nil
	case rdbTypeZsetZiplist, rdbTypeZsetListpack:
		each := lpEach
		if t == rdbTypeZsetZiplist {
			each = zlEach
		}
		z := newZset()
		var member []byte
		n := 0
		err := each(blob, func(s []byte) error {
			n++
			if n%2 == 1 {
				member = append(member[:0], s...)
				return nil
			}
			score, err := parseScore(s)
			if err != nil {
				return err
			}
			return zsetAddNew(z, member, score)
		})
		if err != nil {
			return nil, err
		}
		if n%2 != 0 {
			return nil, rdbErr("zset with an odd number of elements")
		}
		if n == 0 {
			return nil, rdbErr("empty zset")
		}
		return z, nil
	}
	return nil, rdbErr("unsupported RDB type %d", t)
}

// lpEach validates a listpack completely (as lpValidateIntegrity with deep
// checking) and calls fn with each element; integers are passed in decimal.
// The slice passed to fn is only valid during the call.
func lpEach(lp []byte, fn func([]byte) error) error {
	size := len(lp)
	if size < 7 || binary.LittleEndian.Uint32(lp) != uint32(size) || lp[size-1] != 0xFF {
		return rdbErr("listpack integrity check failed")
	}
	numele := int(binary.LittleEndian.Uint16(lp[4:]))
	last := size - 1 // index of the terminator
	var ibuf [20]byte
	count := 0
	p := 6
	for lp[p] != 0xFF {
		c := lp[p]
		var hdr, dlen int // encoding bytes, data bytes
		var ival int64
		isInt := true
		need := func(n int) bool { return p+n <= last }
		switch {
		case c&0x80 == 0:
			hdr, ival = 1, int64(c)
		case c&0xC0 == 0x80:
			hdr, dlen, isInt = 1, int(c&0x3f), false
		case c&0xE0 == 0xC0:
			if !need(2) {
				return rdbErr("listpack integrity check failed")
			}
			u := int64(c&0x1f)<<8 | int64(lp[p+1])
			if u >= 1<<12 {
				u -= 1 << 13
			}
			hdr, ival = 2, u
		case c&0xF0 == 0xE0:
			if !need(2) {
				return rdbErr("listpack integrity check failed")
			}
			hdr, dlen, isInt = 2, int(c&0xf)<<8|int(lp[p+1]), false
		case c == 0xF0:
			if !need(5) {
				return rdbErr("listpack integrity check failed")
			}
			hdr, isInt = 5, false
			n := binary.LittleEndian.Uint32(lp[p+1:])
			if uint64(n) > uint64(size) {
				return rdbErr("listpack integrity check failed")
			}
			dlen = int(n)
		case c >= 0xF1 && c <= 0xF4:
			hdr = [...]int{3, 4, 5, 9}[c-0xF1]
			if !need(hdr) {
				return rdbErr("listpack integrity check failed")
			}
			d := lp[p+1 : p+hdr]
			switch c {
			case 0xF1:
				ival = int64(int16(binary.LittleEndian.Uint16(d)))
			case 0xF2:
				u := int64(d[0]) | int64(d[1])<<8 | int64(d[2])<<16
				if u >= 1<<23 {
					u -= 1 << 24
				}
				ival = u
			case 0xF3:
				ival = int64(int32(binary.LittleEndian.Uint32(d)))
			case 0xF4:
				ival = int64(binary.LittleEndian.Uint64(d))
			}
		default:
			return rdbErr("listpack integrity check failed")
		}
		entry := hdr + dlen
		var bl [5]byte
		back := lpAppendBacklen(bl[:0], uint64(entry))
		if !need(entry + len(back)) {
			return rdbErr("listpack integrity check failed")
		}
		for i, b := range back {
			if lp[p+entry+i] != b {
				return rdbErr("listpack integrity check failed")
			}
		}
		var ele []byte
		if isInt {
			ele = strconv.AppendInt(ibuf[:0], ival, 10)
		} else {
			ele = lp[p+hdr : p+entry]
		}
		if err := fn(ele); err != nil {
			return err
		}
		count++
		p += entry + len(back)
	}
	if p != last || (numele != 0xFFFF && numele != count) {
		return rdbErr("listpack integrity check failed")
	}
	return nil
}

// zlEach validates a ziplist completely (as ziplistValidateIntegrity with
// deep checking) and calls fn with each element; integers in decimal.
func zlEach(zl []byte, fn func([]byte) error) error {
	size := len(zl)
	bad := rdbErr("ziplist integrity check failed")
	if size < 11 || binary.LittleEndian.Uint32(zl) != uint32(size) || zl[size-1] != 0xFF {
		return bad
	}
	tail := int(binary.LittleEndian.Uint32(zl[4:]))
	if tail > size-1 {
		return bad
	}
	numele := int(binary.LittleEndian.Uint16(zl[8:]))
	last := size - 1
	var ibuf [20]byte
	count, prevLen, prevStart := 0, 0, -1
	p := 10
	for zl[p] != 0xFF {
		q := p
		// prevlen: one byte, or 0xFE and four bytes LE.
		var prev int
		if zl[q] < 254 {
			prev = int(zl[q])
			q++
		} else {
			if q+5 > last {
				return bad
			}
			prev = int(binary.LittleEndian.Uint32(zl[q+1:]))
			q += 5
		}
		if prev != prevLen || q >= last {
			return bad
		}
		c := zl[q]
		var dlen int
		var ival int64
		isInt := true
		switch {
		case c>>6 == 0:
			dlen, isInt = int(c&0x3f), false
			q++
		case c>>6 == 1:
			if q+2 > last {
				return bad
			}
			dlen, isInt = int(c&0x3f)<<8|int(zl[q+1]), false
			q += 2
		case c>>6 == 2:
			if q+5 > last {
				return bad
			}
			n := binary.BigEndian.Uint32(zl[q+1:])
			if uint64(n) > uint64(size) {
				return bad
			}
			dlen, isInt = int(n), false
			q += 5
		case c == 0xC0:
			dlen = 2
			q++
		case c == 0xD0:
			dlen = 4
			q++
		case c == 0xE0:
			dlen = 8
			q++
		case c == 0xF0:
			dlen = 3
			q++
		case c == 0xFE:
			dlen = 1
			q++
		case c >= 0xF1 && c <= 0xFD:
			ival = int64(c&0x0f) - 1
			q++
		default:
			return bad
		}
		if q+dlen > last {
			return bad
		}
		d := zl[q : q+dlen]
		var ele []byte
		if isInt {
			switch c {
			case 0xC0:
				ival = int64(int16(binary.LittleEndian.Uint16(d)))
			case 0xD0:
				ival = int64(int32(binary.LittleEndian.Uint32(d)))
			case 0xE0:
				ival = int64(binary.LittleEndian.Uint64(d))
			case 0xF0:
				ival = int64(int32(uint32(d[0])<<8|uint32(d[1])<<16|uint32(d[2])<<24) >> 8)
			case 0xFE:
				ival = int64(int8(d[0]))
			}
			ele = strconv.AppendInt(ibuf[:0], ival, 10)
		} else {
			ele = d
		}
		if err := fn(ele); err != nil {
			return err
		}
		count++
		prevStart, prevLen = p, q+dlen-p
		p = q + dlen
	}
	if p != last || (prevStart >= 0 && prevStart != tail) || (numele != 0xFFFF && numele != count) {
		return bad
	}
	return nil
}

// decodeIntset decodes an intset: encoding (2, 4 or 8) and count as
// uint32 LE, then strictly increasing little-endian integers.
func decodeIntset(b []byte) (Value, error) {
	bad := rdbErr("intset integrity check failed")
	if len(b) < 8 {
		return nil, bad
	}
	enc := binary.LittleEndian.Uint32(b)
	n := uint64(binary.LittleEndian.Uint32(b[4:]))
	if (enc != 2 && enc != 4 && enc != 8) || n == 0 || 8+n*uint64(enc) != uint64(len(b)) {
		return nil, bad
	}
	s := newSet(int(n))
	var prev int64
	for i := 0; i < int(n); i++ {
		d := b[8+i*int(enc):]
		var v int64
		switch enc {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(d)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(d)))
		default:
			v = int64(binary.LittleEndian.Uint64(d))
		}
		if i > 0 && v <= prev {
			return nil, bad
		}
		prev = v
		s.d.Set(strconv.FormatInt(v, 10), struct{}{})
	}
	return s, nil
}

// decodeZipmap decodes a Redis 2.x zipmap hash: count byte, then
// len key len free value [free bytes]... and 0xFF. Lengths are one byte
// (< 254) or 254 and four bytes little endian.
func decodeZipmap(zm []byte) (Value, error) {
	bad := rdbErr("zipmap integrity check failed")
	if len(zm) < 2 || zm[len(zm)-1] != 0xFF {
		return nil, bad
	}
	last := len(zm) - 1
	p := 1
	readLen := func() (int, bool) {
		if p >= last {
			return 0, false
		}
		if zm[p] < 254 {
			p++
			return int(zm[p-1]), true
		}
		if zm[p] == 255 || p+5 > last {
			return 0, false
		}
		n := binary.LittleEndian.Uint32(zm[p+1:])
		p += 5
		if uint64(n) > uint64(len(zm)) {
			return 0, false
		}
		return int(n), true
	}
	h := newHash(min(len(zm)/3, 1<<16))
	count := 0
	for zm[p] != 0xFF {
		kl, ok := readLen()
		if !ok || p+kl > last {
			return nil, bad
		}
		key := zm[p : p+kl]
		p += kl
		vl, ok := readLen()
		if !ok || p >= last {
			return nil, bad
		}
		free := int(zm[p])
		p++
		if p+vl+free > last {
			return nil, bad
		}
		val := zm[p : p+vl]
		p += vl + free
		if !h.d.Set(string(key), string(val)) {
			return nil, rdbErr("hash zipmap with dup elements")
		}
		count++
	}
	if p != last || count == 0 || (zm[0] != 254 && int(zm[0]) != count) {
		return nil, bad
	}
	return h, nil
}

// ---- commands ---------------------------------------------------------------

func init() {
	Register(
		Command{Name: "dump", Arity: 2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: dumpCommand},
		Command{Name: "restore", Arity: -4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Exec: restoreCommand},
		// MIGRATE sends RESTORE-ASKING so that an importing node accepts it;
		// the gateway treats it as asking. The engine semantics are RESTORE's.
		Command{Name: "restore-asking", Arity: -4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Exec: restoreCommand},
	)
}

// DUMP key
func dumpCommand(c *Ctx, args [][]byte) Reply {
	v := c.Get(args[1])
	if v == nil {
		return Nil()
	}
	return Bulk(string(DumpPayload(v)))
}

// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
//
// IDLETIME and FREQ are validated as in Redis but have no effect: the
// engine keeps no LRU/LFU state in the replicated keyspace.
func restoreCommand(c *Ctx, args [][]byte) Reply {
	replace, absttl := false, false
	idle, freq := false, false
	for j := 4; j < len(args); j++ {
		more := len(args) - j - 1
		switch a := args[j]; {
		case EqFold(a, "replace"):
			replace = true
		case EqFold(a, "absttl"):
			absttl = true
		case EqFold(a, "idletime") && more >= 1 && !freq:
			n, ok := ParseInt(args[j+1])
			if !ok {
				return ErrNotInt
			}
			if n < 0 {
				return Err("ERR Invalid IDLETIME value, must be >= 0")
			}
			idle = true
			j++
		case EqFold(a, "freq") && more >= 1 && !idle:
			n, ok := ParseInt(args[j+1])
			if !ok {
				return ErrNotInt
			}
			if n < 0 || n > 255 {
				return Err("ERR Invalid FREQ value, must be >= 0 and <= 255")
			}
			freq = true
			j++
		default:
			return ErrSyntax
		}
	}
	key := args[1]
	if !replace && c.Exists(key) {
		return ErrBusyKey
	}
	ttl, ok := ParseInt(args[2])
	if !ok {
		return ErrNotInt
	}
	if ttl < 0 {
		return Err("ERR Invalid TTL value, must be >= 0")
	}
	v, err := DecodePayload(args[3])
	if errors.Is(err, errDumpVersion) {
		return Err("ERR DUMP payload version or checksum are wrong")
	}
	if err != nil {
		return Err("ERR Bad data format")
	}
	deleted := replace && c.Delete(key)
	if ttl != 0 && !absttl {
		ttl += c.Now // wraps like Redis's long long addition; then it counts as expired
	}
	if ttl != 0 && ttl <= c.Now {
		// Already expired: Redis deletes (with REPLACE) and does not create.
		if deleted {
			c.notify(NotifyGeneric, "del", key)
		}
		return ReplyOK
	}
	c.SetWithExpire(key, v, ttl)
	c.notify(NotifyGeneric, "restore", key)
	return ReplyOK
}
