package raftfsm

import "unsafe"

// zskiplist is Redis's order-statistic skiplist: nodes are ordered by
// (score, member) and every forward link records its span (the number of
// level-0 steps it jumps), so rank lookups and rank-indexed access are
// O(log N) like the score and lex searches.
//
// Node heights come from a xorshift PRNG whose state lives in the list
// itself (seeded with a constant and copied by clone), never from global
// randomness: replicas applying the same log build identical structures.
type zskiplist struct {
	header *zslNode
	tail   *zslNode
	length int
	level  int
	rng    uint64
}

type zslNode struct {
	member   string
	score    float64
	backward *zslNode
	level    []zslLevel
}

type zslLevel struct {
	forward *zslNode
	span    int
}

const (
	zslMaxLevel = 32 // 4^32 elements: more than enough
	zslSeed     = 0x9e3779b97f4a7c15
)

func newZskiplist() *zskiplist {
	return &zskiplist{header: &zslNode{level: make([]zslLevel, zslMaxLevel)}, level: 1, rng: zslSeed}
}

// randomLevel returns a height with P(level > k) = 4^-k, as Redis's
// ZSKIPLIST_P = 0.25: each pair of zero bits in one draw adds a level.
func (zl *zskiplist) randomLevel() int {
	x := zl.rng
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	zl.rng = x
	lvl := 1
	for lvl < zslMaxLevel && x&3 == 0 {
		lvl++
		x >>= 2
	}
	return lvl
}

// zslLess orders nodes by score, then member bytes.
func zslLess(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || (s1 == s2 && m1 < m2)
}

// seek descends from the top level, moving forward while before(next)
// holds. It returns the last node for which before holds (the header if
// none) and its 1-based rank (0 for the header); before also gets the
// candidate's rank. If update is not nil it
// receives, per level, the rightmost node visited (Redis's update vector).
func (zl *zskiplist) seek(before func(n *zslNode, rank int) bool, update *[zslMaxLevel]*zslNode) (*zslNode, int) {
	x := zl.header
	rank := 0
	for i := zl.level - 1; i >= 0; i-- {
		for f := x.level[i].forward; f != nil && before(f, rank+x.level[i].span); f = x.level[i].forward {
			rank += x.level[i].span
			x = f
		}
		if update != nil {
			update[i] = x
		}
	}
	return x, rank
}

// insert adds a node; the caller guarantees (score, member) is absent.
func (zl *zskiplist) insert(score float64, member string) *zslNode {
	var update [zslMaxLevel]*zslNode
	var rank [zslMaxLevel]int
	x := zl.header
	for i := zl.level - 1; i >= 0; i-- {
		if i != zl.level-1 {
			rank[i] = rank[i+1]
		}
		for f := x.level[i].forward; f != nil && zslLess(f.score, f.member, score, member); f = x.level[i].forward {
			rank[i] += x.level[i].span
			x = f
		}
		update[i] = x
	}
	lvl := zl.randomLevel()
	if lvl > zl.level {
		for i := zl.level; i < lvl; i++ {
			rank[i] = 0
			update[i] = zl.header
			update[i].level[i].span = zl.length
		}
		zl.level = lvl
	}
	n := &zslNode{member: member, score: score, level: make([]zslLevel, lvl)}
	for i := 0; i < lvl; i++ {
		n.level[i].forward = update[i].level[i].forward
		update[i].level[i].forward = n
		n.level[i].span = update[i].level[i].span - (rank[0] - rank[i])
		update[i].level[i].span = rank[0] - rank[i] + 1
	}
	for i := lvl; i < zl.level; i++ {
		update[i].level[i].span++
	}
	if update[0] != zl.header {
		n.backward = update[0]
	}
	if n.level[0].forward != nil {
		n.level[0].forward.backward = n
	} else {
		zl.tail = n
	}
	zl.length++
	return n
}

// unlink removes x given the update vector computed for it.
func (zl *zskiplist) unlink(x *zslNode, update *[zslMaxLevel]*zslNode) {
	for i := 0; i < zl.level; i++ {
		if update[i].level[i].forward == x {
			update[i].level[i].span += x.level[i].span - 1
			update[i].level[i].forward = x.level[i].forward
		} else {
			update[i].level[i].span--
		}
	}
	if x.level[0].forward != nil {
		x.level[0].forward.backward = x.backward
	} else {
		zl.tail = x.backward
	}
	for zl.level > 1 && zl.header.level[zl.level-1].forward == nil {
		zl.level--
	}
	zl.length--
}

