package raftfsm

import "strings"

// Keyspace notifications (Redis's notify-keyspace-events).
//
// Commands report what they changed with c.notify, at the points where
// Redis calls notifyKeyspaceEvent and with the same event names. Events are
// collected only while a log entry is applied, and only for the classes a
// subscriber asked for (SetKeyEventMask, SetKeyEventSink); the FSM hands each batch's
// events to the sink after releasing the engine lock. Every replica applies
// the same entries, so every node of a shard sees its events, as Redis
// Cluster's masters and replicas do. Events are output only: they never
// change state, so a node's own setting cannot make replicas diverge.

// NotifyClass is a set of event classes: the flags of notify-keyspace-events.
type NotifyClass uint32

const (
	NotifyKeyspace NotifyClass = 1 << iota // K: __keyspace@<db>__:<key> channels
	NotifyKeyevent                         // E: __keyevent@<db>__:<event> channels
	NotifyGeneric                          // g: DEL, EXPIRE, RENAME...
	NotifyString                           // $
	NotifyList                             // l
	NotifySet                              // s
	NotifyHash                             // h
	NotifyZset                             // z
	NotifyExpired                          // x
	NotifyEvicted                          // e
	NotifyStream                           // t
	NotifyKeyMiss                          // m (read lookups: Ctx.Get; collected by the gateway on the read path)
	NotifyModule                           // d (no modules: never produced)
	NotifyNew                              // n: a key was created

	// NotifyAll is "A": every class except key-miss and new, as in Redis.
	NotifyAll = NotifyGeneric | NotifyString | NotifyList | NotifySet | NotifyHash | NotifyZset |
		NotifyExpired | NotifyEvicted | NotifyStream | NotifyModule
)

// notifyChars maps flag characters to classes, in the order Redis prints
// them (keyspaceEventsFlagsToString): the classes A stands for, "n", then
// K, E and m.
var notifyChars = []struct {
	ch byte
	c  NotifyClass
}{
	{'g', NotifyGeneric}, {'$', NotifyString}, {'l', NotifyList}, {'s', NotifySet},
	{'h', NotifyHash}, {'z', NotifyZset}, {'x', NotifyExpired}, {'e', NotifyEvicted},
	{'t', NotifyStream}, {'d', NotifyModule}, {'n', NotifyNew},
	{'K', NotifyKeyspace}, {'E', NotifyKeyevent}, {'m', NotifyKeyMiss},
}

// ParseNotifyClasses parses notify-keyspace-events flags ("KEA", "Kx"...).
func ParseNotifyClasses(s string) (NotifyClass, bool) {
	var m NotifyClass
	for i := 0; i < len(s); i++ {
		if s[i] == 'A' {
			m |= NotifyAll
			continue
		}
		found := false
		for _, f := range notifyChars {
			if f.ch == s[i] {
				m |= f.c
				found = true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
	return m, true
}

// String renders m as CONFIG GET does: "A" when every class it stands for
// is set (and then not "n"), else each class; then K, E and m.
func (m NotifyClass) String() string {
	var b strings.Builder
	all := m&NotifyAll == NotifyAll
	if all {
		b.WriteByte('A')
	}
	for _, f := range notifyChars {
		if m&f.c == 0 {
			continue
		}
		if all && f.c&(NotifyKeyspace|NotifyKeyevent|NotifyKeyMiss) == 0 {
			continue
		}
		b.WriteByte(f.ch)
	}
	return b.String()
}

// Wants reports whether an event of class c reaches any channel under m.
func (m NotifyClass) Wants(c NotifyClass) bool {
	return m&c != 0 && m&(NotifyKeyspace|NotifyKeyevent) != 0
}

// KeyEvent is one keyspace notification.
type KeyEvent struct {
	Class NotifyClass
	Event string
	Key   []byte
}

// notify records that event (of class) happened to key, when the entry
// being applied collects that class. Reads never notify.
func (c *Ctx) notify(class NotifyClass, event string, key []byte) {
	db := c.DB
	if !c.Write || !db.notifyMask.Wants(class) {
		return
	}
	db.events = append(db.events, KeyEvent{Class: class, Event: event, Key: append([]byte(nil), key...)})
}

// SetKeyEventMask sets the classes of keyspace events to collect (0: none).
func (f *FSM) SetKeyEventMask(mask NotifyClass) { f.notifyMask.Store(uint32(mask)) }

// SetKeyEventSink sets the function that receives each applied batch's
// keyspace events, outside the engine lock, on the apply goroutine: it must
// not block. Nothing is collected while there is no sink.
func (f *FSM) SetKeyEventSink(sink func([]KeyEvent)) { f.notifySink.Store(&sink) }

// armEvents sets the classes the batch about to be applied collects
// (under the engine lock; the database may have been replaced by a restore).
func (f *FSM) armEvents() {
	m := NotifyClass(f.notifyMask.Load())
	if p := f.notifySink.Load(); p == nil || *p == nil {
		m = 0
	}
	f.db.notifyMask = m
}

// takeEvents returns the keyspace events and script messages the batch
// collected (under the engine lock).
func (f *FSM) takeEvents() ([]KeyEvent, []Published) {
	evs, pubs := f.db.events, f.db.published
	f.db.events, f.db.published = nil, nil
	return evs, pubs
}

// deliverEvents hands evs to the sink (outside the engine lock).
func (f *FSM) deliverEvents(evs []KeyEvent) {
	if len(evs) == 0 {
		return
	}
	if p := f.notifySink.Load(); p != nil && *p != nil {
		(*p)(evs)
	}
}

// Published is a message a script published (PUBLISH or SPUBLISH).
type Published struct {
	Sharded          bool
	Channel, Message []byte
}

// SetPublishSink sets the function that receives the messages scripts
// published in each applied batch, in order, outside the engine lock on the
// apply goroutine (it must not block). Without a sink they are dropped.
func (f *FSM) SetPublishSink(sink func([]Published)) { f.pubSink.Store(&sink) }

// deliverPublished hands a batch's script messages to the sink.
func (f *FSM) deliverPublished(msgs []Published) {
	if len(msgs) == 0 {
		return
	}
	if p := f.pubSink.Load(); p != nil && *p != nil {
		(*p)(msgs)
	}
}
