package raftfsm

import (
	"fmt"
	"hash/crc32"
)

// The applied-log hash: a running hash of every command entry a replica
// applied (index, term, CRC-32C of the data), carried in snapshots. Two
// replicas at the same applied index have the same hash exactly when they
// applied the same entries, so when their keys differ the hash says which
// layer failed: different hashes mean the replicas applied different log
// entries (consensus), equal hashes mean the same entries gave different
// state (a nondeterministic command). The chaos replica check reports it.

// LogHash is the applied-log hash as of an applied index.
type LogHash struct {
	Index uint64 // the applied index it covers (FSM.AppliedIndex at the time)
	Hash  uint64
	// Known is false when the history before a restored snapshot is not
	// covered (a snapshot written before the hash existed): such a hash
	// only compares with replicas that restored the same snapshot.
	Known bool
}

// chainEntry folds one applied command entry into h.
func chainEntry(h, index, term uint64, data []byte) uint64 {
	h = mix64(h + index)
	h = mix64(h + term)
	return mix64(h + uint64(crc32.Checksum(data, crcTable)))
}

// mix64 is SplitMix64's finalizer: every input bit affects every output bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// AppliedLogHash returns the applied-log hash with the index it covers.
func (f *FSM) AppliedLogHash() LogHash {
	if p := f.logHash.Load(); p != nil {
		return *p
	}
	return LogHash{Known: true}
}

// HashMarkMsg is the log message of a hash mark (SetHashLogEvery).
const HashMarkMsg = "applied log hash"

// SetHashLogEvery makes the FSM log, at info level, the applied-log hash at
// every command entry whose index n divides (0 = never): message
// HashMarkMsg with index, term and hash. When replicas diverge, the first
// index at which their marks differ bounds where their logs parted (chaos
// runs turn it on; raftcache server --log-applied-hash-every).
func (f *FSM) SetHashLogEvery(n uint64) { f.hashLogEvery.Store(n) }

type hashMark struct{ index, term, hash uint64 }

func (f *FSM) logMarks(marks []hashMark) {
	for _, m := range marks {
		f.logger.Info(HashMarkMsg, "index", m.index, "term", m.term, "hash", fmt.Sprintf("%016x", m.hash))
	}
}
