package raftfsm

import (
	"math"
	"sort"
)

// Set commands (Redis src/t_set.c). Members live in a dict: SPOP picks by
// index with the entry's seeded PRNG and the *STORE commands build their
// result by walking dicts in order, so every replica ends with the same
// members in the same order.

var (
	errSetNumkeys    = Err("ERR numkeys should be greater than 0")
	errSetNumkeysBig = Err("ERR Number of keys can't be greater than number of args")
	errSetLimitNeg   = Err("ERR LIMIT can't be negative")
)

func init() {
	Register(
		Command{Name: "sadd", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, First: 1, Last: 1, Step: 1, Exec: saddCommand},
		Command{Name: "srem", Arity: -3, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: sremCommand},
		Command{Name: "smembers", Arity: 2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: sinterCommand},
		Command{Name: "sismember", Arity: 3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: sismemberCommand},
		Command{Name: "smismember", Arity: -3, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: smismemberCommand},
		Command{Name: "scard", Arity: 2, Flags: FlagReadOnly | FlagFast, First: 1, Last: 1, Step: 1, Exec: scardCommand},
		Command{Name: "spop", Arity: -2, Flags: FlagWrite | FlagFast, First: 1, Last: 1, Step: 1, Exec: spopCommand},
		Command{Name: "srandmember", Arity: -2, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: srandmemberCommand},
		Command{Name: "smove", Arity: 4, Flags: FlagWrite | FlagFast, First: 1, Last: 2, Step: 1, Exec: smoveCommand},
		Command{Name: "sinter", Arity: -2, Flags: FlagReadOnly, First: 1, Last: -1, Step: 1, Exec: sinterCommand},
		Command{Name: "sunion", Arity: -2, Flags: FlagReadOnly, First: 1, Last: -1, Step: 1, Exec: sunionCommand},
		Command{Name: "sdiff", Arity: -2, Flags: FlagReadOnly, First: 1, Last: -1, Step: 1, Exec: sdiffCommand},
		Command{Name: "sinterstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 1, Exec: sinterstoreCommand},
		Command{Name: "sunionstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 1, Exec: sunionstoreCommand},
		Command{Name: "sdiffstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, First: 1, Last: -1, Step: 1, Exec: sdiffstoreCommand},
		// Redis reports 0 0 0 as the legacy key range of keynum commands.
		Command{Name: "sintercard", Arity: -3, Flags: FlagReadOnly | FlagMovableKeys, Keys: sintercardKeys, Exec: sintercardCommand},
		Command{Name: "sscan", Arity: -3, Flags: FlagReadOnly, First: 1, Last: 1, Step: 1, Exec: sscanCommand},
	)
}

// lookupSetRead returns key's set (nil if absent); ok is false when the key
// holds another type. A miss is a keymiss (Redis's lookupKeyRead).
func lookupSetRead(c *Ctx, key []byte) (s *setValue, ok bool) { return asSet(c.Get(key)) }

// lookupSetPeek is lookupSetRead for a key the command writes (Redis's
// lookupKeyWrite: no keymiss, no keyspace hit or miss).
func lookupSetPeek(c *Ctx, key []byte) (s *setValue, ok bool) { return asSet(c.getWrite(key)) }

func asSet(v Value) (*setValue, bool) {
	if v == nil {
		return nil, true
	}
	s, ok := v.(*setValue)
	return s, ok
}

// lookupSetWrite is lookupSetRead for commands that mutate the set.
func lookupSetWrite(c *Ctx, key []byte) (s *setValue, ok bool) {
	v := c.GetMut(key)
	if v == nil {
		return nil, true
	}
	s, ok = v.(*setValue)
	return s, ok
}

// setMembersReply replies with all members of s, in dict order, as a set.
func setMembersReply(s *setValue) Reply {
	out := make([]Reply, s.d.Len())
	for i := range out {
		k, _ := s.d.At(i)
		out[i] = Bulk(k)
	}
	return SetReply(out)
}

func saddCommand(c *Ctx, args [][]byte) Reply {
	s, ok := lookupSetWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil {
		s = newSet(len(args) - 2)
		c.Set(args[1], s)
	}
	added := 0
	for _, m := range args[2:] {
		if s.d.Set(string(m), struct{}{}) {
			added++
		}
	}
	if added > 0 {
		c.notify(NotifySet, "sadd", args[1])
	}
	return Int(int64(added))
}

func sremCommand(c *Ctx, args [][]byte) Reply {
	s, ok := lookupSetWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil {
		return Int(0)
	}
	deleted := 0
	for _, m := range args[2:] {
		if s.d.Delete(m) {
			deleted++
			if s.d.Len() == 0 {
				break
			}
		}
	}
	if deleted > 0 {
		c.notify(NotifySet, "srem", args[1])
	}
	setDeleteIfEmpty(c, args[1], s)
	return Int(int64(deleted))
}

func sismemberCommand(c *Ctx, args [][]byte) Reply {
	s, ok := lookupSetRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s != nil && s.d.Has(args[2]) {
		return Int(1)
	}
	return Int(0)
}

func smismemberCommand(c *Ctx, args [][]byte) Reply {
	s, ok := lookupSetRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	out := make([]Reply, len(args)-2)
	for i, m := range args[2:] {
		if s != nil && s.d.Has(m) {
			out[i] = Int(1)
		} else {
			out[i] = Int(0)
		}
	}
	return Array(out)
}

func scardCommand(c *Ctx, args [][]byte) Reply {
	s, ok := lookupSetRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil {
		return Int(0)
	}
	return Int(int64(s.d.Len()))
}

func spopCommand(c *Ctx, args [][]byte) Reply {
	if len(args) > 3 {
		return ErrSyntax
	}
	withCount := len(args) == 3
	var count int64 = 1
	if withCount {
		n, ok := ParseInt(args[2])
		if !ok {
			return ErrNotInt
		}
		if n < 0 {
			return ErrOutOfRange
		}
		count = n
	}
	s, ok := lookupSetWrite(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil {
		if withCount {
			return SetReply([]Reply{})
		}
		return Nil()
	}
	if count == 0 {
		return SetReply([]Reply{})
	}
	if count >= int64(s.d.Len()) {
		r := setMembersReply(s)
		if !withCount {
			c.notify(NotifySet, "spop", args[1])
		}
		c.Delete(args[1])
		c.notify(NotifyGeneric, "del", args[1])
		if !withCount {
			return r.Elems[0]
		}
		return r
	}
	// Pick by index in dict order with the entry's PRNG: every replica
	// draws the same numbers over the same order and pops the same members.
	r := c.Rand()
	out := make([]Reply, count)
	for i := range out {
		k, _ := s.d.At(r.IntN(s.d.Len()))
		out[i] = Bulk(k)
		s.d.Delete([]byte(k))
	}
	c.notify(NotifySet, "spop", args[1])
	if !withCount {
		return out[0]
	}
	return SetReply(out)
}

func srandmemberCommand(c *Ctx, args [][]byte) Reply {
	if len(args) > 3 {
		return ErrSyntax
	}
	if len(args) == 2 {
		s, ok := lookupSetRead(c, args[1])
		if !ok {
			return ErrWrongType
		}
		if s == nil {
			return Nil()
		}
		k, _ := s.d.At(c.Rand().IntN(s.d.Len()))
		return Bulk(k)
	}
	l, ok := ParseInt(args[2])
	if !ok {
		return ErrNotInt
	}
	if l == math.MinInt64 {
		return errHsCountRange
	}
	s, ok := lookupSetRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil || l == 0 {
		return Array([]Reply{})
	}
	size := s.d.Len()
	var idx []int
	switch {
	case l < 0 || l == 1:
		count := -l
		if l == 1 {
			count = 1
		}
		if count > hsRandMax {
			return errHsOutOfRange
		}
		idx = make([]int, count)
		r := c.Rand()
		for i := range idx {
			idx[i] = r.IntN(size)
		}
	case l >= int64(size):
		idx = make([]int, size)
		for i := range idx {
			idx[i] = i
		}
	default:
		idx = hsPickUnique(c.Rand(), size, int(l))
	}
	out := make([]Reply, len(idx))
	for j, i := range idx {
		k, _ := s.d.At(i)
		out[j] = Bulk(k)
	}
	return Array(out)
}

func smoveCommand(c *Ctx, args [][]byte) Reply {
	// Type checks read only: a key is touched (its WATCH version bumped)
	// only when it really changes, as in Redis.
	src, srcOK := lookupSetPeek(c, args[1])
	dst, dstOK := lookupSetPeek(c, args[2])
	if srcOK && src == nil {
		return Int(0)
	}
	if !srcOK || !dstOK {
		return ErrWrongType
	}
	member := args[3]
	if string(args[1]) == string(args[2]) {
		if src.d.Has(member) {
			return Int(1)
		}
		return Int(0)
	}
	if !src.d.Has(member) {
		return Int(0)
	}
	src = c.GetMut(args[1]).(*setValue)
	src.d.Delete(member)
	c.notify(NotifySet, "srem", args[1])
	setDeleteIfEmpty(c, args[1], src)
	switch {
	case dst == nil:
		dst = newSet(1)
		dst.d.Set(string(member), struct{}{})
		c.Set(args[2], dst)
		c.notify(NotifySet, "sadd", args[2])
	case !dst.d.Has(member):
		c.GetMut(args[2]).(*setValue).d.Set(string(member), struct{}{})
		c.notify(NotifySet, "sadd", args[2])
	}
	return Int(1)
}

// lookupSets fetches the sets named by keys for a read: nil entries are
// missing keys (empty sets). It fails with WRONGTYPE if any key holds
// another type, even after a missing key, as Redis does.
func lookupSets(c *Ctx, keys [][]byte) ([]*setValue, bool) {
	sets := make([]*setValue, len(keys))
	for i, k := range keys {
		s, ok := lookupSetRead(c, k)
		if !ok {
			return nil, false
		}
		sets[i] = s
	}
	return sets, true
}

// setsInter returns the intersection of sets, walking the smallest set in
// dict order (ties keep argument order), so the result order is
// deterministic. limit > 0 stops after that many members.
func setsInter(sets []*setValue, limit int) []string {
	for _, s := range sets {
		if s == nil {
			return nil
		}
	}
	if len(sets) == 0 {
		return nil
	}
	order := append([]*setValue(nil), sets...)
	sort.SliceStable(order, func(i, j int) bool { return order[i].d.Len() < order[j].d.Len() })
	first := order[0]
	var out []string
	for i := 0; i < first.d.Len(); i++ {
		k, _ := first.d.At(i)
		in := true
		for _, o := range order[1:] {
			if o == first {
				continue
			}
			if _, found := o.d.Get(k); !found {
				in = false
				break
			}
		}
		if in {
			out = append(out, k)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
	}
	return out
}

// setsUnion returns the union: each set in argument order, each in dict order.
func setsUnion(sets []*setValue) *dict[struct{}] {
	d := newDict[struct{}](0)
	for _, s := range sets {
		if s == nil {
			continue
		}
		for i := 0; i < s.d.Len(); i++ {
			k, _ := s.d.At(i)
			d.Set(k, struct{}{})
		}
	}
	return d
}

// setsDiff returns the members of the first set (in its dict order) that
// are in none of the others.
func setsDiff(sets []*setValue) *dict[struct{}] {
	d := newDict[struct{}](0)
	first := sets[0]
	if first == nil {
		return d
	}
	for _, o := range sets[1:] {
		if o == first {
			return d // the same key again: nothing survives
		}
	}
	for i := 0; i < first.d.Len(); i++ {
		k, _ := first.d.At(i)
		in := false
		for _, o := range sets[1:] {
			if o == nil {
				continue
			}
			if _, found := o.d.Get(k); found {
				in = true
				break
			}
		}
		if !in {
			d.Set(k, struct{}{})
		}
	}
	return d
}

func dictMembersReply(d *dict[struct{}]) Reply {
	out := make([]Reply, d.Len())
	for i := range out {
		k, _ := d.At(i)
		out[i] = Bulk(k)
	}
	return SetReply(out)
}

// sinterCommand serves SINTER and SMEMBERS (the intersection of one set).
func sinterCommand(c *Ctx, args [][]byte) Reply {
	sets, ok := lookupSets(c, args[1:])
	if !ok {
		return ErrWrongType
	}
	members := setsInter(sets, 0)
	out := make([]Reply, len(members))
	for i, m := range members {
		out[i] = Bulk(m)
	}
	return SetReply(out)
}

func sunionCommand(c *Ctx, args [][]byte) Reply {
	sets, ok := lookupSets(c, args[1:])
	if !ok {
		return ErrWrongType
	}
	return dictMembersReply(setsUnion(sets))
}

func sdiffCommand(c *Ctx, args [][]byte) Reply {
	sets, ok := lookupSets(c, args[1:])
	if !ok {
		return ErrWrongType
	}
	return dictMembersReply(setsDiff(sets))
}

// storeSetResult stores d under dst (replacing any value and TTL) or
// deletes dst when d is empty, and replies with the cardinality.
// event names the keyspace event of the store.
func storeSetResult(c *Ctx, dst []byte, d *dict[struct{}], event string) Reply {
	if d.Len() == 0 {
		if c.Delete(dst) {
			c.notify(NotifyGeneric, "del", dst)
		}
		return Int(0)
	}
	c.Set(dst, &setValue{d: d})
	c.notify(NotifySet, event, dst)
	return Int(int64(d.Len()))
}

// setDeleteIfEmpty removes a set left empty.
func setDeleteIfEmpty(c *Ctx, key []byte, s *setValue) {
	if s.d.Len() == 0 {
		c.Delete(key)
		c.notify(NotifyGeneric, "del", key)
	}
}

func sinterstoreCommand(c *Ctx, args [][]byte) Reply {
	sets, ok := lookupSets(c, args[2:])
	if !ok {
		return ErrWrongType
	}
	members := setsInter(sets, 0)
	d := newDict[struct{}](len(members))
	for _, m := range members {
		d.Set(m, struct{}{})
	}
	return storeSetResult(c, args[1], d, "sinterstore")
}

func sunionstoreCommand(c *Ctx, args [][]byte) Reply {
	sets, ok := lookupSets(c, args[2:])
	if !ok {
		return ErrWrongType
	}
	return storeSetResult(c, args[1], setsUnion(sets), "sunionstore")
}

func sdiffstoreCommand(c *Ctx, args [][]byte) Reply {
	sets, ok := lookupSets(c, args[2:])
	if !ok {
		return ErrWrongType
	}
	return storeSetResult(c, args[1], setsDiff(sets), "sdiffstore")
}

// sintercardKeys returns the key positions of SINTERCARD numkeys key...,
// or nil when numkeys is malformed (the command then reports the error).
func sintercardKeys(args [][]byte) []int {
	if len(args) < 2 {
		return nil
	}
	n, ok := ParseInt(args[1])
	if !ok || n < 1 || n > int64(len(args)-2) {
		return nil
	}
	out := make([]int, n)
	for i := range out {
		out[i] = 2 + i
	}
	return out
}

func sintercardCommand(c *Ctx, args [][]byte) Reply {
	n, ok := ParseInt(args[1])
	if !ok || n < 1 {
		return errSetNumkeys
	}
	if n > int64(len(args)-2) {
		return errSetNumkeysBig
	}
	numkeys := int(n)
	var limit int64
	for j := 2 + numkeys; j < len(args); j++ {
		if EqFold(args[j], "limit") && j+1 < len(args) {
			j++
			l, ok := ParseInt(args[j])
			if !ok || l < 0 {
				return errSetLimitNeg
			}
			limit = l
		} else {
			return ErrSyntax
		}
	}
	sets, ok := lookupSets(c, args[2:2+numkeys])
	if !ok {
		return ErrWrongType
	}
	return Int(int64(len(setsInter(sets, int(limit)))))
}

func sscanCommand(c *Ctx, args [][]byte) Reply {
	cursor, ok := hsParseCursor(args[2])
	if !ok {
		return errHsInvalidCursor
	}
	s, ok := lookupSetRead(c, args[1])
	if !ok {
		return ErrWrongType
	}
	if s == nil {
		return hsScanReply(0, nil)
	}
	o, errr, ok := hsParseScanOpts(args)
	if !ok {
		return errr
	}
	var out []Reply
	next := s.d.Scan(cursor, o.count, func(k string, _ struct{}) {
		if o.match && !GlobMatch(o.pattern, k, false) {
			return
		}
		out = append(out, Bulk(k))
	})
	return hsScanReply(next, out)
}
