package raftfsm

import "encoding/binary"

// Redis's CRC-64 ("Jones", polynomial 0xad93d23594c935a9, bit-reflected,
// no initial or final inversion) checksums every DUMP payload and RDB file,
// so a slot migration computes it over every byte it moves, on the source
// and on each target replica. hash/crc64 only keeps slicing-by-8 tables for
// its own two polynomials: for any other table it goes byte by byte below
// 2 KiB (a typical value) and rebuilds 16 KiB of tables on every call
// above. These tables are built once.
var crc64Tab = func() (t [8][256]uint64) {
	const poly = 0x95ac9329ac4bc9b5 // reflected form of Redis's polynomial
	for i := range t[0] {
		c := uint64(i)
		for range 8 {
			if c&1 == 1 {
				c = c>>1 ^ poly
			} else {
				c >>= 1
			}
		}
		t[0][i] = c
	}
	for k := 1; k < 8; k++ {
		for i := range t[k] {
			c := t[k-1][i]
			t[k][i] = c>>8 ^ t[0][c&0xff]
		}
	}
	return t
}()

// crc64Redis returns Redis's crc64(crc, p).
func crc64Redis(crc uint64, p []byte) uint64 {
	t := &crc64Tab
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][crc&0xff] ^ t[6][crc>>8&0xff] ^ t[5][crc>>16&0xff] ^ t[4][crc>>24&0xff] ^
			t[3][crc>>32&0xff] ^ t[2][crc>>40&0xff] ^ t[1][crc>>48&0xff] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return crc
}
