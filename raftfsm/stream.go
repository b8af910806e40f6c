package raftfsm

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/tidwall/btree"
)

// The stream type (Redis src/t_stream.c, src/stream.h).
//
// Entries live in nodes cut by the same rule as Redis's radix tree of
// listpacks (entry count, and the byte size the node's listpack would
// have; stream-node-max-entries and -bytes, which the proposing leader
// stamps into the entry: Params). Keeping Redis's node layout
// matters because approximate trimming (MAXLEN ~ / MINID ~) removes whole
// nodes only: mirroring the layout gives the same lengths as Redis, and the
// RDB codec stores nodes one to one, so a replica restored from a snapshot
// cuts future nodes exactly where one that applied the log does.
//
// Deleted entries stay in their node flagged as tombstones until the whole
// node is empty, as in Redis (the node-full rule counts them).

const (
	// streamListpackMax is STREAM_LISTPACK_MAX_SIZE: one entry's fields and
	// values may not exceed it.
	streamListpackMax = 1 << 30

	streamFlagDeleted    = 1
	streamFlagSameFields = 2

	// entriesReadInvalid is SCG_INVALID_ENTRIES_READ: the group's read
	// counter is unknown.
	entriesReadInvalid = -1
)

// streamID is an entry ID: milliseconds and sequence.
type streamID struct{ ms, seq uint64 }

var maxStreamID = streamID{math.MaxUint64, math.MaxUint64}

func (a streamID) cmp(b streamID) int {
	switch {
	case a.ms < b.ms:
		return -1
	case a.ms > b.ms:
		return 1
	case a.seq < b.seq:
		return -1
	case a.seq > b.seq:
		return 1
	}
	return 0
}

func (a streamID) less(b streamID) bool { return a.cmp(b) < 0 }
func (a streamID) isZero() bool         { return a.ms == 0 && a.seq == 0 }

func (a streamID) String() string {
	return strconv.FormatUint(a.ms, 10) + "-" + strconv.FormatUint(a.seq, 10)
}

// incr returns the successor of a; ok is false for the last possible ID.
func (a streamID) incr() (streamID, bool) {
	switch {
	case a.seq < math.MaxUint64:
		return streamID{a.ms, a.seq + 1}, true
	case a.ms < math.MaxUint64:
		return streamID{a.ms + 1, 0}, true
	}
	return streamID{}, false
}

// decr returns the predecessor of a; ok is false for 0-0.
func (a streamID) decr() (streamID, bool) {
	switch {
	case a.seq > 0:
		return streamID{a.ms, a.seq - 1}, true
	case a.ms > 0:
		return streamID{a.ms - 1, math.MaxUint64}, true
	}
	return maxStreamID, false
}

// streamEntry is one entry: its ID and flat field, value pairs.
type streamEntry struct {
	id      streamID
	fv      []string // never modified once stored: clones share it
	deleted bool
}

// streamNode is a run of entries that Redis would keep in one listpack.
type streamNode struct {
	master       streamID // ID of the first entry ever added: the rax key
	masterFields []string // its field names, the reference for SAMEFIELDS
	ents         []streamEntry
	live         int
	body         int // listpack bytes except the count and deleted integers
}

// lpBytes is the size of the node's listpack in Redis.
func (n *streamNode) lpBytes() int {
	return n.body + lpIntSize(int64(n.live)) + lpIntSize(int64(len(n.ents)-n.live))
}

// lastID is the ID of the node's last entry, tombstone or not (what Redis's
// lpGetEdgeStreamID sees).
func (n *streamNode) lastID() streamID { return n.ents[len(n.ents)-1].id }

func (n *streamNode) sameFields(fv []string) bool {
	if len(fv)/2 != len(n.masterFields) {
		return false
	}
	for i, f := range n.masterFields {
		if fv[2*i] != f {
			return false
		}
	}
	return true
}

// entrySize is the listpack bytes of one entry of n.
func (n *streamNode) entrySize(id streamID, fv []string, same bool) int {
	size := 1 + 1 // flags, as a small integer with its backlen
	size += lpIntSize(int64(id.ms - n.master.ms))
	size += lpIntSize(int64(id.seq - n.master.seq))
	elems := len(fv)/2 + 3
	if !same {
		size += lpIntSize(int64(len(fv) / 2))
		for i := 0; i < len(fv); i += 2 {
			size += lpStrSize(fv[i])
		}
		elems = len(fv) + 4
	}
	for i := 1; i < len(fv); i += 2 {
		size += lpStrSize(fv[i])
	}
	return size + lpIntSize(int64(elems))
}

