package raftfsm

import "math"

// List commands (Redis 7.0 src/t_list.c semantics). Blocking variants are
// not implemented: a replicated state machine cannot park a client.

var (
	errRankZero = Err("ERR RANK can't be zero: use 1 to start from the first match, " +
		"2 from the second ... or use negative to start from the end of the list")
	// Redis 7.0 negates LONG_MIN here (undefined behaviour); later versions
	// reject it with this range error, which we adopt.
	errRankRange      = Err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
	errCountNegative  = Err("ERR COUNT can't be negative")
	errMaxlenNegative = Err("ERR MAXLEN can't be negative")
	errNumkeys        = Err("ERR numkeys should be greater than 0")
	errCountPositive  = Err("ERR count should be greater than 0")
)

// minListCap is the smallest buffer a non-empty list keeps; below it
// shrinking is not worth the copy.
const minListCap = 8

// listValue is a list of strings stored in a ring buffer whose capacity is
// a power of two, so that push/pop at both ends and access by index are O(1).
// Strings are immutable in Go, so sharing them between clones is safe.
type listValue struct {
	buf  []string // len(buf) is 0 or a power of two
	head int      // index in buf of element 0
	n    int
}

func newList() *listValue { return &listValue{} }

func (*listValue) Type() string { return "list" }

// Clone returns an independent copy with a compact buffer.
func (l *listValue) Clone() Value {
	c := &listValue{}
	if l.n > 0 {
		c.buf = make([]string, ceilPow2(l.n))
		l.copyTo(c.buf)
		c.n = l.n
	}
	return c
}

// Len returns the number of elements.
func (l *listValue) Len() int { return l.n }

func (l *listValue) slot(i int) int { return (l.head + i) & (len(l.buf) - 1) }

// Index returns element i (0-based from the head); i must be in [0, Len()).
func (l *listValue) Index(i int) string { return l.buf[l.slot(i)] }

// setAt replaces element i.
func (l *listValue) setAt(i int, s string) { l.buf[l.slot(i)] = s }

// Each visits the elements head to tail until fn returns false.
func (l *listValue) Each(fn func(s string) bool) {
	for i := 0; i < l.n; i++ {
		if !fn(l.buf[l.slot(i)]) {
			return
		}
	}
}

// PushBack appends s at the tail.
func (l *listValue) PushBack(s string) {
	l.grow()
	l.buf[l.slot(l.n)] = s
	l.n++
}

// PushFront prepends s at the head.
func (l *listValue) PushFront(s string) {
	l.grow()
	l.head = (l.head - 1) & (len(l.buf) - 1)
	l.buf[l.head] = s
	l.n++
}

// PopFront removes and returns the head; the list must not be empty.
func (l *listValue) PopFront() string {
	s := l.buf[l.head]
	l.buf[l.head] = "" // let the GC reclaim the string
	l.head = (l.head + 1) & (len(l.buf) - 1)
	l.n--
	l.shrink()
	return s
}

// PopBack removes and returns the tail; the list must not be empty.
func (l *listValue) PopBack() string {
	i := l.slot(l.n - 1)
	s := l.buf[i]
	l.buf[i] = ""
	l.n--
	l.shrink()
	return s
}

// Insert puts s at position i (0 <= i <= Len()), moving the shorter side.
func (l *listValue) Insert(i int, s string) {
	if i == 0 {
		l.PushFront(s)
		return
	}
	if i == l.n {
		l.PushBack(s)
		return
	}
	l.grow()
	if i < l.n/2 {
		l.head = (l.head - 1) & (len(l.buf) - 1)
		for j := 0; j < i; j++ {
			l.buf[l.slot(j)] = l.buf[l.slot(j+1)]
		}
	} else {
		for j := l.n; j > i; j-- {
			l.buf[l.slot(j)] = l.buf[l.slot(j-1)]
		}
	}
	l.buf[l.slot(i)] = s
	l.n++
}

// Trim drops front elements from the head and back elements from the tail;
// front+back must not exceed Len().
func (l *listValue) Trim(front, back int) {
	for j := 0; j < front; j++ {
		l.buf[l.slot(j)] = ""
	}
	for j := l.n - back; j < l.n; j++ {
		l.buf[l.slot(j)] = ""
	}
	if front+back == l.n {
		*l = listValue{}
		return
	}
	l.head = l.slot(front)
	l.n -= front + back
	l.shrink()
}

