package gateway

import (
	"testing"

	"github.com/raftcache/raftcache/raftfsm"
)

// maskBackend records the classes the server asks its engine to collect.
type maskBackend struct {
	*fakeBackend
	mask raftfsm.NotifyClass
}

func (b *maskBackend) SetKeyEventMask(m raftfsm.NotifyClass) { b.mask = m }

func TestKeyEventsPublishing(t *testing.T) {
	b := &maskBackend{fakeBackend: newFakeBackend()}
	s := mustServer(t, b)
	admin := mustRaw(t, s)
	sub := mustRaw(t, s)

	if got := admin.do("CONFIG", "SET", "notify-keyspace-events", "KEl"); got != "+OK" {
		t.Fatalf("CONFIG SET = %s", got)
	}
	if got := admin.do("CONFIG", "GET", "notify-keyspace-events"); got != "*[$notify-keyspace-events $lKE]" {
		t.Fatalf("CONFIG GET = %s", got)
	}
	if want := raftfsm.NotifyList | raftfsm.NotifyKeyspace | raftfsm.NotifyKeyevent; b.mask != want {
		t.Fatalf("engine told %v, want %v", b.mask, want)
	}
	if got := admin.do("CONFIG", "SET", "notify-keyspace-events", "KEQ"); got[0] != '-' {
		t.Fatalf("bad flags accepted: %s", got)
	}

	sub.send(cmd("PSUBSCRIBE", "__key*"))
	sub.expectPush("*[$psubscribe $__key* :1]")
	s.KeyEvents([]raftfsm.KeyEvent{
		{Class: raftfsm.NotifyString, Event: "set", Key: []byte("s")}, // class not selected
		{Class: raftfsm.NotifyList, Event: "lpush", Key: []byte("l")},
	})
	sub.expectPush("*[$pmessage $__key* $__keyspace@0__:l $lpush]",
		"*[$pmessage $__key* $__keyevent@0__:lpush $l]")

	// Keyevent channels only.
	admin.do("CONFIG", "SET", "notify-keyspace-events", "El")
	s.KeyEvents([]raftfsm.KeyEvent{{Class: raftfsm.NotifyList, Event: "rpop", Key: []byte("l")}})
	sub.expectPush("*[$pmessage $__key* $__keyevent@0__:rpop $l]")
	// Turned off: the engine is told to collect nothing.
	admin.do("CONFIG", "SET", "notify-keyspace-events", "")
	if b.mask != 0 {
		t.Fatalf("engine mask after clearing: %v", b.mask)
	}
}

// TestKeymissEvents: with class m, a read of a missing key publishes
// keymiss; a hit, or the class off, publishes nothing.
func TestKeymissEvents(t *testing.T) {
	s := mustServer(t, newWatchBackend())
	admin := mustRaw(t, s)
	sub := mustRaw(t, s)
	expectRaw(t, admin, cmd("SET", "here", "1"), "+OK")
	expectRaw(t, admin, cmd("CONFIG", "SET", "notify-keyspace-events", "KEA"), "+OK") // A excludes m
	sub.send(cmd("PSUBSCRIBE", "__key*"))
	sub.expectPush("*[$psubscribe $__key* :1]")
	expectRaw(t, admin, cmd("GET", "gone"), "$<nil>")
	expectRaw(t, admin, cmd("CONFIG", "SET", "notify-keyspace-events", "Em"), "+OK")
	expectRaw(t, admin, cmd("GET", "here"), "$1")
	expectRaw(t, admin, cmd("HGET", "gone2", "f"), "$<nil>")
	// The first event is gone2's: nothing for the miss with m off, nor the hit.
	sub.expectPush("*[$pmessage $__key* $__keyevent@0__:keymiss $gone2]")
}