// lpIntSize is the size of an integer listpack entry, backlen included.
func lpIntSize(v int64) int {
	var n int
	switch {
	case v >= 0 && v <= 127:
		n = 1
	case v >= -4096 && v <= 4095:
		n = 2
	case v >= math.MinInt16 && v <= math.MaxInt16:
		n = 3
	case v >= -1<<23 && v < 1<<23:
		n = 4
	case v >= math.MinInt32 && v <= math.MaxInt32:
		n = 5
	default:
		n = 9
	}
	return n + lpBacklenSize(n)
}

// lpStrSize is the size of a string's listpack entry; canonical integers
// are stored as integers, as lpAppend does.
func lpStrSize(s string) int {
	if len(s) <= 20 {
		if v, ok := ParseInt(rdbBytes(s)); ok {
			return lpIntSize(v)
		}
	}
	n := len(s)
	switch {
	case n < 64:
		n++
	case n < 4096:
		n += 2
	default:
		n += 5
	}
	return n + lpBacklenSize(n)
}

func lpBacklenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// streamNACK is a pending (delivered, not acknowledged) entry of a group.
type streamNACK struct {
	id            streamID
	consumer      *streamConsumer
	deliveryTime  int64
	deliveryCount uint64
}

func nackLess(a, b *streamNACK) bool { return a.id.less(b.id) }

type streamConsumer struct {
	name     string
	seenTime int64
	pel      *btree.BTreeG[*streamNACK]
}

type streamGroup struct {
	name        string
	lastID      streamID
	entriesRead int64 // entriesReadInvalid when unknown
	pel         *btree.BTreeG[*streamNACK]
	consumers   []*streamConsumer // sorted by name, as Redis's rax
}

func newPEL() *btree.BTreeG[*streamNACK] {
	return btree.NewBTreeGOptions(nackLess, btree.Options{NoLocks: true})
}

// streamValue is a stream.
type streamValue struct {
	nodes        []*streamNode
	length       int64
	lastID       streamID
	firstID      streamID // recorded first entry (0-0 when empty)
	maxDeleted   streamID
	entriesAdded int64
	groups       []*streamGroup // sorted by name
}

func newStream() *streamValue { return &streamValue{} }

func (*streamValue) Type() string     { return "stream" }
func (*streamValue) Encoding() string { return "stream" }

// Clone copies the stream deeply enough that mutating the copy leaves s
// intact: nodes and their entry slices are copied, field strings shared.
func (s *streamValue) Clone() Value {
	out := *s
	out.nodes = make([]*streamNode, len(s.nodes))
	for i, n := range s.nodes {
		cp := *n
		cp.ents = append([]streamEntry(nil), n.ents...)
		out.nodes[i] = &cp
	}
	out.groups = make([]*streamGroup, len(s.groups))
	for i, g := range s.groups {
		out.groups[i] = g.clone()
	}
	return &out
}

func (g *streamGroup) clone() *streamGroup {
	cp := &streamGroup{name: g.name, lastID: g.lastID, entriesRead: g.entriesRead, pel: newPEL()}
	byName := make(map[*streamConsumer]*streamConsumer, len(g.consumers))
	for _, c := range g.consumers {
		nc := &streamConsumer{name: c.name, seenTime: c.seenTime, pel: newPEL()}
		byName[c] = nc
		cp.consumers = append(cp.consumers, nc)
	}
	g.pel.Scan(func(n *streamNACK) bool {
		nn := *n
		nn.consumer = byName[n.consumer]
		cp.pel.Set(&nn)
		if nn.consumer != nil {
			nn.consumer.pel.Set(&nn)
		}
		return true
	})
	return cp
}

// ---- entries ----------------------------------------------------------------

// nextID is the ID XADD * generates at time now: now-0 when the clock is
// ahead of the last ID, else the last ID's successor.
func (s *streamValue) nextID(now int64) (streamID, bool) {
	if now > 0 && uint64(now) > s.lastID.ms {
		return streamID{uint64(now), 0}, true
	}
	return s.lastID.incr()
}

