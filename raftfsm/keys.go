package raftfsm

import (
	"fmt"
	"math"
	"strings"
)

// Generic keyspace commands (Redis src/db.c, src/expire.c, OBJECT from
// src/object.c). raftcache always behaves as Redis in cluster mode: there is
// one database, 0, per shard.

func init() {
	Register(
		Command{Name: "del", Arity: -2, Flags: FlagWrite, First: 1, Last: -1, Step: 1, Exec: delCommand},
		Command{Name: "unlink", Arity: -2, Flags: FlagWrite | FlagFast, First: 1, Last: -1, Step: 1, Exec: delCommand},
		Command{Name: "exists", Arity: -2, Flags: FlagReadOnly | FlagFast, First: 1, Last: -1, Step: 1, Exec: existsCommand},
		Command{Name: "touch", Arity: -2, Flags: FlagReadOnly | FlagFast, First: 1, Last: -1, Step: 1, Exec: existsCommand},
		Command{Name: "type", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: typeCommand},

		Command{Name: "expire", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: expireCommand},
		Command{Name: "pexpire", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: expireCommand},
		Command{Name: "expireat", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: expireCommand},
		Command{Name: "pexpireat", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: expireCommand},
		Command{Name: "ttl", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: ttlCommand},
		Command{Name: "pttl", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: ttlCommand},
		Command{Name: "expiretime", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: ttlCommand},
		Command{Name: "pexpiretime", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: ttlCommand},
		Command{Name: "persist", Arity: 2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: persistCommand},

		Command{Name: "rename", Arity: 3, Flags: FlagWrite, First: 1, Last: 2, Step: 1, Exec: renameCommand},
		Command{Name: "renamenx", Arity: 3, Flags: FlagWrite | FlagFast, First: 1, Last: 2, Step: 1, Exec: renameCommand},
		Command{Name: "copy", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 2, Step: 1, Exec: copyCommand},
		Command{Name: "move", Arity: 3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: moveCommand},

		Command{Name: "scan", Arity: -2, Flags: FlagReadOnly, Exec: scanCommand},
		Command{Name: "keys", Arity: 2, Flags: FlagReadOnly, Exec: keysCommand},
		Command{Name: "randomkey", Arity: 1, Flags: FlagReadOnly | FlagRandom, Exec: randomkeyCommand},
		Command{Name: "dbsize", Arity: 1, Flags: FlagReadOnly | FlagFast, Exec: dbsizeCommand},
		Command{Name: "flushall", Arity: -1, Flags: FlagWrite | FlagNoKeys, Exec: flushCommand},
		Command{Name: "flushdb", Arity: -1, Flags: FlagWrite | FlagNoKeys, Exec: flushCommand},

		// OBJECT is a container command in Redis; its subcommands that
		// take a key all have it at position 2 (HELP has none, and
		// KeyPositions stops at the end of the arguments).
		Command{Name: "object", Arity: -2, Flags: FlagReadOnly, First: 2, Last: 2, Step: 1, Exec: objectCommand},
	)
}

// Databases a SELECT/COPY DB index may name, as Redis's default "databases 16".
const dbCount = 16

