package raftfsm

import (
	"encoding/binary"
	"math"
	"strconv"
)

// Streams in Redis 7.0's RDB_TYPE_STREAM_LISTPACKS_2 layout: each node is
// written as its master ID (16 bytes big endian) and a listpack holding the
// master entry and the delta-encoded entries, tombstones included; then the
// stream's metadata and its consumer groups with their PELs.

const (
	rdbTypeStreamListpacks  = 15
	rdbTypeStreamListpacks2 = 19
	rdbTypeStreamListpacks3 = 21 // Redis 7.2 (RDB 11): read in RDB files, not written
)

func appendStreamIDRaw(dst []byte, id streamID) []byte {
	dst = binary.BigEndian.AppendUint64(dst, id.ms)
	return binary.BigEndian.AppendUint64(dst, id.seq)
}

func lpAppendInt(lp []byte, v int64) []byte {
	var buf [20]byte
	return lpAppendEntry(lp, string(strconv.AppendInt(buf[:0], v, 10)))
}

// encodeListpack renders n as Redis stores it; its length is n.lpBytes().
func (n *streamNode) encodeListpack() []byte {
	lp := make([]byte, 6, n.lpBytes())
	lp = lpAppendInt(lp, int64(n.live))
	lp = lpAppendInt(lp, int64(len(n.ents)-n.live))
	lp = lpAppendInt(lp, int64(len(n.masterFields)))
	for _, f := range n.masterFields {
		lp = lpAppendEntry(lp, f)
	}
	lp = lpAppendInt(lp, 0)
	for i := range n.ents {
		e := &n.ents[i]
		same := n.sameFields(e.fv)
		flags := int64(0)
		if e.deleted {
			flags |= streamFlagDeleted
		}
		if same {
			flags |= streamFlagSameFields
		}
		lp = lpAppendInt(lp, flags)
		lp = lpAppendInt(lp, int64(e.id.ms-n.master.ms))
		lp = lpAppendInt(lp, int64(e.id.seq-n.master.seq))
		elems := len(e.fv)/2 + 3
		if !same {
			lp = lpAppendInt(lp, int64(len(e.fv)/2))
			for j := 0; j < len(e.fv); j += 2 {
				lp = lpAppendEntry(lp, e.fv[j])
			}
			elems = len(e.fv) + 4
		}
		for j := 1; j < len(e.fv); j += 2 {
			lp = lpAppendEntry(lp, e.fv[j])
		}
		lp = lpAppendInt(lp, int64(elems))
	}
	return lpFinish(lp, streamNodeElems(n))
}

// rdbAppendStream encodes s as type 19 (Redis 7.0); v3 makes it type 21
// (Redis 7.2: each consumer's active time follows its seen time, here the
// same), which only tests write.
func rdbAppendStream(dst []byte, s *streamValue, v3 bool) []byte {
	t := byte(rdbTypeStreamListpacks2)
	if v3 {
		t = rdbTypeStreamListpacks3
	}
	dst = append(dst, t)
	dst = rdbAppendLen(dst, uint64(len(s.nodes)))
	for _, n := range s.nodes {
		dst = rdbAppendString(dst, appendStreamIDRaw(nil, n.master))
		dst = rdbAppendString(dst, n.encodeListpack())
	}
	for _, v := range []uint64{uint64(s.length), s.lastID.ms, s.lastID.seq, s.firstID.ms, s.firstID.seq,
		s.maxDeleted.ms, s.maxDeleted.seq, uint64(s.entriesAdded), uint64(len(s.groups))} {
		dst = rdbAppendLen(dst, v)
	}
	for _, g := range s.groups {
		dst = rdbAppendString(dst, rdbBytes(g.name))
		dst = rdbAppendLen(dst, g.lastID.ms)
		dst = rdbAppendLen(dst, g.lastID.seq)
		dst = rdbAppendLen(dst, uint64(g.entriesRead))
		dst = rdbAppendLen(dst, uint64(g.pel.Len()))
		g.pel.Scan(func(n *streamNACK) bool {
			dst = appendStreamIDRaw(dst, n.id)
			dst = binary.LittleEndian.AppendUint64(dst, uint64(n.deliveryTime))
			dst = rdbAppendLen(dst, n.deliveryCount)
			return true
		})
		dst = rdbAppendLen(dst, uint64(len(g.consumers)))
		for _, c := range g.consumers {
			dst = rdbAppendString(dst, rdbBytes(c.name))
			dst = binary.LittleEndian.AppendUint64(dst, uint64(c.seenTime))
			if v3 {
				dst = binary.LittleEndian.AppendUint64(dst, uint64(c.seenTime))
			}
			dst = rdbAppendLen(dst, uint64(c.pel.Len()))
			c.pel.Scan(func(n *streamNACK) bool {
				dst = appendStreamIDRaw(dst, n.id)
				return true
			})
		}
	}
	return dst
}