// appendEntry adds an entry whose ID the caller checked to be above lastID.
// p gives the node limits (Params.streamNodeLimits).
func (s *streamValue) appendEntry(id streamID, fv []string, p *Params) {
	tot := 0
	for _, x := range fv {
		tot += len(x)
	}
	var tail *streamNode
	if len(s.nodes) > 0 {
		tail = s.nodes[len(s.nodes)-1]
		maxBytes, maxEntries := p.streamNodeLimits()
		if int64(tail.lpBytes()+tot) >= maxBytes || maxEntries > 0 && int64(len(tail.ents)) >= maxEntries {
			tail = nil
		}
	}
	if tail == nil {
		tail = &streamNode{master: id, masterFields: make([]string, len(fv)/2)}
		for i := range tail.masterFields {
			tail.masterFields[i] = fv[2*i]
		}
		// Header and end byte, master entry: num-fields, fields, the 0 terminator.
		tail.body = 6 + 1 + lpIntSize(int64(len(tail.masterFields))) + lpIntSize(0)
		for _, f := range tail.masterFields {
			tail.body += lpStrSize(f)
		}
		s.nodes = append(s.nodes, tail)
	}
	same := tail.sameFields(fv)
	tail.body += tail.entrySize(id, fv, same)
	tail.ents = append(tail.ents, streamEntry{id: id, fv: fv})
	tail.live++
	s.length++
	s.lastID = id
	s.entriesAdded++
	if s.length == 1 {
		s.firstID = id
	}
}

// seek returns the position of the first entry (tombstones included) with
// an ID >= id: node index and entry index.
func (s *streamValue) seek(id streamID) (int, int) {
	ni := sort.Search(len(s.nodes), func(i int) bool { return !s.nodes[i].lastID().less(id) })
	if ni == len(s.nodes) {
		return ni, 0
	}
	ents := s.nodes[ni].ents
	return ni, sort.Search(len(ents), func(i int) bool { return !ents[i].id.less(id) })
}

// lookup returns the live entry with exactly this ID.
func (s *streamValue) lookup(id streamID) *streamEntry {
	ni, ei := s.seek(id)
	if ni == len(s.nodes) {
		return nil
	}
	e := &s.nodes[ni].ents[ei]
	if e.id != id || e.deleted {
		return nil
	}
	return e
}

// rangeScan calls fn with each live entry with start <= id <= end, in
// ascending order or, with rev, descending, until fn returns false.
func (s *streamValue) rangeScan(start, end streamID, rev bool, fn func(e *streamEntry) bool) {
	if end.less(start) {
		return
	}
	if !rev {
		ni, ei := s.seek(start)
		for ; ni < len(s.nodes); ni, ei = ni+1, 0 {
			ents := s.nodes[ni].ents
			for ; ei < len(ents); ei++ {
				e := &ents[ei]
				if end.less(e.id) {
					return
				}
				if !e.deleted && !fn(e) {
					return
				}
			}
		}
		return
	}
	// Start just after end and walk backwards.
	ni, ei := len(s.nodes), 0
	if next, ok := end.incr(); ok {
		ni, ei = s.seek(next)
	}
	for {
		if ei == 0 {
			if ni == 0 {
				return
			}
			ni--
			ei = len(s.nodes[ni].ents)
			continue
		}
		ei--
		e := &s.nodes[ni].ents[ei]
		if e.id.less(start) {
			return
		}
		if !e.deleted && !fn(e) {
			return
		}
	}
}

// firstLive returns the first live entry's ID (0-0 when empty).
func (s *streamValue) firstLive() streamID {
	var id streamID
	s.rangeScan(streamID{}, maxStreamID, false, func(e *streamEntry) bool { id = e.id; return false })
	return id
}

// lastLive returns the last live entry's ID (0-0 when empty).
func (s *streamValue) lastLive() streamID {
	var id streamID
	s.rangeScan(streamID{}, maxStreamID, true, func(e *streamEntry) bool { id = e.id; return false })
	return id
}

// deleteEntry turns the live entry id into a tombstone, dropping its node
// when no live entry is left; it reports whether there was such an entry.
func (s *streamValue) deleteEntry(id streamID) bool {
	ni, ei := s.seek(id)
	if ni == len(s.nodes) {
		return false
	}
	n := s.nodes[ni]
	e := &n.ents[ei]
	if e.id != id || e.deleted {
		return false
	}
	e.deleted = true
	n.live--
	s.length--
	if n.live == 0 {
		s.removeNode(ni)
	}
	return true
}

func (s *streamValue) removeNode(i int) {
	copy(s.nodes[i:], s.nodes[i+1:])
	s.nodes[len(s.nodes)-1] = nil
	s.nodes = s.nodes[:len(s.nodes)-1]
}

// trimArgs are the MAXLEN/MINID options of XADD and XTRIM.
type trimArgs struct {
	strategy int // 0 none, trimMaxlen, trimMinid
	maxlen   int64
	minid    streamID
	approx   bool
	limit    int64 // 0 = none
}

