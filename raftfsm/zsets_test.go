package raftfsm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// zsStep is one command and the show() rendering of its expected reply.
type zsStep struct {
	want string
	args []string
}

func zsRun(t *testing.T, setup [][]string, steps []zsStep) {
	t.Helper()
	d := newTestDB(t)
	for _, s := range setup {
		if r := d.do(s...); r.IsError() {
			t.Fatalf("setup %v: %s", s, r.Str)
		}
	}
	for _, s := range steps {
		d.expect(s.want, s.args...)
	}
}

func zs(want string, args ...string) zsStep { return zsStep{want, args} }

// zsGet returns key's zset from d (nil if absent).
func zsGet(d *testDB, key string) *zsetValue {
	e := d.db.find([]byte(key))
	if e == nil {
		return nil
	}
	z, _ := e.val.(*zsetValue)
	return z
}

// zsCheck verifies the skiplist invariants of z: order, spans, backward
// links, tail, length and agreement with the dict.
func zsCheck(t *testing.T, z *zsetValue) {
	t.Helper()
	zl := z.zsl
	var nodes []*zslNode
	var prev *zslNode
	for x := zl.first(); x != nil; x = x.level[0].forward {
		if x.backward != prev {
			t.Fatalf("bad backward link at %q", x.member)
		}
		if prev != nil && !zslLess(prev.score, prev.member, x.score, x.member) {
			t.Fatalf("out of order: %q %v then %q %v", prev.member, prev.score, x.member, x.score)
		}
		if s, ok := z.d.Get(x.member); !ok || s != x.score {
			t.Fatalf("dict disagrees on %q", x.member)
		}
		nodes = append(nodes, x)
		prev = x
	}
	if zl.tail != prev || zl.length != len(nodes) || z.d.Len() != len(nodes) {
		t.Fatalf("tail/length mismatch: length %d dict %d nodes %d", zl.length, z.d.Len(), len(nodes))
	}
	rank := map[*zslNode]int{zl.header: 0}
	for i, n := range nodes {
		rank[n] = i + 1
	}
	for _, n := range append([]*zslNode{zl.header}, nodes...) {
		h := len(n.level)
		if n == zl.header {
			h = zl.level
		}
		for i := 0; i < h; i++ {
			f := n.level[i].forward
			want := len(nodes) - rank[n] // span to the end for the last link
			if f != nil {
				want = rank[f] - rank[n]
			}
			if f == nil && i >= 0 && n.level[i].span != want && n.level[i].span != 0 {
				t.Fatalf("bad trailing span at level %d of rank %d: %d want %d", i, rank[n], n.level[i].span, want)
			}
			if f != nil && n.level[i].span != want {
				t.Fatalf("bad span at level %d of rank %d: %d want %d", i, rank[n], n.level[i].span, want)
			}
		}
	}
	for i, n := range nodes {
		if got := zl.byRank(i + 1); got != n {
			t.Fatalf("byRank(%d) wrong", i+1)
		}
		if got := zl.rank(n.score, n.member); got != i+1 {
			t.Fatalf("rank(%q) = %d, want %d", n.member, got, i+1)
		}
	}
}

func TestZsetAddOptions(t *testing.T) {
	zsRun(t, [][]string{{"ZADD", "z", "1", "a", "2", "b"}}, []zsStep{
		zs("(1)", "ZADD", "z", "3", "c"),
		zs("(0)", "ZADD", "z", "5", "a"),
		zs("5", "ZSCORE", "z", "a"),
		zs("(1)", "ZADD", "z", "CH", "6", "a", "3", "c"),
		zs("(0)", "ZADD", "z", "NX", "10", "a"),
		zs("6", "ZSCORE", "z", "a"),
		zs("(1)", "ZADD", "z", "NX", "10", "d"),
		zs("(0)", "ZADD", "z", "XX", "20", "e"),
		zs("<nil>", "ZSCORE", "z", "e"),
		zs("(0)", "ZADD", "z", "XX", "20", "d"),
		zs("20", "ZSCORE", "z", "d"),
		zs("(1)", "ZADD", "z", "XX", "CH", "21", "d"),
		// GT / LT only touch existing members, never block additions.
		zs("(0)", "ZADD", "z", "GT", "CH", "1", "d"),
		zs("(1)", "ZADD", "z", "GT", "CH", "30", "d"),
		zs("(0)", "ZADD", "z", "LT", "CH", "40", "d"),
		zs("(1)", "ZADD", "z", "LT", "CH", "4", "d"),
		zs("(1)", "ZADD", "z", "GT", "100", "f"),
		zs("(0)", "ZADD", "z", "XX", "GT", "200", "g"),
		zs("(1)", "ZADD", "z", "XX", "GT", "CH", "200", "f"),
		// INCR.
		zs("3", "ZADD", "z", "INCR", "1", "b"),
		zs("1.5", "ZADD", "z", "INCR", "1.5", "new"),
		zs("<nil>", "ZADD", "z", "NX", "INCR", "1", "b"),
		zs("<nil>", "ZADD", "z", "XX", "INCR", "1", "nope"),
		zs("<nil>", "ZADD", "z", "GT", "INCR", "-1", "b"),
		zs("4", "ZADD", "z", "GT", "INCR", "1", "b"),
		zs("4", "ZADD", "z", "INCR", "0", "b"),
		zs("7.5", "ZINCRBY", "z", "3.5", "b"),
		zs("-1", "ZINCRBY", "z", "-1", "zz"),
		// XX on a missing key creates nothing.
		zs("(0)", "ZADD", "nokey", "XX", "1", "a"),
		zs("<nil>", "ZADD", "nokey", "XX", "INCR", "1", "a"),
		zs("(0)", "EXISTS", "nokey"),
		// Errors.
		zs("!ERR XX and NX options at the same time are not compatible", "ZADD", "z", "XX", "NX", "1", "a"),
		zs("!ERR GT, LT, and/or NX options at the same time are not compatible", "ZADD", "z", "GT", "NX", "1", "a"),
		zs("!ERR GT, LT, and/or NX options at the same time are not compatible", "ZADD", "z", "LT", "NX", "1", "a"),
		zs("!ERR GT, LT, and/or NX options at the same time are not compatible", "ZADD", "z", "GT", "LT", "1", "a"),
		zs("!ERR INCR option supports a single increment-element pair", "ZADD", "z", "INCR", "1", "a", "2", "b"),
		zs("!ERR syntax error", "ZADD", "z", "1", "a", "2"),
		zs("!ERR syntax error", "ZADD", "z", "NX", "CH"),
		zs("!ERR syntax error", "ZINCRBY", "z", "nx", "a"),
		zs("!ERR value is not a valid float", "ZADD", "z", "1", "a", "x", "b"),
		zs("!ERR value is not a valid float", "ZADD", "z", "nan", "a"),
		zs("!ERR value is not a valid float", "ZADD", "z", "", "a"),
		zs("!ERR value is not a valid float", "ZINCRBY", "z", "abc", "a"),
		zs("inf", "ZADD", "z", "INCR", "+inf", "i"),
		zs("!ERR resulting score is not a number (NaN)", "ZINCRBY", "z", "-inf", "i"),
		zs("!ERR resulting score is not a number (NaN)", "ZADD", "z", "INCR", "-inf", "i"),
		zs("inf", "ZSCORE", "z", "i"),
		zs("!ERR wrong number of arguments for 'zadd' command", "ZADD", "z", "1"),
	})
}