// filter keeps the elements for which keep returns true, preserving order,
// in one pass without allocating.
func (l *listValue) filter(keep func(i int, s string) bool) {
	w := 0
	for r := 0; r < l.n; r++ {
		s := l.buf[l.slot(r)]
		if keep(r, s) {
			if w != r {
				l.buf[l.slot(w)] = s
			}
			w++
		}
	}
	for j := w; j < l.n; j++ {
		l.buf[l.slot(j)] = ""
	}
	l.n = w
	l.shrink()
}

func (l *listValue) copyTo(dst []string) {
	if l.n == 0 {
		return
	}
	end := l.head + l.n
	if end <= len(l.buf) {
		copy(dst, l.buf[l.head:end])
		return
	}
	k := copy(dst, l.buf[l.head:])
	copy(dst[k:], l.buf[:end-len(l.buf)])
}

func (l *listValue) resize(c int) {
	nb := make([]string, c)
	l.copyTo(nb)
	l.buf = nb
	l.head = 0
}

// grow makes room for one more element.
func (l *listValue) grow() {
	if l.n < len(l.buf) {
		return
	}
	c := len(l.buf) * 2
	if c < minListCap {
		c = minListCap
	}
	l.resize(c)
}

// shrink halves the buffer when it is mostly empty, so a list that was once
// large does not pin its memory; halving at a quarter keeps pops amortised O(1).
func (l *listValue) shrink() {
	if l.n == 0 {
		l.buf, l.head = nil, 0
		return
	}
	if len(l.buf) > minListCap && l.n <= len(l.buf)/4 {
		l.resize(len(l.buf) / 2)
	}
}

func ceilPow2(n int) int {
	c := minListCap
	for c < n {
		c <<= 1
	}
	return c
}

// ---- helpers ----------------------------------------------------------------

// listForRead returns key's list for a read: (nil, false) if the key is
// absent, and an error reply if it holds another type.
func listForRead(c *Ctx, key []byte) (*listValue, Reply, bool) {
	switch v := c.Get(key).(type) {
	case nil:
		return nil, Reply{}, false
	case *listValue:
		return v, Reply{}, true
	default:
		return nil, ErrWrongType, true
	}
}

// listForWrite is listForRead for a write: the list may be mutated.
func listForWrite(c *Ctx, key []byte) (*listValue, Reply, bool) {
	switch v := c.GetMut(key).(type) {
	case nil:
		return nil, Reply{}, false
	case *listValue:
		return v, Reply{}, true
	default:
		return nil, ErrWrongType, true
	}
}

// parseWhere parses LEFT|RIGHT; left reports LEFT.
func parseWhere(b []byte) (left, ok bool) {
	switch {
	case EqFold(b, "left"):
		return true, true
	case EqFold(b, "right"):
		return false, true
	}
	return false, false
}

