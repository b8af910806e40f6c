package raftfsm

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Params are the CONFIG values that decide a write's effects: where a
// stream cuts its nodes (which is what `~` trimming removes) and when a
// HyperLogLog turns dense. Redis's replicas copy the master's effects, so
// its CONFIG SET changes what the master's writes do. Here every replica
// runs every write, so the proposing leader stamps its values into the
// entry (Entry.Params) and every replica applies the write with them; an
// entry without them uses the defaults. A node's own values therefore
// apply to the writes it proposes as leader, as in Redis.
type Params struct {
	StreamNodeMaxEntries int64 // stream-node-max-entries: 0 = no limit
	StreamNodeMaxBytes   int64 // stream-node-max-bytes: 0 = no limit (1 GiB, as Redis)
	HLLSparseMaxBytes    int64 // hll-sparse-max-bytes
}

// DefaultParams are Redis's defaults, which entries without Params use.
var DefaultParams = Params{StreamNodeMaxEntries: 100, StreamNodeMaxBytes: 4096, HLLSparseMaxBytes: 3000}

// Param ids in an entry's params section (entryVersionParams): never
// reuse one. An id a replica does not know stops it (fail-stop), since
// ignoring the value would apply the write differently.
const (
	paramStreamNodeMaxEntries = 1
	paramStreamNodeMaxBytes   = 2
	paramHLLSparseMaxBytes    = 3
	paramCount                = 3 // the most an entry carries (EncodeEntry's size estimate)
)

// appendParams appends the params section: the count, then id and value
// of each value that differs from the default. A negative value (CONFIG
// never gives one) is written as 0, which decodeParams accepts: an entry
// every replica refused would stop the whole shard.
func appendParams(dst []byte, p *Params) []byte {
	type kv struct {
		id  uint64
		v   int64
		def int64
	}
	all := [...]kv{
		{paramStreamNodeMaxEntries, p.StreamNodeMaxEntries, DefaultParams.StreamNodeMaxEntries},
		{paramStreamNodeMaxBytes, p.StreamNodeMaxBytes, DefaultParams.StreamNodeMaxBytes},
		{paramHLLSparseMaxBytes, p.HLLSparseMaxBytes, DefaultParams.HLLSparseMaxBytes},
	}
	n := 0
	for _, x := range all {
		if x.v != x.def {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for _, x := range all {
		if x.v != x.def {
			dst = binary.AppendUvarint(dst, x.id)
			dst = binary.AppendUvarint(dst, uint64(max(x.v, 0)))
		}
	}
	return dst
}

// decodeParams reads the params section from p, returning the rest.
func decodeParams(p []byte) (*Params, []byte, error) {
	n, p, ok := uvarint(p)
	// Each value takes at least two bytes.
	if !ok || n > uint64(len(p))/2 {
		return nil, p, fmt.Errorf("%w: params count", ErrBadEntry)
	}
	out := DefaultParams
	var seen uint64
	for range n {
		var id uint64
		if id, p, ok = uvarint(p); !ok {
			return nil, p, fmt.Errorf("%w: param id", ErrBadEntry)
		}
		var v uint64
		if v, p, ok = uvarint(p); !ok || v > math.MaxInt64 {
			return nil, p, fmt.Errorf("%w: param %d value", ErrBadEntry, id)
		}
		if id < 64 && seen&(1<<id) != 0 {
			return nil, p, fmt.Errorf("%w: param %d twice", ErrBadEntry, id)
		}
		switch id {
		case paramStreamNodeMaxEntries:
			out.StreamNodeMaxEntries = int64(v)
		case paramStreamNodeMaxBytes:
			out.StreamNodeMaxBytes = int64(v)
		case paramHLLSparseMaxBytes:
			out.HLLSparseMaxBytes = int64(v)
		default:
			return nil, p, fmt.Errorf("%w: unknown param %d", ErrBadEntry, id)
		}
		seen |= 1 << id
	}
	return &out, p, nil
}

// params returns the values this command runs with.
func (c *Ctx) params() *Params {
	if c.p != nil {
		return c.p
	}
	return &DefaultParams
}

// streamNodeLimits returns the node size limits appendEntry cuts at:
// bytes (never 0) and entries (0 = no limit).
func (p *Params) streamNodeLimits() (maxBytes, maxEntries int64) {
	maxBytes = p.StreamNodeMaxBytes
	if maxBytes <= 0 || maxBytes > streamListpackMax {
		maxBytes = streamListpackMax
	}
	return maxBytes, p.StreamNodeMaxEntries
}

// streamTrimLimit is the LIMIT of a `~` trim that names none: 100 nodes'
// worth, bounded both ways as Redis does (10,000 when nodes are unbounded).
func (p *Params) streamTrimLimit() int64 {
	switch e := p.StreamNodeMaxEntries; {
	case e <= 0:
		return 10_000
	case e >= 10_000:
		return 1_000_000
	default:
		return 100 * e
	}
}