func TestZsetWrongTypeAndMissing(t *testing.T) {
	zsRun(t, [][]string{{"SET", "s", "x"}}, []zsStep{
		zs("!WRONGTYPE Operation against a key holding the wrong kind of value", "ZADD", "s", "1", "a"),
		zs("!ERR value is not a valid float", "ZADD", "s", "x", "a"), // scores parse first
		zs("!WRONGTYPE Operation against a key holding the wrong kind of value", "ZSCORE", "s", "a"),
		zs("!WRONGTYPE Operation against a key holding the wrong kind of value", "ZMSCORE", "s", "a"),
		zs("!WRONGTYPE Operation against a key holding the wrong kind of value", "ZRANGE", "s", "0", "-1"),
		zs("!WRONGTYPE Operation against a key holding the wrong kind of value", "ZPOPMIN", "s", "0"),
		zs("!WRONGTYPE Operation against a key holding the wrong kind of value", "ZMPOP", "2", "nokey", "s", "MIN"),
		zs("!WRONGTYPE Operation against a key holding the wrong kind of value", "ZUNIONSTORE", "d", "1", "s"),
		zs("!WRONGTYPE Operation against a key holding the wrong kind of value", "ZRANGESTORE", "d", "s", "0", "-1"),
		zs("!WRONGTYPE Operation against a key holding the wrong kind of value", "ZRANDMEMBER", "s"),
		zs("!WRONGTYPE Operation against a key holding the wrong kind of value", "ZSCAN", "s", "0"),
		zs("!WRONGTYPE Operation against a key holding the wrong kind of value", "ZREMRANGEBYRANK", "s", "0", "1"),
		zs("!ERR min or max is not a float", "ZCOUNT", "s", "x", "1"), // range parses first
		zs("(0)", "ZCARD", "none"),
		zs("<nil>", "ZSCORE", "none", "a"),
		zs("[<nil> <nil>]", "ZMSCORE", "none", "a", "b"),
		zs("<nil>", "ZRANK", "none", "a"),
		zs("[]", "ZRANGE", "none", "0", "-1"),
		zs("[]", "ZPOPMIN", "none"),
		zs("<nil>", "ZMPOP", "1", "none", "MIN"),
		zs("(0)", "ZREM", "none", "a"),
		zs("(0)", "ZCOUNT", "none", "-inf", "+inf"),
		zs("(0)", "ZLEXCOUNT", "none", "-", "+"),
		zs("<nil>", "ZRANDMEMBER", "none"),
		zs("[]", "ZRANDMEMBER", "none", "5"),
		zs("[0 []]", "ZSCAN", "none", "0"),
	})
}

func TestZsetRanksAndScores(t *testing.T) {
	zsRun(t, [][]string{{"ZADD", "z", "1", "a", "2", "b", "2", "c", "3", "d", "-inf", "m", "+inf", "p"}}, []zsStep{
		zs("(6)", "ZCARD", "z"),
		zs("(0)", "ZRANK", "z", "m"),
		zs("(1)", "ZRANK", "z", "a"),
		zs("(2)", "ZRANK", "z", "b"),
		zs("(3)", "ZRANK", "z", "c"),
		zs("(5)", "ZRANK", "z", "p"),
		zs("(0)", "ZREVRANK", "z", "p"),
		zs("(2)", "ZREVRANK", "z", "c"),
		zs("<nil>", "ZRANK", "z", "zz"),
		zs("-inf", "ZSCORE", "z", "m"),
		zs("[1 <nil> inf]", "ZMSCORE", "z", "a", "x", "p"),
		zs("(2)", "ZREM", "z", "a", "x", "m"),
		zs("(0)", "ZRANK", "z", "b"),
		zs("(4)", "ZREM", "z", "b", "c", "d", "p"),
		zs("(0)", "EXISTS", "z"),
	})
}

