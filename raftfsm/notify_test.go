package raftfsm

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

func TestNotifyClassesParseAndString(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"", ""},
		{"KEA", "AKE"},
		{"AKEn", "AKE"}, // as Redis prints it: A hides n
		{"Kx", "xK"},
		{"g$lshzxetd", "A"},
		{"Em", "Em"},
		{"lsKEm", "lsKEm"},
		{"ng", "gn"},
	} {
		m, ok := ParseNotifyClasses(tc.in)
		if !ok {
			t.Fatalf("%q refused", tc.in)
		}
		if got := m.String(); got != tc.out {
			t.Errorf("%q -> %q, want %q", tc.in, got, tc.out)
		}
	}
	for _, bad := range []string{"KEa", "X", "K E", "*"} {
		if _, ok := ParseNotifyClasses(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// eventRecorder collects what the FSM hands its sink.
type eventRecorder struct{ got []string }

func (r *eventRecorder) sink(evs []KeyEvent) {
	for _, e := range evs {
		r.got = append(r.got, e.Event+":"+string(e.Key))
	}
}

func (r *eventRecorder) take() string {
	s := strings.Join(r.got, " ")
	r.got = nil
	return s
}

func TestKeyspaceEvents(t *testing.T) {
	f := NewFSM(nil)
	rec := &eventRecorder{}
	f.SetKeyEventSink(rec.sink)
	f.SetKeyEventMask(NotifyAll | NotifyNew | NotifyKeyspace)
	idx := uint64(0)
	const now = 1_000_000
	for _, tc := range []struct {
		cmd  string
		want string
	}{
		{"SET s v", "new:s set:s"},
		{"SET s v EX 100", "set:s expire:s"},
		{"SET s v NX", ""},
		{"INCRBY n 5", "new:n incrby:n"},
		{"INCRBYFLOAT n 1.5", "incrbyfloat:n"},
		{"APPEND s x", "append:s"},
		{"SETRANGE s 0 y", "setrange:s"},
		{"SETBIT b 3 1", "new:b setbit:b"},
		{"SETBIT b 3 1", ""},
		{"MSET a 1 c 2", "new:a set:a new:c set:c"},
		{"GETDEL a", "del:a"},
		{"GETEX c PERSIST", ""},
		{"GETEX c PX 500", "expire:c"},
		{"PERSIST c", "persist:c"},
		{"EXPIRE c 0", "del:c"},
		{"RPUSH l a b c", "new:l rpush:l"},
		{"LPUSHX nol a", ""},
		{"LPOP l", "lpop:l"},
		{"LSET l 0 z", "lset:l"},
		{"LINSERT l BEFORE z y", "linsert:l"},
		{"LREM l 0 nothing", ""},
		{"LTRIM l 0 0", "ltrim:l"},
		{"LMOVE l l2 LEFT RIGHT", "new:l2 rpush:l2 lpop:l del:l"},
		{"SADD st a b", "new:st sadd:st"},
		{"SADD st a", ""},
		{"SREM st a", "srem:st"},
		{"SMOVE st st2 b", "srem:st del:st new:st2 sadd:st2"},
		{"SUNIONSTORE st3 st2", "new:st3 sunionstore:st3"},
		{"SINTERSTORE st3 nothing", "del:st3"},
		{"HSET h f v", "new:h hset:h"},
		{"HSETNX h f v", ""},
		{"HINCRBY h i 1", "hincrby:h"},
		{"HDEL h f i", "hdel:h del:h"},
		{"ZADD z 1 a 2 b", "new:z zadd:z"},
		{"ZADD z 1 a", ""},
		{"ZINCRBY z 1 a", "zincr:z"},
		{"ZREM z nothing", ""},
		{"ZREMRANGEBYSCORE z 0 1", ""},
		{"ZPOPMAX z", "zpopmax:z"},
		{"ZUNIONSTORE z2 1 z", "new:z2 zunionstore:z2"},
		{"ZPOPMIN z", "zpopmin:z del:z"},
		{"RENAME z2 z3", "new:z3 rename_from:z2 rename_to:z3"},
		{"COPY z3 z4", "new:z4 copy_to:z4"},
		{"DEL z3 z4 nothing", "del:z3 del:z4"},
		{"RPUSH srt 2 1", "new:srt rpush:srt"},
		{"SORT srt STORE srt2", "new:srt2 sortstore:srt2"},
		{"BITOP OR bo b", "new:bo set:bo"},
		{"BITOP OR bo nothing", "del:bo"},
		{"BITFIELD bf SET u8 0 1", "new:bf setbit:bf"},
		{"BITFIELD bf SET u8 0 1", ""},
		{"XGROUP CREATE xs g $ MKSTREAM", "new:xs xgroup-create:xs"},
		{"XADD xs 1-0 f v", "xadd:xs"},
		{"XADD xs MAXLEN 1 2-0 f v", "xadd:xs xtrim:xs"},
		{"XTRIM xs MAXLEN 1", ""},
		{"XGROUP CREATECONSUMER xs g bob", "xgroup-createconsumer:xs"},
		{"XREADGROUP GROUP g alice STREAMS xs >", "xgroup-createconsumer:xs"},
		{"XREADGROUP GROUP g carol STREAMS xs >", "xgroup-createconsumer:xs"}, // nothing to read: created all the same
		{"XCLAIM xs g mike 0 2-0", "xgroup-createconsumer:xs"},
		{"XGROUP DELCONSUMER xs g lee", ""},
		{"XGROUP DELCONSUMER xs g bob", "xgroup-delconsumer:xs"},
		{"XDEL xs 2-0", "xdel:xs"},
		{"XSETID xs 5-0", "xsetid:xs"},
		{"XGROUP SETID xs g 0", "xgroup-setid:xs"},
		{"XGROUP DESTROY xs g", "xgroup-destroy:xs"},
		{"GEOADD geo 13.361389 38.115556 Palermo", "new:geo zadd:geo"},
		{"GEOSEARCHSTORE gs geo FROMLONLAT 15 37 BYRADIUS 200 km", "new:gs geosearchstore:gs"},
		{"GEORADIUS geo 15 37 1 km STORE gs", "del:gs"},
		{"PFADD hll a b", "new:hll pfadd:hll"},
		{"PFADD hll a", ""},
		{"PFMERGE hll2 hll", "new:hll2 pfadd:hll2"},
		{"SET typed x", "new:typed set:typed"},
		{"LPUSH typed x", ""}, // WRONGTYPE: no event
	} {
		idx++
		f.Apply(cmdLog(idx, now, strings.Fields(tc.cmd)))
		if got := rec.take(); got != tc.want {
			t.Errorf("%s: events %q, want %q", tc.cmd, got, tc.want)
		}
	}

	// Lazy expiry while applying a write, and active expiry entries.
	idx++
	f.Apply(cmdLog(idx, now, []string{"SET", "e1", "v", "PX", "10"}, []string{"SET", "e2", "v", "PX", "10"}))
	rec.take()
	idx++
	f.Apply(cmdLog(idx, now+20, []string{"GET", "e1"}, []string{"APPEND", "e1", "x"}))
	if got := rec.take(); got != "expired:e1 new:e1 append:e1" {
		t.Errorf("lazy expiry: %q", got)
	}
	idx++
	e := &Entry{Op: OpExpire, Time: now + 20, Cmds: [][][]byte{{[]byte("e2")}}}
	f.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: EncodeEntry(nil, e)})
	if got := rec.take(); got != "expired:e2" {
		t.Errorf("active expiry: %q", got)
	}

	// Eviction entries: "evicted", and only for keys that were there.
	idx++
	e = &Entry{Op: OpEvict, Time: now + 20, Cmds: [][][]byte{{[]byte("s")}, {[]byte("gone")}}}
	res := f.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: EncodeEntry(nil, e)}).(*ApplyResult)
	if got := rec.take(); got != "evicted:s" {
		t.Errorf("eviction: %q", got)
	}
	if len(res.Replies) != 2 || res.Replies[0].Int != 1 || res.Replies[1].Int != 0 {
		t.Errorf("eviction replies: %+v", res.Replies)
	}

	// Classes filter: only list events now.
	f.SetKeyEventMask(NotifyList | NotifyKeyevent)
	idx++
	f.Apply(cmdLog(idx, now+20, []string{"SET", "q", "1"}, []string{"RPUSH", "q2", "1"}, []string{"DEL", "q2"}))
	if got := rec.take(); got != "rpush:q2" {
		t.Errorf("mask l: %q", got)
	}
	// No channel type (K or E): nothing is collected at all.
	f.SetKeyEventMask(NotifyAll)
	idx++
	f.Apply(cmdLog(idx, now+20, []string{"SET", "q", "2"}))
	if got := rec.take(); got != "" {
		t.Errorf("mask without K/E: %q", got)
	}
}