const (
	trimMaxlen = 1
	trimMinid  = 2
)

// trim removes entries from the head as streamTrim does: whole nodes while
// they fit the limit, then (unless approximate) tombstones inside the first
// node that must be kept. It returns the number of entries removed.
func (s *streamValue) trim(a trimArgs) int64 {
	if a.strategy == 0 {
		return 0
	}
	var deleted int64
	for len(s.nodes) > 0 {
		if a.strategy == trimMaxlen && s.length <= a.maxlen {
			break
		}
		n := s.nodes[0]
		entries := int64(n.live)
		if a.limit != 0 && deleted+entries > a.limit {
			break
		}
		var remove bool
		if a.strategy == trimMaxlen {
			remove = s.length-entries >= a.maxlen
		} else {
			remove = n.lastID().less(a.minid)
		}
		if remove {
			s.removeNode(0)
			s.length -= entries
			deleted += entries
			continue
		}
		if a.approx {
			break
		}
		for i := range n.ents {
			e := &n.ents[i]
			if a.strategy == trimMaxlen && s.length <= a.maxlen {
				break
			}
			if a.strategy == trimMinid && !e.id.less(a.minid) {
				break
			}
			if !e.deleted {
				e.deleted = true
				n.live--
				s.length--
				deleted++
			}
		}
		break
	}
	if s.length == 0 {
		s.firstID = streamID{}
	} else if deleted > 0 {
		s.firstID = s.firstLive()
	}
	return deleted
}

// ---- consumer groups --------------------------------------------------------

func (s *streamValue) group(name []byte) *streamGroup {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].name >= string(name) })
	if i < len(s.groups) && s.groups[i].name == string(name) {
		return s.groups[i]
	}
	return nil
}

// createGroup adds a group; nil if the name is taken.
func (s *streamValue) createGroup(name string, last streamID, entriesRead int64) *streamGroup {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].name >= name })
	if i < len(s.groups) && s.groups[i].name == name {
		return nil
	}
	g := &streamGroup{name: name, lastID: last, entriesRead: entriesRead, pel: newPEL()}
	s.groups = append(s.groups, nil)
	copy(s.groups[i+1:], s.groups[i:])
	s.groups[i] = g
	return g
}

func (s *streamValue) destroyGroup(name []byte) bool {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].name >= string(name) })
	if i == len(s.groups) || s.groups[i].name != string(name) {
		return false
	}
	s.groups = append(s.groups[:i], s.groups[i+1:]...)
	return true
}

func (g *streamGroup) consumerIndex(name string) (int, bool) {
	i := sort.Search(len(g.consumers), func(i int) bool { return g.consumers[i].name >= name })
	return i, i < len(g.consumers) && g.consumers[i].name == name
}

func (g *streamGroup) consumer(name []byte) *streamConsumer {
	if i, ok := g.consumerIndex(string(name)); ok {
		return g.consumers[i]
	}
	return nil
}

// createConsumer adds a consumer seen at now; nil if it exists.
func (g *streamGroup) createConsumer(name string, now int64) *streamConsumer {
	i, ok := g.consumerIndex(name)
	if ok {
		return nil
	}
	c := &streamConsumer{name: name, seenTime: now, pel: newPEL()}
	g.consumers = append(g.consumers, nil)
	copy(g.consumers[i+1:], g.consumers[i:])
	g.consumers[i] = c
	return c
}

// lookupOrCreateConsumer returns the named consumer with its seen time
// refreshed, creating it if needed.
func (g *streamGroup) lookupOrCreateConsumer(name []byte, now int64) *streamConsumer {
	if c := g.consumer(name); c != nil {
		c.seenTime = now
		return c
	}
	return g.createConsumer(string(name), now)
}

// deleteConsumer removes a consumer and its pending entries; it returns
// how many entries were pending.
func (g *streamGroup) deleteConsumer(name []byte) (int, bool) {
	i, ok := g.consumerIndex(string(name))
	if !ok {
		return 0, false
	}
	c := g.consumers[i]
	n := c.pel.Len()
	c.pel.Scan(func(x *streamNACK) bool { g.pel.Delete(x); return true })
	g.consumers = append(g.consumers[:i], g.consumers[i+1:]...)
	return n, true
}

func (g *streamGroup) nack(id streamID) *streamNACK {
	n, _ := g.pel.Get(&streamNACK{id: id})
	return n
}

// removeNACK drops a pending entry from the group and its consumer.
func (g *streamGroup) removeNACK(n *streamNACK) {
	g.pel.Delete(n)
	if n.consumer != nil {
		n.consumer.pel.Delete(n)
	}
}

