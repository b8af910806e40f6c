package raftfsm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/fnv"
	"io"
	"sync"

	"github.com/hashicorp/raft"
	"github.com/raftcache/raftcache/slots"
	"github.com/tidwall/btree"
)

// Snapshot format (version 4), written by Persist and read by Restore
// (versions 1, without the slot table, 2, without the libraries, and 3,
// without the applied-log hash, are still read):
//
//	"RCSNAP" 0x04        magic and version
//	uvarint  applied index, varint last entry time, uvarint key count
//	slot table: byte initialized, uvarint n, then n entries for the slots
//	         not in the default state (unowned, peer -1, version 0):
//	         uvarint slot, byte state, byte frozen, varint peer, uvarint version
//	libraries (FUNCTION LOAD): uvarint n, then n times uvarint len, code
//	applied-log hash (version 4): byte known (0/1), uint64 little endian
//	per key: uvarint len, key, varint expiry (Unix ms, 0 = none),
//	         uvarint modification version (WATCH; derived from log indexes),
//	         uvarint len, value in Redis's RDB object encoding (as DUMP)
//	4 bytes  CRC-32C (little endian) of everything before
var (
	snapMagic   = []byte("RCSNAP\x04")
	snapMagicV3 = []byte("RCSNAP\x03")
	snapMagicV2 = []byte("RCSNAP\x02")
	snapMagicV1 = []byte("RCSNAP\x01")
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// SnapshotHeader describes a snapshot.
type SnapshotHeader struct {
	Index    uint64
	LastTime int64
	Keys     uint64
	// Libraries holds the function libraries' codes (version 3).
	Libraries [][]byte
	// LogHash is the applied-log hash at Index (loghash.go; version 4).
	// LogHashKnown is false for an older snapshot, which lacks it.
	LogHash      uint64
	LogHashKnown bool
}

type fsmSnapshot struct {
	keys     *btree.BTreeG[*entry]
	slotTab  *slotTable
	libs     *libraries
	index    uint64
	lastTime int64
	logHash  uint64
	hashed   bool // logHash covers the whole history (see LogHash.Known)
	db       *DB
	once     sync.Once
}

// Persist streams the frozen keyspace to sink.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := WriteSnapshot(sink, s.keys, s.slotTab, SnapshotHeader{Index: s.index, LastTime: s.lastTime, Keys: uint64(s.keys.Len()), Libraries: libCodes(s.libs), LogHash: s.logHash, LogHashKnown: s.hashed}); err != nil {
		sink.Cancel()
		return fmt.Errorf("raftfsm: persist snapshot: %w", err)
	}
	return sink.Close()
}

// Index is the Raft index the snapshot reflects.
func (s *fsmSnapshot) Index() uint64 { return s.index }

// Release lets the live database mutate entries in place again.
func (s *fsmSnapshot) Release() {
	s.once.Do(func() { s.db.liveSnaps.Add(-1) })
}

// libCodes lists the libraries' codes in name order.
func libCodes(ls *libraries) [][]byte {
	var out [][]byte
	for _, l := range ls.sorted() {
		out = append(out, l.code)
	}
	return out
}

// WriteSnapshot writes keys in snapshot format.
func WriteSnapshot(w io.Writer, keys *btree.BTreeG[*entry], st *slotTable, hdr SnapshotHeader) error {
	crc := crc32.New(crcTable)
	bw := bufio.NewWriterSize(io.MultiWriter(w, crc), 256<<10)
	var buf []byte
	buf = append(buf, snapMagic...)
	buf = binary.AppendUvarint(buf, hdr.Index)
	buf = binary.AppendVarint(buf, hdr.LastTime)
	buf = binary.AppendUvarint(buf, hdr.Keys)
	buf = appendSlotTable(buf, st)
	buf = binary.AppendUvarint(buf, uint64(len(hdr.Libraries)))
	for _, code := range hdr.Libraries {
		buf = binary.AppendUvarint(buf, uint64(len(code)))
		buf = append(buf, code...)
	}
	known := byte(0)
	if hdr.LogHashKnown {
		known = 1
	}
	buf = append(buf, known)
	buf = binary.LittleEndian.AppendUint64(buf, hdr.LogHash)
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	var err error
	keys.Scan(func(e *entry) bool {
		buf = buf[:0]
		buf = binary.AppendUvarint(buf, uint64(len(e.key)))
		buf = append(buf, e.key...)
		buf = binary.AppendVarint(buf, e.exp)
		buf = binary.AppendUvarint(buf, e.ver)
		val := rdbEncodeValue(nil, e.val)
		buf = binary.AppendUvarint(buf, uint64(len(val)))
		if _, err = bw.Write(buf); err != nil {
			return false
		}
		_, err = bw.Write(val)
		return err == nil
	})
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc.Sum32())
	_, err = w.Write(sum[:])
	return err
}

