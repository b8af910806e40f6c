package gateway

import (
	"math"
	"strconv"

	"github.com/raftcache/raftcache/raftfsm"
)

// The encoders append to a caller-owned buffer so that a whole pipeline is
// encoded into one reused []byte and handed to redcon with a single WriteRaw.

func appendPrefix(b []byte, c byte, n int64) []byte {
	if n >= 0 && n <= 9 {
		return append(b, c, byte('0'+n), '\r', '\n')
	}
	b = append(b, c)
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\r', '\n')
}

// appendLine appends s with CR and LF replaced by spaces, as Redis does for
// status and error lines (a user-supplied text must not break the framing).
func appendLine(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		b = append(b, c)
	}
	return append(b, '\r', '\n')
}

func appendStatus(b []byte, s string) []byte { return appendLine(append(b, '+'), s) }

// appendError appends an error line; msg carries its prefix ("ERR ...").
func appendError(b []byte, msg string) []byte { return appendLine(append(b, '-'), msg) }

func appendInt(b []byte, n int64) []byte { return appendPrefix(b, ':', n) }

func appendBulk(b []byte, s string) []byte {
	b = appendPrefix(b, '$', int64(len(s)))
	b = append(b, s...)
	return append(b, '\r', '\n')
}

func appendBulkBytes(b []byte, s []byte) []byte {
	b = appendPrefix(b, '$', int64(len(s)))
	b = append(b, s...)
	return append(b, '\r', '\n')
}

func appendArrayLen(b []byte, n int) []byte { return appendPrefix(b, '*', int64(n)) }

// appendMapLen writes a map header: %N in RESP3, a flat array of 2N in RESP2.
func appendMapLen(b []byte, n int, resp int) []byte {
	if resp >= 3 {
		return appendPrefix(b, '%', int64(n))
	}
	return appendPrefix(b, '*', int64(2*n))
}

// appendSetLen writes a set header: ~N in RESP3, an array in RESP2.
func appendSetLen(b []byte, n int, resp int) []byte {
	if resp >= 3 {
		return appendPrefix(b, '~', int64(n))
	}
	return appendPrefix(b, '*', int64(n))
}

// appendNull writes the null bulk ($-1) or the RESP3 null.
func appendNull(b []byte, resp int) []byte {
	if resp >= 3 {
		return append(b, '_', '\r', '\n')
	}
	return append(b, '$', '-', '1', '\r', '\n')
}

// appendVerbatim writes a txt verbatim string (RESP3) or a bulk (RESP2).
func appendVerbatim(b []byte, s string, resp int) []byte {
	if resp < 3 {
		return appendBulk(b, s)
	}
	b = appendPrefix(b, '=', int64(len(s)+4))
	b = append(b, "txt:"...)
	b = append(b, s...)
	return append(b, '\r', '\n')
}

func formatDouble3(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return raftfsm.FormatDouble(f)
}

// appendReply encodes r for a connection speaking protocol resp (2 or 3).
func appendReply(b []byte, r *raftfsm.Reply, resp int) []byte {
	switch r.Kind {
	case raftfsm.KindStatus:
		return appendStatus(b, r.Str)
	case raftfsm.KindError:
		return appendError(b, r.Str)
	case raftfsm.KindInt:
		return appendInt(b, r.Int)
	case raftfsm.KindBulk:
		return appendBulk(b, r.Str)
	case raftfsm.KindNil:
		return appendNull(b, resp)
	case raftfsm.KindNilArray:
		if resp >= 3 {
			return append(b, '_', '\r', '\n')
		}
		return append(b, '*', '-', '1', '\r', '\n')
	case raftfsm.KindArray:
		// PairsMarker marks flat member/score pairs (WITHSCORES): RESP3 clients
		// expect [member, score] pairs, RESP2 the flat list.
		if r.Int == raftfsm.PairsMarker && resp >= 3 && len(r.Elems)%2 == 0 {
			return appendPairs(b, r.Elems, resp)
		}
		b = appendArrayLen(b, len(r.Elems))
	case raftfsm.KindMap:
		if len(r.Elems)%2 != 0 {
			// Malformed map from the engine: never emit broken framing.
			return appendError(b, "ERR internal error")
		}
		// The marker on a map (XREAD): RESP2 clients expect an array of
		// [key, value] arrays, not a flat list.
		if r.Int == raftfsm.PairsMarker && resp < 3 {
			return appendPairs(b, r.Elems, resp)
		}
		b = appendMapLen(b, len(r.Elems)/2, resp)
	case raftfsm.KindSet:
		b = appendSetLen(b, len(r.Elems), resp)
	case raftfsm.KindDouble:
		text := r.Str // set when the engine prescribes the text (GEOPOS)
		if resp >= 3 {
			if text == "" {
				text = formatDouble3(r.F)
			}
			b = append(b, ',')
			b = append(b, text...)
			return append(b, '\r', '\n')
		}
		if text == "" {
			text = raftfsm.FormatDouble(r.F)
		}
		return appendBulk(b, text)
	case raftfsm.KindVerbatim:
		return appendVerbatim(b, r.Str, resp)
	case raftfsm.KindBool:
		if resp >= 3 {
			if r.Int != 0 {
				return append(b, '#', 't', '\r', '\n')
			}
			return append(b, '#', 'f', '\r', '\n')
		}
		if r.Int != 0 {
			return append(b, ':', '1', '\r', '\n')
		}
		return append(b, ':', '0', '\r', '\n')
	default:
		return appendError(b, "ERR internal error")
	}
	for i := range r.Elems {
		b = appendReply(b, &r.Elems[i], resp)
	}
	return b
}

// appendPairs writes flat elems as an array of two-element arrays.
func appendPairs(b []byte, elems []raftfsm.Reply, resp int) []byte {
	b = appendArrayLen(b, len(elems)/2)
	for i := 0; i < len(elems); i += 2 {
		b = append(b, '*', '2', '\r', '\n')
		b = appendReply(b, &elems[i], resp)
		b = appendReply(b, &elems[i+1], resp)
	}
	return b
}