// streamNodeElems counts the listpack elements of n (its header's numele).
func streamNodeElems(n *streamNode) int {
	total := 3 + len(n.masterFields) + 1
	for i := range n.ents {
		e := &n.ents[i]
		if n.sameFields(e.fv) {
			total += len(e.fv)/2 + 4
		} else {
			total += len(e.fv) + 5
		}
	}
	return total
}

// ---- decoding ---------------------------------------------------------------

func (r *rdbReader) rawID() (streamID, error) {
	b, err := r.take(16)
	if err != nil {
		return streamID{}, err
	}
	return streamID{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}, nil
}

func (r *rdbReader) msTime() (int64, error) {
	b, err := r.take(8)
	if err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(b)), nil
}

// streamValue decodes types 15, 19 and 21 (Redis 7.2's, which adds each
// consumer's active time; that time is not kept here).
func (r *rdbReader) streamValue(t byte) (Value, error) {
	v2, v3 := t != rdbTypeStreamListpacks, t == rdbTypeStreamListpacks3
	nodes, err := r.count()
	if err != nil {
		return nil, err
	}
	s := newStream()
	var prev streamID
	var live int64
	for ; nodes > 0; nodes-- {
		key, err := r.str()
		if err != nil {
			return nil, err
		}
		if len(key) != 16 {
			return nil, rdbErr("stream node key entry is not the size of a stream ID")
		}
		master := streamID{binary.BigEndian.Uint64(key), binary.BigEndian.Uint64(key[8:])}
		lp, err := r.str()
		if err != nil {
			return nil, err
		}
		n, err := decodeStreamNode(master, lp)
		if err != nil {
			return nil, err
		}
		if len(s.nodes) > 0 && !prev.less(n.ents[0].id) {
			return nil, rdbErr("stream IDs out of order")
		}
		prev = n.lastID()
		live += int64(n.live)
		s.nodes = append(s.nodes, n)
	}
	var meta [8]uint64
	nmeta := 3
	if v2 {
		nmeta = 8
	}
	for i := 0; i < nmeta; i++ {
		if meta[i], err = r.count(); err != nil {
			return nil, err
		}
	}
	s.length = int64(meta[0])
	s.lastID = streamID{meta[1], meta[2]}
	if s.length != live || meta[0] > math.MaxInt64 {
		return nil, rdbErr("stream length inconsistent with its entries")
	}
	if len(s.nodes) > 0 && s.lastID.less(prev) {
		return nil, rdbErr("stream last ID below its entries")
	}
	if v2 {
		s.firstID = streamID{meta[3], meta[4]}
		s.maxDeleted = streamID{meta[5], meta[6]}
		s.entriesAdded = int64(meta[7])
	} else {
		s.entriesAdded = s.length
		s.firstID = s.firstLive()
	}
	ngroups, err := r.count()
	if err != nil {
		return nil, err
	}
	for ; ngroups > 0; ngroups-- {
		if err := r.streamGroup(s, v2, v3); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (r *rdbReader) streamGroup(s *streamValue, v2, v3 bool) error {
	name, err := r.str()
	if err != nil {
		return err
	}
	ms, err := r.count()
	if err != nil {
		return err
	}
	seq, err := r.count()
	if err != nil {
		return err
	}
	last := streamID{ms, seq}
	var read int64
	if v2 {
		n, err := r.count()
		if err != nil {
			return err
		}
		read = int64(n)
	} else {
		read = s.estimateDistance(last)
	}
	g := s.createGroup(string(name), last, read)
	if g == nil {
		return rdbErr("duplicated consumer group name")
	}
	npel, err := r.count()
	if err != nil {
		return err
	}
	for ; npel > 0; npel-- {
		id, err := r.rawID()
		if err != nil {
			return err
		}
		t, err := r.msTime()
		if err != nil {
			return err
		}
		cnt, err := r.count()
		if err != nil {
			return err
		}
		if _, dup := g.pel.Set(&streamNACK{id: id, deliveryTime: t, deliveryCount: cnt}); dup {
			return rdbErr("duplicated global PEL entry")
		}
	}
	ncons, err := r.count()
	if err != nil {
		return err
	}
	for ; ncons > 0; ncons-- {
		cname, err := r.str()
		if err != nil {
			return err
		}
		seen, err := r.msTime()
		if err != nil {
			return err
		}
		if v3 {
			if _, err := r.msTime(); err != nil { // active time
				return err
			}
		}
		c := g.createConsumer(string(cname), seen)
		if c == nil {
			return rdbErr("duplicate stream consumer")
		}
		n, err := r.count()
		if err != nil {
			return err
		}
		for ; n > 0; n-- {
			id, err := r.rawID()
			if err != nil {
				return err
			}
			nack := g.nack(id)
			if nack == nil {
				return rdbErr("consumer entry not found in group global PEL")
			}
			if nack.consumer != nil {
				return rdbErr("duplicated consumer PEL entry")
			}
			nack.consumer = c
			c.pel.Set(nack)
		}
	}
	orphan := false
	g.pel.Scan(func(n *streamNACK) bool { orphan = n.consumer == nil; return !orphan })
	if orphan {
		return rdbErr("stream CG PEL entry without consumer")
	}
	return nil
}

// decodeStreamNode validates one node's listpack and rebuilds the node.
func decodeStreamNode(master streamID, lp []byte) (*streamNode, error) {
	var elems []string
	if err := lpEach(lp, func(b []byte) error { elems = append(elems, string(b)); return nil }); err != nil {
		return nil, err
	}
	bad := rdbErr("stream listpack integrity check failed")
	pos := 0
	nextInt := func() (int64, bool) {
		if pos >= len(elems) {
			return 0, false
		}
		v, ok := ParseInt([]byte(elems[pos]))
		pos++
		return v, ok
	}
	nextStr := func() (string, bool) {
		if pos >= len(elems) {
			return "", false
		}
		pos++
		return elems[pos-1], true
	}
	count, ok1 := nextInt()
	del, ok2 := nextInt()
	nmf, ok3 := nextInt()
	if !ok1 || !ok2 || !ok3 || count < 0 || del < 0 || nmf < 0 || nmf > int64(len(elems)) {
		return nil, bad
	}
	n := &streamNode{master: master, masterFields: make([]string, nmf)}
	for i := range n.masterFields {
		f, ok := nextStr()
		if !ok {
			return nil, bad
		}
		n.masterFields[i] = f
	}
	if z, ok := nextInt(); !ok || z != 0 {
		return nil, bad
	}
	total := count + del
	if total <= 0 || total > int64(len(elems)) {
		return nil, bad
	}
	var prev streamID
	for k := int64(0); k < total; k++ {
		flags, ok1 := nextInt()
		dms, ok2 := nextInt()
		dseq, ok3 := nextInt()
		if !ok1 || !ok2 || !ok3 {
			return nil, bad
		}
		id := streamID{master.ms + uint64(dms), master.seq + uint64(dseq)}
		if k > 0 && !prev.less(id) {
			return nil, rdbErr("stream IDs out of order")
		}
		prev = id
		var names []string
		lpCount := int64(0)
		if flags&streamFlagSameFields != 0 {
			names = n.masterFields
			lpCount = int64(len(names)) + 3
		} else {
			nf, ok := nextInt()
			if !ok || nf < 0 || nf > int64(len(elems)) {
				return nil, bad
			}
			names = make([]string, nf)
			for i := range names {
				if names[i], ok = nextStr(); !ok {
					return nil, bad
				}
			}
			lpCount = 2*nf + 4
		}
		fv := make([]string, 2*len(names))
		for i, f := range names {
			v, ok := nextStr()
			if !ok {
				return nil, bad
			}
			fv[2*i], fv[2*i+1] = f, v
		}
		if c, ok := nextInt(); !ok || c != lpCount {
			return nil, bad
		}
		deleted := flags&streamFlagDeleted != 0
		if !deleted {
			n.live++
		}
		n.ents = append(n.ents, streamEntry{id: id, fv: fv, deleted: deleted})
	}
	if pos != len(elems) || int64(n.live) != count {
		return nil, bad
	}
	n.body = len(lp) - lpIntSize(count) - lpIntSize(del)
	return n, nil
}

// ---- slot migration in parts ------------------------------------------------

// splitStream cuts a large stream into DUMP payloads of whole nodes, about
// partBytes each. Every part carries the stream's metadata (so each is a
// valid stream); the consumer groups travel with the last part. Merging
// them back in order (mergeStream) rebuilds the same nodes.
func splitStream(s *streamValue, partBytes int) [][]byte {
	var out [][]byte
	start, size := 0, 0
	for i, n := range s.nodes {
		size += n.lpBytes()
		last := i == len(s.nodes)-1
		if size < partBytes && !last {
			continue
		}
		part := *s
		part.nodes = s.nodes[start : i+1]
		part.length = 0
		for _, pn := range part.nodes {
			part.length += int64(pn.live)
		}
		if !last {
			part.groups = nil
		}
		out = append(out, DumpPayload(&part))
		start, size = i+1, 0
	}
	return out
}

// mergeStream appends part's nodes (which must follow cur's entries) to cur
// and takes its metadata; it reports false when part does not fit.
func mergeStream(cur, part *streamValue) bool {
	if len(cur.nodes) > 0 && len(part.nodes) > 0 && !cur.nodes[len(cur.nodes)-1].lastID().less(part.nodes[0].ents[0].id) {
		return false
	}
	cur.nodes = append(cur.nodes, part.nodes...)
	cur.length += part.length
	cur.lastID, cur.firstID, cur.maxDeleted, cur.entriesAdded = part.lastID, part.firstID, part.maxDeleted, part.entriesAdded
	if len(part.groups) > 0 {
		cur.groups = part.groups
	}
	return true
}
