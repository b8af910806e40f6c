package raftfsm

import "hash/crc64"

// crc64Jones is the bit-reflected form of Redis's CRC-64 polynomial
// 0xad93d23594c935a9 ("Jones"), the checksum of DUMP payloads and RDB files.
var crc64Jones = crc64.MakeTable(0x95ac9329ac4bc9b5)

// crc64Redis returns Redis's crc64(crc, p): reflected, no final xor. Go's
// hash/crc64 inverts the register before and after each update, so the
// inversions are undone here; that keeps Go's fast slicing-by-8 tables.
func crc64Redis(crc uint64, p []byte) uint64 {
	return ^crc64.Update(^crc, crc64Jones, p)
}