// find returns the node holding exactly (score, member) and the update
// vector leading to it, or nil.
func (zl *zskiplist) find(score float64, member string, update *[zslMaxLevel]*zslNode) *zslNode {
	x, _ := zl.seek(func(n *zslNode, _ int) bool { return zslLess(n.score, n.member, score, member) }, update)
	x = x.level[0].forward
	if x != nil && x.score == score && x.member == member {
		return x
	}
	return nil
}

// delete removes (score, member) and reports whether it was present.
func (zl *zskiplist) delete(score float64, member string) bool {
	var update [zslMaxLevel]*zslNode
	x := zl.find(score, member, &update)
	if x == nil {
		return false
	}
	zl.unlink(x, &update)
	return true
}

// updateScore moves member from cur to score. Like Redis it updates in
// place when the node keeps its position, otherwise it re-inserts (which
// draws a new height, deterministically).
func (zl *zskiplist) updateScore(cur float64, member string, score float64) {
	var update [zslMaxLevel]*zslNode
	x := zl.find(cur, member, &update)
	if x == nil {
		return
	}
	if (x.backward == nil || x.backward.score < score) &&
		(x.level[0].forward == nil || x.level[0].forward.score > score) {
		x.score = score
		return
	}
	zl.unlink(x, &update)
	zl.insert(score, member)
}

// rank returns the 1-based rank of (score, member), 0 if absent.
func (zl *zskiplist) rank(score float64, member string) int {
	x, r := zl.seek(func(n *zslNode, _ int) bool {
		return n.score < score || (n.score == score && n.member <= member)
	}, nil)
	if x != zl.header && x.score == score && x.member == member {
		return r
	}
	return 0
}

// byRank returns the node at 1-based rank r, or nil.
func (zl *zskiplist) byRank(r int) *zslNode {
	if r < 1 || r > zl.length {
		return nil
	}
	x := zl.header
	traversed := 0
	for i := zl.level - 1; i >= 0; i-- {
		for x.level[i].forward != nil && traversed+x.level[i].span <= r {
			traversed += x.level[i].span
			x = x.level[i].forward
		}
		if traversed == r {
			return x
		}
	}
	return nil
}

func (zl *zskiplist) first() *zslNode { return zl.header.level[0].forward }

// zScoreRange is a score interval with optionally exclusive ends.
type zScoreRange struct {
	min, max     float64
	minex, maxex bool
}

func (r *zScoreRange) gteMin(v float64) bool {
	if r.minex {
		return v > r.min
	}
	return v >= r.min
}

func (r *zScoreRange) lteMax(v float64) bool {
	if r.maxex {
		return v < r.max
	}
	return v <= r.max
}

func (zl *zskiplist) inScoreRange(r *zScoreRange) bool {
	if r.min > r.max || (r.min == r.max && (r.minex || r.maxex)) {
		return false
	}
	if zl.tail == nil || !r.gteMin(zl.tail.score) {
		return false
	}
	return r.lteMax(zl.first().score)
}

// firstInScore returns the first node in r and its rank, or nil.
func (zl *zskiplist) firstInScore(r *zScoreRange) (*zslNode, int) {
	if !zl.inScoreRange(r) {
		return nil, 0
	}
	x, rank := zl.seek(func(n *zslNode, _ int) bool { return !r.gteMin(n.score) }, nil)
	x = x.level[0].forward
	if x == nil || !r.lteMax(x.score) {
		return nil, 0
	}
	return x, rank + 1
}

// lastInScore returns the last node in r and its rank, or nil.
func (zl *zskiplist) lastInScore(r *zScoreRange) (*zslNode, int) {
	if !zl.inScoreRange(r) {
		return nil, 0
	}
	x, rank := zl.seek(func(n *zslNode, _ int) bool { return r.lteMax(n.score) }, nil)
	if x == zl.header || !r.gteMin(x.score) {
		return nil, 0
	}
	return x, rank
}

// zLexBound is one end of a lex range: "-" (inf < 0), "+" (inf > 0) or a
// string, inclusive or exclusive.
type zLexBound struct {
	inf int
	s   string
	ex  bool
}

// zLexCmp compares a member with a bound, as Redis's sdscmplex.
func zLexCmp(v string, b *zLexBound) int {
	switch {
	case b.inf < 0:
		return 1
	case b.inf > 0:
		return -1
	case v < b.s:
		return -1
	case v > b.s:
		return 1
	}
	return 0
}

type zLexRange struct{ min, max zLexBound }

func (r *zLexRange) gteMin(v string) bool {
	if r.min.ex {
		return zLexCmp(v, &r.min) > 0
	}
	return zLexCmp(v, &r.min) >= 0
}

func (r *zLexRange) lteMax(v string) bool {
	if r.max.ex {
		return zLexCmp(v, &r.max) < 0
	}
	return zLexCmp(v, &r.max) <= 0
}