// normRange turns Redis start/end indices (negative from the tail) into a
// clamped [start, end] range over a list of n elements; ok is false when
// the range is empty. All arithmetic stays within int64.
func normRange(start, end int64, n int) (int, int, bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if end < 0 {
		end += ln
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= ln {
		return 0, 0, false
	}
	if end >= ln {
		end = ln - 1
	}
	return int(start), int(end), true
}

// popN removes up to count elements from one end and returns them in pop order.
func popN(l *listValue, left bool, count int64) []Reply {
	k := l.Len()
	if count < int64(k) {
		k = int(count)
	}
	out := make([]Reply, k)
	for i := range out {
		if left {
			out[i] = Bulk(l.PopFront())
		} else {
			out[i] = Bulk(l.PopBack())
		}
	}
	return out
}

// ---- commands ---------------------------------------------------------------

func init() {
	Register(
		Command{Name: "lpush", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: lpushCommand},
		Command{Name: "rpush", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: rpushCommand},
		Command{Name: "lpushx", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: lpushxCommand},
		Command{Name: "rpushx", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: rpushxCommand},
		Command{Name: "lpop", Arity: -2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: lpopCommand},
		Command{Name: "rpop", Arity: -2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: rpopCommand},
		Command{Name: "llen", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: llenCommand},
		Command{Name: "lrange", Arity: 4, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: lrangeCommand},
		Command{Name: "lindex", Arity: 3, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: lindexCommand},
		Command{Name: "lset", Arity: 4, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Exec: lsetCommand},
		Command{Name: "linsert", Arity: 5, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 1, Step: 1, Exec: linsertCommand},
		Command{Name: "lrem", Arity: 4, Flags: FlagWrite, First: 1, Last: 1, Step: 1, Exec: lremCommand},
		Command{Name: "ltrim", Arity: 4, Flags: FlagWrite, First: 1, Last: 1, Step: 1, Exec: ltrimCommand},
		Command{Name: "lpos", Arity: -3, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: lposCommand},
		Command{Name: "lmove", Arity: 5, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 2, Step: 1, Exec: lmoveCommand},
		Command{Name: "rpoplpush", Arity: 3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: 2, Step: 1, Exec: rpoplpushCommand},
		Command{Name: "lmpop", Arity: -4, Flags: FlagWrite | FlagMovableKeys, Keys: lmpopKeys, Exec: lmpopCommand},
	)
}

// pushEvent and popEvent name the keyspace events of a push and a pop.
func pushEvent(left bool) string {
	if left {
		return "lpush"
	}
	return "rpush"
}

func popEvent(left bool) string {
	if left {
		return "lpop"
	}
	return "rpop"
}

// listDeleteIfEmpty removes a list left empty, as Redis never keeps one.
func listDeleteIfEmpty(c *Ctx, key []byte, l *listValue) {
	if l.Len() == 0 {
		c.Delete(key)
		c.notify(NotifyGeneric, "del", key)
	}
}

func lpushCommand(c *Ctx, args [][]byte) Reply  { return pushGeneric(c, args, true, false) }
func rpushCommand(c *Ctx, args [][]byte) Reply  { return pushGeneric(c, args, false, false) }
func lpushxCommand(c *Ctx, args [][]byte) Reply { return pushGeneric(c, args, true, true) }
func rpushxCommand(c *Ctx, args [][]byte) Reply { return pushGeneric(c, args, false, true) }

// pushGeneric implements [LR]PUSH[X]; xx pushes only onto an existing list.
func pushGeneric(c *Ctx, args [][]byte, left, xx bool) Reply {
	l, errR, found := listForWrite(c, args[1])
	if errR.IsError() {
		return errR
	}
	if !found {
		if xx {
			return Int(0)
		}
		l = newList()
		c.Set(args[1], l)
	}
	for _, a := range args[2:] {
		// string(a) copies: argument buffers may be reused by the caller.
		if left {
			l.PushFront(string(a))
		} else {
			l.PushBack(string(a))
		}
	}
	c.notify(NotifyList, pushEvent(left), args[1])
	return Int(int64(l.Len()))
}

func lpopCommand(c *Ctx, args [][]byte) Reply { return popGeneric(c, args, true) }
func rpopCommand(c *Ctx, args [][]byte) Reply { return popGeneric(c, args, false) }

// popGeneric implements LPOP/RPOP key [count].
func popGeneric(c *Ctx, args [][]byte, left bool) Reply {
	if len(args) > 3 {
		return ErrArity(Lower(args[0]))
	}
	hasCount := len(args) == 3
	var count int64
	if hasCount {
		var ok bool
		count, ok = ParseInt(args[2])
		if !ok || count < 0 {
			return ErrOutOfRange
		}
	}
	l, errR, found := listForWrite(c, args[1])
	if errR.IsError() {
		return errR
	}
	if !found {
		if hasCount {
			return NilArray()
		}
		return Nil()
	}
	if hasCount && count == 0 {
		return Array([]Reply{})
	}
	var r Reply
	if !hasCount {
		if left {
			r = Bulk(l.PopFront())
		} else {
			r = Bulk(l.PopBack())
		}
	} else {
		r = Array(popN(l, left, count))
	}
	c.notify(NotifyList, popEvent(left), args[1])
	listDeleteIfEmpty(c, args[1], l)
	return r
}

func llenCommand(c *Ctx, args [][]byte) Reply {
	l, errR, found := listForRead(c, args[1])
	if errR.IsError() {
		return errR
	}
	if !found {
		return Int(0)
	}
	return Int(int64(l.Len()))
}

func lrangeCommand(c *Ctx, args [][]byte) Reply {
	start, ok1 := ParseInt(args[2])
	end, ok2 := ParseInt(args[3])
	if !ok1 || !ok2 {
		return ErrNotInt
	}
	l, errR, found := listForRead(c, args[1])
	if errR.IsError() {
		return errR
	}
	if !found {
		return Array([]Reply{})
	}
	s, e, ok := normRange(start, end, l.Len())
	if !ok {
		return Array([]Reply{})
	}
	out := make([]Reply, 0, e-s+1)
	for i := s; i <= e; i++ {
		out = append(out, Bulk(l.Index(i)))
	}
	return Array(out)
}

// listIndex converts a possibly negative index into a position, or -1.
func listIndex(idx int64, n int) int {
	if idx < 0 {
		idx += int64(n)
	}
	if idx < 0 || idx >= int64(n) {
		return -1
	}
	return int(idx)
}

func lindexCommand(c *Ctx, args [][]byte) Reply {
	l, errR, found := listForRead(c, args[1])
	if errR.IsError() {
		return errR
	}
	if !found {
		return Nil()
	}
	idx, ok := ParseInt(args[2])
	if !ok {
		return ErrNotInt
	}
	i := listIndex(idx, l.Len())
	if i < 0 {
		return Nil()
	}
	return Bulk(l.Index(i))
}

func lsetCommand(c *Ctx, args [][]byte) Reply {
	l, errR, found := listForWrite(c, args[1])
	if errR.IsError() {
		return errR
	}
	if !found {
		return ErrNoSuchKey
	}
	idx, ok := ParseInt(args[2])
	if !ok {
		return ErrNotInt
	}
	i := listIndex(idx, l.Len())
	if i < 0 {
		return ErrIndexRange
	}
	l.setAt(i, string(args[3]))
	c.notify(NotifyList, "lset", args[1])
	return ReplyOK
}

func linsertCommand(c *Ctx, args [][]byte) Reply {
	var after bool
	switch {
	case EqFold(args[2], "after"):
		after = true
	case EqFold(args[2], "before"):
	default:
		return ErrSyntax
	}
	l, errR, found := listForWrite(c, args[1])
	if errR.IsError() {
		return errR
	}
	if !found {
		return Int(0)
	}
	pivot := bstr(args[3])
	pos := -1
	for i := 0; i < l.Len(); i++ {
		if l.Index(i) == pivot {
			pos = i
			break
		}
	}
	if pos < 0 {
		return Int(-1)
	}
	if after {
		pos++
	}
	l.Insert(pos, string(args[4]))
	c.notify(NotifyList, "linsert", args[1])
	return Int(int64(l.Len()))
}

func lremCommand(c *Ctx, args [][]byte) Reply {
	toRemove, ok := ParseInt(args[2])
	if !ok {
		return ErrNotInt
	}
	l, errR, found := listForWrite(c, args[1])
	if errR.IsError() {
		return errR
	}
	if !found {
		return Int(0)
	}
	elem := bstr(args[3])
	var removed int64
	if toRemove >= 0 {
		l.filter(func(_ int, s string) bool {
			if s == elem && (toRemove == 0 || removed < toRemove) {
				removed++
				return false
			}
			return true
		})
	} else {
		// Removing the last |count| matches: find the index of the
		// |count|-th match from the tail, then drop matches at or after it.
		// The negation of MinInt64 wraps, so compare via -removed instead.
		cutoff := l.Len()
		var seen int64
		for i := l.Len() - 1; i >= 0 && -seen > toRemove; i-- {
			if l.Index(i) == elem {
				seen++
				cutoff = i
			}
		}
		if seen > 0 {
			l.filter(func(i int, s string) bool {
				if i >= cutoff && s == elem {
					removed++
					return false
				}
				return true
			})
		}
	}
	if removed > 0 {
		c.notify(NotifyList, "lrem", args[1])
	}
	listDeleteIfEmpty(c, args[1], l)
	return Int(removed)
}

func ltrimCommand(c *Ctx, args [][]byte) Reply {
	start, ok1 := ParseInt(args[2])
	end, ok2 := ParseInt(args[3])
	if !ok1 || !ok2 {
		return ErrNotInt
	}
	l, errR, found := listForWrite(c, args[1])
	if errR.IsError() {
		return errR
	}
	if !found {
		return ReplyOK
	}
	n := l.Len()
	s, e, ok := normRange(start, end, n)
	if !ok {
		l.Trim(n, 0)
	} else {
		l.Trim(s, n-e-1)
	}
	c.notify(NotifyList, "ltrim", args[1])
	listDeleteIfEmpty(c, args[1], l)
	return ReplyOK
}

// lposCommand implements LPOS key element [RANK rank] [COUNT n] [MAXLEN len].
func lposCommand(c *Ctx, args [][]byte) Reply {
	rank, count, maxlen := int64(1), int64(-1), int64(0) // count -1: option absent
	for j := 3; j < len(args); j++ {
		more := j+1 < len(args)
		switch {
		case EqFold(args[j], "rank") && more:
			j++
			v, ok := ParseInt(args[j])
			if !ok {
				return ErrNotInt
			}
			if v == math.MinInt64 {
				return errRankRange
			}
			if v == 0 {
				return errRankZero
			}
			rank = v
		case EqFold(args[j], "count") && more:
			j++
			v, ok := ParseInt(args[j])
			if !ok || v < 0 {
				return errCountNegative
			}
			count = v
		case EqFold(args[j], "maxlen") && more:
			j++
			v, ok := ParseInt(args[j])
			if !ok || v < 0 {
				return errMaxlenNegative
			}
			maxlen = v
		default:
			return ErrSyntax
		}
	}
	fromTail := rank < 0
	if fromTail {
		rank = -rank
	}
	l, errR, found := listForRead(c, args[1])
	if errR.IsError() {
		return errR
	}
	if !found {
		if count != -1 {
			return Array([]Reply{})
		}
		return Nil()
	}
	elem := bstr(args[2])
	n := l.Len()
	var out []Reply
	var matches int64
	for scanned := 0; scanned < n && (maxlen == 0 || int64(scanned) < maxlen); scanned++ {
		i := scanned
		if fromTail {
			i = n - 1 - scanned
		}
		if l.Index(i) != elem {
			continue
		}
		matches++
		if matches < rank {
			continue
		}
		if count == -1 {
			return Int(int64(i))
		}
		out = append(out, Int(int64(i)))
		if count != 0 && matches-rank+1 >= count {
			break
		}
	}
	if count == -1 {
		return Nil()
	}
	if out == nil {
		out = []Reply{}
	}
	return Array(out)
}

func lmoveCommand(c *Ctx, args [][]byte) Reply {
	from, ok1 := parseWhere(args[3])
	if !ok1 {
		return ErrSyntax
	}
	to, ok2 := parseWhere(args[4])
	if !ok2 {
		return ErrSyntax
	}
	return lmoveGeneric(c, args[1], args[2], from, to)
}

func rpoplpushCommand(c *Ctx, args [][]byte) Reply {
	return lmoveGeneric(c, args[1], args[2], false, true)
}

// lmoveGeneric pops from src and pushes onto dst. src and dst may be the
// same key (rotation): the source is deleted only if still empty after the push.
func lmoveGeneric(c *Ctx, srcKey, dstKey []byte, fromLeft, toLeft bool) Reply {
	src, errR, found := listForWrite(c, srcKey)
	if errR.IsError() {
		return errR
	}
	if !found || src.Len() == 0 {
		return Nil()
	}
	// Check the destination type before popping, so a WRONGTYPE leaves
	// the source untouched.
	dst, errR, dstFound := listForWrite(c, dstKey)
	if errR.IsError() {
		return errR
	}
	if !dstFound {
		dst = newList()
		c.Set(dstKey, dst)
	}
	var v string
	if fromLeft {
		v = src.PopFront()
	} else {
		v = src.PopBack()
	}
	if toLeft {
		dst.PushFront(v)
	} else {
		dst.PushBack(v)
	}
	c.notify(NotifyList, pushEvent(toLeft), dstKey)
	c.notify(NotifyList, popEvent(fromLeft), srcKey)
	listDeleteIfEmpty(c, srcKey, src)
	return Bulk(v)
}

// lmpopKeys returns the key positions of LMPOP numkeys key... where [COUNT n],
// or nil when numkeys is malformed.
func lmpopKeys(args [][]byte) []int {
	if len(args) < 2 {
		return nil
	}
	nk, ok := ParseInt(args[1])
	if !ok || nk < 1 || nk > int64(len(args)-3) {
		return nil
	}
	out := make([]int, nk)
	for i := range out {
		out[i] = 2 + i
	}
	return out
}

// lmpopCommand implements LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count].
func lmpopCommand(c *Ctx, args [][]byte) Reply {
	nk, ok := ParseInt(args[1])
	if !ok || nk < 1 {
		return errNumkeys
	}
	// Compare before adding so a huge numkeys cannot overflow.
	if nk > int64(len(args)-3) {
		return ErrSyntax
	}
	whereIdx := 2 + int(nk)
	left, ok := parseWhere(args[whereIdx])
	if !ok {
		return ErrSyntax
	}
	count := int64(-1)
	for j := whereIdx + 1; j < len(args); j++ {
		if count == -1 && EqFold(args[j], "count") && j+1 < len(args) {
			j++
			v, ok := ParseInt(args[j])
			if !ok || v < 1 {
				return errCountPositive
			}
			count = v
			continue
		}
		return ErrSyntax
	}
	if count == -1 {
		count = 1
	}
	for _, key := range args[2:whereIdx] {
		l, errR, found := listForWrite(c, key)
		if errR.IsError() {
			return errR
		}
		if !found || l.Len() == 0 {
			continue
		}
		elems := popN(l, left, count)
		c.notify(NotifyList, popEvent(left), key)
		listDeleteIfEmpty(c, key, l)
		return Array([]Reply{Bulk(string(key)), Array(elems)})
	}
	return NilArray()
}
