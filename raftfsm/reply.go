package raftfsm

import (
	"math"
	"strconv"
)

// Kind says how a Reply is encoded on the wire. RESP2 folds the RESP3-only
// kinds into their RESP2 equivalents (map and set become arrays, double a
// bulk string, null a nil bulk or nil array).
type Kind uint8

const (
	KindStatus   Kind = iota // +OK
	KindError                // -ERR ...; Str holds the full text including the prefix
	KindInt                  // :1
	KindBulk                 // $3 foo
	KindNil                  // $-1 (RESP3: _)
	KindNilArray             // *-1 (RESP3: _)
	KindArray                // *N
	KindMap                  // RESP3 %N; Elems holds 2N items key,value,...; RESP2: flat array
	KindSet                  // RESP3 ~N; RESP2: array
	KindDouble               // RESP3 ,1.5; RESP2: bulk "%.17g"; a non-empty Str replaces the text
	KindVerbatim             // RESP3 =N txt:...; RESP2: bulk
	KindBool                 // RESP3 #t; RESP2: integer 1/0
)

// Reply is the result of one command. It is produced by the engine for
// reads and by Apply for writes, and encoded by the gateway per connection
// protocol. Byte strings inside a Reply may alias engine memory: the engine
// never mutates a stored string in place, so they stay valid.
type Reply struct {
	Kind  Kind
	Str   string
	Int   int64
	F     float64
	Elems []Reply
	// Denied, on the reply of a script command (EVAL, FCALL and their _RO
	// forms) only, lists the calls the script made that its user's rules
	// refused (scriptacl.go); nil otherwise. It is never encoded: the
	// gateway that served the script adds them to its ACL LOG.
	Denied *ScriptDenials
	// ErrCounted, on a script command's error reply, says the error came
	// from a command the script called, which INFO errorstats counted
	// already (ScriptCallFunc): the script's failure is counted as a
	// failed call only (Redis's ignore_error_stats_update). Never encoded.
	ErrCounted bool
}

// ReplyOK is the +OK status reply.
var ReplyOK = Reply{Kind: KindStatus, Str: "OK"}

// Status returns a simple string reply.
func Status(s string) Reply { return Reply{Kind: KindStatus, Str: s} }

// Err returns an error reply; msg must carry its prefix ("ERR ...", "WRONGTYPE ...").
func Err(msg string) Reply { return Reply{Kind: KindError, Str: msg} }

// Int returns an integer reply.
func Int(n int64) Reply { return Reply{Kind: KindInt, Int: n} }

// Bool returns a RESP3 boolean (integer 1/0 in RESP2).
func Bool(b bool) Reply {
	if b {
		return Reply{Kind: KindBool, Int: 1}
	}
	return Reply{Kind: KindBool}
}

// Bulk returns a bulk string reply.
func Bulk(s string) Reply { return Reply{Kind: KindBulk, Str: s} }

// Nil is the null bulk reply.
func Nil() Reply { return Reply{Kind: KindNil} }

// NilArray is the null array reply (*-1).
func NilArray() Reply { return Reply{Kind: KindNilArray} }

// Array returns an array reply.
func Array(elems []Reply) Reply { return Reply{Kind: KindArray, Elems: elems} }

// PairsMarker in Reply.Int marks an array holding flat pairs
// (member, score / field, value) that RESP3 nests as 2-element arrays and
// RESP2 sends flat, as Redis 7.0 does for WITHSCORES and WITHVALUES.
const PairsMarker = 2

// Pairs returns such an array from flat alternating elements.
func Pairs(flat []Reply) Reply { return Reply{Kind: KindArray, Int: PairsMarker, Elems: flat} }

// Map returns a map reply from alternating keys and values.
func Map(kv []Reply) Reply { return Reply{Kind: KindMap, Elems: kv} }

// SetReply returns a set reply.
func SetReply(elems []Reply) Reply { return Reply{Kind: KindSet, Elems: elems} }

// Double returns a double reply.
func Double(f float64) Reply { return Reply{Kind: KindDouble, F: f} }

// Verbatim returns a verbatim text reply (bulk in RESP2).
func Verbatim(s string) Reply { return Reply{Kind: KindVerbatim, Str: s} }

// BulkStrings turns a slice of strings into an array of bulk replies.
func BulkStrings(ss []string) Reply {
	out := make([]Reply, len(ss))
	for i, s := range ss {
		out[i] = Bulk(s)
	}
	return Array(out)
}

// IsError reports whether r is an error reply.
func (r Reply) IsError() bool { return r.Kind == KindError }

// FormatDouble renders f as Redis 7.0 does in RESP2 replies (%.17g, inf, -inf).
func FormatDouble(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// KeyedMap returns a map reply that RESP2 sends as an array of [key, value]
// arrays rather than flat (XREAD/XREADGROUP).
func KeyedMap(kv []Reply) Reply { return Reply{Kind: KindMap, Int: PairsMarker, Elems: kv} }