func TestScriptPublish(t *testing.T) {
	f := NewFSM(nil)
	var got []string
	f.SetPublishSink(func(msgs []Published) {
		for _, m := range msgs {
			got = append(got, fmt.Sprintf("%v:%s:%s", m.Sharded, m.Channel, m.Message))
		}
	})
	res := f.Apply(cmdLog(1, 1000,
		[]string{"EVAL", "redis.call('publish', 'a', 'x') return redis.call('spublish', KEYS[1], 'y')", "1", "k"},
		[]string{"EVAL", "return redis.call('publish', 'a')", "0"},
		[]string{"EVAL", "return redis.call('publish', 'b', 'z')", "0"},
	)).(*ApplyResult)
	if r := res.Replies[0]; r.Kind != KindInt || r.Int != 0 {
		t.Fatalf("script reply %s", show(r))
	}
	if r := res.Replies[1]; r.Kind != KindError || !strings.Contains(r.Str, "Wrong number of args") {
		t.Fatalf("PUBLISH with 1 argument: %s", show(r))
	}
	if want := "false:a:x true:k:y false:b:z"; strings.Join(got, " ") != want {
		t.Fatalf("published %q, want %q", got, want)
	}
	// Outside the log (EVAL_RO as a read) nothing could deliver: refused.
	var r Reply
	f.View(func(db *DB) {
		r = Exec(NewCtx(db, 1000, false, 0), [][]byte{[]byte("EVAL_RO"), []byte("return redis.call('publish', 'a', 'x')"), []byte("0")})
	})
	if r.Kind != KindError || !strings.Contains(r.Str, "read-only script") {
		t.Fatalf("EVAL_RO PUBLISH: %s", show(r))
	}
}

