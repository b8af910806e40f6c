package raftfsm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
)

// RDB files, as redis-server's SAVE/BGSAVE writes them and ElastiCache
// exports them: "REDIS" and a 4-digit version, then opcodes (aux fields,
// database selection, expiry, function libraries) and key/value records
// whose values are the RDB object encodings DUMP uses, then EOF and a
// CRC-64 of everything before it. raftcachectl snapshot import-rdb reads
// one into a cluster (ScanRDB) and export-rdb writes one (RDBWriter), so
// data moves between raftcache and Redis both ways.

// RDB file opcodes (Redis's rdb.h).
const (
	rdbOpSlotInfo  = 244 // Redis 7.4, cluster mode: slot id, size, expires size
	rdbOpFunction2 = 245
	rdbOpFunction  = 246 // 7.0 release candidates only
	rdbOpModuleAux = 247
	rdbOpIdle      = 248
	rdbOpFreq      = 249
	rdbOpAux       = 250
	rdbOpResizeDB  = 251
	rdbOpExpireMs  = 252
	rdbOpExpire    = 253
	rdbOpSelectDB  = 254
	rdbOpEOF       = 255

	// rdbFileMaxVersion is the newest file version read: Redis 7.4 writes
	// 12. Values of types this engine lacks (module values, hashes with
	// field expiry) are refused by type, naming the key.
	rdbFileMaxVersion = 12
)

// RDBFile is what ScanRDB found besides the keys.
type RDBFile struct {
	Version   int
	Aux       map[string]string // redis-ver, ctime, ...
	Libraries [][]byte          // FUNCTION LOAD codes
	Keys      uint64            // passed to fn: the database asked for
	// OtherDBKeys counts keys of the other databases (a cluster has one):
	// decoded and checked, not passed to fn.
	OtherDBKeys uint64
}

// ScanRDB checks and walks a whole RDB file held in b (a mapped file):
// for each key of database db it calls fn with the key, its absolute
// expiry in Unix ms (0: none) and a DUMP payload of its value (re-encoded
// in this engine's RDB version, so RESTORE takes values of any version
// read). The slices are only valid during the call. The file's CRC-64 is
// checked (unless it is 0: rdbchecksum no) before any fn call.
func ScanRDB(b []byte, db uint64, fn func(key []byte, exp int64, dump []byte) error) (RDBFile, error) {
	var info RDBFile
	if len(b) < 9 || string(b[:5]) != "REDIS" {
		return info, fmt.Errorf("not an RDB file (no REDIS header)")
	}
	v, err := strconv.Atoi(string(b[5:9]))
	if err != nil || v < 1 || v > rdbFileMaxVersion {
		return info, fmt.Errorf("RDB file version %q not supported (1 to %d)", b[5:9], rdbFileMaxVersion)
	}
	info.Version, info.Aux = v, map[string]string{}
	if err := checkRDBFileCRC(b, v); err != nil {
		return info, err
	}
	end := len(b)
	if v >= 5 {
		end -= 8 // the checksum
	}
	r := &rdbReader{b: b[9:end]}
	cur := uint64(0) // SELECTDB
	var exp int64
	var payload []byte
	at := func() int { return end - len(r.b) } // offset, for errors
	for {
		off := at()
		op, err := r.byte()
		if err != nil {
			return info, fmt.Errorf("offset %d: no EOF opcode: %w", off, err)
		}
		switch op {
		case rdbOpEOF:
			return info, nil
		case rdbOpAux:
			k, err := r.str()
			if err != nil {
				return info, fmt.Errorf("offset %d: aux field: %w", off, err)
			}
			key := string(k)
			val, err := r.str()
			if err != nil {
				return info, fmt.Errorf("offset %d: aux field %s: %w", off, key, err)
			}
			info.Aux[key] = string(val)
		case rdbOpSelectDB:
			if cur, _, err = r.length(); err != nil {
				return info, fmt.Errorf("offset %d: SELECTDB: %w", off, err)
			}
		case rdbOpResizeDB:
			for range 2 {
				if _, _, err := r.length(); err != nil {
					return info, fmt.Errorf("offset %d: RESIZEDB: %w", off, err)
				}
			}
		case rdbOpSlotInfo:
			for range 3 {
				if _, _, err := r.length(); err != nil {
					return info, fmt.Errorf("offset %d: SLOT_INFO: %w", off, err)
				}
			}
		case rdbOpExpireMs:
			t, err := r.take(8)
			if err != nil {
				return info, fmt.Errorf("offset %d: EXPIRETIME_MS: %w", off, err)
			}
			exp = int64(binary.LittleEndian.Uint64(t))
		case rdbOpExpire:
			t, err := r.take(4)
			if err != nil {
				return info, fmt.Errorf("offset %d: EXPIRETIME: %w", off, err)
			}
			exp = int64(int32(binary.LittleEndian.Uint32(t))) * 1000
		case rdbOpIdle:
			if _, _, err := r.length(); err != nil {
				return info, fmt.Errorf("offset %d: IDLE: %w", off, err)
			}
		case rdbOpFreq:
			if _, err := r.byte(); err != nil {
				return info, fmt.Errorf("offset %d: FREQ: %w", off, err)
			}
		case rdbOpFunction2:
			code, err := r.str()
			if err != nil {
				return info, fmt.Errorf("offset %d: function library: %w", off, err)
			}
			info.Libraries = append(info.Libraries, bytes.Clone(code))
		case rdbOpFunction, rdbOpModuleAux:
			return info, fmt.Errorf("offset %d: opcode %d (%s) not supported", off, op, map[byte]string{rdbOpFunction: "functions of Redis 7.0 release candidates", rdbOpModuleAux: "module data"}[op])
		default: // a value type: key, then the object
			key, err := r.str()
			if err != nil {
				return info, fmt.Errorf("offset %d: key: %w", off, err)
			}
			val, err := r.object(op)
			if err != nil {
				return info, fmt.Errorf("offset %d: key %q: %w", off, key, err)
			}
			if cur != db {
				info.OtherDBKeys++
			} else {
				info.Keys++
				payload = appendDumpPayload(payload[:0], val)
				if err := fn(key, exp, payload); err != nil {
					return info, err
				}
			}
			exp = 0
		}
	}
}