// assign moves n to consumer c (no-op when it already belongs to c).
func (n *streamNACK) assign(c *streamConsumer) {
	if n.consumer == c {
		return
	}
	if n.consumer != nil {
		n.consumer.pel.Delete(n)
	}
	n.consumer = c
	c.pel.Set(n)
}

// ---- read counters and lag (streamEstimateDistanceFromFirstEverEntry) -------

func (s *streamValue) rangeHasTombstones(start streamID) bool {
	if s.length == 0 || s.maxDeleted.isZero() {
		return false
	}
	if s.maxDeleted.less(s.firstID) {
		return false
	}
	return !s.maxDeleted.less(start)
}

// estimateDistance returns the entries-read counter of id, or
// entriesReadInvalid when it cannot be known.
func (s *streamValue) estimateDistance(id streamID) int64 {
	if s.entriesAdded == 0 {
		return 0
	}
	if s.length == 0 && id.cmp(s.lastID) < 1 {
		return s.entriesAdded
	}
	switch c := id.cmp(s.lastID); {
	case c == 0:
		return s.entriesAdded
	case c > 0:
		return entriesReadInvalid
	}
	if s.maxDeleted.isZero() || s.maxDeleted.less(s.firstID) {
		switch id.cmp(s.firstID) {
		case -1:
			return s.entriesAdded - s.length
		case 0:
			return s.entriesAdded - s.length + 1
		}
	}
	return entriesReadInvalid
}

// lag returns the group's lag and whether it is known.
func (s *streamValue) lag(g *streamGroup) (int64, bool) {
	if s.entriesAdded == 0 {
		return 0, true
	}
	if g.entriesRead != entriesReadInvalid && !s.rangeHasTombstones(g.lastID) {
		return s.entriesAdded - g.entriesRead, true
	}
	if r := s.estimateDistance(g.lastID); r != entriesReadInvalid {
		return s.entriesAdded - r, true
	}
	return 0, false
}

// deliver advances g's last delivered ID past id (XREADGROUP >).
func (s *streamValue) deliver(g *streamGroup, id streamID) {
	if !g.lastID.less(id) {
		return
	}
	if g.entriesRead != entriesReadInvalid && !s.rangeHasTombstones(id) {
		g.entriesRead++
	} else if s.entriesAdded != 0 {
		g.entriesRead = s.estimateDistance(id)
	}
	g.lastID = id
}

// ---- parsing ----------------------------------------------------------------

var errInvalidStreamID = Err("ERR Invalid stream ID specified as stream command argument")

// parseStreamID parses "ms-seq", "ms" (seq = missingSeq), and unless strict
// "-" and "+". With autoSeq, "ms-*" is accepted and seqGiven reports it.
func parseStreamID(b []byte, missingSeq uint64, strict, autoSeq bool) (id streamID, seqGiven bool, ok bool) {
	if len(b) > 127 {
		return id, false, false
	}
	s := string(b)
	switch s {
	case "-":
		return streamID{}, true, !strict
	case "+":
		return maxStreamID, true, !strict
	}
	msPart, seqPart, hasSeq := strings.Cut(s, "-")
	ms, ok := parseUint64(msPart)
	if !ok {
		return id, false, false
	}
	id.ms, id.seq, seqGiven = ms, missingSeq, true
	if hasSeq {
		if autoSeq && seqPart == "*" {
			id.seq, seqGiven = 0, false
		} else if id.seq, ok = parseUint64(seqPart); !ok {
			return id, false, false
		}
	}
	return id, seqGiven, true
}

// parseUint64 accepts what Redis's string2ull accepts in practice: a
// canonical non-negative integer, or what strtoull takes (leading blanks
// and an optional plus sign).
func parseUint64(s string) (uint64, bool) {
	if n, ok := ParseInt(rdbBytes(s)); ok {
		return uint64(n), n >= 0
	}
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	t = strings.TrimPrefix(t, "+")
	if t == "" || t[0] < '0' || t[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(t, 10, 64)
	return n, err == nil
}

// parseIntervalID parses a range bound; "(" makes it exclusive (then the
// special IDs are refused, as by Redis).
func parseIntervalID(b []byte, missingSeq uint64) (id streamID, exclusive bool, ok bool) {
	if len(b) > 1 && b[0] == '(' {
		id, _, ok = parseStreamID(b[1:], missingSeq, true, false)
		return id, true, ok
	}
	id, _, ok = parseStreamID(b, missingSeq, false, false)
	return id, false, ok
}