// TestKeymissFromTheLog: what is applied from the log reports keymiss where
// Redis 7.0 looks a key up for reading (lookupKeyRead): the reads of a
// transaction or a script, and the keys writes read (SUNIONSTORE's and
// PFMERGE's sources, PFMERGE's destination too, GETDEL's key, SET ... GET,
// COPY's source, XACK's stream); not the keys a write looks up to change
// (lookupKeyWrite: INCR, SADD, ZADD, SMOVE, ZREMRANGEBY*, LMOVE, XGROUP),
// nor MEMORY USAGE (LOOKUP_NONOTIFY).
func TestKeymissFromTheLog(t *testing.T) {
	f := NewFSM(nil)
	rec := &eventRecorder{}
	f.SetKeyEventSink(rec.sink)
	f.SetKeyEventMask(NotifyKeyMiss | NotifyKeyevent)
	const now = 1_000_000
	for i, tc := range []struct {
		cmds [][]string
		want string
	}{
		{[][]string{{"GET", "g1"}, {"HGET", "h1", "f"}, {"LRANGE", "l1", "0", "-1"}}, "keymiss:g1 keymiss:h1 keymiss:l1"},
		{[][]string{{"INCR", "n1"}, {"SADD", "s1", "a"}, {"ZADD", "z1", "1", "a"}}, ""},
		{[][]string{{"PFMERGE", "d1", "src1"}}, "keymiss:d1 keymiss:src1"},
		{[][]string{{"SUNIONSTORE", "sd", "s1", "s9"}}, "keymiss:s9"},
		{[][]string{{"ZUNIONSTORE", "zd", "2", "z9", "z1"}}, "keymiss:z9"},
		{[][]string{{"BITOP", "AND", "bd", "b1", "b2"}}, "keymiss:b1 keymiss:b2"},
		{[][]string{{"GETDEL", "g2"}, {"SET", "g3", "v", "GET"}, {"COPY", "c1", "c2"}}, "keymiss:g2 keymiss:g3 keymiss:c1"},
		{[][]string{{"XACK", "x1", "g", "1-1"}, {"SORT", "so1", "STORE", "so2"}}, "keymiss:x1 keymiss:so1"},
		{[][]string{{"SMOVE", "s8", "s7", "a"}, {"ZREMRANGEBYSCORE", "z8", "0", "1"}, {"LMOVE", "l8", "l7", "LEFT", "RIGHT"}}, ""},
		{[][]string{{"XGROUP", "CREATE", "x2", "g", "$", "MKSTREAM"}, {"ZINCRBY", "z7", "1", "a"}, {"SREM", "s6", "a"}}, ""},
		{[][]string{{"MEMORY", "USAGE", "m1"}}, ""},
		{[][]string{{"EVAL", "return redis.call('GET', KEYS[1])", "1", "sc1"}}, "keymiss:sc1"},
		{[][]string{{"GET", "n1"}}, ""}, // a hit
	} {
		f.Apply(cmdLog(uint64(i+1), now, tc.cmds...))
		if got := rec.take(); got != tc.want {
			t.Errorf("%v: events %q, want %q", tc.cmds, got, tc.want)
		}
	}
}