// checkRDBFileCRC checks the CRC-64 after the EOF opcode (files of version
// 5 and later end with one; 0 means the writer had rdbchecksum off).
func checkRDBFileCRC(b []byte, version int) error {
	if version < 5 {
		return nil
	}
	if len(b) < 9+1+8 {
		return fmt.Errorf("RDB file truncated (%d bytes)", len(b))
	}
	body, sum := b[:len(b)-8], binary.LittleEndian.Uint64(b[len(b)-8:])
	if body[len(body)-1] != rdbOpEOF {
		return fmt.Errorf("RDB file truncated or followed by other bytes (no EOF opcode before the checksum)")
	}
	if sum != 0 && crc64Redis(0, body) != sum {
		return fmt.Errorf("RDB file checksum mismatch: damaged")
	}
	return nil
}

// RDBWriter writes an RDB file of database 0 that redis-server 7.0 and
// later loads: Key for every key (DUMP payloads, as ScanSnapshot yields
// them), then Close.
type RDBWriter struct {
	w    *bufio.Writer
	crc  uint64
	buf  []byte
	err  error
	keys uint64
}

// NewRDBWriter starts the file: header, aux fields (in order of aux, as
// name, value pairs), the function libraries, database 0.
func NewRDBWriter(w io.Writer, aux []string, libraries [][]byte) *RDBWriter {
	rw := &RDBWriter{w: bufio.NewWriterSize(w, 256<<10)}
	rw.buf = fmt.Appendf(rw.buf[:0], "REDIS%04d", rdbVersion)
	for i := 0; i+1 < len(aux); i += 2 {
		rw.buf = append(rw.buf, rdbOpAux)
		rw.buf = rdbAppendString(rw.buf, []byte(aux[i]))
		rw.buf = rdbAppendString(rw.buf, []byte(aux[i+1]))
	}
	for _, code := range libraries {
		rw.buf = append(rw.buf, rdbOpFunction2)
		rw.buf = rdbAppendString(rw.buf, code)
	}
	rw.buf = append(rw.buf, rdbOpSelectDB, 0)
	rw.flush()
	return rw
}

func (rw *RDBWriter) flush() {
	if rw.err != nil {
		return
	}
	rw.crc = crc64Redis(rw.crc, rw.buf)
	_, rw.err = rw.w.Write(rw.buf)
	rw.buf = rw.buf[:0]
}

// Key writes one key; exp is its absolute expiry in Unix ms (0: none).
// The payload's version and checksum are checked first (not the object:
// it comes from a checked snapshot file).
func (rw *RDBWriter) Key(key []byte, exp int64, dump []byte) error {
	if rw.err != nil {
		return rw.err
	}
	if err := checkPayloadFooter(dump); err != nil || len(dump) < 11 { // 11: a type byte at least
		return fmt.Errorf("key %q: %w", key, errDumpVersion)
	}
	if exp != 0 {
		rw.buf = append(rw.buf, rdbOpExpireMs)
		rw.buf = binary.LittleEndian.AppendUint64(rw.buf, uint64(exp))
	}
	obj := dump[:len(dump)-10] // type byte and object, without the footer
	rw.buf = append(rw.buf, obj[0])
	rw.buf = rdbAppendString(rw.buf, key)
	rw.buf = append(rw.buf, obj[1:]...)
	rw.flush()
	rw.keys++
	return rw.err
}

// Keys is how many keys were written.
func (rw *RDBWriter) Keys() uint64 { return rw.keys }

// Close ends the file (EOF, CRC-64) and flushes it; it does not close the
// underlying writer.
func (rw *RDBWriter) Close() error {
	rw.buf = append(rw.buf, rdbOpEOF)
	rw.flush()
	if rw.err != nil {
		return rw.err
	}
	var sum [8]byte
	binary.LittleEndian.PutUint64(sum[:], rw.crc)
	if _, err := rw.w.Write(sum[:]); err != nil {
		return err
	}
	return rw.w.Flush()
}