// crcReader hashes what it has read, minus a 4-byte lookahead kept for the
// trailer.
type snapReader struct {
	r   *bufio.Reader
	crc hash.Hash32
}

func (s *snapReader) ReadByte() (byte, error) {
	b, err := s.r.ReadByte()
	if err == nil {
		s.crc.Write([]byte{b})
	}
	return b, err
}

func (s *snapReader) full(n uint64) ([]byte, error) {
	// Read in bounded chunks so that a corrupt length cannot make us
	// allocate more than the stream really holds.
	var out []byte
	for n > 0 {
		chunk := n
		if chunk > 1<<20 {
			chunk = 1 << 20
		}
		start := len(out)
		out = append(out, make([]byte, chunk)...)
		if _, err := io.ReadFull(s.r, out[start:]); err != nil {
			return nil, err
		}
		s.crc.Write(out[start:])
		n -= chunk
	}
	return out, nil
}

// snapHeader reads a snapshot's magic and header (and, for version 2, the
// slot table into st).
func snapHeader(sr *snapReader, st *slotTable) (SnapshotHeader, error) {
	var hdr SnapshotHeader
	magic, err := sr.full(uint64(len(snapMagic)))
	if err != nil || string(magic) != string(snapMagic) && string(magic) != string(snapMagicV3) && string(magic) != string(snapMagicV2) && string(magic) != string(snapMagicV1) {
		return hdr, errors.New("not a raftcache snapshot (bad magic)")
	}
	if hdr.Index, err = binary.ReadUvarint(sr); err != nil {
		return hdr, err
	}
	if hdr.LastTime, err = binary.ReadVarint(sr); err != nil {
		return hdr, err
	}
	if hdr.Keys, err = binary.ReadUvarint(sr); err != nil {
		return hdr, err
	}
	if string(magic) != string(snapMagicV1) {
		if err := readSlotTable(sr, st); err != nil {
			return hdr, fmt.Errorf("slot table: %w", err)
		}
	}
	if string(magic) == string(snapMagic) || string(magic) == string(snapMagicV3) {
		n, err := binary.ReadUvarint(sr)
		if err != nil {
			return hdr, fmt.Errorf("libraries: %w", err)
		}
		for i := uint64(0); i < n; i++ {
			l, err := binary.ReadUvarint(sr)
			if err != nil {
				return hdr, fmt.Errorf("libraries: %w", err)
			}
			code, err := sr.full(l)
			if err != nil {
				return hdr, fmt.Errorf("libraries: %w", err)
			}
			hdr.Libraries = append(hdr.Libraries, code)
		}
	}
	if string(magic) == string(snapMagic) {
		b, err := sr.full(9)
		if err != nil {
			return hdr, fmt.Errorf("log hash: %w", err)
		}
		hdr.LogHashKnown = b[0] == 1
		hdr.LogHash = binary.LittleEndian.Uint64(b[1:])
	}
	return hdr, nil
}

// snapKey is one key of a snapshot, its value still serialized.
type snapKey struct {
	key []byte
	exp int64
	ver uint64
	raw []byte // RDB object encoding (a DUMP payload without its trailer)
}

func readSnapKey(sr *snapReader) (k snapKey, err error) {
	kl, err := binary.ReadUvarint(sr)
	if err != nil {
		return k, err
	}
	if k.key, err = sr.full(kl); err != nil {
		return k, err
	}
	if k.exp, err = binary.ReadVarint(sr); err != nil {
		return k, err
	}
	if k.ver, err = binary.ReadUvarint(sr); err != nil {
		return k, err
	}
	vl, err := binary.ReadUvarint(sr)
	if err != nil {
		return k, err
	}
	k.raw, err = sr.full(vl)
	return k, err
}

// checkSnapSum reads the trailer and compares it with what was read.
func checkSnapSum(sr *snapReader) error {
	want := sr.crc.Sum32()
	var sum [4]byte
	if _, err := io.ReadFull(sr.r, sum[:]); err != nil {
		return fmt.Errorf("checksum: %w", err)
	}
	if binary.LittleEndian.Uint32(sum[:]) != want {
		return errors.New("checksum mismatch")
	}
	return nil
}