// empty reports whether min > max, or min == max with an exclusive end.
func (r *zLexRange) empty() bool {
	var cmp int
	a, b := &r.min, &r.max
	switch {
	case a.inf != 0 && a.inf == b.inf:
		cmp = 0
	case a.inf < 0 || b.inf > 0:
		cmp = -1
	case a.inf > 0 || b.inf < 0:
		cmp = 1
	case a.s < b.s:
		cmp = -1
	case a.s > b.s:
		cmp = 1
	}
	return cmp > 0 || (cmp == 0 && (a.ex || b.ex))
}

func (zl *zskiplist) inLexRange(r *zLexRange) bool {
	if r.empty() || zl.tail == nil || !r.gteMin(zl.tail.member) {
		return false
	}
	return r.lteMax(zl.first().member)
}

func (zl *zskiplist) firstInLex(r *zLexRange) (*zslNode, int) {
	if !zl.inLexRange(r) {
		return nil, 0
	}
	x, rank := zl.seek(func(n *zslNode, _ int) bool { return !r.gteMin(n.member) }, nil)
	x = x.level[0].forward
	if x == nil || !r.lteMax(x.member) {
		return nil, 0
	}
	return x, rank + 1
}

func (zl *zskiplist) lastInLex(r *zLexRange) (*zslNode, int) {
	if !zl.inLexRange(r) {
		return nil, 0
	}
	x, rank := zl.seek(func(n *zslNode, _ int) bool { return r.lteMax(n.member) }, nil)
	if x == zl.header || !r.gteMin(x.member) {
		return nil, 0
	}
	return x, rank
}

// deleteFrom unlinks nodes starting after the seek position while keep
// holds, calling removed for each; it returns how many went.
func (zl *zskiplist) deleteFrom(before func(n *zslNode, rank int) bool, keep func(n *zslNode, rank int) bool, removed func(n *zslNode)) int {
	var update [zslMaxLevel]*zslNode
	x, rank := zl.seek(before, &update)
	x = x.level[0].forward
	rank++
	count := 0
	for x != nil && keep(x, rank) {
		next := x.level[0].forward
		zl.unlink(x, &update)
		removed(x)
		count++
		rank++
		x = next
	}
	return count
}

// clone copies the list node for node, keeping heights, spans and the
// PRNG state, so the copy evolves exactly like the original would.
func (zl *zskiplist) clone() *zskiplist {
	nz := &zskiplist{header: &zslNode{level: make([]zslLevel, zslMaxLevel)}, length: zl.length, level: zl.level, rng: zl.rng}
	var last [zslMaxLevel]*zslNode
	for i := range last {
		last[i] = nz.header
		nz.header.level[i].span = zl.header.level[i].span
	}
	// One backing array for all levels keeps the copy to two allocations
	// per node plus one.
	total := 0
	for x := zl.first(); x != nil; x = x.level[0].forward {
		total += len(x.level)
	}
	levels := make([]zslLevel, total)
	var prev *zslNode
	for x := zl.first(); x != nil; x = x.level[0].forward {
		h := len(x.level)
		n := &zslNode{member: x.member, score: x.score, backward: prev, level: levels[:h:h]}
		levels = levels[h:]
		for i := 0; i < h; i++ {
			n.level[i].span = x.level[i].span
			last[i].level[i].forward = n
			last[i] = n
		}
		prev = n
	}
	nz.tail = prev
	return nz
}

// zsBytes views s as bytes without copying; callers only read them.
func zsBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// firstInLexLinear and lastInLexLinear find range ends by walking the list
// like Redis's listpack code does. They differ from the skiplist descent
// only when scores are mixed (where Redis leaves the result unspecified),
// but small zsets are listpacks in Redis and this reproduces their answers.
func (zl *zskiplist) firstInLexLinear(r *zLexRange) (*zslNode, int) {
	if !zl.inLexRange(r) {
		return nil, 0
	}
	rank := 1
	for x := zl.first(); x != nil; x = x.level[0].forward {
		if r.gteMin(x.member) {
			if r.lteMax(x.member) {
				return x, rank
			}
			return nil, 0
		}
		rank++
	}
	return nil, 0
}

func (zl *zskiplist) lastInLexLinear(r *zLexRange) (*zslNode, int) {
	if !zl.inLexRange(r) {
		return nil, 0
	}
	rank := zl.length
	for x := zl.tail; x != nil; x = x.backward {
		if r.lteMax(x.member) {
			if r.gteMin(x.member) {
				return x, rank
			}
			return nil, 0
		}
		rank--
	}
	return nil, 0
}
