package gateway

import (
	"github.com/raftcache/raftcache/raftfsm"
)

// Keyspace notifications: the engine reports the events of every write it
// applies (raftfsm/notify.go) and the node hands them to KeyEvents, which
// publishes them to this node's subscribers only, as a Redis Cluster node
// does: __keyspace@0__:<key> carries the event name, __keyevent@0__:<event>
// the key. notify-keyspace-events selects the classes (CONFIG SET, or the
// server's --config flags); a Backend that implements KeyEventSource is
// told the classes so that the engine collects nothing nobody asked for.

// KeyEventSource is implemented by backends whose engine can report
// keyspace events; SetKeyEventMask tells it which classes to collect.
type KeyEventSource interface {
	SetKeyEventMask(mask raftfsm.NotifyClass)
}

// applyNotifyConfig stores notify-keyspace-events (already validated) and
// passes it on to the engine.
func applyNotifyConfig(s *Server, v string) {
	m, _ := raftfsm.ParseNotifyClasses(v)
	s.notifyMask.Store(uint32(m))
	if src, ok := s.backend.(KeyEventSource); ok {
		src.SetKeyEventMask(m)
	}
}

// KeyEventMask returns the classes notify-keyspace-events selects.
func (s *Server) KeyEventMask() raftfsm.NotifyClass {
	return raftfsm.NotifyClass(s.notifyMask.Load())
}

// KeyEvents publishes keyspace events to this node's subscribers. It is
// called on the engine's apply goroutine and never blocks (subscribers'
// output is buffered).
func (s *Server) KeyEvents(evs []raftfsm.KeyEvent) {
	m := s.KeyEventMask()
	var buf []byte
	for _, ev := range evs {
		if m&ev.Class == 0 {
			continue
		}
		if m&raftfsm.NotifyKeyspace != 0 {
			buf = append(append(buf[:0], "__keyspace@0__:"...), ev.Key...)
			s.pubsub.publish(buf, []byte(ev.Event), false)
		}
		if m&raftfsm.NotifyKeyevent != 0 {
			buf = append(append(buf[:0], "__keyevent@0__:"...), ev.Event...)
			s.pubsub.publish(buf, ev.Key, false)
		}
	}
}