func TestZsetRangeForms(t *testing.T) {
	setup := [][]string{
		{"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "5", "f"},
		{"ZADD", "lex", "0", "alpha", "0", "bar", "0", "cool", "0", "down", "0", "elephant", "0", "foo"},
	}
	zsRun(t, setup, []zsStep{
		// By rank.
		zs("[a b c d e f]", "ZRANGE", "z", "0", "-1"),
		zs("[b c]", "ZRANGE", "z", "1", "2"),
		zs("[e f]", "ZRANGE", "z", "-2", "100"),
		zs("[a]", "ZRANGE", "z", "-100", "0"),
		zs("[]", "ZRANGE", "z", "3", "1"),
		zs("[]", "ZRANGE", "z", "6", "10"),
		zs("[a 1 b 2]", "ZRANGE", "z", "0", "1", "WITHSCORES"),
		zs("[f e d]", "ZRANGE", "z", "0", "2", "REV"),
		zs("[f e d]", "ZREVRANGE", "z", "0", "2"),
		zs("[b 2 a 1]", "ZREVRANGE", "z", "-2", "-1", "withscores"),
		zs("!ERR syntax error", "ZREVRANGE", "z", "0", "1", "REV"),
		zs("!ERR syntax error", "ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"),
		zs("!ERR value is not an integer or out of range", "ZRANGE", "z", "a", "1"),
		zs("!ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX", "ZRANGE", "z", "0", "1", "LIMIT", "0", "1"),
		zs("!ERR syntax error", "ZRANGE", "z", "0", "1", "LIMIT", "0"),
		// By score, inclusive and exclusive.
		zs("[b c d]", "ZRANGE", "z", "2", "4", "BYSCORE"),
		zs("[c]", "ZRANGE", "z", "(2", "(4", "BYSCORE"),
		zs("[c d]", "ZRANGEBYSCORE", "z", "(2", "4"),
		zs("[a b c d e f]", "ZRANGEBYSCORE", "z", "-inf", "+inf"),
		zs("[]", "ZRANGEBYSCORE", "z", "(5", "+inf"),
		zs("[]", "ZRANGEBYSCORE", "z", "(3", "(3"),
		zs("[c]", "ZRANGEBYSCORE", "z", "3", "3"),
		zs("[]", "ZRANGEBYSCORE", "z", "4", "2"),
		zs("[c 3 d 4]", "ZRANGEBYSCORE", "z", "3", "4", "WITHSCORES"),
		zs("[d c b]", "ZREVRANGEBYSCORE", "z", "4", "2"),
		zs("[d c b]", "ZRANGE", "z", "4", "2", "BYSCORE", "REV"),
		zs("[c b]", "ZREVRANGEBYSCORE", "z", "(4", "(1"),
		zs("[f e]", "ZREVRANGEBYSCORE", "z", "+inf", "(4"),
		// LIMIT.
		zs("[b c]", "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "2"),
		zs("[e f]", "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "4", "-1"),
		zs("[]", "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "6", "2"),
		zs("[]", "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"),
		zs("[]", "ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "0", "0"),
		zs("[d]", "ZRANGEBYSCORE", "z", "(2", "4", "LIMIT", "1", "5"),
		zs("[d 4 c 3]", "ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", "2", "2"),
		zs("[c b]", "ZRANGE", "z", "(4", "2", "BYSCORE", "REV", "LIMIT", "0", "2"),
		zs("[b]", "ZRANGE", "z", "4", "2", "BYSCORE", "REV", "LIMIT", "2", "10"),
		zs("!ERR value is not an integer or out of range", "ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "x", "1"),
		// Score parse errors.
		zs("!ERR min or max is not a float", "ZRANGEBYSCORE", "z", "str", "1"),
		zs("!ERR min or max is not a float", "ZRANGEBYSCORE", "z", "1", "str"),
		zs("!ERR min or max is not a float", "ZRANGEBYSCORE", "z", "1", "NaN"),
		zs("!ERR min or max is not a float", "ZRANGEBYSCORE", "z", "((1", "2"),
		// By lex.
		zs("[alpha bar cool]", "ZRANGEBYLEX", "lex", "-", "[cool"),
		zs("[bar cool]", "ZRANGEBYLEX", "lex", "[bar", "(down"),
		zs("[cool down]", "ZRANGEBYLEX", "lex", "(bar", "[down"),
		zs("[alpha bar cool down elephant foo]", "ZRANGEBYLEX", "lex", "-", "+"),
		zs("[]", "ZRANGEBYLEX", "lex", "+", "-"),
		zs("[]", "ZRANGEBYLEX", "lex", "(cool", "(cool"),
		zs("[cool]", "ZRANGEBYLEX", "lex", "[cool", "[cool"),
		zs("[foo elephant down]", "ZREVRANGEBYLEX", "lex", "+", "(cool"),
		zs("[foo elephant]", "ZRANGE", "lex", "+", "(cool", "BYLEX", "REV", "LIMIT", "0", "2"),
		zs("[cool down]", "ZRANGEBYLEX", "lex", "-", "+", "LIMIT", "2", "2"),
		zs("[cool]", "ZREVRANGEBYLEX", "lex", "[down", "-", "LIMIT", "1", "1"),
		zs("!ERR syntax error, WITHSCORES not supported in combination with BYLEX", "ZRANGE", "lex", "-", "+", "BYLEX", "WITHSCORES"),
		zs("!ERR syntax error, WITHSCORES not supported in combination with BYLEX", "ZRANGEBYLEX", "lex", "-", "+", "WITHSCORES"),
		zs("!ERR min or max not valid string range item", "ZRANGEBYLEX", "lex", "foo", "bar"),
		zs("!ERR min or max not valid string range item", "ZRANGEBYLEX", "lex", "[foo", "bar"),
		zs("!ERR min or max not valid string range item", "ZRANGEBYLEX", "lex", "+x", "[bar"),
		zs("!ERR min or max not valid string range item", "ZRANGEBYLEX", "lex", "-x", "[bar"),
		// Counts.
		zs("(3)", "ZCOUNT", "z", "2", "4"),
		zs("(1)", "ZCOUNT", "z", "(2", "(4"),
		zs("(6)", "ZCOUNT", "z", "-inf", "+inf"),
		zs("(0)", "ZCOUNT", "z", "(5", "+inf"),
		zs("(2)", "ZCOUNT", "z", "5", "5"),
		zs("(3)", "ZLEXCOUNT", "lex", "-", "[cool"),
		zs("(2)", "ZLEXCOUNT", "lex", "(alpha", "(down"),
		zs("(0)", "ZLEXCOUNT", "lex", "[z", "+"),
		zs("(6)", "ZLEXCOUNT", "lex", "-", "+"),
		zs("!ERR min or max not valid string range item", "ZLEXCOUNT", "lex", "a", "+"),
	})
}

// TestZsetLexMixedScores pins the listpack-walk answers Redis 7.0 gives for
// lex ranges over a small zset with mixed scores (verified against
// redis-server 7.0.15).
func TestZsetLexMixedScores(t *testing.T) {
	zsRun(t, [][]string{{"ZADD", "m", "1", "b", "2", "a", "3", "d", "4", "c"}}, []zsStep{
		zs("[b a]", "ZRANGEBYLEX", "m", "[a", "[c"),
		zs("[b a d c]", "ZRANGEBYLEX", "m", "[b", "+"),
		zs("[c d a b]", "ZREVRANGEBYLEX", "m", "[c", "[a"),
		zs("(2)", "ZLEXCOUNT", "m", "[a", "[c"),
		zs("(4)", "ZLEXCOUNT", "m", "[b", "[d"),
		zs("listpack", "OBJECT", "ENCODING", "m"),
		zs("(2)", "ZREMRANGEBYLEX", "m", "[b", "[c"),
		zs("[d c]", "ZRANGE", "m", "0", "-1"),
	})
}

func TestZsetEncoding(t *testing.T) {
	d := newTestDB(t)
	d.expect("(1)", "ZADD", "z", "1", "a")
	if got := zsGet(d, "z").Encoding(); got != "listpack" {
		t.Fatalf("small zset: %s", got)
	}
	args := []string{"ZADD", "z"}
	for i := 0; i < 200; i++ {
		args = append(args, fmt.Sprint(i), fmt.Sprintf("m%d", i))
	}
	d.do(args...)
	d.do("ZREMRANGEBYRANK", "z", "0", "150")
	// Like Redis, shrinking never converts back.
	if got := zsGet(d, "z").Encoding(); got != "skiplist" {
		t.Fatalf("shrunk zset: %s", got)
	}
	d.do("ZUNIONSTORE", "u", "1", "z")
	if got := zsGet(d, "u").Encoding(); got != "listpack" {
		t.Fatalf("stored small result: %s", got)
	}
	d.do("ZADD", "long", "1", strings.Repeat("x", 65))
	if got := zsGet(d, "long").Encoding(); got != "skiplist" {
		t.Fatalf("long member: %s", got)
	}
}

func TestZsetWithScoresMarker(t *testing.T) {
	d := newTestDB(t)
	d.expect("(2)", "ZADD", "z", "1", "a", "2.5", "b")
	cases := []struct {
		args  []string
		pairs bool
	}{
		{[]string{"ZRANGE", "z", "0", "-1", "WITHSCORES"}, true},
		{[]string{"ZRANGE", "z", "0", "-1"}, false},
		{[]string{"ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES"}, true},
		{[]string{"ZREVRANGE", "z", "0", "-1", "WITHSCORES"}, true},
		{[]string{"ZUNION", "1", "z", "WITHSCORES"}, true},
		{[]string{"ZRANDMEMBER", "z", "2", "WITHSCORES"}, true},
		{[]string{"ZRANDMEMBER", "z", "2"}, false},
	}
	for _, tc := range cases {
		r := d.read(tc.args...)
		if r.Kind != KindArray || (r.Int == zsPairsMarker) != tc.pairs {
			t.Fatalf("%v: kind %d marker %d, want pairs=%v", tc.args, r.Kind, r.Int, tc.pairs)
		}
		if tc.pairs && r.Elems[1].Kind != KindDouble {
			t.Fatalf("%v: score is not a double", tc.args)
		}
	}
	// ZPOPMIN without count is flat in RESP3 too; with a count it pairs.
	if r := d.do("ZPOPMIN", "z"); r.Int != 0 || show(r) != "[a 1]" {
		t.Fatalf("ZPOPMIN: %s marker %d", show(r), r.Int)
	}
	if r := d.do("ZPOPMAX", "z", "5"); r.Int != zsPairsMarker || show(r) != "[b 2.5]" {
		t.Fatalf("ZPOPMAX count: %s marker %d", show(r), r.Int)
	}
}

func TestZsetPop(t *testing.T) {
	zsRun(t, [][]string{
		{"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"},
		{"ZADD", "z2", "10", "x"},
	}, []zsStep{
		zs("!ERR value is out of range, must be positive", "ZPOPMIN", "z", "-1"),
		zs("!ERR value is out of range, must be positive", "ZPOPMIN", "z", "x"),
		zs("!ERR syntax error", "ZPOPMIN", "z", "1", "2"),
		zs("[]", "ZPOPMIN", "z", "0"),
		zs("[a 1]", "ZPOPMIN", "z"),
		zs("[d 4 c 3]", "ZPOPMAX", "z", "2"),
		zs("[b 2]", "ZPOPMAX", "z", "10"),
		zs("(0)", "EXISTS", "z"),
		zs("[z2 [[x 10]]]", "ZMPOP", "2", "z", "z2", "MIN", "COUNT", "5"),
		zs("<nil>", "ZMPOP", "2", "z", "z2", "MAX"),
		zs("!ERR numkeys should be greater than 0", "ZMPOP", "0", "z", "MIN"),
		zs("!ERR numkeys should be greater than 0", "ZMPOP", "a", "z", "MIN"),
		zs("!ERR syntax error", "ZMPOP", "1", "z", "bad"),
		zs("!ERR syntax error", "ZMPOP", "1", "z", "MIN", "COUNT"),
		zs("!ERR syntax error", "ZMPOP", "1", "z", "MAX", "COUNT", "1", "COUNT", "2"),
		zs("!ERR syntax error", "ZMPOP", "5", "z", "MIN"),
		zs("!ERR count should be greater than 0", "ZMPOP", "1", "z", "MIN", "COUNT", "0"),
		zs("!ERR count should be greater than 0", "ZMPOP", "1", "z", "MIN", "COUNT", "a"),
	})
}

func TestZsetRemRange(t *testing.T) {
	setup := [][]string{
		{"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"},
		{"ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"},
	}
	zsRun(t, setup, []zsStep{
		zs("(0)", "ZREMRANGEBYRANK", "z", "3", "1"),
		zs("(2)", "ZREMRANGEBYRANK", "z", "1", "2"),
		zs("[a d e]", "ZRANGE", "z", "0", "-1"),
		zs("(1)", "ZREMRANGEBYRANK", "z", "-1", "-1"),
		zs("(1)", "ZREMRANGEBYSCORE", "z", "(1", "+inf"),
		zs("(0)", "ZREMRANGEBYSCORE", "z", "(1", "+inf"),
		zs("(1)", "ZREMRANGEBYSCORE", "z", "-inf", "1"),
		zs("(0)", "EXISTS", "z"),
		zs("!ERR min or max is not a float", "ZREMRANGEBYSCORE", "z", "x", "1"),
		zs("!ERR value is not an integer or out of range", "ZREMRANGEBYRANK", "z", "x", "1"),
		zs("(2)", "ZREMRANGEBYLEX", "lex", "(a", "[c"),
		zs("[a d e]", "ZRANGE", "lex", "0", "-1"),
		zs("(0)", "ZREMRANGEBYLEX", "lex", "(e", "+"),
		zs("(3)", "ZREMRANGEBYLEX", "lex", "-", "+"),
		zs("(0)", "EXISTS", "lex"),
		zs("!ERR min or max not valid string range item", "ZREMRANGEBYLEX", "lex", "a", "+"),
	})
}

func TestZsetStoreOps(t *testing.T) {
	setup := [][]string{
		{"ZADD", "a", "1", "x", "2", "y", "3", "z"},
		{"ZADD", "b", "10", "y", "20", "z", "30", "w"},
		{"SADD", "s", "x", "w", "q"},
		{"SET", "str", "v"},
		{"ZADD", "dst", "100", "old"},
		{"EXPIRE", "dst", "1000"},
	}
	zsRun(t, setup, []zsStep{
		zs("(4)", "ZUNIONSTORE", "dst", "2", "a", "b"),
		zs("[x 1 y 12 z 23 w 30]", "ZRANGE", "dst", "0", "-1", "WITHSCORES"),
		zs("(-1)", "TTL", "dst"),
		zs("(4)", "ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "2", "0.5"),
		zs("[x 2 y 9 w 15 z 16]", "ZRANGE", "dst", "0", "-1", "WITHSCORES"),
		zs("(4)", "ZUNIONSTORE", "dst", "2", "a", "b", "AGGREGATE", "MIN"),
		zs("[x 1 y 2 z 3 w 30]", "ZRANGE", "dst", "0", "-1", "WITHSCORES"),
		zs("(4)", "ZUNIONSTORE", "dst", "2", "a", "b", "aggregate", "max", "weights", "1", "-1"),
		zs("[w -30 x 1 y 2 z 3]", "ZRANGE", "dst", "0", "-1", "WITHSCORES"),
		zs("(2)", "ZINTERSTORE", "dst", "2", "a", "b"),
		zs("[y 12 z 23]", "ZRANGE", "dst", "0", "-1", "WITHSCORES"),
		zs("(2)", "ZINTERSTORE", "dst", "2", "a", "b", "WEIGHTS", "3", "1", "AGGREGATE", "MAX"),
		zs("[y 10 z 20]", "ZRANGE", "dst", "0", "-1", "WITHSCORES"),
		zs("(1)", "ZDIFFSTORE", "dst", "2", "a", "b"),
		zs("[x 1]", "ZRANGE", "dst", "0", "-1", "WITHSCORES"),
		// Sets take part with score 1.
		zs("(5)", "ZUNIONSTORE", "dst", "2", "a", "s"),
		zs("[q 1 w 1 x 2 y 2 z 3]", "ZRANGE", "dst", "0", "-1", "WITHSCORES"),
		zs("(1)", "ZINTERSTORE", "dst", "2", "b", "s", "WEIGHTS", "1", "5"),
		zs("[w 35]", "ZRANGE", "dst", "0", "-1", "WITHSCORES"),
		zs("(2)", "ZDIFFSTORE", "dst", "2", "a", "s"),
		// Missing keys are empty inputs; an empty result deletes dst.
		zs("(3)", "ZUNIONSTORE", "dst", "2", "a", "nokey"),
		zs("(0)", "ZINTERSTORE", "dst", "2", "a", "nokey"),
		zs("(0)", "EXISTS", "dst"),
		zs("(0)", "ZDIFFSTORE", "dst", "2", "a", "a"),
		// The destination may be a source.
		zs("(3)", "ZUNIONSTORE", "a", "2", "a", "a"),
		zs("[x 2 y 4 z 6]", "ZRANGE", "a", "0", "-1", "WITHSCORES"),
		// inf + -inf sums to 0, weight 0 * inf is 0.
		zs("(1)", "ZADD", "i1", "inf", "m"),
		zs("(1)", "ZADD", "i2", "-inf", "m"),
		zs("(1)", "ZUNIONSTORE", "dst", "2", "i1", "i2"),
		zs("0", "ZSCORE", "dst", "m"),
		zs("(1)", "ZUNIONSTORE", "dst", "1", "i1", "WEIGHTS", "0"),
		zs("0", "ZSCORE", "dst", "m"),
		// Errors.
		zs("!ERR at least 1 input key is needed for 'zunionstore' command", "ZUNIONSTORE", "dst", "0", "a"),
		zs("!ERR at least 1 input key is needed for 'zdiffstore' command", "ZDIFFSTORE", "dst", "0", "a"),
		zs("!ERR value is not an integer or out of range", "ZUNIONSTORE", "dst", "x", "a"),
		zs("!ERR syntax error", "ZUNIONSTORE", "dst", "3", "a", "b"),
		zs("!ERR syntax error", "ZUNIONSTORE", "dst", "2", "a", "b", "WITHSCORES"),
		zs("!ERR syntax error", "ZDIFFSTORE", "dst", "2", "a", "b", "WEIGHTS", "1", "1"),
		zs("!ERR syntax error", "ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "1"),
		zs("!ERR syntax error", "ZUNIONSTORE", "dst", "2", "a", "b", "AGGREGATE", "AVG"),
		zs("!ERR weight value is not a float", "ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "1", "x"),
		zs("!WRONGTYPE Operation against a key holding the wrong kind of value", "ZINTERSTORE", "dst", "2", "a", "str"),
	})
}

func TestZsetReadSetOps(t *testing.T) {
	setup := [][]string{
		{"ZADD", "a", "1", "x", "2", "y", "3", "z"},
		{"ZADD", "b", "10", "y", "20", "z", "30", "w"},
	}
	zsRun(t, setup, []zsStep{
		zs("[x y z w]", "ZUNION", "2", "a", "b"),
		zs("[x 1 y 12 z 23 w 30]", "ZUNION", "2", "a", "b", "WITHSCORES"),
		zs("[y 12 z 23]", "ZINTER", "2", "a", "b", "WITHSCORES"),
		zs("[x 1]", "ZDIFF", "2", "a", "b", "WITHSCORES"),
		zs("[w]", "ZDIFF", "2", "b", "a"),
		zs("(2)", "ZINTERCARD", "2", "a", "b"),
		zs("(1)", "ZINTERCARD", "2", "a", "b", "LIMIT", "1"),
		zs("(2)", "ZINTERCARD", "2", "a", "b", "LIMIT", "0"),
		zs("!ERR LIMIT can't be negative", "ZINTERCARD", "2", "a", "b", "LIMIT", "-1"),
		zs("!ERR LIMIT can't be negative", "ZINTERCARD", "2", "a", "b", "LIMIT", "x"),
		zs("!ERR syntax error", "ZINTERCARD", "1", "a", "a"),
		zs("!ERR syntax error", "ZINTERCARD", "1", "a", "WITHSCORES"),
		zs("!ERR at least 1 input key is needed for 'zintercard' command", "ZINTERCARD", "0", "a"),
		zs("!ERR at least 1 input key is needed for 'zunion' command", "ZUNION", "0", "a"),
		zs("!ERR syntax error", "ZDIFF", "1", "a", "AGGREGATE", "MIN"),
	})
}

func TestZsetRangeStore(t *testing.T) {
	zsRun(t, [][]string{{"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"}}, []zsStep{
		zs("(2)", "ZRANGESTORE", "dst", "z", "1", "2"),
		zs("[b 2 c 3]", "ZRANGE", "dst", "0", "-1", "WITHSCORES"),
		zs("(2)", "ZRANGESTORE", "dst", "z", "(1", "3", "BYSCORE", "LIMIT", "0", "2"),
		zs("[b c]", "ZRANGE", "dst", "0", "-1"),
		zs("(2)", "ZRANGESTORE", "dst", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "0", "2"),
		zs("[c 3 d 4]", "ZRANGE", "dst", "0", "-1", "WITHSCORES"),
		zs("(4)", "ZRANGESTORE", "dst", "z", "-", "+", "BYLEX"),
		zs("(0)", "ZRANGESTORE", "dst", "z", "5", "6"),
		zs("(0)", "EXISTS", "dst"),
		zs("(1)", "ZRANGESTORE", "dst", "z", "0", "0"),
		zs("(0)", "ZRANGESTORE", "dst", "nokey", "0", "-1"),
		zs("(0)", "EXISTS", "dst"),
		zs("!ERR syntax error", "ZRANGESTORE", "dst", "z", "0", "-1", "WITHSCORES"),
		zs("(2)", "ZRANGESTORE", "z", "z", "0", "1"),
		zs("[a b]", "ZRANGE", "z", "0", "-1"),
	})
}

func TestZsetRandMember(t *testing.T) {
	d := newTestDB(t)
	args := []string{"ZADD", "z"}
	for i := 0; i < 20; i++ {
		args = append(args, fmt.Sprint(i), fmt.Sprintf("m%d", i))
	}
	d.do(args...)
	for _, n := range []int{1, 5, 10, 19, 20, 25} {
		r := d.read("ZRANDMEMBER", "z", fmt.Sprint(n), "WITHSCORES")
		want := min(n, 20)
		if len(r.Elems) != 2*want {
			t.Fatalf("count %d: got %d elements", n, len(r.Elems))
		}
		seen := map[string]bool{}
		for i := 0; i < len(r.Elems); i += 2 {
			m := r.Elems[i].Str
			if seen[m] {
				t.Fatalf("count %d: duplicate %s", n, m)
			}
			seen[m] = true
			if "m"+FormatDouble(r.Elems[i+1].F) != m {
				t.Fatalf("count %d: wrong score for %s", n, m)
			}
		}
	}
	if r := d.read("ZRANDMEMBER", "z", "-50"); len(r.Elems) != 50 {
		t.Fatalf("negative count: %d elements", len(r.Elems))
	}
	if r := d.read("ZRANDMEMBER", "z"); r.Kind != KindBulk || !strings.HasPrefix(r.Str, "m") {
		t.Fatalf("single: %s", show(r))
	}
	// Same seed and state: same picks.
	d2 := newTestDB(t)
	d2.do(args...)
	for _, n := range []string{"-7", "3", "15"} {
		if a, b := show(d.read("ZRANDMEMBER", "z", n)), show(d2.read("ZRANDMEMBER", "z", n)); a != b {
			t.Fatalf("ZRANDMEMBER %s differs: %s vs %s", n, a, b)
		}
	}
	zsRun(t, [][]string{{"ZADD", "z", "1", "a"}}, []zsStep{
		zs("[]", "ZRANDMEMBER", "z", "0"),
		zs("!ERR syntax error", "ZRANDMEMBER", "z", "1", "foo"),
		zs("!ERR syntax error", "ZRANDMEMBER", "z", "1", "WITHSCORES", "x"),
		zs("!ERR value is not an integer or out of range", "ZRANDMEMBER", "z", "x"),
		zs("!ERR value is out of range", "ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES"),
		zs("!ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807", "ZRANDMEMBER", "z", "-9223372036854775808"),
		zs("[a 1 a 1]", "ZRANDMEMBER", "z", "-2", "WITHSCORES"),
	})
}

func TestZsetScan(t *testing.T) {
	d := newTestDB(t)
	d.expect("(3)", "ZADD", "small", "1", "a", "2.5", "b", "3", "c")
	d.expect("[0 [a 1 b 2.5 c 3]]", "ZSCAN", "small", "0")
	d.expect("[0 [b 2.5]]", "ZSCAN", "small", "0", "MATCH", "b*")
	d.expect("!ERR invalid cursor", "ZSCAN", "small", "x")
	d.expect("!ERR syntax error", "ZSCAN", "small", "0", "COUNT", "0")
	d.expect("!ERR syntax error", "ZSCAN", "small", "0", "FOO", "1")
	d.expect("!ERR value is not an integer or out of range", "ZSCAN", "small", "0", "COUNT", "x")
	args := []string{"ZADD", "big"}
	for i := 0; i < 500; i++ {
		args = append(args, fmt.Sprint(i), fmt.Sprintf("k%d", i))
	}
	d.do(args...)
	seen := map[string]bool{}
	cursor := "0"
	for iter := 0; ; iter++ {
		r := d.read("ZSCAN", "big", cursor, "COUNT", "37")
		if iter > 1000 {
			t.Fatal("scan does not terminate")
		}
		for i := 0; i < len(r.Elems[1].Elems); i += 2 {
			m, s := r.Elems[1].Elems[i].Str, r.Elems[1].Elems[i+1].Str
			if "k"+s != m {
				t.Fatalf("bad pair %s %s", m, s)
			}
			seen[m] = true
		}
		cursor = r.Elems[0].Str
		if cursor == "0" {
			break
		}
	}
	if len(seen) != 500 {
		t.Fatalf("scan saw %d members", len(seen))
	}
}

// TestZsetDeterminism builds the same zset in two databases and compares
// the skiplists node by node, including heights and spans.
func TestZsetDeterminism(t *testing.T) {
	build := func() *testDB {
		d := newTestDB(t)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 3000; i++ {
			m := fmt.Sprintf("m%d", rng.IntN(800))
			switch rng.IntN(6) {
			case 0:
				d.do("ZREM", "z", m)
			case 1:
				d.do("ZINCRBY", "z", fmt.Sprint(rng.IntN(10)-5), m)
			default:
				d.do("ZADD", "z", fmt.Sprint(rng.IntN(100)), m)
			}
		}
		d.do("ZUNIONSTORE", "u", "2", "z", "z", "WEIGHTS", "1", "2")
		return d
	}
	a, b := build(), build()
	for _, key := range []string{"z", "u"} {
		za, zb := zsGet(a, key), zsGet(b, key)
		zsCheck(t, za)
		if got, want := zsShape(za), zsShape(zb); got != want {
			t.Fatalf("%s: skiplists differ", key)
		}
		if za.zsl.rng != zb.zsl.rng {
			t.Fatalf("%s: PRNG states differ", key)
		}
		for i := 0; i < za.d.Len(); i++ {
			ka, _ := za.d.At(i)
			kb, _ := zb.d.At(i)
			if ka != kb {
				t.Fatalf("%s: dict order differs at %d", key, i)
			}
		}
	}
}

// zsShape renders every node with its height and spans.
func zsShape(z *zsetValue) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "L%d N%d;", z.zsl.level, z.zsl.length)
	for x := z.zsl.first(); x != nil; x = x.level[0].forward {
		fmt.Fprintf(&sb, "%s=%v:", x.member, x.score)
		for _, l := range x.level {
			fmt.Fprintf(&sb, "%d,", l.span)
		}
		sb.WriteByte(';')
	}
	return sb.String()
}

func TestZsetClone(t *testing.T) {
	z := newZset()
	for i := 0; i < 300; i++ {
		z.Add(fmt.Sprintf("m%03d", i), float64(i%17))
	}
	c := z.Clone().(*zsetValue)
	zsCheck(t, c)
	if zsShape(c) != zsShape(z) || c.zsl.rng != z.zsl.rng {
		t.Fatal("clone differs from the original")
	}
	before := zsShape(z)
	c.Add("m000", 1000)
	c.Add("new", -1)
	c.Remove([]byte("m005"))
	zsCheck(t, c)
	zsCheck(t, z)
	if zsShape(z) != before {
		t.Fatal("mutating the clone changed the original")
	}
	if s, _ := z.Score([]byte("m000")); s != 0 {
		t.Fatal("original score changed")
	}
	// The clone keeps evolving exactly as the original would.
	z.Add("m000", 1000)
	z.Add("new", -1)
	z.Remove([]byte("m005"))
	if zsShape(z) != zsShape(c) {
		t.Fatal("clone and original diverge on the same operations")
	}
}

// TestZsetSkiplistModel checks the skiplist against a sorted slice under
// random operations, including range deletions.
func TestZsetSkiplistModel(t *testing.T) {
	d := newTestDB(t)
	rng := rand.New(rand.NewPCG(7, 9))
	model := map[string]float64{}
	sorted := func() []zsEntry {
		var es []zsEntry
		for m, s := range model {
			es = append(es, zsEntry{m, s})
		}
		zsSortEntries(es)
		return es
	}
	for i := 0; i < 4000; i++ {
		m := fmt.Sprintf("%c%d", 'a'+rng.IntN(5), rng.IntN(60))
		s := float64(rng.IntN(40)) / 2
		switch op := rng.IntN(10); {
		case op < 6:
			d.do("ZADD", "z", FormatDouble(s), m)
			model[m] = s
		case op < 8:
			d.do("ZREM", "z", m)
			delete(model, m)
		case op == 8:
			lo, hi := float64(rng.IntN(40))/2, float64(rng.IntN(40))/2
			r := d.do("ZREMRANGEBYSCORE", "z", "("+FormatDouble(lo), FormatDouble(hi))
			n := 0
			for k, v := range model {
				if v > lo && v <= hi {
					delete(model, k)
					n++
				}
			}
			if r.Int != int64(n) {
				t.Fatalf("ZREMRANGEBYSCORE removed %d, model %d", r.Int, n)
			}
		default:
			start, stop := rng.IntN(10), rng.IntN(10)
			es := sorted()
			r := d.do("ZREMRANGEBYRANK", "z", fmt.Sprint(start), fmt.Sprint(stop))
			n := 0
			for k := start; k <= stop && k < len(es); k++ {
				delete(model, es[k].m)
				n++
			}
			if r.Int != int64(n) {
				t.Fatalf("ZREMRANGEBYRANK removed %d, model %d", r.Int, n)
			}
		}
		if i%200 == 0 || i == 3999 {
			z := zsGet(d, "z")
			if z == nil {
				if len(model) != 0 {
					t.Fatal("zset vanished")
				}
				continue
			}
			zsCheck(t, z)
			es := sorted()
			var got []zsEntry
			z.Each(func(m string, s float64) bool { got = append(got, zsEntry{m, s}); return true })
			if !slices.Equal(got, es) {
				t.Fatalf("iteration differs from model")
			}
			// Spot-check score ranges and counts against the model.
			lo := float64(rng.IntN(40)) / 2
			r := d.read("ZCOUNT", "z", "("+FormatDouble(lo), "+inf")
			n := 0
			for _, e := range es {
				if e.s > lo {
					n++
				}
			}
			if r.Int != int64(n) {
				t.Fatalf("ZCOUNT %d, model %d", r.Int, n)
			}
		}
	}
}

func TestZsetKeys(t *testing.T) {
	cases := []struct {
		args []string
		want []int
	}{
		{[]string{"zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"}, []int{1, 3, 4}},
		{[]string{"zunion", "2", "a", "b", "WITHSCORES"}, []int{2, 3}},
		{[]string{"zmpop", "1", "a", "MIN"}, []int{2}},
		{[]string{"zunion", "3", "a", "b"}, nil},
		{[]string{"zinterstore", "d", "0", "a"}, nil},
		{[]string{"zrangestore", "d", "s", "0", "1"}, []int{1, 2}},
	}
	for _, tc := range cases {
		cmd := Lookup([]byte(tc.args[0]))
		bs := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			bs[i] = []byte(a)
		}
		if got := cmd.KeyPositions(bs); !slices.Equal(got, tc.want) {
			t.Fatalf("%v: keys %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestZsetScoreFormatting(t *testing.T) {
	zsRun(t, [][]string{{"ZADD", "z", "1", "i", "1.5", "f", "0.1", "t", "-inf", "n", "1e300", "e"}}, []zsStep{
		zs("[n -inf t 0.10000000000000001 i 1 f 1.5 e 1.0000000000000001e+300]", "ZRANGE", "z", "0", "-1", "WITHSCORES"),
	})
	for _, tc := range []struct {
		in string
		f  float64
		ok bool
	}{{"", 0, true}, {" 1", 1, true}, {"1 ", 0, false}, {"-inf", math.Inf(-1), true}, {"nan", 0, false},
		{"1e400", math.Inf(1), true}, {"abc", 0, false}, {" ", 0, false}} {
		f, ok := zsStrtod([]byte(tc.in))
		if ok != tc.ok || (ok && f != tc.f) {
			t.Fatalf("zsStrtod(%q) = %v %v", tc.in, f, ok)
		}
	}
}
