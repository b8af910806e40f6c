package raftfsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// Log entry format (version 1):
//
//	byte    version (1)
//	byte    op; the high bit means "ignore if unknown" for ops added later
//	uvarint request id (proposer-chosen, 0 = none; lets a node resolve a write
//	        whose outcome it lost track of when the entry is applied)
//	varint  leader time, Unix ms (the only clock Apply uses)
//	uvarint random seed (the only randomness Apply uses)
//	uvarint number of commands, then per command:
//	        uvarint number of args, then per arg: uvarint length, bytes
//
// Version 2 is version 1 followed by the proposer's Params (params.go):
//
//	uvarint number of values, then per value: uvarint id, uvarint value
//
// Only an entry whose Params differ from the defaults is written as
// version 2, so a cluster on default settings writes what older binaries
// read; a replica too old for version 2 stops at such an entry (fail-stop)
// rather than apply the write differently.
const (
	entryVersion       = 1
	entryVersionParams = 2
)

// Op is the kind of a log entry.
type Op uint8

const (
	// OpCommands carries client commands applied in order, atomically.
	OpCommands Op = 1
	// OpExpire carries keys the leader found expired; each is deleted if it
	// is still expired at the entry's time (active expiry through the log).
	OpExpire Op = 2
	// OpNoop is a marker a new leader applies to learn it has committed in
	// its term before serving linearizable reads.
	OpNoop Op = 3
	// OpSlots changes this shard's slot ownership (slotstate.go): one slot
	// command per command of the entry. Never ignorable: a replica that
	// skipped it would serve slots it no longer owns.
	OpSlots Op = 4
	// OpImport stores keys of importing slots sent by the source shard.
	OpImport Op = 5
	// OpMigDel deletes keys of migrating slots once the target has them.
	OpMigDel Op = 6
	// OpEvict deletes keys the leader's eviction policy chose, one key per
	// command, with "evicted" keyspace events (eviction.go).
	OpEvict Op = 7

	// OpIgnoreUnknown marks ops that older replicas may skip.
	OpIgnoreUnknown Op = 0x80
)

// Entry is one decoded log entry.
type Entry struct {
	Op    Op
	ReqID uint64
	Time  int64
	Seed  uint64
	Cmds  [][][]byte
	// Params, when not nil, are the settings the commands run with (nil:
	// DefaultParams).
	Params *Params
}

// ErrBadEntry is returned for a malformed log entry.
var ErrBadEntry = errors.New("raftfsm: malformed log entry")

// EncodeEntry appends the encoding of e to dst.
func EncodeEntry(dst []byte, e *Entry) []byte {
	version := byte(entryVersion)
	withParams := e.Params != nil && *e.Params != DefaultParams
	if withParams {
		version = entryVersionParams
	}
	// One allocation of about the final size: growing by appends copied
	// each entry several times (a slot move's import entries are 16 KiB).
	dst = slices.Grow(dst, entrySize(e, withParams))
	dst = append(dst, version, byte(e.Op))
	dst = binary.AppendUvarint(dst, e.ReqID)
	dst = binary.AppendVarint(dst, e.Time)
	dst = binary.AppendUvarint(dst, e.Seed)
	dst = binary.AppendUvarint(dst, uint64(len(e.Cmds)))
	for _, cmd := range e.Cmds {
		dst = binary.AppendUvarint(dst, uint64(len(cmd)))
		for _, a := range cmd {
			dst = binary.AppendUvarint(dst, uint64(len(a)))
			dst = append(dst, a...)
		}
	}
	if withParams {
		dst = appendParams(dst, e.Params)
	}
	return dst
}

// EntryHeaderMax bounds the bytes an entry's encoding adds to those of its
// commands (CommandSize) when it carries no Params.
const EntryHeaderMax = 2 + 4*binary.MaxVarintLen64

// CommandSize is the length of cmd's encoding within an entry.
func CommandSize(cmd [][]byte) int {
	size := uvarintLen(uint64(len(cmd)))
	for _, a := range cmd {
		size += uvarintLen(uint64(len(a))) + len(a)
	}
	return size
}

// entrySize bounds the length of e's encoding from above, by at most the
// varints of its header and params.
func entrySize(e *Entry, withParams bool) int {
	size := 2 + 3*binary.MaxVarintLen64 + uvarintLen(uint64(len(e.Cmds)))
	for _, cmd := range e.Cmds {
		size += CommandSize(cmd)
	}
	if withParams {
		size += (1 + 2*paramCount) * binary.MaxVarintLen64
	}
	return size
}

// uvarintLen is the length of x as binary.AppendUvarint writes it.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// DecodeEntry decodes b. The returned args alias b. It never panics and
// never allocates more than len(b) allows, whatever the input.
func DecodeEntry(b []byte) (*Entry, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: short header", ErrBadEntry)
	}
	if b[0] != entryVersion && b[0] != entryVersionParams {
		return nil, fmt.Errorf("%w: version %d", ErrBadEntry, b[0])
	}
	e := &Entry{Op: Op(b[1])}
	p := b[2:]
	var ok bool
	if e.ReqID, p, ok = uvarint(p); !ok {
		return nil, fmt.Errorf("%w: request id", ErrBadEntry)
	}
	t, n := binary.Varint(p)
	if n <= 0 {
		return nil, fmt.Errorf("%w: time", ErrBadEntry)
	}
	e.Time, p = t, p[n:]
	if e.Seed, p, ok = uvarint(p); !ok {
		return nil, fmt.Errorf("%w: seed", ErrBadEntry)
	}
	ncmd, p, ok := uvarint(p)
	// Every command takes at least one byte, every arg at least one: bound
	// the counts by the bytes left before allocating.
	if !ok || ncmd > uint64(len(p)) {
		return nil, fmt.Errorf("%w: command count", ErrBadEntry)
	}
	e.Cmds = make([][][]byte, 0, ncmd)
	for i := uint64(0); i < ncmd; i++ {
		var nargs uint64
		if nargs, p, ok = uvarint(p); !ok || nargs > uint64(len(p)) {
			return nil, fmt.Errorf("%w: arg count", ErrBadEntry)
		}
		args := make([][]byte, 0, nargs)
		for j := uint64(0); j < nargs; j++ {
			var l uint64
			if l, p, ok = uvarint(p); !ok || l > uint64(len(p)) {
				return nil, fmt.Errorf("%w: arg length", ErrBadEntry)
			}
			args = append(args, p[:l:l])
			p = p[l:]
		}
		e.Cmds = append(e.Cmds, args)
	}
	if b[0] == entryVersionParams {
		var err error
		if e.Params, p, err = decodeParams(p); err != nil {
			return nil, err
		}
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrBadEntry, len(p))
	}
	return e, nil
}

func uvarint(p []byte) (uint64, []byte, bool) {
	v, n := binary.Uvarint(p)
	if n <= 0 {
		return 0, p, false
	}
	return v, p[n:], true
}
