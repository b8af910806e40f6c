package raftfsm

import "errors"

// LZF (liblzf) as used by Redis for compressed RDB strings. The stream is a
// sequence of literal runs (ctrl < 32: ctrl+1 bytes follow) and back
// references (ctrl >= 32: length ctrl>>5, plus one extra length byte when it
// is 7, then the low offset byte; copies length+2 bytes from
// out - ((ctrl&31)<<8 | low) - 1).

var errLZF = errors.New("invalid LZF data")

const (
	lzfMaxLit = 32          // longest literal run
	lzfMaxOff = 1 << 13     // farthest back reference
	lzfMaxRef = 2 + 7 + 255 // longest back reference
	lzfHash   = 14          // log2 of the match finder's table size
)

// lzfDecompress expands in, which must produce exactly n bytes. Every read
// and copy is bounds-checked: the input is untrusted.
func lzfDecompress(in []byte, n int) ([]byte, error) {
	out := make([]byte, n)
	op := 0
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 {
			run := ctrl + 1
			if i+run > len(in) || op+run > n {
				return nil, errLZF
			}
			op += copy(out[op:], in[i:i+run])
			i += run
			continue
		}
		ln := ctrl >> 5
		if i >= len(in) {
			return nil, errLZF
		}
		if ln == 7 {
			ln += int(in[i])
			i++
			if i >= len(in) {
				return nil, errLZF
			}
		}
		ref := op - (ctrl&31)<<8 - int(in[i]) - 1
		i++
		ln += 2
		if ref < 0 || op+ln > n {
			return nil, errLZF
		}
		if ref+ln <= op {
			op += copy(out[op:], out[ref:ref+ln])
			continue
		}
		// Overlapping source and destination (a run): byte by byte.
		for k := 0; k < ln; k++ {
			out[op+k] = out[ref+k]
		}
		op += ln
	}
	if op != n {
		return nil, errLZF
	}
	return out, nil
}

// lzfProbe is how far into a value of at least twice its size lzfCompress
// looks before deciding whether the value compresses at all.
const lzfProbe = 256

// lzfCompress compresses in, or returns nil when the result would not fit in
// limit bytes (then the caller stores the string raw, as Redis does) or
// when its first lzfProbe bytes barely compress. The result is written into
// scratch when it has room for limit bytes.
func lzfCompress(scratch, in []byte, limit int) []byte {
	if len(in) < 4 || limit <= 0 {
		return nil
	}
	// table maps a hash of 3 bytes to 1 + the position where they last
	// occurred. Short inputs get a small table: clearing 64 KB for each of
	// many short strings would dominate a snapshot.
	var small [1 << 10]int32
	table, bits := small[:], uint32(10)
	if len(in) > 1<<12 {
		table, bits = make([]int32, 1<<lzfHash), lzfHash
	}
	out := scratch[:0]
	if cap(out) < limit {
		out = make([]byte, 0, limit)
	}
	litStart := 0 // start of the pending literal run
	flush := func(end int) bool {
		for litStart < end {
			run := min(end-litStart, lzfMaxLit)
			if len(out)+1+run > limit {
				return false
			}
			out = append(out, byte(run-1))
			out = append(out, in[litStart:litStart+run]...)
			litStart += run
		}
		return true
	}
	hash := func(p int) uint32 {
		v := uint32(in[p])<<16 | uint32(in[p+1])<<8 | uint32(in[p+2])
		return (v * 2654435761) >> (32 - bits)
	}
	i := 0
	probed := len(in) < 2*lzfProbe
	for i+2 < len(in) {
		if !probed && i >= lzfProbe {
			// Most values that do not compress show it early (random
			// bytes, hex or base64 of them): give up when the start saved
			// less than 1/16, instead of scanning the rest for nothing.
			// A value that only compresses past its start is then stored
			// raw, which is still a valid RDB string.
			probed = true
			lit := i - litStart
			if saved := i - (len(out) + lit + (lit+lzfMaxLit-1)/lzfMaxLit); saved < i/16 {
				return nil
			}
		}
		h := hash(i)
		ref := int(table[h]) - 1
		table[h] = int32(i + 1)
		if ref < 0 || i-ref > lzfMaxOff || in[ref] != in[i] || in[ref+1] != in[i+1] || in[ref+2] != in[i+2] {
			i++
			continue
		}
		ln := 3
		for ln < lzfMaxRef && i+ln < len(in) && in[ref+ln] == in[i+ln] {
			ln++
		}
		if !flush(i) {
			return nil
		}
		off := i - ref - 1
		l := ln - 2
		if l < 7 {
			out = append(out, byte(l<<5|off>>8), byte(off))
		} else {
			out = append(out, byte(7<<5|off>>8), byte(l-7), byte(off))
		}
		if len(out) > limit {
			return nil
		}
		// Index the positions inside the match so later data can refer to them.
		for k := i + 1; k < i+ln && k+2 < len(in); k++ {
			table[hash(k)] = int32(k + 1)
		}
		i += ln
		litStart = i
	}
	if !flush(len(in)) {
		return nil
	}
	return out
}
