package raftfsm

import (
	"fmt"
	"strings"
)

// Stream commands (Redis src/t_stream.c). Auto-generated IDs and every
// delivery or idle time come from c.Now, the leader's stamp, so replicas
// agree on them.

var (
	errXaddZeroID       = Err("ERR The ID specified in XADD must be greater than 0-0")
	errXaddExhausted    = Err("ERR The stream has exhausted the last possible ID, unable to add more items")
	errXaddSmaller      = Err("ERR The ID specified in XADD is equal or smaller than the target stream top item")
	errXaddTooLarge     = Err("ERR Elements are too large to be stored")
	errTrimBoth         = Err("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
	errTrimMaxlenNeg    = Err("ERR The MAXLEN argument must be >= 0.")
	errTrimLimitNeg     = Err("ERR The LIMIT argument must be >= 0.")
	errTrimLimitNoStr   = Err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
	errTrimNoStrategy   = Err("ERR syntax error, XTRIM must be called with a trimming strategy")
	errTrimLimitNoApx   = Err("ERR syntax error, LIMIT cannot be used without the special ~ option")
	errStartInterval    = Err("ERR invalid start ID for the interval")
	errEndInterval      = Err("ERR invalid end ID for the interval")
	errXreadUnbalanced  = Err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
	errXreadGroupOpt    = Err("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
	errXreadNoack       = Err("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
	errXreadNoGroup     = Err("ERR Missing GROUP option for XREADGROUP")
	errXreadGroupDollar = Err("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of " +
		"this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
	errXreadGT         = Err("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
	errTimeoutNotInt   = Err("ERR timeout is not an integer or out of range")
	errXsetidSmaller   = Err("ERR The ID specified in XSETID is smaller than the target stream top item")
	errXsetidAdded     = Err("ERR The entries_added specified in XSETID is smaller than the target stream length")
	errXsetidMaxDel    = Err("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
	errXsetidAddedNeg  = Err("ERR entries_added must be positive")
	errXgroupNoKey     = Err("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
	errBusyGroup       = Err("BUSYGROUP Consumer Group name already exists")
	errEntriesRead     = Err("ERR value for ENTRIESREAD must be positive or -1")
	errXautoclaimCount = Err("ERR COUNT must be > 0")
)

func init() {
	Register(
		Command{Name: "xadd", Arity: -5, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: xaddCommand},
		Command{Name: "xlen", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: xlenCommand},
		Command{Name: "xrange", Arity: -4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: xrangeCommand},
		Command{Name: "xrevrange", Arity: -4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: xrevrangeCommand},
		Command{Name: "xdel", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: xdelCommand},
		Command{Name: "xtrim", Arity: -4, Flags: FlagWrite, First: 1, Last: 1, Step: 1, Exec: xtrimCommand},
		Command{Name: "xread", Arity: -4, Flags: FlagReadOnly | FlagMovableKeys | FlagBlockOption, Keys: xreadKeys, Exec: xreadCommand},
		Command{Name: "xreadgroup", Arity: -7, Flags: FlagWrite | FlagMovableKeys | FlagBlockOption, Keys: xreadKeys, Exec: xreadgroupCommand},
		Command{Name: "xsetid", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: xsetidCommand},
		Command{Name: "xgroup", Arity: -2, Flags: FlagWrite | FlagMovableKeys, Keys: xgroupKeys, Exec: xgroupCommand},
		Command{Name: "xack", Arity: -4, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: xackCommand},
		Command{Name: "xpending", Arity: -3, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: xpendingCommand},
		Command{Name: "xclaim", Arity: -6, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: xclaimCommand},
		Command{Name: "xautoclaim", Arity: -6, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: xautoclaimCommand},
		Command{Name: "xinfo", Arity: -2, Flags: FlagReadOnly | FlagMovableKeys, Keys: xinfoKeys, Exec: xinfoCommand},
	)
}

// ---- key positions ----------------------------------------------------------

// xreadKeys finds the keys of XREAD/XREADGROUP: the first half of the
// arguments after STREAMS.
func xreadKeys(args [][]byte) []int {
	for i := 1; i < len(args); i++ {
		if EqFold(args[i], "streams") {
			n := len(args) - i - 1
			if n == 0 || n%2 != 0 {
				return nil
			}
			out := make([]int, n/2)
			for j := range out {
				out[j] = i + 1 + j
			}
			return out
		}
		if EqFold(args[i], "block") || EqFold(args[i], "count") {
			i++
		} else if EqFold(args[i], "group") {
			i += 2
		}
	}
	return nil
}

func xgroupKeys(args [][]byte) []int {
	if len(args) >= 3 && !EqFold(args[1], "help") {
		return []int{2}
	}
	return nil
}

func xinfoKeys(args [][]byte) []int {
	if len(args) >= 3 && !EqFold(args[1], "help") {
		return []int{2}
	}
	return nil
}

// ---- helpers ----------------------------------------------------------------

// lookupStreamRead returns key's stream (nil if absent; false: another
// type). A miss is a keymiss (Redis's lookupKeyRead, which XACK, XCLAIM,
// XAUTOCLAIM and XREADGROUP use too).
func lookupStreamRead(c *Ctx, key []byte) (*streamValue, bool) { return asStream(c.Get(key)) }

// lookupStreamPeek is lookupStreamRead without the keymiss and the keyspace
// stats (XGROUP, which Redis looks up for writing).
func lookupStreamPeek(c *Ctx, key []byte) (*streamValue, bool) {
	return asStream(c.getWrite(key))
}

func asStream(v Value) (*streamValue, bool) {
	if v == nil {
		return nil, true
	}
	s, ok := v.(*streamValue)
	return s, ok
}

func lookupStreamWrite(c *Ctx, key []byte) (*streamValue, bool) {
	v := c.GetMut(key)
	if v == nil {
		return nil, true
	}
	s, ok := v.(*streamValue)
	return s, ok
}

func streamEntryReply(e *streamEntry) Reply {
	fv := make([]Reply, len(e.fv))
	for i, x := range e.fv {
		fv[i] = Bulk(x)
	}
	return Array([]Reply{Bulk(e.id.String()), Array(fv)})
}

// streamRangeReply replies with up to count (0 = all) entries in range.
func streamRangeReply(s *streamValue, start, end streamID, count int64, rev bool) []Reply {
	out := []Reply{}
	s.rangeScan(start, end, rev, func(e *streamEntry) bool {
		out = append(out, streamEntryReply(e))
		return count == 0 || int64(len(out)) < count
	})
	return out
}

func noGroupErr(format string, a ...any) Reply {
	return Err("NOGROUP " + fmt.Sprintf(format, a...))
}

func subcommandErr(cmd string, sub []byte) Reply {
	return errorf("ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP.", truncate(sub, 128), cmd)
}

func helpReply(cmd string, lines []string) Reply {
	out := []Reply{Status(cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")}
	for _, l := range lines {
		out = append(out, Status(l))
	}
	out = append(out, Status("HELP"), Status("    Print this help."))
	return Array(out)
}

// ---- XADD, XTRIM ------------------------------------------------------------

type xaddArgs struct {
	trimArgs
	id       streamID
	idGiven  bool
	seqGiven bool
	noMk     bool
	idPos    int
}

// parseAddOrTrim parses the options of XADD (xadd true) or XTRIM.
func parseAddOrTrim(c *Ctx, args [][]byte, xadd bool) (a xaddArgs, r Reply, ok bool) {
	limitGiven := false
	i := 2
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		opt := args[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
		case EqFold(opt, "maxlen") && more > 0:
			if a.strategy != 0 {
				return a, errTrimBoth, false
			}
			a.approx = false
			if next := args[i+1]; more >= 2 && len(next) == 1 && (next[0] == '~' || next[0] == '=') {
				a.approx = next[0] == '~'
				i++
			}
			n, ok := ParseInt(args[i+1])
			if !ok {
				return a, ErrNotInt, false
			}
			if n < 0 {
				return a, errTrimMaxlenNeg, false
			}
			a.maxlen, a.strategy = n, trimMaxlen
			i++
			continue
		case EqFold(opt, "minid") && more > 0:
			if a.strategy != 0 {
				return a, errTrimBoth, false
			}
			a.approx = false
			if next := args[i+1]; more >= 2 && len(next) == 1 && (next[0] == '~' || next[0] == '=') {
				a.approx = next[0] == '~'
				i++
			}
			id, _, ok := parseStreamID(args[i+1], 0, true, false)
			if !ok {
				return a, errInvalidStreamID, false
			}
			a.minid, a.strategy = id, trimMinid
			i++
			continue
		case EqFold(opt, "limit") && more > 0:
			n, ok := ParseInt(args[i+1])
			if !ok {
				return a, ErrNotInt, false
			}
			if n < 0 {
				return a, errTrimLimitNeg, false
			}
			a.limit, limitGiven = n, true
			i++
			continue
		case xadd && EqFold(opt, "nomkstream"):
			a.noMk = true
			continue
		case xadd:
			id, seqGiven, ok := parseStreamID(opt, 0, true, true)
			if !ok {
				return a, errInvalidStreamID, false
			}
			a.id, a.seqGiven, a.idGiven = id, seqGiven, true
		default:
			return a, ErrSyntax, false
		}
		break
	}
	a.idPos = i
	if a.limit != 0 && a.strategy == 0 {
		return a, errTrimLimitNoStr, false
	}
	if !xadd && a.strategy == 0 {
		return a, errTrimNoStrategy, false
	}
	if limitGiven {
		if !a.approx {
			return a, errTrimLimitNoApx, false
		}
	} else if a.approx {
		a.limit = c.params().streamTrimLimit()
	}
	return a, Reply{}, true
}

// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
func xaddCommand(c *Ctx, args [][]byte) Reply {
	a, r, ok := parseAddOrTrim(c, args, true)
	if !ok {
		return r
	}
	fieldPos := a.idPos + 1
	if n := len(args) - fieldPos; n < 2 || n%2 == 1 {
		return ErrArity("xadd")
	}
	if a.idGiven && a.seqGiven && a.id.isZero() {
		return errXaddZeroID
	}
	s, ok := lookupStreamWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil && a.noMk {
		return Nil()
	}
	fresh := s == nil
	if fresh {
		s = newStream()
	}
	if s.lastID == maxStreamID {
		return errXaddExhausted
	}
	var id streamID
	switch {
	case !a.idGiven:
		id, _ = s.nextID(c.Now)
	case a.seqGiven:
		id = a.id
	case s.lastID.ms == a.id.ms:
		if s.lastID.seq == ^uint64(0) {
			return errXaddSmaller
		}
		id = streamID{a.id.ms, s.lastID.seq + 1}
	default:
		id = a.id
	}
	if !s.lastID.less(id) {
		return errXaddSmaller
	}
	tot := 0
	fv := make([]string, len(args)-fieldPos)
	for i, x := range args[fieldPos:] {
		tot += len(x)
		fv[i] = string(x)
	}
	if tot > streamListpackMax {
		return errXaddTooLarge
	}
	if fresh {
		c.Set(args[1], s)
	}
	s.appendEntry(id, fv, c.params())
	c.notify(NotifyStream, "xadd", args[1])
	if s.trim(a.trimArgs) > 0 {
		c.notify(NotifyStream, "xtrim", args[1])
	}
	return Bulk(id.String())
}

// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
func xtrimCommand(c *Ctx, args [][]byte) Reply {
	a, r, ok := parseAddOrTrim(c, args, false)
	if !ok {
		return r
	}
	if a.idPos < len(args) {
		return ErrSyntax
	}
	s, ok := lookupStreamWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil {
		return Int(0)
	}
	n := s.trim(a.trimArgs)
	if n > 0 {
		c.notify(NotifyStream, "xtrim", args[1])
	}
	return Int(n)
}

// ---- reads ------------------------------------------------------------------

func xlenCommand(c *Ctx, args [][]byte) Reply {
	s, ok := lookupStreamRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil {
		return Int(0)
	}
	return Int(s.length)
}

func xrangeCommand(c *Ctx, args [][]byte) Reply    { return xrangeGeneric(c, args, false) }
func xrevrangeCommand(c *Ctx, args [][]byte) Reply { return xrangeGeneric(c, args, true) }

// XRANGE key start end [COUNT count]; XREVRANGE key end start [COUNT count]
func xrangeGeneric(c *Ctx, args [][]byte, rev bool) Reply {
	startArg, endArg := args[2], args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, ex, ok := parseIntervalID(startArg, 0)
	if !ok {
		return errInvalidStreamID
	}
	if ex {
		if start, ok = start.incr(); !ok {
			return errStartInterval
		}
	}
	end, ex, ok := parseIntervalID(endArg, ^uint64(0))
	if !ok {
		return errInvalidStreamID
	}
	if ex {
		if end, ok = end.decr(); !ok {
			return errEndInterval
		}
	}
	count := int64(-1)
	for j := 4; j < len(args); j++ {
		if EqFold(args[j], "count") && j+1 < len(args) {
			n, ok := ParseInt(args[j+1])
			if !ok {
				return ErrNotInt
			}
			count = max(n, 0)
			j++
			continue
		}
		return ErrSyntax
	}
	s, ok := lookupStreamRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil {
		return Array([]Reply{})
	}
	if count == 0 {
		return NilArray()
	}
	return Array(streamRangeReply(s, start, end, max(count, 0), rev))
}

// xreadArgs are the parsed options of XREAD/XREADGROUP.
type xreadArgs struct {
	block      int64 // -1 = no BLOCK
	count      int64
	group      []byte
	consumer   []byte
	noack      bool
	streamsArg int
	nstreams   int
}

func parseXread(args [][]byte, group bool) (a xreadArgs, r Reply, ok bool) {
	a.block = -1
	for i := 1; i < len(args); i++ {
		more := len(args) - i - 1
		o := args[i]
		switch {
		case EqFold(o, "block") && more > 0:
			i++
			n, ok := ParseInt(args[i])
			if !ok {
				return a, errTimeoutNotInt, false
			}
			if n < 0 {
				return a, errTimeoutNegative, false
			}
			a.block = n
		case EqFold(o, "count") && more > 0:
			i++
			n, ok := ParseInt(args[i])
			if !ok {
				return a, ErrNotInt, false
			}
			a.count = max(n, 0)
		case EqFold(o, "streams") && more > 0:
			a.streamsArg = i + 1
			if more%2 != 0 {
				return a, errXreadUnbalanced, false
			}
			a.nstreams = more / 2
			i = len(args)
		case EqFold(o, "group") && more >= 2:
			if !group {
				return a, errXreadGroupOpt, false
			}
			a.group, a.consumer = args[i+1], args[i+2]
			i += 2
		case EqFold(o, "noack"):
			if !group {
				return a, errXreadNoack, false
			}
			a.noack = true
		default:
			return a, ErrSyntax, false
		}
	}
	if a.streamsArg == 0 {
		return a, ErrSyntax, false
	}
	if group && a.group == nil {
		return a, errXreadNoGroup, false
	}
	return a, Reply{}, true
}

// XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
//
// BLOCK is one attempt here: with nothing to serve the reply is the null
// array a timeout gives; the gateway does the waiting.
func xreadCommand(c *Ctx, args [][]byte) Reply {
	a, r, ok := parseXread(args, false)
	if !ok {
		return r
	}
	ids := make([]streamID, a.nstreams)
	streams := make([]*streamValue, a.nstreams)
	for i := range ids {
		key := args[a.streamsArg+i]
		s, ok := lookupStreamRead(c, key)
		if !ok {
			return ErrWrongType
		}
		streams[i] = s
		idArg := args[a.streamsArg+a.nstreams+i]
		switch string(idArg) {
		case "$":
			if s != nil {
				ids[i] = s.lastID
			}
			continue
		case ">":
			return errXreadGT
		}
		id, _, ok := parseStreamID(idArg, 0, true, false)
		if !ok {
			return errInvalidStreamID
		}
		ids[i] = id
	}
	var out []Reply
	for i, s := range streams {
		if s == nil || s.length == 0 || !ids[i].less(s.lastLive()) {
			continue
		}
		start, _ := ids[i].incr()
		out = append(out, Bulk(string(args[a.streamsArg+i])),
			Array(streamRangeReply(s, start, maxStreamID, a.count, false)))
	}
	if out == nil {
		return NilArray()
	}
	return KeyedMap(out)
}

// XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]
// consumerFor returns the named consumer, seen now, creating it (with
// its keyspace event) if needed.
func consumerFor(c *Ctx, key []byte, g *streamGroup, name []byte) *streamConsumer {
	if g.consumer(name) == nil {
		c.notify(NotifyStream, "xgroup-createconsumer", key)
	}
	return g.lookupOrCreateConsumer(name, c.Now)
}

func xreadgroupCommand(c *Ctx, args [][]byte) Reply {
	a, r, ok := parseXread(args, true)
	if !ok {
		return r
	}
	ids := make([]streamID, a.nstreams)
	streams := make([]*streamValue, a.nstreams)
	groups := make([]*streamGroup, a.nstreams)
	for i := range ids {
		key := args[a.streamsArg+i]
		s, ok := lookupStreamRead(c, key)
		if !ok {
			return ErrWrongType
		}
		var g *streamGroup
		if s != nil {
			g = s.group(a.group)
		}
		if g == nil {
			return noGroupErr("No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option", key, a.group)
		}
		idArg := args[a.streamsArg+a.nstreams+i]
		switch string(idArg) {
		case "$":
			return errXreadGroupDollar
		case ">":
			ids[i] = maxStreamID
			continue
		}
		id, _, ok := parseStreamID(idArg, 0, true, false)
		if !ok {
			return errInvalidStreamID
		}
		ids[i] = id
	}
	// Validation done: now take the streams for writing.
	for i := range streams {
		streams[i], _ = lookupStreamWrite(c, args[a.streamsArg+i])
		groups[i] = streams[i].group(a.group)
	}
	var out []Reply
	for i, s := range streams {
		g := groups[i]
		// The consumer exists from its first XREADGROUP, served or not,
		// as in Redis (XINFO CONSUMERS lists a consumer still waiting).
		cons := consumerFor(c, args[a.streamsArg+i], g, a.consumer)
		history := ids[i] != maxStreamID
		if !history && (s.length == 0 || !g.lastID.less(s.lastLive())) {
			continue
		}
		var entries []Reply
		if history {
			start, _ := ids[i].incr()
			entries = streamHistoryReply(c, s, cons, start, a.count)
		} else {
			entries = streamDeliver(c, s, g, cons, a.count, a.noack)
		}
		out = append(out, Bulk(string(args[a.streamsArg+i])), Array(entries))
	}
	if out == nil {
		return NilArray()
	}
	return KeyedMap(out)
}

// streamDeliver serves new entries to a consumer: they advance the group
// and, unless noack, enter both PELs (taking over older deliveries).
func streamDeliver(c *Ctx, s *streamValue, g *streamGroup, cons *streamConsumer, count int64, noack bool) []Reply {
	out := []Reply{}
	start, ok := g.lastID.incr()
	if !ok {
		return out
	}
	s.rangeScan(start, maxStreamID, false, func(e *streamEntry) bool {
		s.deliver(g, e.id)
		out = append(out, streamEntryReply(e))
		if !noack {
			n := g.nack(e.id)
			if n == nil {
				n = &streamNACK{id: e.id}
				g.pel.Set(n)
			}
			n.assign(cons)
			n.deliveryTime, n.deliveryCount = c.Now, 1
		}
		return count == 0 || int64(len(out)) < count
	})
	return out
}

// streamHistoryReply serves a consumer's own pending entries from start;
// deleted entries come back as [id, nil].
func streamHistoryReply(c *Ctx, s *streamValue, cons *streamConsumer, start streamID, count int64) []Reply {
	out := []Reply{}
	cons.pel.Ascend(&streamNACK{id: start}, func(n *streamNACK) bool {
		if count != 0 && int64(len(out)) >= count {
			return false
		}
		if e := s.lookup(n.id); e != nil {
			out = append(out, streamEntryReply(e))
			n.deliveryTime = c.Now
			n.deliveryCount++
		} else {
			out = append(out, Array([]Reply{Bulk(n.id.String()), NilArray()}))
		}
		return true
	})
	return out
}

// ---- XDEL, XSETID -----------------------------------------------------------

func xdelCommand(c *Ctx, args [][]byte) Reply {
	ids := make([]streamID, len(args)-2)
	for i, b := range args[2:] {
		id, _, ok := parseStreamID(b, 0, true, false)
		if !ok {
			return errInvalidStreamID
		}
		ids[i] = id
	}
	s, ok := lookupStreamWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil {
		return Int(0)
	}
	deleted, first := 0, false
	for _, id := range ids {
		if !s.deleteEntry(id) {
			continue
		}
		deleted++
		first = first || id == s.firstID
		if s.maxDeleted.less(id) {
			s.maxDeleted = id
		}
	}
	if deleted > 0 {
		if s.length == 0 {
			s.firstID = streamID{}
		} else if first {
			s.firstID = s.firstLive()
		}
		c.notify(NotifyStream, "xdel", args[1])
	}
	return Int(int64(deleted))
}

// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
func xsetidCommand(c *Ctx, args [][]byte) Reply {
	id, _, ok := parseStreamID(args[2], 0, true, false)
	if !ok {
		return errInvalidStreamID
	}
	added := int64(-1)
	var maxDel streamID
	for i := 3; i < len(args); i += 2 {
		more := len(args) - 1 - i
		switch {
		case EqFold(args[i], "entriesadded") && more > 0:
			n, ok := ParseInt(args[i+1])
			if !ok {
				return ErrNotInt
			}
			if n < 0 {
				return errXsetidAddedNeg
			}
			added = n
		case EqFold(args[i], "maxdeletedid") && more > 0:
			m, _, ok := parseStreamID(args[i+1], 0, true, false)
			if !ok {
				return errInvalidStreamID
			}
			if id.less(m) {
				return errXsetidMaxDel
			}
			maxDel = m
		default:
			return ErrSyntax
		}
	}
	s, ok := lookupStreamWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil {
		return ErrNoSuchKey
	}
	if s.length > 0 {
		if id.less(s.lastLive()) {
			return errXsetidSmaller
		}
		if added != -1 && s.length > added {
			return errXsetidAdded
		}
	}
	s.lastID = id
	if added != -1 {
		s.entriesAdded = added
	}
	if !maxDel.isZero() {
		s.maxDeleted = maxDel
	}
	c.notify(NotifyStream, "xsetid", args[1])
	return ReplyOK
}

// ---- XGROUP -----------------------------------------------------------------

var xgroupHelp = []string{
	"CREATE <key> <groupname> <id|$> [option]",
	"    Create a new consumer group. Options are:",
	"    * MKSTREAM",
	"      Create the empty stream if it does not exist.",
	"    * ENTRIESREAD entries_read",
	"      Set the group's entries_read counter (internal use).",
	"CREATECONSUMER <key> <groupname> <consumer>",
	"    Create a new consumer in the specified group.",
	"DELCONSUMER <key> <groupname> <consumer>",
	"    Remove the specified consumer.",
	"DESTROY <key> <groupname>",
	"    Remove the specified group.",
	"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
	"    Set the current group ID and entries_read counter.",
}

// Subcommand arities of the container commands, as in Redis 7's table.
var (
	xgroupArity = map[string]int{"create": -5, "setid": -5, "destroy": 4, "createconsumer": 5, "delconsumer": 5, "help": 2}
	xinfoArity  = map[string]int{"consumers": 4, "groups": 3, "stream": -3, "help": 2}
)

// subcommandCheck returns Redis 7's error for an unknown subcommand or a
// subcommand with the wrong number of arguments.
func subcommandCheck(cmd string, arities map[string]int, args [][]byte) (Reply, bool) {
	sub := Lower(args[1])
	a, ok := arities[sub]
	if !ok {
		return errorf("ERR unknown subcommand '%s'. Try %s HELP.", truncate(args[1], 128), strings.ToUpper(cmd)), false
	}
	if (a > 0 && len(args) != a) || (a < 0 && len(args) < -a) {
		return ErrArity(cmd + "|" + sub), false
	}
	return Reply{}, true
}

func xgroupCommand(c *Ctx, args [][]byte) Reply {
	if r, ok := subcommandCheck("xgroup", xgroupArity, args); !ok {
		return r
	}
	sub := args[1]
	if len(args) == 2 && EqFold(sub, "help") {
		return helpReply("XGROUP", xgroupHelp)
	}
	if len(args) < 4 {
		return subcommandErr("XGROUP", sub)
	}
	create, setid := EqFold(sub, "create"), EqFold(sub, "setid")
	mkstream := false
	entriesRead := int64(entriesReadInvalid)
	for i := 5; i < len(args); {
		switch {
		case create && EqFold(args[i], "mkstream"):
			mkstream = true
			i++
		case (create || setid) && EqFold(args[i], "entriesread") && i+1 < len(args):
			n, ok := ParseInt(args[i+1])
			if !ok {
				return ErrNotInt
			}
			if n < 0 && n != entriesReadInvalid {
				return errEntriesRead
			}
			entriesRead = n
			i += 2
		default:
			return subcommandErr("XGROUP", sub)
		}
	}
	key, name := args[2], args[3]
	s, ok := lookupStreamPeek(c, key)
	if !ok {
		return ErrWrongType
	}
	var g *streamGroup
	if !mkstream {
		if s == nil {
			return errXgroupNoKey
		}
		if g = s.group(name); g == nil && (setid || EqFold(sub, "createconsumer") || EqFold(sub, "delconsumer")) {
			return noGroupErr("No such consumer group '%s' for key name '%s'", name, key)
		}
	}
	switch {
	case create && len(args) >= 5 && len(args) <= 8:
		var id streamID
		if string(args[4]) == "$" {
			if s != nil {
				id = s.lastID
			}
		} else if id, _, ok = parseStreamID(args[4], 0, true, false); !ok {
			return errInvalidStreamID
		}
		if s == nil {
			s = newStream()
			c.Set(key, s)
		} else {
			s, _ = lookupStreamWrite(c, key)
		}
		if s.createGroup(string(name), id, entriesRead) == nil {
			return errBusyGroup
		}
		c.notify(NotifyStream, "xgroup-create", key)
		return ReplyOK
	case setid && (len(args) == 5 || len(args) == 7):
		var id streamID
		if string(args[4]) == "$" {
			id = s.lastID
		} else if id, _, ok = parseStreamID(args[4], 0, false, false); !ok {
			return errInvalidStreamID
		}
		s, _ = lookupStreamWrite(c, key)
		g = s.group(name)
		g.lastID, g.entriesRead = id, entriesRead
		c.notify(NotifyStream, "xgroup-setid", key)
		return ReplyOK
	case EqFold(sub, "destroy") && len(args) == 4:
		if g == nil {
			return Int(0)
		}
		s, _ = lookupStreamWrite(c, key)
		s.destroyGroup(name)
		c.notify(NotifyStream, "xgroup-destroy", key)
		return Int(1)
	case EqFold(sub, "createconsumer") && len(args) == 5:
		s, _ = lookupStreamWrite(c, key)
		if s.group(name).createConsumer(string(args[4]), c.Now) == nil {
			return Int(0)
		}
		c.notify(NotifyStream, "xgroup-createconsumer", key)
		return Int(1)
	case EqFold(sub, "delconsumer") && len(args) == 5:
		if g.consumer(args[4]) == nil {
			return Int(0)
		}
		s, _ = lookupStreamWrite(c, key)
		n, _ := s.group(name).deleteConsumer(args[4])
		c.notify(NotifyStream, "xgroup-delconsumer", key)
		return Int(int64(n))
	}
	return subcommandErr("XGROUP", sub)
}

// ---- XACK, XPENDING ---------------------------------------------------------

func xackCommand(c *Ctx, args [][]byte) Reply {
	s, ok := lookupStreamRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil || s.group(args[2]) == nil {
		return Int(0)
	}
	ids := make([]streamID, len(args)-3)
	for i, b := range args[3:] {
		id, _, ok := parseStreamID(b, 0, true, false)
		if !ok {
			return errInvalidStreamID
		}
		ids[i] = id
	}
	s, _ = lookupStreamWrite(c, args[1])
	g := s.group(args[2])
	acked := 0
	for _, id := range ids {
		if n := g.nack(id); n != nil {
			g.removeNACK(n)
			acked++
		}
	}
	return Int(int64(acked))
}

// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
func xpendingCommand(c *Ctx, args [][]byte) Reply {
	justInfo := len(args) == 3
	if !justInfo && (len(args) < 6 || len(args) > 9) {
		return ErrSyntax
	}
	var start, end streamID
	var count, minIdle int64
	var consumerName []byte
	if !justInfo {
		si := 3
		if EqFold(args[3], "idle") {
			n, ok := ParseInt(args[4])
			if !ok {
				return ErrNotInt
			}
			minIdle = n
			if len(args) < 8 {
				return ErrSyntax
			}
			si += 2
		}
		n, ok := ParseInt(args[si+2])
		if !ok {
			return ErrNotInt
		}
		count = max(n, 0)
		var ex bool
		if start, ex, ok = parseIntervalID(args[si], 0); !ok {
			return errInvalidStreamID
		}
		if ex {
			if start, ok = start.incr(); !ok {
				return errStartInterval
			}
		}
		if end, ex, ok = parseIntervalID(args[si+1], ^uint64(0)); !ok {
			return errInvalidStreamID
		}
		if ex {
			if end, ok = end.decr(); !ok {
				return errEndInterval
			}
		}
		if si+3 < len(args) {
			consumerName = args[si+3]
		}
	}
	s, ok := lookupStreamRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	var g *streamGroup
	if s != nil {
		g = s.group(args[2])
	}
	if g == nil {
		return noGroupErr("No such key '%s' or consumer group '%s'", args[1], args[2])
	}
	if justInfo {
		if g.pel.Len() == 0 {
			return Array([]Reply{Int(0), Nil(), Nil(), NilArray()})
		}
		lo, _ := g.pel.Min()
		hi, _ := g.pel.Max()
		cons := []Reply{}
		for _, cs := range g.consumers {
			if cs.pel.Len() > 0 {
				cons = append(cons, Array([]Reply{Bulk(cs.name), Bulk(FormatInt(int64(cs.pel.Len())))}))
			}
		}
		return Array([]Reply{Int(int64(g.pel.Len())), Bulk(lo.id.String()), Bulk(hi.id.String()), Array(cons)})
	}
	pel := g.pel
	if consumerName != nil {
		cs := g.consumer(consumerName)
		if cs == nil {
			return Array([]Reply{})
		}
		pel = cs.pel
	}
	out := []Reply{}
	pel.Ascend(&streamNACK{id: start}, func(n *streamNACK) bool {
		if count == 0 || end.less(n.id) {
			return false
		}
		idle := c.Now - n.deliveryTime
		if minIdle != 0 && idle < minIdle {
			return true
		}
		count--
		out = append(out, Array([]Reply{Bulk(n.id.String()), Bulk(n.consumer.name),
			Int(max(idle, 0)), Int(int64(n.deliveryCount))}))
		return true
	})
	return Array(out)
}

// ---- XCLAIM, XAUTOCLAIM -----------------------------------------------------

// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
func xclaimCommand(c *Ctx, args [][]byte) Reply {
	s, ok := lookupStreamRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil || s.group(args[2]) == nil {
		return noGroupErr("No such key '%s' or consumer group '%s'", args[1], args[2])
	}
	minIdle, ok := ParseInt(args[4])
	if !ok {
		return Err("ERR Invalid min-idle-time argument for XCLAIM")
	}
	minIdle = max(minIdle, 0)
	var ids []streamID
	j := 5
	for ; j < len(args); j++ {
		id, _, ok := parseStreamID(args[j], 0, true, false)
		if !ok {
			break
		}
		ids = append(ids, id)
	}
	now := c.Now
	var lastID streamID
	retry, delivery := int64(-1), int64(-1)
	force, justID := false, false
	for ; j < len(args); j++ {
		more := len(args) - 1 - j
		opt := args[j]
		switch {
		case EqFold(opt, "force"):
			force = true
		case EqFold(opt, "justid"):
			justID = true
		case EqFold(opt, "idle") && more > 0:
			j++
			n, ok := ParseInt(args[j])
			if !ok {
				return Err("ERR Invalid IDLE option argument for XCLAIM")
			}
			delivery = now - n
		case EqFold(opt, "time") && more > 0:
			j++
			n, ok := ParseInt(args[j])
			if !ok {
				return Err("ERR Invalid TIME option argument for XCLAIM")
			}
			delivery = n
		case EqFold(opt, "retrycount") && more > 0:
			j++
			n, ok := ParseInt(args[j])
			if !ok {
				return Err("ERR Invalid RETRYCOUNT option argument for XCLAIM")
			}
			retry = n
		case EqFold(opt, "lastid") && more > 0:
			j++
			id, _, ok := parseStreamID(args[j], 0, true, false)
			if !ok {
				return errInvalidStreamID
			}
			lastID = id
		default:
			return errorf("ERR Unrecognized XCLAIM option '%s'", opt)
		}
	}
	s, _ = lookupStreamWrite(c, args[1])
	g := s.group(args[2])
	if g.lastID.less(lastID) {
		g.lastID = lastID
	}
	if delivery == -1 || delivery < 0 || delivery > now {
		delivery = now
	}
	var cons *streamConsumer
	out := []Reply{}
	for _, id := range ids {
		n := g.nack(id)
		e := s.lookup(id)
		if e == nil {
			// The entry is gone: the claim also drops it from the PEL.
			if n != nil {
				g.removeNACK(n)
			}
			continue
		}
		if n == nil && force {
			n = &streamNACK{id: id}
			g.pel.Set(n)
		}
		if n == nil {
			continue
		}
		if n.consumer != nil && minIdle != 0 && now-n.deliveryTime < minIdle {
			continue
		}
		if cons == nil {
			cons = consumerFor(c, args[1], g, args[3])
		}
		n.assign(cons)
		n.deliveryTime = delivery
		if retry >= 0 {
			n.deliveryCount = uint64(retry)
		} else if !justID {
			n.deliveryCount++
		}
		if justID {
			out = append(out, Bulk(id.String()))
		} else {
			out = append(out, streamEntryReply(e))
		}
	}
	return Array(out)
}

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
func xautoclaimCommand(c *Ctx, args [][]byte) Reply {
	minIdle, ok := ParseInt(args[4])
	if !ok {
		return Err("ERR Invalid min-idle-time argument for XAUTOCLAIM")
	}
	minIdle = max(minIdle, 0)
	start, ex, ok := parseIntervalID(args[5], 0)
	if !ok {
		return errInvalidStreamID
	}
	if ex {
		if start, ok = start.incr(); !ok {
			return errStartInterval
		}
	}
	count := int64(100)
	justID := false
	for j := 6; j < len(args); j++ {
		switch {
		case EqFold(args[j], "count") && j+1 < len(args):
			n, ok := ParseInt(args[j+1])
			if !ok || n < 1 || n > (1<<63-1)/16 {
				return errXautoclaimCount
			}
			count = n
			j++
		case EqFold(args[j], "justid"):
			justID = true
		default:
			return ErrSyntax
		}
	}
	s, ok := lookupStreamRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil || s.group(args[2]) == nil {
		return noGroupErr("No such key '%s' or consumer group '%s'", args[1], args[2])
	}
	s, _ = lookupStreamWrite(c, args[1])
	g := s.group(args[2])
	now := c.Now
	attempts := count * 10
	var cons *streamConsumer
	claimed, deleted := []Reply{}, []Reply{}
	// cur is the scan position: the first pending ID >= cur comes next.
	cur, more := start, true
	firstFrom := func(id streamID) *streamNACK {
		var found *streamNACK
		g.pel.Ascend(&streamNACK{id: id}, func(n *streamNACK) bool { found = n; return false })
		return found
	}
	for attempts > 0 && count > 0 && more {
		attempts--
		n := firstFrom(cur)
		if n == nil {
			more = false
			break
		}
		cur, more = n.id.incr()
		e := s.lookup(n.id)
		if e == nil {
			g.removeNACK(n)
			deleted = append(deleted, Bulk(n.id.String()))
			count--
			continue
		}
		if minIdle != 0 && now-n.deliveryTime < minIdle {
			continue
		}
		if cons == nil {
			cons = consumerFor(c, args[1], g, args[3])
		}
		n.assign(cons)
		n.deliveryTime = now
		if justID {
			claimed = append(claimed, Bulk(n.id.String()))
		} else {
			n.deliveryCount++
			claimed = append(claimed, streamEntryReply(e))
		}
		count--
	}
	var next streamID
	if more {
		if n := firstFrom(cur); n != nil {
			next = n.id
		}
	}
	return Array([]Reply{Bulk(next.String()), Array(claimed), Array(deleted)})
}

// ---- XINFO ------------------------------------------------------------------

var xinfoHelp = []string{
	"CONSUMERS <key> <groupname>",
	"    Show consumers of <groupname>.",
	"GROUPS <key>",
	"    Show the stream consumer groups.",
	"STREAM <key> [FULL [COUNT <count>]",
	"    Show information about the stream.",
}

func xinfoCommand(c *Ctx, args [][]byte) Reply {
	if r, ok := subcommandCheck("xinfo", xinfoArity, args); !ok {
		return r
	}
	sub := args[1]
	if EqFold(sub, "help") {
		if len(args) != 2 {
			return subcommandErr("XINFO", sub)
		}
		return helpReply("XINFO", xinfoHelp)
	}
	if len(args) < 3 {
		return subcommandErr("XINFO", sub)
	}
	key := args[2]
	s, ok := lookupStreamRead(c, key)
	if !ok {
		return ErrWrongType
	}
	if s == nil {
		return ErrNoSuchKey
	}
	switch {
	case EqFold(sub, "consumers") && len(args) == 4:
		g := s.group(args[3])
		if g == nil {
			return noGroupErr("No such consumer group '%s' for key name '%s'", args[3], key)
		}
		out := make([]Reply, len(g.consumers))
		for i, cs := range g.consumers {
			out[i] = Map([]Reply{Bulk("name"), Bulk(cs.name), Bulk("pending"), Int(int64(cs.pel.Len())),
				Bulk("idle"), Int(max(c.Now-cs.seenTime, 0))})
		}
		return Array(out)
	case EqFold(sub, "groups") && len(args) == 3:
		out := make([]Reply, len(s.groups))
		for i, g := range s.groups {
			out[i] = Map([]Reply{Bulk("name"), Bulk(g.name), Bulk("consumers"), Int(int64(len(g.consumers))),
				Bulk("pending"), Int(int64(g.pel.Len())), Bulk("last-delivered-id"), Bulk(g.lastID.String()),
				Bulk("entries-read"), entriesReadReply(g), Bulk("lag"), lagReply(s, g)})
		}
		return Array(out)
	case EqFold(sub, "stream"):
		return xinfoStream(s, args)
	}
	return subcommandErr("XINFO", sub)
}

func entriesReadReply(g *streamGroup) Reply {
	if g.entriesRead == entriesReadInvalid {
		return Nil()
	}
	return Int(g.entriesRead)
}

func lagReply(s *streamValue, g *streamGroup) Reply {
	if lag, ok := s.lag(g); ok {
		return Int(lag)
	}
	return Nil()
}

// radixNodes approximates Redis's rax node count, which XINFO reports;
// it depends on the key bytes, so only the order of magnitude matters.
func (s *streamValue) radixNodes() int64 {
	if len(s.nodes) == 0 {
		return 1
	}
	return int64(len(s.nodes)) + 1
}

func xinfoStream(s *streamValue, args [][]byte) Reply {
	full, count := false, int64(10)
	opts := args[3:]
	if len(opts) > 0 {
		if (len(opts) != 1 && len(opts) != 3) || !EqFold(opts[0], "full") {
			return subcommandErr("XINFO", args[1])
		}
		full = true
		if len(opts) == 3 {
			if !EqFold(opts[1], "count") {
				return subcommandErr("XINFO", args[1])
			}
			n, ok := ParseInt(opts[2])
			if !ok {
				return ErrNotInt
			}
			if n < 0 {
				n = 10
			}
			count = n
		}
	}
	out := []Reply{
		Bulk("length"), Int(s.length),
		Bulk("radix-tree-keys"), Int(int64(len(s.nodes))),
		Bulk("radix-tree-nodes"), Int(s.radixNodes()),
		Bulk("last-generated-id"), Bulk(s.lastID.String()),
		Bulk("max-deleted-entry-id"), Bulk(s.maxDeleted.String()),
		Bulk("entries-added"), Int(s.entriesAdded),
		Bulk("recorded-first-entry-id"), Bulk(s.firstID.String()),
	}
	if !full {
		first, last := Nil(), Nil()
		if r := streamRangeReply(s, streamID{}, maxStreamID, 1, false); len(r) > 0 {
			first = r[0]
		}
		if r := streamRangeReply(s, streamID{}, maxStreamID, 1, true); len(r) > 0 {
			last = r[0]
		}
		out = append(out, Bulk("groups"), Int(int64(len(s.groups))),
			Bulk("first-entry"), first, Bulk("last-entry"), last)
		return Map(out)
	}
	out = append(out, Bulk("entries"), Array(streamRangeReply(s, streamID{}, maxStreamID, count, false)))
	groups := make([]Reply, len(s.groups))
	for i, g := range s.groups {
		pending := []Reply{}
		g.pel.Scan(func(n *streamNACK) bool {
			if count != 0 && int64(len(pending)) >= count {
				return false
			}
			pending = append(pending, Array([]Reply{Bulk(n.id.String()), Bulk(n.consumer.name),
				Int(n.deliveryTime), Int(int64(n.deliveryCount))}))
			return true
		})
		consumers := make([]Reply, len(g.consumers))
		for k, cs := range g.consumers {
			cp := []Reply{}
			cs.pel.Scan(func(n *streamNACK) bool {
				if count != 0 && int64(len(cp)) >= count {
					return false
				}
				cp = append(cp, Array([]Reply{Bulk(n.id.String()), Int(n.deliveryTime), Int(int64(n.deliveryCount))}))
				return true
			})
			consumers[k] = Map([]Reply{Bulk("name"), Bulk(cs.name), Bulk("seen-time"), Int(cs.seenTime),
				Bulk("pel-count"), Int(int64(cs.pel.Len())), Bulk("pending"), Array(cp)})
		}
		groups[i] = Map([]Reply{Bulk("name"), Bulk(g.name), Bulk("last-delivered-id"), Bulk(g.lastID.String()),
			Bulk("entries-read"), entriesReadReply(g), Bulk("lag"), lagReply(s, g),
			Bulk("pel-count"), Int(int64(g.pel.Len())), Bulk("pending"), Array(pending),
			Bulk("consumers"), Array(consumers)})
	}
	out = append(out, Bulk("groups"), Array(groups))
	return Map(out)
}

// ---- blocking (XREAD/XREADGROUP BLOCK) --------------------------------------

// xreadBlocks reports whether args are an XREAD or XREADGROUP with BLOCK:
// only those block; without it they are plain commands.
func xreadBlocks(args [][]byte) bool {
	if len(args) == 0 || !(EqFold(args[0], "xread") || EqFold(args[0], "xreadgroup")) {
		return false
	}
	_, ok := xreadBlockArg(args)
	return ok
}

// xreadBlockArg returns the position of BLOCK's value before STREAMS.
func xreadBlockArg(args [][]byte) (int, bool) {
	for i := 1; i+1 < len(args); i++ {
		switch {
		case EqFold(args[i], "streams"):
			return 0, false
		case EqFold(args[i], "block"):
			return i + 1, true
		case EqFold(args[i], "count"):
			i++
		case EqFold(args[i], "group"):
			i += 2
		}
	}
	return 0, false
}

// xreadBlockTimeout returns XREAD's BLOCK in milliseconds (0 = forever).
func xreadBlockTimeout(args [][]byte) (int64, bool) {
	i, ok := xreadBlockArg(args)
	if !ok {
		return 0, false
	}
	n, ok := ParseInt(args[i])
	return n, ok && n >= 0
}

func xreadBlockingKeys(args [][]byte) [][]byte {
	pos := xreadKeys(args)
	if len(pos) == 0 {
		return nil
	}
	return args[pos[0] : pos[len(pos)-1]+1]
}

// xreadReady reports whether a retry could serve something: an XREAD key
// has entries past its ID, or an XREADGROUP group has undelivered entries.
// A deleted key or group also counts for XREADGROUP, so that the retry
// fails with NOGROUP instead of waiting forever.
func xreadReady(c *Ctx, args [][]byte) bool {
	pos := xreadKeys(args)
	group := EqFold(args[0], "xreadgroup")
	var gname []byte
	if group {
		for i := 1; i+2 < len(args); i++ {
			if EqFold(args[i], "group") {
				gname = args[i+1]
				break
			}
		}
	}
	for i, kp := range pos {
		v := c.lookupWrite(args[kp])
		s, ok := v.(*streamValue)
		if group {
			if !ok {
				return true
			}
			if g := s.group(gname); g == nil || (s.length > 0 && g.lastID.less(s.lastLive())) {
				return true
			}
			continue
		}
		if !ok || s.length == 0 {
			continue
		}
		id, _, ok := parseStreamID(args[pos[len(pos)-1]+1+i], 0, true, false)
		if !ok || id.less(s.lastLive()) {
			return true
		}
	}
	return false
}

// BlockingAbort reports whether a blocked client must be released with an
// error instead of retrying: Redis unblocks XREADGROUP when its stream key
// is gone (or holds another type) or its group was destroyed.
func BlockingAbort(db *DB, now int64, args [][]byte) (Reply, bool) {
	if !xreadBlocks(args) || !EqFold(args[0], "xreadgroup") {
		return Reply{}, false
	}
	c := &Ctx{DB: db, Now: now}
	var gname []byte
	for i := 1; i+2 < len(args); i++ {
		if EqFold(args[i], "group") {
			gname = args[i+1]
			break
		}
	}
	for _, kp := range xreadKeys(args) {
		s, ok := c.lookupWrite(args[kp]).(*streamValue)
		if !ok {
			return Err("UNBLOCKED the stream key no longer exists"), true
		}
		if s.group(gname) == nil {
			return Err("NOGROUP the consumer group this client was blocked on no longer exists"), true
		}
	}
	return Reply{}, false
}

// BlockingPrepare rewrites a blocking command before its first attempt:
// XREAD's "$" IDs become the streams' current last IDs, so that retries
// wait for entries added after the command was issued rather than after
// each retry. Other commands come back unchanged.
func BlockingPrepare(db *DB, now int64, args [][]byte) [][]byte {
	if !xreadBlocks(args) || !EqFold(args[0], "xread") {
		return args
	}
	return xreadDollarIDs(&Ctx{DB: db, Now: now}, args)
}

// BlocksWith reports whether args block, given the command's flags:
// FlagBlocking commands always, XREAD/XREADGROUP only with BLOCK.
func BlocksWith(flags Flag, args [][]byte) bool {
	if flags&FlagBlocking != 0 {
		return true
	}
	if flags&FlagBlockOption == 0 {
		return false // the common case: no argument scan
	}
	_, ok := xreadBlockArg(args)
	return ok
}

// xreadDollarIDs returns args with every "$" ID of XREAD replaced by the
// stream's current last ID (0-0 for a missing key).
func xreadDollarIDs(c *Ctx, args [][]byte) [][]byte {
	keys := xreadKeys(args)
	out := args
	copied := false
	for i, kp := range keys {
		ip := keys[len(keys)-1] + 1 + i
		if string(args[ip]) != "$" {
			continue
		}
		if !copied {
			out = append([][]byte(nil), args...)
			copied = true
		}
		id := streamID{}
		if s, ok := c.lookupWrite(args[kp]).(*streamValue); ok {
			id = s.lastID
		}
		out[ip] = []byte(id.String())
	}
	return out
}