// ReadSnapshot reads a snapshot into a new database.
func ReadSnapshot(r io.Reader) (*DB, SnapshotHeader, error) {
	sr := &snapReader{r: bufio.NewReaderSize(r, 256<<10), crc: crc32.New(crcTable)}
	db := NewDB()
	hdr, err := snapHeader(sr, db.slotTab)
	if err != nil {
		return nil, hdr, err
	}
	for i := uint64(0); i < hdr.Keys; i++ {
		k, err := readSnapKey(sr)
		if err != nil {
			return nil, hdr, err
		}
		v, rest, err := rdbDecodeValue(k.raw)
		if err != nil {
			return nil, hdr, fmt.Errorf("key %q: %w", k.key, err)
		}
		if len(rest) != 0 {
			return nil, hdr, fmt.Errorf("key %q: %d trailing bytes", k.key, len(rest))
		}
		// Keep the version the log gave it, so a WATCH check decides the
		// same on a restored replica as on the others.
		db.put(k.key, v, k.exp).ver = k.ver
		if k.ver > db.verSeq {
			db.verSeq = k.ver
		}
	}
	if err := checkSnapSum(sr); err != nil {
		return nil, hdr, err
	}
	c := NewCtx(db, hdr.LastTime, true, 0)
	for _, code := range hdr.Libraries {
		if _, err := loadLibrary(c, code, true); err != nil {
			return nil, hdr, fmt.Errorf("library: %w", err)
		}
	}
	return db, hdr, nil
}

// ScanSnapshot reads a snapshot as a stream, calling fn (when not nil) for
// every key with its expiry (Unix ms, 0 = none) and its value as a DUMP
// payload, as RESTORE takes it. Values are not decoded and memory stays
// bounded by the largest value. The checksum is checked at the end: a
// caller that must not act on a damaged file scans it once without fn.
func ScanSnapshot(r io.Reader, fn func(key []byte, exp int64, dump []byte) error) (SnapshotHeader, error) {
	sr := &snapReader{r: bufio.NewReaderSize(r, 256<<10), crc: crc32.New(crcTable)}
	var st slotTable
	hdr, err := snapHeader(sr, &st)
	if err != nil {
		return hdr, err
	}
	for i := uint64(0); i < hdr.Keys; i++ {
		k, err := readSnapKey(sr)
		if err != nil {
			return hdr, fmt.Errorf("key %d of %d: %w", i+1, hdr.Keys, err)
		}
		if fn == nil {
			continue
		}
		dump := binary.LittleEndian.AppendUint16(k.raw, rdbVersion)
		dump = binary.LittleEndian.AppendUint64(dump, crc64Redis(0, dump))
		if err := fn(k.key, k.exp, dump); err != nil {
			return hdr, err
		}
	}
	return hdr, checkSnapSum(sr)
}

func digestDB(db *DB) uint64 {
	h := fnv.New64a()
	var buf []byte
	db.keys.Scan(func(e *entry) bool {
		buf = buf[:0]
		buf = binary.AppendUvarint(buf, uint64(len(e.key)))
		buf = append(buf, e.key...)
		buf = binary.AppendVarint(buf, e.exp)
		buf = binary.AppendUvarint(buf, e.ver)
		buf = rdbEncodeValue(buf, e.val)
		h.Write(buf)
		return true
	})
	h.Write(appendSlotTable(nil, db.slotTab))
	for _, code := range libCodes(db.libs) {
		h.Write(code)
	}
	return h.Sum64()
}

func appendSlotTable(buf []byte, st *slotTable) []byte {
	if st == nil {
		return append(buf, 0, 0)
	}
	init := byte(0)
	if st.init {
		init = 1
	}
	buf = append(buf, init)
	n := 0
	for i := range st.slots {
		if st.slots[i] != (SlotInfo{Peer: -1}) {
			n++
		}
	}
	buf = binary.AppendUvarint(buf, uint64(n))
	for i := range st.slots {
		si := st.slots[i]
		if si == (SlotInfo{Peer: -1}) {
			continue
		}
		frozen := byte(0)
		if si.Frozen {
			frozen = 1
		}
		buf = binary.AppendUvarint(buf, uint64(i))
		buf = append(buf, byte(si.State), frozen)
		buf = binary.AppendVarint(buf, int64(si.Peer))
		buf = binary.AppendUvarint(buf, si.Ver)
	}
	return buf
}

func readSlotTable(sr *snapReader, st *slotTable) error {
	init, err := sr.ReadByte()
	if err != nil {
		return err
	}
	st.init = init == 1
	n, err := binary.ReadUvarint(sr)
	if err != nil {
		return err
	}
	if n > slots.Count {
		return fmt.Errorf("%d entries", n)
	}
	for i := uint64(0); i < n; i++ {
		s, err := binary.ReadUvarint(sr)
		if err != nil {
			return err
		}
		if s >= slots.Count {
			return fmt.Errorf("slot %d", s)
		}
		state, err := sr.ReadByte()
		if err != nil {
			return err
		}
		frozen, err := sr.ReadByte()
		if err != nil {
			return err
		}
		peer, err := binary.ReadVarint(sr)
		if err != nil {
			return err
		}
		ver, err := binary.ReadUvarint(sr)
		if err != nil {
			return err
		}
		if state > byte(SlotImporting) || peer < -1 || peer > 1<<30 {
			return fmt.Errorf("slot %d: bad entry", s)
		}
		st.slots[s] = SlotInfo{State: SlotState(state), Frozen: frozen == 1, Peer: int32(peer), Ver: ver}
	}
	return nil
}