var (
	errSameObject     = Err("ERR source and destination objects are the same")
	errDBRange        = Err("ERR DB index is out of range")
	errCopyClusterDB  = Err("ERR Copying to another database is not allowed in cluster mode")
	errMoveCluster    = Err("ERR MOVE is not allowed in cluster mode")
	errInvalidCursor  = Err("ERR invalid cursor")
	errExpireNXCombo  = Err("ERR NX and XX, GT or LT options at the same time are not compatible")
	errExpireGTLT     = Err("ERR GT and LT options at the same time are not compatible")
	errLFUNotSelected = Err("ERR An LFU maxmemory policy is not selected, access frequency not tracked. " +
		"Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
	errLFUSelected = Err("ERR An LFU maxmemory policy is selected, idle time not tracked. " +
		"Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
)

// errorf builds an error reply the way addReplyErrorFormat does: user text
// cannot break the protocol, so CR and LF become spaces.
func errorf(format string, a ...any) Reply {
	s := fmt.Sprintf(format, a...)
	return Err(strings.NewReplacer("\r", " ", "\n", " ").Replace(s))
}

// truncate cuts s to n bytes, as a C "%.128s" does.
func truncate(s []byte, n int) []byte {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// ---- DEL UNLINK EXISTS TOUCH TYPE ------------------------------------------

func delCommand(c *Ctx, args [][]byte) Reply {
	n := int64(0)
	for _, k := range args[1:] {
		if c.Delete(k) {
			c.notify(NotifyGeneric, "del", k)
			n++
		}
	}
	return Int(n)
}

// existsCommand serves EXISTS and TOUCH: both count live keys, repeats
// included; only TOUCH updates their access time. c.Get, not c.Exists,
// because Redis counts these lookups as keyspace hits/misses.
func existsCommand(c *Ctx, args [][]byte) Reply {
	flags := lookNoTouch
	if EqFold(args[0], "touch") {
		flags = 0
	}
	n := int64(0)
	for _, k := range args[1:] {
		if c.lookupWith(k, flags) != nil {
			n++
		}
	}
	return Int(n)
}

func typeCommand(c *Ctx, args [][]byte) Reply {
	if v := c.getNoTouch(args[1]); v != nil {
		return Status(v.Type())
	}
	return Status("none")
}

// ---- EXPIRE family, TTL family, PERSIST -------------------------------------

const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

// expireCommand serves EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT.
func expireCommand(c *Ctx, args [][]byte) Reply {
	var base int64 // 0 for the absolute (*AT) forms
	if EqFold(args[0], "expire") || EqFold(args[0], "pexpire") {
		base = c.Now
	}
	seconds := EqFold(args[0], "expire") || EqFold(args[0], "expireat")

	// Options are checked before the time argument, as Redis does.
	flags := 0
	for _, opt := range args[3:] {
		switch {
		case EqFold(opt, "nx"):
			flags |= expireNX
		case EqFold(opt, "xx"):
			flags |= expireXX
		case EqFold(opt, "gt"):
			flags |= expireGT
		case EqFold(opt, "lt"):
			flags |= expireLT
		default:
			return errorf("ERR Unsupported option %s", opt)
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		return errExpireNXCombo
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		return errExpireGTLT
	}

	when, ok := ParseInt(args[2])
	if !ok {
		return ErrNotInt
	}
	if seconds {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			return errorf(ErrInvalidExpire, Lower(args[0]))
		}
		when *= 1000
	}
	if when > math.MaxInt64-base {
		return errorf(ErrInvalidExpire, Lower(args[0]))
	}
	when += base

	cur, live := c.Expiry(args[1])
	if !live {
		return Int(0)
	}
	if flags != 0 {
		has := cur != 0
		switch {
		case flags&expireNX != 0 && has:
			return Int(0)
		case flags&expireXX != 0 && !has:
			return Int(0)
		// No TTL counts as an infinite one: GT always fails on it and LT
		// always succeeds.
		case flags&expireGT != 0 && (!has || when <= cur):
			return Int(0)
		case flags&expireLT != 0 && has && when >= cur:
			return Int(0)
		}
	}
	if when <= c.Now {
		// A time in the past deletes the key (and still answers 1).
		c.Delete(args[1])
		c.notify(NotifyGeneric, "del", args[1])
		return Int(1)
	}
	c.SetExpiry(args[1], when)
	c.notify(NotifyGeneric, "expire", args[1])
	return Int(1)
}

// ttlCommand serves TTL, PTTL, EXPIRETIME and PEXPIRETIME.
func ttlCommand(c *Ctx, args [][]byte) Reply {
	if c.getNoTouch(args[1]) == nil {
		return Int(-2)
	}
	exp, _ := c.Expiry(args[1])
	if exp == 0 {
		return Int(-1)
	}
	ms := EqFold(args[0], "pttl") || EqFold(args[0], "pexpiretime")
	t := exp
	if EqFold(args[0], "ttl") || EqFold(args[0], "pttl") {
		t = max(exp-c.Now, 0)
	}
	if ms {
		return Int(t)
	}
	return Int((t + 500) / 1000)
}

func persistCommand(c *Ctx, args [][]byte) Reply {
	exp, live := c.Expiry(args[1])
	if !live || exp == 0 {
		return Int(0)
	}
	c.SetExpiry(args[1], 0)
	c.notify(NotifyGeneric, "persist", args[1])
	return Int(1)
}

// ---- RENAME RENAMENX COPY MOVE ------------------------------------------------

// renameCommand serves RENAME and RENAMENX. The router has already checked
// that both keys hash to this shard's slot.
func renameCommand(c *Ctx, args [][]byte) Reply {
	nx := EqFold(args[0], "renamenx")
	src, dst := args[1], args[2]
	exp, live := c.Expiry(src)
	if !live {
		return ErrNoSuchKey
	}
	if string(src) == string(dst) {
		if nx {
			return Int(0)
		}
		return ReplyOK
	}
	if nx && c.Exists(dst) {
		return Int(0)
	}
	// GetMut, not Get: the value changes owner, so it must not stay shared
	// with a snapshot that still holds the source entry.
	v := c.GetMut(src)
	c.Delete(src)
	c.SetWithExpire(dst, v, exp)
	c.notify(NotifyGeneric, "rename_from", src)
	c.notify(NotifyGeneric, "rename_to", dst)
	if nx {
		return Int(1)
	}
	return ReplyOK
}

// parseDBIndex parses a database index as getIntFromObjectOrReply plus
// selectDb do.
func parseDBIndex(b []byte) (int64, Reply, bool) {
	n, ok := ParseInt(b)
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		return 0, ErrNotInt, false
	}
	if n < 0 || n >= dbCount {
		return 0, errDBRange, false
	}
	return n, Reply{}, true
}

func copyCommand(c *Ctx, args [][]byte) Reply {
	replace := false
	db := int64(0)
	for j := 3; j < len(args); j++ {
		switch {
		case EqFold(args[j], "replace"):
			replace = true
		case EqFold(args[j], "db") && j+1 < len(args):
			n, errReply, ok := parseDBIndex(args[j+1])
			if !ok {
				return errReply
			}
			db = n
			j++
		default:
			return ErrSyntax
		}
	}
	if db != 0 {
		return errCopyClusterDB
	}
	src, dst := args[1], args[2]
	if string(src) == string(dst) {
		return errSameObject
	}
	v := c.Get(src)
	if v == nil {
		return Int(0)
	}
	exp, _ := c.Expiry(src)
	if c.Exists(dst) && !replace {
		return Int(0)
	}
	c.SetWithExpire(dst, v.Clone(), exp)
	c.notify(NotifyGeneric, "copy_to", dst)
	return Int(1)
}

// moveCommand answers as Redis Cluster does: there is only database 0.
func moveCommand(*Ctx, [][]byte) Reply { return errMoveCluster }

// ---- SCAN KEYS RANDOMKEY DBSIZE FLUSHALL FLUSHDB --------------------------------

// parseCursor parses a SCAN cursor with strtoul's rules, as Redis does: an
// optional sign (a negative value wraps), no leading space, no trailing
// garbage, no overflow; the empty string is cursor 0.
func parseCursor(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, true
	}
	i := 0
	neg := false
	if b[0] == '+' || b[0] == '-' {
		neg = b[0] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		d := b[i]
		if d < '0' || d > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-uint64(d-'0'))/10 {
			return 0, false
		}
		v = v*10 + uint64(d-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

func scanCommand(c *Ctx, args [][]byte) Reply {
	cursor, ok := parseCursor(args[1])
	if !ok {
		return errInvalidCursor
	}
	count := int64(10)
	var pattern string
	var typ []byte
	usePattern, useType := false, false
	for i := 2; i < len(args); i += 2 {
		more := i+1 < len(args)
		switch {
		case EqFold(args[i], "count") && more:
			n, ok := ParseInt(args[i+1])
			if !ok {
				return ErrNotInt
			}
			if n < 1 {
				return ErrSyntax
			}
			count = n
		case EqFold(args[i], "match") && more:
			pattern = string(args[i+1])
			usePattern = pattern != "*"
		case EqFold(args[i], "type") && more:
			typ = args[i+1]
			useType = true
		default:
			return ErrSyntax
		}
	}
	// Cap the work per call; huge COUNTs just return everything.
	n := int(min(count, math.MaxInt32))
	keys := []Reply{}
	next := c.ScanKeys(cursor, n, func(key string, v Value) {
		if usePattern && !GlobMatch(pattern, key, false) {
			return
		}
		// Type names are lower-case ASCII: EqFold is strcasecmp here.
		if useType && !EqFold(typ, v.Type()) {
			return
		}
		keys = append(keys, Bulk(key))
	})
	return Array([]Reply{Bulk(fmt.Sprintf("%d", next)), Array(keys)})
}

func keysCommand(c *Ctx, args [][]byte) Reply {
	pattern := string(args[1])
	all := pattern == "*"
	keys := []Reply{}
	c.EachKey(func(key string, _ Value) bool {
		if all || GlobMatch(pattern, key, false) {
			keys = append(keys, Bulk(key))
		}
		return true
	})
	return Array(keys)
}

func randomkeyCommand(c *Ctx, _ [][]byte) Reply {
	if k, ok := c.RandomKey(); ok {
		return Bulk(k)
	}
	return Nil()
}

// dbsizeCommand counts keys including expired ones not yet removed, as
// Redis's dictSize does.
func dbsizeCommand(c *Ctx, _ [][]byte) Reply { return Int(int64(c.DB.Len())) }

// flushCommand serves FLUSHALL and FLUSHDB (one database: the same thing).
// ASYNC and SYNC are accepted; the flush is always immediate.
func flushCommand(c *Ctx, args [][]byte) Reply {
	if len(args) > 2 || len(args) == 2 && !EqFold(args[1], "sync") && !EqFold(args[1], "async") {
		return ErrSyntax
	}
	c.DB.Flush()
	return ReplyOK
}

// ---- OBJECT -------------------------------------------------------------------

var objectHelp = []string{
	"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
	"HELP",
	"    Prints this help.",
}

// sharedRefcount is what Redis reports for its shared integer objects
// (OBJ_SHARED_REFCOUNT), which SET uses for values 0..9999.
const sharedRefcount = math.MaxInt32

func objectCommand(c *Ctx, args [][]byte) Reply {
	sub := args[1]
	var want int
	switch {
	case EqFold(sub, "help"):
		want = 2
	case EqFold(sub, "encoding"), EqFold(sub, "freq"), EqFold(sub, "idletime"), EqFold(sub, "refcount"):
		want = 3
	default:
		return errorf("ERR unknown subcommand '%s'. Try %s HELP.", truncate(sub, 128), strings.ToUpper(string(args[0])))
	}
	if len(args) != want {
		return ErrArity("object|" + Lower(sub))
	}
	if want == 2 {
		out := make([]Reply, len(objectHelp))
		for i, s := range objectHelp {
			out[i] = Status(s)
		}
		return Array(out)
	}
	e := c.lookupNoTouch(args[2])
	if e == nil {
		return Nil()
	}
	v := e.val
	switch {
	case EqFold(sub, "encoding"):
		return Bulk(objectEncoding(v))
	case EqFold(sub, "refcount"):
		if s, ok := v.(*strValue); ok && len(s.b) <= 20 {
			if n, ok := ParseInt(s.b); ok && n >= 0 && n < 10000 {
				return Int(sharedRefcount)
			}
		}
		return Int(1)
	case EqFold(sub, "idletime"):
		// Since the last access this node saw (not replicated).
		if c.DB.tracking.Load() == TrackLFU {
			return errLFUSelected
		}
		return Int(e.acc.idleSeconds(c.Now))
	default: // freq: the LFU counter as decayed now (redis-cli --hotkeys)
		if c.DB.tracking.Load() != TrackLFU {
			return errLFUNotSelected
		}
		return Int(int64(lfuDecayed(e.acc.lfu.Load(), c.Now)))
	}
}

// Redis 7.0 encoding thresholds (default configuration).
const (
	embstrLimit        = 44  // OBJ_ENCODING_EMBSTR_SIZE_LIMIT
	listpackEntries    = 128 // hash-max-listpack-entries, zset-max-listpack-entries
	listpackValueBytes = 64  // hash-max-listpack-value, zset-max-listpack-value
	intsetEntries      = 512 // set-max-intset-entries
)

// encodingNamer may be implemented by a value type that knows which Redis
// encoding a value of its size would have (types whose internals this file
// cannot see).
type encodingNamer interface{ Encoding() string }

// objectEncoding names the encoding Redis 7.0 would most likely use for v.
// Redis never converts a value back to a compact encoding once it grew out
// of it; judging by the current size is close enough.
func objectEncoding(v Value) string {
	if en, ok := v.(encodingNamer); ok {
		return en.Encoding()
	}
	switch v := v.(type) {
	case *strValue:
		if len(v.b) <= 20 {
			if _, ok := ParseInt(v.b); ok {
				return "int"
			}
		}
		if len(v.b) <= embstrLimit {
			return "embstr"
		}
		return "raw"
	case *hashValue:
		if v.d.Len() > listpackEntries {
			return "hashtable"
		}
		for i := 0; i < v.d.Len(); i++ {
			f, val := v.d.At(i)
			if len(f) > listpackValueBytes || len(val) > listpackValueBytes {
				return "hashtable"
			}
		}
		return "listpack"
	case *setValue:
		if v.d.Len() > intsetEntries {
			return "hashtable"
		}
		for i := 0; i < v.d.Len(); i++ {
			m, _ := v.d.At(i)
			if _, ok := ParseInt([]byte(m)); !ok {
				return "hashtable"
			}
		}
		return "intset"
	}
	switch v.Type() {
	case "list":
		return "quicklist" // Redis 7.0 lists are always quicklists
	case "zset":
		if l, ok := v.(interface{ Len() int }); ok && l.Len() > listpackEntries {
			return "skiplist"
		}
		return "listpack"
	case "stream":
		return "stream"
	}
	return "unknown"
}
